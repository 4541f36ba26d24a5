package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"journeylab/events"
	"journeylab/experiment"
	"journeylab/store/sqlite"
)

func TestEraseRemovesUnits(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	ctx := context.Background()
	e := &experiment.Experiment{Key: "checkout-button", Name: "Checkout button", Stage: experiment.StageCheckout, Touchpoint: "checkout",
		Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "green", Weight: 1}}, GoalMetrics: []string{"conversion"}}
	if _, err := svc.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	if _, err := st.InsertExposures(ctx, []experiment.Exposure{
		{Experiment: "checkout-button", Unit: "u1", Variant: "control", At: at},
		{Experiment: "checkout-button", Unit: "u2", Variant: "green", At: at},
		{Experiment: "checkout-button", Unit: "u3", Variant: "green", At: at},
	}); err != nil {
		t.Fatal(err)
	}
	one, ts := 1.0, at.Add(time.Hour)
	if _, err := st.AppendEvents(ctx, at, []events.Event{{EventID: "e1", UnitID: "u2", Event: "order_completed", Value: &one, TS: &ts}}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	ids := filepath.Join(t.TempDir(), "ids.txt")
	if err := os.WriteFile(ids, []byte("u3\n\nu9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "erase", "u2", "--from-file", ids, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := "erased 3 units: 1 events, 2 exposures, 1 rollups removed"; !strings.Contains(out, want) {
		t.Errorf("output %q, want %q", out, want)
	}
	st, err = sqlite.Open(ctx, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	n := 0
	if err := st.ExposureVariants(ctx, "checkout-button", func(unit, _ string) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("%d exposures left (%v), want u1's only", n, err)
	}
	if _, _, err := run(t, "erase", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "at least one unit id") {
		t.Errorf("no ids: err = %v", err)
	}
}
