package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/report"
)

// HealthBackend is what the health checks need from a store: the alert
// store, activity, and the exposure path that records variant conflicts.
type HealthBackend interface {
	health.Store
	health.Activity
	InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error)
	report.Source
}

// RunHealth runs the health-store conformance suite; open returns a fresh,
// empty store for each part.
func RunHealth(t *testing.T, open func(t *testing.T) HealthBackend) {
	t.Run("alerts: one open per condition, listed and audited", func(t *testing.T) { testAlertStore(t, open(t)) })
	t.Run("settings, activity state and the delivery log", func(t *testing.T) { testHealthSettingsAndDeliveries(t, open(t)) })
	t.Run("newest exposure and units in several variants", func(t *testing.T) { testHealthActivity(t, open(t)) })
	t.Run("journey KPI alerts: no experiment, one open per KPI", func(t *testing.T) { testJourneyAlerts(t, open(t)) })
}

var at0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func openAlert(id, exp string, c health.Check, subject string, at time.Time) health.Alert {
	return health.Alert{ID: id, Experiment: exp, Check: c, Subject: subject, Severity: health.Critical, Status: health.Open,
		Summary: "s", Detail: []byte(`{"p_value":0.0001}`), OpenedAt: at, LastSeenAt: at}
}

func opened(a health.Alert) health.AlertEvent {
	return health.AlertEvent{AlertID: a.ID, At: a.OpenedAt, Action: health.ActionOpened, Actor: health.ActorHealth, Severity: a.Severity, Message: a.Summary}
}

