package bandit_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/bandit"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
	"github.com/journeylab/journeylab/store/sqlite"
)

func conv(n int64, c float64) stats.ArmStats { return stats.ArmStats{N: n, Sum: c, SumSq: c} }

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// fakeClock is a settable clock shared by the service and the scheduler.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// fakeSource serves fixed statistics per experiment and records reads.
type fakeSource struct {
	mu    sync.Mutex
	arms  map[string][]stats.ArmStats
	err   error
	reads []string
}

func (f *fakeSource) ArmStats(_ context.Context, e *experiment.Experiment, m experiment.Metric) ([]stats.ArmStats, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads = append(f.reads, e.Key+"/"+m.Key)
	if f.err != nil {
		return nil, f.err
	}
	return slices.Clone(f.arms[e.Key]), nil
}

func (f *fakeSource) set(key string, arms []stats.ArmStats, err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.arms[key] = arms
	f.err = err
}

func (f *fakeSource) readsOf(key string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, r := range f.reads {
		if r == key+"/conversion" {
			n++
		}
	}
	return n
}

// schedEnv is a Scheduler on a real SQLite store and experiment.Service.
type schedEnv struct {
	t0    time.Time
	clock *fakeClock
	svc   *experiment.Service
	src   *fakeSource
	sched *bandit.Scheduler
}

func newSchedEnv(t *testing.T, tick time.Duration) *schedEnv {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	t0 := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: t0}
	svc := experiment.NewService(st, clock.Now)
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	src := &fakeSource{arms: map[string][]stats.ArmStats{}}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	sched := bandit.NewScheduler(svc, st, src, bandit.Options{Tick: tick, Now: clock.Now, Log: quiet})
	return &schedEnv{t0: t0, clock: clock, svc: svc, src: src, sched: sched}
}

