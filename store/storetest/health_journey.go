package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
)

// testJourneyAlerts: journey KPI alerts belong to no experiment; they
// dedupe by stage/kpi and list beside the experiments' alerts.
func testJourneyAlerts(t *testing.T, s HealthBackend) {
	ctx := context.Background()
	j1 := openAlert("j1", "", health.CheckKPIAnomaly, "checkout/conversion", at0)
	e1 := openAlert("e1", "checkout", health.CheckSRM, "", at0.Add(time.Minute))
	j3 := openAlert("j3", "", health.CheckKPIAnomaly, "returns/return_rate", at0.Add(2*time.Minute))
	for _, a := range []health.Alert{j1, e1, j3} {
		if err := s.CreateAlert(ctx, a, opened(a)); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("a second open alert for the same KPI is refused", func(t *testing.T) {
		dup := openAlert("j2", "", health.CheckKPIAnomaly, "checkout/conversion", at0.Add(3*time.Minute))
		if err := s.CreateAlert(ctx, dup, opened(dup)); !errors.Is(err, experiment.ErrAlreadyExists) {
			t.Fatalf("err %v, want ErrAlreadyExists", err)
		}
	})
	ids := func(as []health.Alert, err error) string {
		if err != nil {
			return err.Error()
		}
		out := ""
		for _, a := range as {
			out += a.ID + " "
		}
		return out
	}
	t.Run("they list with every open alert and by their check, not with an experiment's", func(t *testing.T) {
		if got := ids(s.OpenAlerts(ctx, "")); got != "j1 e1 j3 " {
			t.Fatalf("open: %q", got)
		}
		if got := ids(s.ListAlerts(ctx, health.Filter{Check: health.CheckKPIAnomaly})); got != "j3 j1 " {
			t.Fatalf("by check: %q", got)
		}
		if got := ids(s.OpenAlerts(ctx, "checkout")); got != "e1 " {
			t.Fatalf("of checkout: %q", got)
		}
	})
	t.Run("one resolves and keeps its empty experiment", func(t *testing.T) {
		r := j1
		r.Status, r.ResolvedAt = health.Resolved, &at0
		ev := health.AlertEvent{AlertID: "j1", At: at0.Add(time.Hour), Action: health.ActionResolved, Actor: health.ActorHealth, Message: "back in band"}
		if err := s.UpdateAlert(ctx, r, &ev); err != nil {
			t.Fatal(err)
		}
		got, evs, err := s.GetAlert(ctx, "j1")
		if err != nil || got.Experiment != "" || got.Status != health.Resolved || got.Subject != "checkout/conversion" || len(evs) != 2 {
			t.Fatalf("j1 = %+v, events %+v, err %v", got, evs, err)
		}
	})
}