func testAlertStore(t *testing.T, s HealthBackend) {
	ctx := context.Background()
	a1 := openAlert("a1", "checkout", health.CheckSRM, "", at0)
	if err := s.CreateAlert(ctx, a1, opened(a1)); err != nil {
		t.Fatal(err)
	}
	t.Run("a second open alert for the same condition is refused", func(t *testing.T) {
		dup := openAlert("a2", "checkout", health.CheckSRM, "", at0.Add(time.Minute))
		if err := s.CreateAlert(ctx, dup, opened(dup)); !errors.Is(err, experiment.ErrAlreadyExists) {
			t.Fatalf("err %v, want ErrAlreadyExists", err)
		}
		if _, _, err := s.GetAlert(ctx, "a2"); !errors.Is(err, experiment.ErrNotFound) {
			t.Fatalf("the refused alert was stored: %v", err)
		}
	})
	t.Run("another subject of the same check is another condition", func(t *testing.T) {
		g1 := openAlert("g1", "checkout", health.CheckGuardrail, "aov/v1", at0.Add(time.Minute))
		g2 := openAlert("g2", "checkout", health.CheckGuardrail, "aov/v2", at0.Add(2*time.Minute))
		for _, g := range []health.Alert{g1, g2} {
			if err := s.CreateAlert(ctx, g, opened(g)); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("once resolved, the condition may open a new alert", func(t *testing.T) {
		r := a1
		r.Status, r.ResolvedAt = health.Resolved, &at0
		ev := health.AlertEvent{AlertID: "a1", At: at0.Add(3 * time.Minute), Action: health.ActionResolved, Actor: "key:x", Message: "by hand"}
		if err := s.UpdateAlert(ctx, r, &ev); err != nil {
			t.Fatal(err)
		}
		again := openAlert("a3", "checkout", health.CheckSRM, "", at0.Add(4*time.Minute))
		if err := s.CreateAlert(ctx, again, opened(again)); err != nil {
			t.Fatal(err)
		}
		got, evs, err := s.GetAlert(ctx, "a1")
		if err != nil || got.Status != health.Resolved || len(evs) != 2 || evs[0].Action != health.ActionOpened || evs[1].Actor != "key:x" {
			t.Fatalf("a1 = %+v, events %+v, err %v", got, evs, err)
		}
		if string(got.Detail) != `{"p_value":0.0001}` {
			t.Fatalf("detail %s", got.Detail)
		}
	})
	t.Run("updating an unknown alert is not found", func(t *testing.T) {
		if err := s.UpdateAlert(ctx, openAlert("zz", "x", health.CheckSRM, "", at0), nil); !errors.Is(err, experiment.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
	other := openAlert("o1", "returns", health.CheckNoEvents, "", at0.Add(5*time.Minute))
	if err := s.CreateAlert(ctx, other, opened(other)); err != nil {
		t.Fatal(err)
	}
	ids := func(as []health.Alert) string {
		out := ""
		for _, a := range as {
			out += a.ID + " "
		}
		return out
	}
	cases := []struct {
		name string
		list func() ([]health.Alert, error)
		want string
	}{
		{"open alerts of one experiment, oldest first", func() ([]health.Alert, error) { return s.OpenAlerts(ctx, "checkout") }, "g1 g2 a3 "},
		{"open alerts of every experiment", func() ([]health.Alert, error) { return s.OpenAlerts(ctx, "") }, "g1 g2 a3 o1 "},
		{"every alert, newest first", func() ([]health.Alert, error) { return s.ListAlerts(ctx, health.Filter{}) }, "o1 a3 g2 g1 a1 "},
		{"resolved alerts", func() ([]health.Alert, error) { return s.ListAlerts(ctx, health.Filter{Status: health.Resolved}) }, "a1 "},
		{"alerts of one check", func() ([]health.Alert, error) { return s.ListAlerts(ctx, health.Filter{Check: health.CheckGuardrail}) }, "g2 g1 "},
		{"alerts of one experiment with a limit", func() ([]health.Alert, error) {
			return s.ListAlerts(ctx, health.Filter{Experiment: "checkout", Limit: 2})
		}, "a3 g2 "},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.list()
			if err != nil || ids(got) != tc.want {
				t.Fatalf("got %q (%v), want %q", ids(got), err, tc.want)
			}
		})
	}
}

func testHealthSettingsAndDeliveries(t *testing.T, s HealthBackend) {
	ctx := context.Background()
	t.Run("an experiment without settings reads zero settings", func(t *testing.T) {
		got, err := s.GetSettings(ctx, "checkout")
		if err != nil || got.Safeguard != nil || got.PlannedUnits != 0 {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("settings are replaced as a whole", func(t *testing.T) {
		for _, put := range []health.Settings{
			{PlannedUnits: 10, Safeguard: &health.Safeguard{Action: health.SafeguardPause, On: []health.Check{health.CheckSRM}}},
			{PlannedUnits: 20000, MaxDays: 21},
		} {
			if err := s.PutSettings(ctx, "checkout", put); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.GetSettings(ctx, "checkout")
		if err != nil || got.PlannedUnits != 20000 || got.MaxDays != 21 || got.Safeguard != nil {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("the checks' memory of an experiment is replaced as a whole", func(t *testing.T) {
		if got, err := s.GetState(ctx, "checkout"); err != nil || got.Outcomes != "" {
			t.Fatalf("%+v %v", got, err)
		}
		for _, fp := range []string{"abc", "def"} {
			if err := s.PutState(ctx, "checkout", health.ActivityState{Outcomes: fp, OutcomesChangedAt: at0}); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := s.GetState(ctx, "checkout"); err != nil || got.Outcomes != "def" || !got.OutcomesChangedAt.Equal(at0) {
			t.Fatalf("%+v %v", got, err)
		}
	})
	t.Run("the delivery log lists the newest attempts first, per alert", func(t *testing.T) {
		for i, id := range []string{"a1", "a2", "a1"} {
			if err := s.AddDelivery(ctx, health.Delivery{ID: "d", AlertID: id, Attempt: i + 1, At: at0.Add(time.Duration(i) * time.Second), Status: 500}); err != nil {
				t.Fatal(err)
			}
		}
		all, err := s.ListDeliveries(ctx, "", 0)
		if err != nil || len(all) != 3 || all[0].Attempt != 3 {
			t.Fatalf("%+v %v", all, err)
		}
		one, err := s.ListDeliveries(ctx, "a1", 1)
		if err != nil || len(one) != 1 || one[0].Attempt != 3 {
			t.Fatalf("%+v %v", one, err)
		}
	})
}

func testHealthActivity(t *testing.T, s HealthBackend) {
	ctx := context.Background()
	t.Run("an experiment without data has no activity", func(t *testing.T) {
		exp, err := s.LastExposure(ctx, "checkout")
		if err != nil || !exp.IsZero() {
			t.Fatalf("%v %v", exp, err)
		}
	})
	xs := []experiment.Exposure{
		{Experiment: "checkout", Unit: "u1", Variant: "control", At: at0},
		{Experiment: "checkout", Unit: "u2", Variant: "onepage", At: at0.Add(time.Hour)},
		{Experiment: "other", Unit: "u1", Variant: "b", At: at0.Add(2 * time.Hour)},
	}
	if _, err := s.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	t.Run("the newest exposure of the experiment is found", func(t *testing.T) {
		exp, err := s.LastExposure(ctx, "checkout")
		if err != nil || !exp.Equal(at0.Add(time.Hour)) {
			t.Fatalf("%v %v", exp, err)
		}
	})
	t.Run("a unit reported again in its own variant is not a conflict", func(t *testing.T) {
		if _, err := s.InsertExposures(ctx, []experiment.Exposure{{Experiment: "checkout", Unit: "u1", Variant: "control", At: at0.Add(3 * time.Hour)}}); err != nil {
			t.Fatal(err)
		}
		if n, err := s.CrossVariantUnits(ctx, "checkout"); err != nil || n != 0 {
			t.Fatalf("%d %v", n, err)
		}
	})
	t.Run("a unit reported in another variant is counted once and keeps its first variant", func(t *testing.T) {
		for i := 0; i < 2; i++ {
			n, err := s.InsertExposures(ctx, []experiment.Exposure{{Experiment: "checkout", Unit: "u1", Variant: "onepage", At: at0.Add(4 * time.Hour)}})
			if err != nil || n != 0 {
				t.Fatalf("inserted %d %v", n, err)
			}
		}
		if n, err := s.CrossVariantUnits(ctx, "checkout"); err != nil || n != 1 {
			t.Fatalf("%d %v", n, err)
		}
		if n, _ := s.CrossVariantUnits(ctx, "other"); n != 0 {
			t.Fatalf("other experiment: %d", n)
		}
		counts, err := s.ExposureCounts(ctx, "checkout")
		if err != nil || counts["control"] != 1 || counts["onepage"] != 1 {
			t.Fatalf("counts %v %v", counts, err)
		}
	})
}
