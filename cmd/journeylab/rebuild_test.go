package main

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/store/sqlite"
)

// seededStore opens a store in a fresh directory with the built-in metrics,
// and a Service on it whose clock stands at the returned time.
func seededStore(t *testing.T) (string, *sqlite.Store, *experiment.Service, time.Time) {
	t.Helper()
	dir := t.TempDir()
	st, err := sqlite.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	svc := experiment.NewService(st, func() time.Time { return at })
	if err := svc.SeedBuiltinMetrics(context.Background()); err != nil {
		t.Fatal(err)
	}
	return dir, st, svc, at
}

// checkoutButton stores the experiment "checkout-button" with exposures of
// u1 (control) and u2 (green) and one order of u2; more are exposed to green.
func checkoutButton(t *testing.T, st *sqlite.Store, svc *experiment.Service, at time.Time, more ...string) {
	t.Helper()
	ctx := context.Background()
	e := &experiment.Experiment{Key: "checkout-button", Name: "Checkout button", Stage: experiment.StageCheckout, Touchpoint: "checkout",
		Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "green", Weight: 1}}, GoalMetrics: []string{"conversion"}}
	if _, err := svc.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	xs := []experiment.Exposure{
		{Experiment: "checkout-button", Unit: "u1", Variant: "control", At: at},
		{Experiment: "checkout-button", Unit: "u2", Variant: "green", At: at},
	}
	for _, u := range more {
		xs = append(xs, experiment.Exposure{Experiment: "checkout-button", Unit: u, Variant: "green", At: at})
	}
	if _, err := st.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	one, ts := 1.0, at.Add(time.Hour)
	if _, err := st.AppendEvents(ctx, at, []events.Event{{EventID: "e1", UnitID: "u2", Event: "order_completed", Value: &one, TS: &ts}}); err != nil {
		t.Fatal(err)
	}
}

func TestRebuildRecomputesAnExperiment(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	checkoutButton(t, st, svc, at)
	st.Close()

	out, _, err := run(t, "rebuild", "--experiment", "checkout-button", "--data-dir", dir, "--quiet")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "rebuilt checkout-button: 2 units") {
		t.Errorf("output %q does not report the 2 units", out)
	}
	_, _, err = run(t, "rebuild", "--experiment", "nope", "--data-dir", dir, "--quiet")
	if !errors.Is(err, experiment.ErrNotFound) {
		t.Errorf("unknown experiment: err = %v, want ErrNotFound", err)
	}
	if _, _, err := run(t, "rebuild", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "experiment") {
		t.Errorf("missing --experiment: err = %v, want it named", err)
	}
	help, _, err := run(t, "rebuild", "--help")
	if err != nil || !strings.Contains(help, "--experiment") || !strings.Contains(help, "Example") && !strings.Contains(help, "Examples") {
		t.Errorf("rebuild --help: %v\n%s", err, help)
	}
}