// launch creates and launches a three-arm experiment on conversion.
func (e *schedEnv) launch(t *testing.T, key string, mode experiment.Mode) {
	t.Helper()
	ctx := context.Background()
	x := &experiment.Experiment{
		Key: key, Name: key, Stage: experiment.StageCheckout, Touchpoint: "checkout-page", Mode: mode,
		Variants:    []experiment.Variant{{Key: "a", Weight: 1}, {Key: "b", Weight: 1}, {Key: "c", Weight: 1}},
		GoalMetrics: []string{"conversion"},
	}
	if mode == experiment.ModeOptimise {
		x.Optimise = &experiment.Optimise{Metric: "conversion", IntervalMinutes: 60}
	}
	if _, err := e.svc.Create(ctx, "pm", x); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Transition(ctx, "pm", key, experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
}

// at sets the clock to t0 + d and runs one pass.
func (e *schedEnv) at(t *testing.T, d time.Duration) []string {
	t.Helper()
	e.clock.set(e.t0.Add(d))
	keys, err := e.sched.RunOnce(context.Background())
	if err != nil {
		t.Fatalf("pass at +%v: %v", d, err)
	}
	return keys
}

// reweights returns the experiment's re-weighting audit entries.
func (e *schedEnv) reweights(t *testing.T, key string) []experiment.AuditEntry {
	t.Helper()
	all, err := e.svc.Audit(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	var out []experiment.AuditEntry
	for _, a := range all {
		if a.Action == "reweight" {
			out = append(out, a)
		}
	}
	return out
}

var enoughData = []stats.ArmStats{conv(1000, 100), conv(1000, 110), conv(1000, 135)}

func TestSchedulerReweightsOnlyWhenDue(t *testing.T) {
	e := newSchedEnv(t, time.Minute)
	e.launch(t, "cta", experiment.ModeOptimise)
	e.src.set("cta", enoughData, nil)

	if got := e.at(t, 59*time.Minute); len(got) != 0 {
		t.Fatalf("re-weighted %v 59 minutes after launch, interval is 60", got)
	}
	if n := len(e.reweights(t, "cta")); n != 0 {
		t.Fatalf("%d re-weighting audit entries before the interval passed", n)
	}
	if got := e.at(t, 60*time.Minute); !slices.Equal(got, []string{"cta"}) {
		t.Fatalf("re-weighted %v at 60 minutes, want [cta]", got)
	}
	entries := e.reweights(t, "cta")
	if len(entries) != 1 {
		t.Fatalf("%d re-weighting audit entries, want 1", len(entries))
	}
	want, err := bandit.Weights(enoughData, stats.KindBinomial, experiment.HigherIsBetter, 0.01)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the audit entry holds every input of the re-weighting", func(t *testing.T) {
		a := entries[0]
		if a.Actor != bandit.Actor || !a.At.Equal(e.t0.Add(time.Hour)) {
			t.Errorf("audit by %q at %v, want %q at %v", a.Actor, a.At, bandit.Actor, e.t0.Add(time.Hour))
		}
		var note bandit.Note
		if err := json.Unmarshal(a.Note, &note); err != nil {
			t.Fatalf("note %s: %v", a.Note, err)
		}
		if !note.At.Equal(e.t0.Add(time.Hour)) || note.Metric != "conversion" || note.Kind != experiment.KindBinomial ||
			note.Direction != experiment.HigherIsBetter || note.Floor != 0.01 || !note.LastReweight.Equal(e.t0) {
			t.Errorf("note header = %+v", note)
		}
		if len(note.Arms) != 3 {
			t.Fatalf("note has %d arms, want 3", len(note.Arms))
		}
		for i, arm := range note.Arms {
			w := want.Arms[i]
			if arm.Variant != []string{"a", "b", "c"}[i] || arm.N != 1000 || arm.Mean != w.Mean || arm.SD != w.SD ||
				arm.PBest != w.ProbBest || !near(arm.OldWeight, 1.0/3, 1e-15) || arm.NewWeight != w.Weight {
				t.Errorf("note arm %d = %+v, want %+v with old weight 1/3", i, arm, w)
			}
		}
	})
	t.Run("the experiment carries the new weights", func(t *testing.T) {
		x, err := e.svc.Get(context.Background(), "cta")
		if err != nil {
			t.Fatal(err)
		}
		if got := x.Weights(); !slices.Equal(got, want.Weights()) {
			t.Errorf("weights %v, want %v", got, want.Weights())
		}
		if x.Allocation.Counts()[2] < 9000 {
			t.Errorf("allocation %v should give the best arm most buckets", x.Allocation.Counts())
		}
	})
	t.Run("the next re-weighting waits one interval from the last", func(t *testing.T) {
		for _, d := range []time.Duration{61 * time.Minute, 119 * time.Minute} {
			if got := e.at(t, d); len(got) != 0 {
				t.Errorf("re-weighted %v at +%v, last re-weighting was at +60m", got, d)
			}
		}
		if got := e.at(t, 120*time.Minute); !slices.Equal(got, []string{"cta"}) {
			t.Fatalf("re-weighted %v at +120m, want [cta]", got)
		}
		entries := e.reweights(t, "cta")
		var note bandit.Note
		if err := json.Unmarshal(entries[len(entries)-1].Note, &note); err != nil {
			t.Fatal(err)
		}
		if !note.LastReweight.Equal(e.t0.Add(time.Hour)) || note.Arms[2].OldWeight != want.Arms[2].Weight {
			t.Errorf("second note: last %v, old weight of c %g; want +60m and %g", note.LastReweight, note.Arms[2].OldWeight, want.Arms[2].Weight)
		}
	})
}

func TestSchedulerWaitsForData(t *testing.T) {
	e := newSchedEnv(t, time.Minute)
	e.launch(t, "cta", experiment.ModeOptimise)
	e.src.set("cta", []stats.ArmStats{conv(1000, 100), conv(99, 10), conv(1000, 120)}, nil)

	if got := e.at(t, time.Hour); len(got) != 0 {
		t.Fatalf("re-weighted %v with 99 units in one arm", got)
	}
	if n := len(e.reweights(t, "cta")); n != 0 {
		t.Fatalf("%d audit entries without an update", n)
	}
	e.src.set("cta", enoughData, nil)
	reads := e.src.readsOf("cta")
	if got := e.at(t, time.Hour+time.Minute); len(got) != 0 {
		t.Errorf("re-weighted %v one minute after a not-yet; it should wait one interval", got)
	}
	if e.src.readsOf("cta") != reads {
		t.Error("statistics were read again before the retry time")
	}
	if got := e.at(t, 2*time.Hour); !slices.Equal(got, []string{"cta"}) {
		t.Errorf("re-weighted %v one interval after the not-yet, want [cta]", got)
	}
}

