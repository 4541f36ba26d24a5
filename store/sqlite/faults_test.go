package sqlite

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestWritesToAStoreThatCannotWriteAreUnavailable(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	if err := s.CheckWrite(ctx); err != nil {
		t.Fatalf("a healthy store fails its write probe: %v", err)
	}
	// query_only makes SQLite refuse every write with SQLITE_READONLY, as a
	// file system remounted read-only does.
	if _, err := s.w.ExecContext(ctx, "PRAGMA query_only = 1"); err != nil {
		t.Fatal(err)
	}
	e := storetest.Sample("blocked")
	k, _, _ := auth.Generate("x", auth.ScopeSDK, time.Unix(0, 0))
	writes := map[string]func() error{
		"the write probe":     func() error { return s.CheckWrite(ctx) },
		"a transaction":       func() error { return s.CreateExperiment(ctx, e, storetestAudit(e.Key)) },
		"a single-row insert": func() error { return s.CreateKey(ctx, k) },
		"a metric registration": func() error {
			return s.CreateMetric(ctx, experiment.Metric{Key: "m", Stage: experiment.StageCheckout, Kind: experiment.KindBinomial, Direction: experiment.HigherIsBetter, Event: "x"})
		},
	}
	for name, write := range writes {
		t.Run(name+" fails as unavailable", func(t *testing.T) {
			if err := write(); !errors.Is(err, experiment.ErrUnavailable) {
				t.Fatalf("err = %v, want ErrUnavailable", err)
			}
		})
	}
	if _, err := s.w.ExecContext(ctx, "PRAGMA query_only = 0"); err != nil {
		t.Fatal(err)
	}
	t.Run("the store writes again once the cause is gone", func(t *testing.T) {
		if err := s.CheckWrite(ctx); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateExperiment(ctx, e, storetestAudit(e.Key)); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a request's own mistake is not unavailable", func(t *testing.T) {
		err := s.CreateExperiment(ctx, e, storetestAudit(e.Key))
		if !errors.Is(err, experiment.ErrAlreadyExists) || errors.Is(err, experiment.ErrUnavailable) {
			t.Fatalf("err = %v, want ErrAlreadyExists only", err)
		}
	})
}

func TestATruncatingCheckpointEmptiesTheWAL(t *testing.T) {
	s := openTemp(t)
	storetest.SetupOutcomes(t, s)
	storetest.Apply(t, s, storetest.Workload(2, true))
	wal := s.path + "-wal"
	if fi, err := os.Stat(wal); err != nil || fi.Size() == 0 {
		t.Fatalf("expected a WAL after writes: %v", err)
	}
	if err := s.truncateWAL(); err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(wal); err != nil || fi.Size() != 0 {
		t.Fatalf("WAL after a truncating checkpoint: %v bytes, %v", fi.Size(), err)
	}
}

func TestKeysAreRevokedOnceWithTheActor(t *testing.T) {
	ctx := context.Background()
	s := openTemp(t)
	k, _, _ := auth.Generate("web", auth.ScopeSDK, time.Unix(10, 0))
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, k); !errors.Is(err, experiment.ErrAlreadyExists) {
		t.Fatalf("duplicate id: %v", err)
	}
	at := time.Unix(20, 0).UTC()
	got, err := s.RevokeKey(ctx, k.ID, at, "key:abc")
	if err != nil || got.RevokedAt == nil || !got.RevokedAt.Equal(at) || got.RevokedBy != "key:abc" {
		t.Fatalf("revoke: %+v %v", got, err)
	}
	again, err := s.RevokeKey(ctx, k.ID, at.Add(time.Hour), "key:def")
	if err != nil || !again.RevokedAt.Equal(at) || again.RevokedBy != "key:abc" {
		t.Fatalf("second revoke changed the first: %+v %v", again, err)
	}
	stored, err := s.GetKey(ctx, k.ID)
	if err != nil || stored.RevokedBy != "key:abc" || stored.Matches("anything") {
		t.Fatalf("stored: %+v %v", stored, err)
	}
	if _, err := s.RevokeKey(ctx, "000000000000", at, "x"); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("unknown key: %v", err)
	}
}
