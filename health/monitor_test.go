package health_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
	"github.com/journeylab/journeylab/store/sqlite"
)

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeData serves fixed exposure counts, metric statistics and activity.
type fakeData struct {
	mu      sync.Mutex
	units   map[string]int64
	cells   map[string][]stats.ArmStats // metric -> per variant
	lastExp time.Time
	cross   int64
}

func (f *fakeData) ExposureCounts(context.Context, string) (map[string]int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]int64{}
	for k, v := range f.units {
		out[k] = v
	}
	return out, nil
}

func (f *fakeData) MetricCells(_ context.Context, e *experiment.Experiment, m experiment.Metric, _ report.CellQuery) ([]report.Cell, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []report.Cell
	for i, v := range e.Variants {
		c := report.Cell{Variant: v.Key}
		if arms := f.cells[m.Key]; i < len(arms) {
			c.Stats = arms[i]
		}
		out = append(out, c)
	}
	return out, nil
}

func (f *fakeData) Funnel(context.Context, *experiment.Experiment, []experiment.Metric) (map[string][]int64, error) {
	return map[string][]int64{}, nil
}

func (f *fakeData) LastExposure(context.Context, string) (time.Time, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastExp, nil
}

func (f *fakeData) CrossVariantUnits(context.Context, string) (int64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.cross, nil
}

func (f *fakeData) set(fn func(f *fakeData)) { f.mu.Lock(); defer f.mu.Unlock(); fn(f) }

// recorder is a Notifier that keeps what it was told.
type recorder struct {
	mu sync.Mutex
	ns []health.Notification
}

func (r *recorder) Notify(n health.Notification) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ns = append(r.ns, n)
}
func (r *recorder) actions() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, n := range r.ns {
		out = append(out, string(n.Action)+":"+string(n.Alert.Check))
	}
	return out
}

type env struct {
	st    *sqlite.Store
	svc   *experiment.Service
	data  *fakeData
	clock *clock
	mon   *health.Monitor
	notes *recorder
}

func conv(n int64, c float64) stats.ArmStats { return stats.ArmStats{N: n, Sum: c, SumSq: c} }

