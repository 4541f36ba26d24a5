package mongo

import (
	"context"
	"errors"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestConformance(t *testing.T) {
	TestingURI(t) // skips the whole test, not each case, without a server
	storetest.Run(t, func(t *testing.T) storetest.Backend { return OpenTesting(t) })
}

func TestReopenKeepsDataAndSchemaCreationIsIdempotent(t *testing.T) {
	ctx := context.Background()
	s := OpenTesting(t)
	e := storetest.Sample("kept")
	if err := s.CreateExperiment(ctx, e, experiment.AuditEntry{ExperimentKey: e.Key, Actor: "test", Action: "create"}); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(ctx, TestingURI(t), s.Database(), Options{})
	if err != nil {
		t.Fatalf("reopen (schema creation must be idempotent): %v", err)
	}
	defer s2.Close()
	got, err := s2.GetExperiment(ctx, "kept")
	if err != nil || got.Name != e.Name {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
	v1, _ := s.ConfigVersion(ctx)
	v2, _ := s2.ConfigVersion(ctx)
	if v1 != 1 || v2 != 1 {
		t.Errorf("config versions %d and %d after one write, want 1 from both instances", v1, v2)
	}
}

func TestAClosedStoreIsUnavailable(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, TestingURI(t), OpenTesting(t).Database(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping an open store: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	for name, err := range map[string]error{
		"ping":           s.Ping(ctx),
		"get experiment": func() error { _, err := s.GetExperiment(ctx, "x"); return err }(),
		"config version": func() error { _, err := s.ConfigVersion(ctx); return err }(),
	} {
		if !errors.Is(err, experiment.ErrUnavailable) {
			t.Errorf("%s on a closed store: err = %v, want ErrUnavailable", name, err)
		}
	}
}
