package sqlite

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/store/storetest"
)

func openTemp(t testing.TB) *Store {
	t.Helper()
	s, err := OpenFile(context.Background(), filepath.Join(t.TempDir(), "test.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) storetest.Backend { return openTemp(t) })
}

func TestOutcomes(t *testing.T) {
	storetest.RunOutcomes(t, outcomeHarness)
}

func TestReopenKeepsData(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	e := storetest.Sample("kept")
	if err := s.CreateExperiment(ctx, e, storetestAudit(e.Key)); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, dir)
	if err != nil {
		t.Fatalf("reopen (migrations must be idempotent): %v", err)
	}
	defer s2.Close()
	got, err := s2.GetExperiment(ctx, "kept")
	if err != nil || got.Name != e.Name {
		t.Fatalf("after reopen: %+v, %v", got, err)
	}
}

func storetestAudit(key string) experiment.AuditEntry {
	return experiment.AuditEntry{ExperimentKey: key, Actor: "test", Action: "create"}
}