// newStore opens a real SQLite store, closed when the test ends, with an
// experiment service on a clock set to t0.
func newStore(t *testing.T) (*sqlite.Store, *experiment.Service, *clock) {
	t.Helper()
	st, err := sqlite.Open(context.Background(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: t0}
	return st, experiment.NewService(st, c.Now), c
}

// pass runs one scheduled pass of mon and returns the open alerts of the
// experiment key ("" for all).
func pass(t *testing.T, mon *health.Monitor, st health.Store, key string) []health.Alert {
	t.Helper()
	if _, err := mon.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	open, err := st.OpenAlerts(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return open
}

// newEnv launches a 50/50 checkout experiment with conversion as goal and
// return rate as guardrail, on a real SQLite store.
func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	st, svc, c := newStore(t)
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	e := &experiment.Experiment{Key: "checkout", Name: "One-page checkout", Stage: experiment.StageCheckout, Touchpoint: "checkout",
		Variants:    []experiment.Variant{{Key: "control", Weight: 1}, {Key: "onepage", Weight: 1}},
		GoalMetrics: []string{"conversion"}, GuardrailMetrics: []string{"return_rate"}}
	if _, err := svc.Create(ctx, "pm", e); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, "pm", "checkout", experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
	data := &fakeData{units: map[string]int64{"control": 5000, "onepage": 5000},
		cells: map[string][]stats.ArmStats{"conversion": {conv(5000, 500), conv(5000, 505)}, "return_rate": {conv(5000, 100), conv(5000, 102)}}}
	data.lastExp = t0
	notes := &recorder{}
	mon, err := health.NewMonitor(svc, st, data, data, st, health.Options{Now: c.Now, Notifier: notes,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	return &env{st: st, svc: svc, data: data, clock: c, mon: mon, notes: notes}
}

func (v *env) run(t *testing.T) []health.Alert {
	t.Helper()
	return pass(t, v.mon, v.st, "checkout")
}

func checksOf(as []health.Alert) []string {
	var out []string
	for _, a := range as {
		out = append(out, string(a.Check)+"/"+a.Subject)
	}
	return out
}

func TestMonitorOpensUpdatesAndResolvesOneAlertPerCondition(t *testing.T) {
	v := newEnv(t)
	ctx := context.Background()
	t.Run("a healthy experiment has no alert", func(t *testing.T) {
		if open := v.run(t); len(open) != 0 {
			t.Fatalf("open alerts %v", checksOf(open))
		}
	})
	v.data.set(func(f *fakeData) { f.units = map[string]int64{"control": 5000, "onepage": 4500} })
	var first health.Alert
	t.Run("a 10% exposure loss in one arm opens a critical SRM alert", func(t *testing.T) {
		open := v.run(t)
		if len(open) != 1 || open[0].Check != health.CheckSRM || open[0].Severity != health.Critical || open[0].Status != health.Open {
			t.Fatalf("open alerts %+v", open)
		}
		first = open[0]
	})
	t.Run("checking again keeps the one alert and refreshes it", func(t *testing.T) {
		v.clock.add(5 * time.Minute)
		open := v.run(t)
		if len(open) != 1 || open[0].ID != first.ID || !open[0].LastSeenAt.Equal(t0.Add(5*time.Minute)) {
			t.Fatalf("open alerts %+v, want %s refreshed", open, first.ID)
		}
		all, err := v.st.ListAlerts(ctx, health.Filter{})
		if err != nil || len(all) != 1 {
			t.Fatalf("alerts %v %v, want exactly one", all, err)
		}
	})
	t.Run("once the split is even again the alert is resolved and audited", func(t *testing.T) {
		v.data.set(func(f *fakeData) { f.units = map[string]int64{"control": 60000, "onepage": 60000} })
		v.clock.add(5 * time.Minute)
		if open := v.run(t); len(open) != 0 {
			t.Fatalf("still open: %v", checksOf(open))
		}
		a, evs, err := v.st.GetAlert(ctx, first.ID)
		if err != nil {
			t.Fatal(err)
		}
		if a.Status != health.Resolved || a.ResolvedAt == nil || !a.ResolvedAt.Equal(t0.Add(10*time.Minute)) {
			t.Fatalf("alert %+v", a)
		}
		var acts []health.Action
		for _, e := range evs {
			acts = append(acts, e.Action)
			if e.Actor != health.ActorHealth {
				t.Errorf("event %s by %q, want %q", e.Action, e.Actor, health.ActorHealth)
			}
		}
		if len(acts) != 2 || acts[0] != health.ActionOpened || acts[1] != health.ActionResolved {
			t.Fatalf("events %v, want opened then resolved", acts)
		}
	})
	t.Run("every change was handed to the notifier once", func(t *testing.T) {
		got := v.notes.actions()
		if len(got) != 2 || got[0] != "opened:srm" || got[1] != "resolved:srm" {
			t.Fatalf("notifications %v", got)
		}
	})
}

func TestMonitorFindsEachCondition(t *testing.T) {
	cases := []struct {
		name  string
		setup func(v *env)
		want  string
		sev   health.Severity
	}{
		{"a guardrail harmed by a variant", func(v *env) {
			v.data.cells["return_rate"] = []stats.ArmStats{conv(5000, 100), conv(5000, 250)}
		}, "guardrail/return_rate/onepage", health.Critical},
		{"a goal metric that reached a decision", func(v *env) {
			v.data.cells["conversion"] = []stats.ArmStats{conv(5000, 500), conv(5000, 700)}
		}, "decision/conversion/onepage", health.Info},
		{"no exposures for longer than the limit", func(v *env) {
			v.clock.add(2 * time.Hour)
		}, "no_exposures/", health.Warning},
		{"outcome statistics unchanged for longer than the limit", func(v *env) {
			v.clock.add(7 * time.Hour)
			v.data.lastExp = v.clock.Now()
		}, "no_events/", health.Warning},
		{"units seen in two variants", func(v *env) { v.data.cross = 30 }, "multiple_variants/", health.Warning},
		{"many units seen in two variants", func(v *env) { v.data.cross = 300 }, "multiple_variants/", health.Critical},
		{"a planned sample out of reach", func(v *env) {
			if _, err := v.mon.PutSettings(context.Background(), "pm", "checkout", health.Settings{PlannedUnits: 1_000_000, MaxDays: 30}); err != nil {
				panic(err)
			}
			v.clock.add(48 * time.Hour)
			v.data.lastExp = v.clock.Now()
			v.data.cells["conversion"] = []stats.ArmStats{conv(5000, 501), conv(5000, 505)}
		}, "underpowered/", health.Warning},
	}
	for _, tc := range cases {
		t.Run(tc.name+" opens one alert", func(t *testing.T) {
			v := newEnv(t)
			if open := v.run(t); len(open) != 0 {
				t.Fatalf("alerts before the change: %v", checksOf(open))
			}
			tc.setup(v)
			open := v.run(t)
			if len(open) != 1 || checksOf(open)[0] != tc.want || open[0].Severity != tc.sev || open[0].Summary == "" || len(open[0].Detail) == 0 {
				t.Fatalf("open alerts %+v, want one %s (%s)", open, tc.want, tc.sev)
			}
		})
	}
}

func TestSafeguardActsOnceAndIsAudited(t *testing.T) {
	ctx := context.Background()
	t.Run("a guardrail breach sends all traffic to control", func(t *testing.T) {
		v := newEnv(t)
		if _, err := v.mon.PutSettings(ctx, "pm", "checkout", health.Settings{Safeguard: &health.Safeguard{Action: health.SafeguardControl, On: []health.Check{health.CheckGuardrail}}}); err != nil {
			t.Fatal(err)
		}
		v.data.cells["return_rate"] = []stats.ArmStats{conv(5000, 100), conv(5000, 250)}
		open := v.run(t)
		if len(open) != 1 || open[0].Safeguard == "" {
			t.Fatalf("open %+v, want the guardrail alert with the safeguard's action", open)
		}
		e, err := v.svc.Get(ctx, "checkout")
		if err != nil {
			t.Fatal(err)
		}
		if w := e.Weights(); w[0] != 1 || w[1] != 0 || e.Status != experiment.StatusRunning {
			t.Fatalf("weights %v status %s, want all to control and still running", w, e.Status)
		}
		audit, err := v.svc.Audit(ctx, "checkout")
		if err != nil {
			t.Fatal(err)
		}
		last := audit[len(audit)-1]
		if last.Actor != health.ActorSafeguard || last.Action != "reweight" || len(last.Note) == 0 {
			t.Fatalf("last audit entry %+v, want a reweight by safeguard with a note", last)
		}
		_, evs, err := v.st.GetAlert(ctx, open[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) != 2 || evs[1].Action != health.ActionSafeguard || evs[1].Actor != health.ActorSafeguard {
			t.Fatalf("alert events %+v", evs)
		}
		v.clock.add(5 * time.Minute)
		v.run(t)
		audit2, _ := v.svc.Audit(ctx, "checkout")
		if len(audit2) != len(audit) {
			t.Fatalf("the safeguard acted again on the same open alert: %d audit entries, was %d", len(audit2), len(audit))
		}
		if got := v.notes.actions(); len(got) != 2 || got[1] != "safeguard:guardrail" {
			t.Fatalf("notifications %v", got)
		}
	})
	t.Run("an SRM pauses the experiment when asked to", func(t *testing.T) {
		v := newEnv(t)
		if _, err := v.mon.PutSettings(ctx, "pm", "checkout", health.Settings{Safeguard: &health.Safeguard{Action: health.SafeguardPause, On: []health.Check{health.CheckSRM}}}); err != nil {
			t.Fatal(err)
		}
		v.data.units = map[string]int64{"control": 5000, "onepage": 4000}
		v.run(t)
		e, _ := v.svc.Get(ctx, "checkout")
		audit, _ := v.svc.Audit(ctx, "checkout")
		if last := audit[len(audit)-1]; e.Status != experiment.StatusPaused || last.Actor != health.ActorSafeguard || last.Action != "pause" {
			t.Fatalf("status %s, last audit %+v", e.Status, last)
		}
	})
	t.Run("a safeguard switched on while its alert is open acts at the next check", func(t *testing.T) {
		v := newEnv(t)
		v.data.units = map[string]int64{"control": 5000, "onepage": 4000}
		if open := v.run(t); len(open) != 1 || open[0].Safeguard != "" {
			t.Fatalf("open %+v", open)
		}
		if _, err := v.mon.PutSettings(ctx, "pm", "checkout", health.Settings{Safeguard: &health.Safeguard{Action: health.SafeguardPause, On: []health.Check{health.CheckSRM}}}); err != nil {
			t.Fatal(err)
		}
		v.clock.add(5 * time.Minute)
		open := v.run(t)
		e, _ := v.svc.Get(ctx, "checkout")
		if e.Status != experiment.StatusPaused || len(open) != 1 || open[0].Safeguard != "paused the experiment" {
			t.Fatalf("status %s, open %+v", e.Status, open)
		}
	})
	t.Run("without a safeguard nothing is changed", func(t *testing.T) {
		v := newEnv(t)
		v.data.units = map[string]int64{"control": 5000, "onepage": 4000}
		v.run(t)
		e, _ := v.svc.Get(ctx, "checkout")
		if e.Status != experiment.StatusRunning || e.Weights()[1] != 1 {
			t.Fatalf("experiment changed: %s %v", e.Status, e.Weights())
		}
	})
}

func TestAlertsOfExperimentsThatStoppedRunningAreSettled(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t)
	v.data.units = map[string]int64{"control": 5000, "onepage": 4000}
	v.clock.add(2 * time.Hour)
	if got := checksOf(v.run(t)); len(got) != 2 {
		t.Fatalf("open %v, want srm and no_exposures", got)
	}
	t.Run("pausing resolves the data-flow alert and keeps the SRM alert", func(t *testing.T) {
		if _, err := v.svc.Transition(ctx, "pm", "checkout", experiment.ActionPause); err != nil {
			t.Fatal(err)
		}
		if got := checksOf(v.run(t)); len(got) != 1 || got[0] != "srm/" {
			t.Fatalf("open %v", got)
		}
	})
	t.Run("stopping resolves every alert", func(t *testing.T) {
		if _, err := v.svc.Transition(ctx, "pm", "checkout", experiment.ActionStop); err != nil {
			t.Fatal(err)
		}
		if got := checksOf(v.run(t)); len(got) != 0 {
			t.Fatalf("open %v", got)
		}
		all, _ := v.st.ListAlerts(ctx, health.Filter{Check: health.CheckSRM})
		_, evs, _ := v.st.GetAlert(ctx, all[0].ID)
		if last := evs[len(evs)-1]; last.Message != "the experiment is stopped" {
			t.Fatalf("last event %+v", last)
		}
	})
}

func TestNoEventsFollowsTheOutcomeStatistics(t *testing.T) {
	v := newEnv(t)
	step := func(d time.Duration, change bool) []string {
		v.clock.add(d)
		v.data.set(func(f *fakeData) {
			f.lastExp = v.clock.Now()
			if change {
				f.cells["return_rate"][1].Sum++
				f.cells["return_rate"][1].SumSq++
			}
		})
		return checksOf(v.run(t))
	}
	t.Run("the first check of an experiment with outcomes does not alert", func(t *testing.T) {
		if got := step(0, false); len(got) != 0 {
			t.Fatal(got)
		}
	})
	t.Run("outcomes that keep changing keep it quiet", func(t *testing.T) {
		for i := 0; i < 4; i++ {
			if got := step(5*time.Hour, true); len(got) != 0 {
				t.Fatal(got)
			}
		}
	})
	t.Run("six hours and a minute without a change alert", func(t *testing.T) {
		if got := step(6*time.Hour+time.Minute, false); len(got) != 1 || got[0] != "no_events/" {
			t.Fatal(got)
		}
	})
	t.Run("a new outcome resolves it", func(t *testing.T) {
		if got := step(time.Minute, true); len(got) != 0 {
			t.Fatal(got)
		}
	})
}

func TestManualResolutionAndOnDemandChecks(t *testing.T) {
	ctx := context.Background()
	v := newEnv(t)
	v.data.cross = 5
	open, err := v.mon.CheckExperiment(ctx, "checkout")
	if err != nil || len(open) != 1 {
		t.Fatalf("on-demand check: %v %v", open, err)
	}
	t.Run("an open alert can be resolved by hand, recording who did it", func(t *testing.T) {
		a, err := v.mon.Resolve(ctx, open[0].ID, "key:ab12", "known bot traffic")
		if err != nil || a.Status != health.Resolved {
			t.Fatalf("resolve: %+v %v", a, err)
		}
		_, evs, _ := v.st.GetAlert(ctx, a.ID)
		if last := evs[len(evs)-1]; last.Actor != "key:ab12" || last.Action != health.ActionResolved {
			t.Fatalf("last event %+v", last)
		}
	})
	t.Run("resolving it twice is an illegal transition", func(t *testing.T) {
		if _, err := v.mon.Resolve(ctx, open[0].ID, "key:ab12", ""); !errors.Is(err, experiment.ErrIllegalTransition) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("an unknown alert is not found", func(t *testing.T) {
		if _, err := v.mon.Resolve(ctx, "nope", "key:ab12", ""); !errors.Is(err, experiment.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
	t.Run("a condition that still holds opens a new alert at the next check", func(t *testing.T) {
		again, err := v.mon.CheckExperiment(ctx, "checkout")
		if err != nil || len(again) != 1 || again[0].ID == open[0].ID {
			t.Fatalf("after manual resolution: %+v %v", again, err)
		}
	})
	t.Run("an unknown experiment is not found", func(t *testing.T) {
		if _, err := v.mon.CheckExperiment(ctx, "nope"); !errors.Is(err, experiment.ErrNotFound) {
			t.Fatalf("err %v", err)
		}
	})
}