func TestSchedulerLeavesOtherExperimentsAlone(t *testing.T) {
	e := newSchedEnv(t, time.Minute)
	e.launch(t, "fixed", experiment.ModeAB)
	e.launch(t, "paused", experiment.ModeOptimise)
	if _, err := e.svc.Transition(context.Background(), "pm", "paused", experiment.ActionPause); err != nil {
		t.Fatal(err)
	}
	e.src.set("fixed", enoughData, nil)
	e.src.set("paused", enoughData, nil)
	if got := e.at(t, 24*time.Hour); len(got) != 0 {
		t.Errorf("re-weighted %v; A/B and paused experiments must be left alone", got)
	}
	if e.src.readsOf("fixed")+e.src.readsOf("paused") != 0 {
		t.Error("statistics were read for experiments that are not optimising")
	}
}

func TestSchedulerStartsTheClockWhenOptimiseModeIsSwitchedOn(t *testing.T) {
	e := newSchedEnv(t, time.Minute)
	e.launch(t, "cta", experiment.ModeAB)
	e.src.set("cta", enoughData, nil)
	e.clock.set(e.t0.Add(5 * time.Hour))
	x, err := e.svc.Get(context.Background(), "cta")
	if err != nil {
		t.Fatal(err)
	}
	x.Mode, x.Optimise = experiment.ModeOptimise, &experiment.Optimise{Metric: "conversion", IntervalMinutes: 30}
	if _, err := e.svc.Update(context.Background(), "pm", "cta", x); err != nil {
		t.Fatal(err)
	}
	if got := e.at(t, 5*time.Hour+29*time.Minute); len(got) != 0 {
		t.Errorf("re-weighted %v 29 minutes after the switch, interval is 30", got)
	}
	if got := e.at(t, 5*time.Hour+30*time.Minute); !slices.Equal(got, []string{"cta"}) {
		t.Errorf("re-weighted %v 30 minutes after the switch, want [cta]", got)
	}
}

func TestSchedulerRetriesAfterAFailure(t *testing.T) {
	e := newSchedEnv(t, time.Minute)
	e.launch(t, "cta", experiment.ModeOptimise)
	e.src.set("cta", nil, errors.New("disk on fire"))
	e.clock.set(e.t0.Add(time.Hour))
	if _, err := e.sched.RunOnce(context.Background()); err == nil {
		t.Fatal("a failing source gave no error")
	}
	e.src.set("cta", enoughData, nil)
	if got := e.at(t, time.Hour+time.Minute); !slices.Equal(got, []string{"cta"}) {
		t.Errorf("re-weighted %v on the next tick after a failure, want [cta]", got)
	}
	t.Run("statistics of the wrong shape are an error, not a panic", func(t *testing.T) {
		e.src.set("cta", enoughData[:2], nil)
		e.clock.set(e.t0.Add(3 * time.Hour))
		if _, err := e.sched.RunOnce(context.Background()); err == nil {
			t.Error("two arms for three variants gave no error")
		}
	})
}

func TestSchedulerStartAndStop(t *testing.T) {
	t.Run("Stop without Start does nothing", func(t *testing.T) {
		e := newSchedEnv(t, time.Minute)
		if err := e.sched.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("a started scheduler re-weights on its own and stops cleanly", func(t *testing.T) {
		e := newSchedEnv(t, 5*time.Millisecond)
		e.launch(t, "cta", experiment.ModeOptimise)
		e.src.set("cta", enoughData, nil)
		e.clock.set(e.t0.Add(time.Hour))
		e.sched.Start()
		e.sched.Start() // idempotent
		deadline := time.Now().Add(10 * time.Second)
		for len(e.reweights(t, "cta")) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("no re-weighting within 10 s of starting")
			}
			time.Sleep(5 * time.Millisecond)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := e.sched.Stop(ctx); err != nil {
			t.Fatal(err)
		}
		if err := e.sched.Stop(ctx); err != nil {
			t.Fatalf("second Stop: %v", err)
		}
		// Still due a minute later by the clock, but stopped: nothing more happens.
		n := len(e.reweights(t, "cta"))
		e.clock.set(e.t0.Add(3 * time.Hour))
		time.Sleep(30 * time.Millisecond)
		if got := len(e.reweights(t, "cta")); got != n {
			t.Errorf("%d re-weightings after Stop", got-n)
		}
	})
}
