package serving

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

// eventually polls cond until it holds or a generous deadline passes. It
// checks that a change arrives, not how fast.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestAssignExperimentConvertsEveryField(t *testing.T) {
	e := &experiment.Experiment{
		Key: "exp", Salt: "salt-1", Touchpoint: "pdp", Stage: experiment.StageDecision, Coverage: 0.4,
		Variants: []experiment.Variant{
			{Key: "control", Weight: 1},
			{Key: "big", Weight: 3, Payload: json.RawMessage("{ \"size\" :\n 2 }")},
		},
		Allocation: assign.Allocation{Ranges: []assign.VariantRange{{Start: 0, End: 2500, Variant: 0}, {Start: 2500, End: 10000, Variant: 1}}},
		Targeting:  assign.Condition(`{"device": "mobile"}`),
		Layer:      "pdp", LayerRange: &assign.Range{Start: 100, End: 600},
		Overrides: map[string]string{"qa": "big"},
	}
	got := AssignExperiment(e)
	want := assign.Experiment{
		Key: "exp", Salt: "salt-1", Touchpoint: "pdp", Stage: "decision", Coverage: 0.4,
		Variants:   []assign.Variant{{Key: "control"}, {Key: "big", Payload: json.RawMessage(`{"size":2}`)}},
		Allocation: e.Allocation, Targeting: e.Targeting, Layer: "pdp", LayerRange: &assign.Range{Start: 100, End: 600},
		Overrides: map[string]string{"qa": "big"},
	}
	gj, _ := json.Marshal(got)
	wj, _ := json.Marshal(want)
	if string(gj) != string(wj) {
		t.Fatalf("AssignExperiment =\n%s\nwant\n%s", gj, wj)
	}
	e.LayerRange.Start = 0
	if got.LayerRange.Start != 100 {
		t.Error("the layer range is shared with the stored experiment, want a copy")
	}
	if l := AssignLayer(experiment.Layer{Key: "l", Salt: "layer:l", HoldoutShare: 0.05}); l != (assign.Layer{Key: "l", Salt: "layer:l", HoldoutShare: 0.05}) {
		t.Errorf("AssignLayer = %+v", l)
	}
}

func TestOnlyRunningExperimentsAssign(t *testing.T) {
	e := newEnv(t)
	e.create(t, spec{key: "draft"})
	e.launch(t, spec{key: "running"})
	e.launch(t, spec{key: "paused"})
	e.act(t, "paused", experiment.ActionPause)
	e.launch(t, spec{key: "stopped"})
	e.act(t, "stopped", experiment.ActionStop)
	e.create(t, spec{key: "archived"})
	e.act(t, "archived", experiment.ActionArchive)
	s := e.start(t, Options{})
	got := s.Assign("u1", "checkout_cta", nil, nil)
	if len(got) != 1 || got[0].Experiment != "running" {
		t.Fatalf("assignments = %+v, want only the running experiment", got)
	}
}

func TestRefreshPicksUpLifecycleChanges(t *testing.T) {
	e := newEnv(t)
	e.create(t, spec{key: "promo"})
	s := e.start(t, Options{RefreshInterval: 250 * time.Millisecond})
	inPromo := func() bool { return variantOf(s, "promo", "visitor-1") != "" }
	if inPromo() {
		t.Fatal("a draft experiment assigns")
	}
	t.Run("a launch goes live through the poller", func(t *testing.T) {
		e.act(t, "promo", experiment.ActionLaunch)
		eventually(t, "the launch is served", inPromo)
	})
	t.Run("a pause goes live through the poller", func(t *testing.T) {
		e.act(t, "promo", experiment.ActionPause)
		eventually(t, "the pause is served", func() bool { return !inPromo() })
	})
	t.Run("the served version follows the store", func(t *testing.T) {
		v, err := e.sql.ConfigVersion(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		eventually(t, "the version matches", func() bool { return s.Version() == v })
	})
}

func TestStickinessAfterReweight(t *testing.T) {
	const n = 10000
	old := units("old", n)
	fresh := units("new", n)

	// assignAll returns unit -> variant for experiment "cta".
	assignAll := func(s *Service, us []string) map[string]string {
		out := make(map[string]string, len(us))
		for _, u := range us {
			out[u] = variantOf(s, "cta", u)
		}
		return out
	}
	share := func(m map[string]string, v string) float64 {
		c := 0
		for _, got := range m {
			if got == v {
				c++
			}
		}
		return float64(c) / float64(len(m))
	}
	checkNoFlips := func(t *testing.T, before, after map[string]string) {
		t.Helper()
		flips := 0
		for u, v := range before {
			if after[u] != v {
				flips++
			}
		}
		if flips > 0 {
			t.Fatalf("%d of %d exposed units changed variant after the reweight", flips, len(before))
		}
	}
	reweight := func(t *testing.T, e *env) {
		t.Helper()
		if _, err := e.exps.Reweight(context.Background(), "bandit", "cta", []float64{0.1, 0.9}, nil); err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
		name string
		// flush writes the first exposures to the store before the
		// reweight; restart serves the reweight from a new instance;
		// forgetful makes the dedupe cache too small to remember the
		// units, so the refresher's pins must do the work.
		flush, restart, forgetful bool
	}{
		{"exposures already written stay put in the same instance", true, false, false},
		{"exposures still in the journal stay put", false, false, false},
		{"written exposures the dedupe cache forgot stay put", true, false, true},
		{"journaled exposures the dedupe cache forgot stay put", false, false, true},
		{"a restarted instance pins units from the stored exposures", true, true, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.launch(t, spec{key: "cta", weights: []float64{1, 1}})
			o := Options{RefreshInterval: time.Hour, FlushInterval: time.Hour, BatchSize: 4 * n}
			if tc.forgetful {
				o.DedupeSize = 1000
			}
			s := e.start(t, o)
			before := assignAll(s, old)
			if p := share(before, "v1"); math.Abs(p-0.5) > 0.03 {
				t.Fatalf("share of v1 before = %.3f, want about 0.5", p)
			}
			if tc.flush {
				if err := s.Flush(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			if tc.restart {
				if err := s.Close(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			reweight(t, e)
			if tc.restart {
				s = e.start(t, Options{RefreshInterval: time.Hour})
			} else {
				refreshNow(t, s)
			}
			checkNoFlips(t, before, assignAll(s, old))
			after := assignAll(s, fresh)
			if p := share(after, "v1"); math.Abs(p-0.9) > 0.03 {
				t.Errorf("new units: share of v1 = %.3f, want about 0.9", p)
			}
			if err := s.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			for _, u := range old {
				x, ok := e.mem.get("cta", u)
				if !ok || x.Variant != before[u] {
					t.Fatalf("stored exposure of %s = %+v (found %v), want variant %s", u, x, ok, before[u])
				}
			}
		})
	}

	t.Run("a second reweight keeps units pinned by the first", func(t *testing.T) {
		e := newEnv(t)
		e.launch(t, spec{key: "cta"})
		s := e.start(t, Options{RefreshInterval: time.Hour})
		before := assignAll(s, old)
		reweight(t, e)
		refreshNow(t, s)
		if _, err := e.exps.Reweight(context.Background(), "bandit", "cta", []float64{0.7, 0.3}, nil); err != nil {
			t.Fatal(err)
		}
		refreshNow(t, s)
		checkNoFlips(t, before, assignAll(s, old))
		// A fresh instance has only the store to go by.
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		checkNoFlips(t, before, assignAll(e.start(t, Options{RefreshInterval: time.Hour}), old))
	})
}

func TestForcedAssignmentsAreNotRecorded(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "cta", overrides: map[string]string{"qa-anna": "v1"}})
	s := e.start(t, Options{})
	got := s.Assign("qa-anna", "checkout_cta", nil, nil)
	if len(got) != 1 || !got[0].Forced || got[0].Variant != "v1" {
		t.Fatalf("assignments = %+v, want forced v1", got)
	}
	s.Assign("visitor", "checkout_cta", nil, nil)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.mem.get("cta", "qa-anna"); ok {
		t.Error("the forced assignment was recorded as an exposure")
	}
	if _, ok := e.mem.get("cta", "visitor"); !ok {
		t.Error("the ordinary assignment was not recorded")
	}
}

func TestExposuresAreDedupedUnderConcurrency(t *testing.T) {
	e := newEnv(t)
	for _, k := range []string{"a", "b", "c"} {
		e.launch(t, spec{key: k})
	}
	s := e.start(t, Options{BatchSize: 100})
	us := units("u", 2000)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range us {
				u := us[(i+g*131)%len(us)] // each goroutine starts elsewhere
				s.Assign(u, "checkout_cta", map[string]any{"device": "mobile"}, nil)
			}
		}()
	}
	wg.Wait()
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := 3 * len(us)
	if got := e.mem.count(); got != want {
		t.Errorf("stored exposures = %d, want %d (one per experiment and unit)", got, want)
	}
	if e.mem.attempted != want {
		t.Errorf("exposures sent to the store = %d, want %d: the dedupe cache let duplicates through", e.mem.attempted, want)
	}
	x, _ := e.mem.get("a", us[0])
	if x.Attributes["device"] != "mobile" || x.At.IsZero() {
		t.Errorf("exposure = %+v, want the device attribute and a time", x)
	}
}

func TestCloseFlushesEverything(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	e.launch(t, spec{key: "b"})
	e.mem.set(func(m *memExposures) { m.delay = 5 * time.Millisecond })
	s := e.start(t, Options{BatchSize: 500, FlushInterval: time.Hour})
	us := units("u", 5000)
	for _, u := range us {
		s.Assign(u, "", nil, nil)
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.mem.count(); got != 2*len(us) {
		t.Fatalf("stored exposures after Close = %d, want %d", got, 2*len(us))
	}
	if err := s.Flush(context.Background()); !errors.Is(err, ErrClosed) {
		t.Errorf("Flush after Close = %v, want ErrClosed", err)
	}
}

func TestCloseLeavesUnmergedExposuresForTheNextStart(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	dir := t.TempDir()
	s := e.start(t, Options{FlushInterval: time.Hour, JournalDir: dir})
	e.mem.set(func(m *memExposures) { m.failNext = math.MaxInt })
	for _, u := range units("u", 10) {
		s.Assign(u, "", nil, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.Close(ctx); err != nil {
		t.Fatalf("Close = %v, want nil: the exposures are kept in the journal", err)
	}
	if got := testutil.ToFloat64(s.m.dropped); got != 0 {
		t.Errorf("dropped = %v, want 0", got)
	}
	if got := e.mem.count(); got != 0 {
		t.Fatalf("stored = %d while the store was failing", got)
	}
	e.mem.set(func(m *memExposures) { m.failNext = 0 })
	s2 := e.start(t, Options{FlushInterval: time.Hour, JournalDir: dir})
	if err := s2.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.mem.count(); got != 10 {
		t.Errorf("stored after the restart = %d, want the 10 exposures left in the journal", got)
	}
}

func TestATemporaryJournalReportsWhatCloseCouldNotMerge(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	s := e.start(t, Options{FlushInterval: time.Hour})
	e.mem.set(func(m *memExposures) { m.failNext = math.MaxInt })
	for _, u := range units("u", 10) {
		s.Assign(u, "", nil, nil)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := s.Close(ctx)
	if err == nil || !strings.Contains(err.Error(), "not merged") {
		t.Fatalf("Close = %v, want an error saying the temporary journal was not merged", err)
	}
}

func TestFailedWritesAreRetried(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	e.mem.set(func(m *memExposures) { m.failNext = 3 })
	s := e.start(t, Options{})
	for _, u := range units("u", 100) {
		s.Assign(u, "", nil, nil)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.mem.count(); got != 100 {
		t.Errorf("stored = %d, want 100 after the retries", got)
	}
	if got := testutil.ToFloat64(s.m.writeErrors); got != 3 {
		t.Errorf("write errors = %v, want 3", got)
	}
}

func TestARefusedBatchIsDroppedNotRetried(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	e.mem.set(func(m *memExposures) { m.refuse = true })
	s := e.start(t, Options{})
	for _, u := range units("u", 10) {
		s.Assign(u, "", nil, nil)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := testutil.ToFloat64(s.m.dropped); got != 10 {
		t.Errorf("dropped = %v, want 10", got)
	}
	e.mem.set(func(m *memExposures) { m.refuse = false })
	s.Assign("later", "", nil, nil)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.mem.get("a", "later"); !ok {
		t.Error("the writer is stuck behind the refused batch")
	}
}

func TestAFullJournalRefusesLoudlyThenRecovers(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	block := make(chan struct{})
	e.mem.set(func(m *memExposures) { m.block = block })
	us := units("u", 120)
	// Room for exactly 100 one-exposure records (8 bytes of framing each).
	rec := appendRecord(nil, []experiment.Exposure{{Experiment: "a", Unit: us[0], Variant: "v0", At: time.Now()}})
	s := e.start(t, Options{JournalMaxBytes: int64(100 * (8 + len(rec))), BatchSize: 1000})
	for _, u := range us {
		s.Assign(u, "", nil, nil)
	}
	dropped := testutil.ToFloat64(s.m.dropped)
	if dropped != 20 {
		t.Fatalf("dropped = %v, want the 20 that did not fit into a journal of 100 records", dropped)
	}
	close(block)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	// An unrecorded exposure is forgotten by the dedupe cache, so the next
	// request for the unit records it.
	for _, u := range us {
		s.Assign(u, "", nil, nil)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.mem.count(); got != len(us) {
		t.Errorf("stored = %d, want all %d once the store recovered", got, len(us))
	}
}

func TestBrokenExperimentIsLeftOut(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "good"})
	// Written around the Service: a running experiment in a layer that
	// does not exist cannot compile.
	bad := e.create(t, spec{key: "bad"})
	bad.Status, bad.Layer, bad.LayerShare = experiment.StatusRunning, "ghost", 1
	bad.LayerRange = &assign.Range{Start: 0, End: 10000}
	if err := e.sql.UpdateExperiment(context.Background(), bad, bad.Version, experiment.AuditEntry{ExperimentKey: "bad", Action: "launch", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	s := e.start(t, Options{Registerer: reg})
	got := s.Assign("u", "", nil, nil)
	if len(got) != 1 || got[0].Experiment != "good" {
		t.Fatalf("assignments = %+v, want only the good experiment", got)
	}
	if n := testutil.ToFloat64(s.m.refreshErrors); n != 1 {
		t.Errorf("refresh errors = %v, want 1", n)
	}
}

func TestLayersAndHoldouts(t *testing.T) {
	e := newEnv(t)
	if _, err := e.exps.PutLayer(context.Background(), experiment.Layer{Key: "checkout", HoldoutShare: 0.1}); err != nil {
		t.Fatal(err)
	}
	e.launch(t, spec{key: "x", layer: "checkout", layerShare: 0.45})
	e.launch(t, spec{key: "y", layer: "checkout", layerShare: 0.45})
	s := e.start(t, Options{})
	counts := map[string]int{}
	for _, u := range units("u", 20000) {
		as := s.Assign(u, "checkout_cta", nil, nil)
		if len(as) != 1 {
			t.Fatalf("unit %s got %d results, want exactly one (an experiment or the holdout)", u, len(as))
		}
		if as[0].Holdout {
			counts["holdout"]++
		} else {
			counts[as[0].Experiment]++
		}
	}
	for k, want := range map[string]float64{"holdout": 0.1, "x": 0.45, "y": 0.45} {
		if got := float64(counts[k]) / 20000; math.Abs(got-want) > 0.02 {
			t.Errorf("share of %s = %.3f, want about %.2f", k, got, want)
		}
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := e.mem.count(); got != counts["x"]+counts["y"] {
		t.Errorf("stored exposures = %d, want %d: holdouts are not exposures", got, counts["x"]+counts["y"])
	}
}

func TestMetricsAreRegistered(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	reg := prometheus.NewRegistry()
	s := e.start(t, Options{Registerer: reg})
	s.Assign("u", "", nil, nil)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"journeylab_exposures_queued_total":      1,
		"journeylab_exposures_written_total":     1,
		"journeylab_exposures_dropped_total":     0,
		"journeylab_exposures_journal_bytes":     0,
		"journeylab_assign_refresh_errors_total": 0,
		"journeylab_assign_snapshot_experiments": 1,
	}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		m := f.GetMetric()[0]
		switch {
		case m.Counter != nil:
			got[f.GetName()] = m.Counter.GetValue()
		case m.Gauge != nil:
			got[f.GetName()] = m.Gauge.GetValue()
		}
	}
	for name, v := range want {
		if g, ok := got[name]; !ok || g != v {
			t.Errorf("%s = %v (present %v), want %v", name, g, ok, v)
		}
	}
	if got["journeylab_assign_snapshot_version"] != float64(s.Version()) || s.Version() == 0 {
		t.Errorf("snapshot version metric = %v, want %d", got["journeylab_assign_snapshot_version"], s.Version())
	}
}

func TestFlattenAttributes(t *testing.T) {
	got := flattenAttributes(map[string]any{
		"device": "mobile", "visits": 3.0, "score": -0.5, "big": 1e21, "returning": true,
		"tags": []any{"a", 2.0, false}, "gone": nil,
	})
	want := map[string]string{"device": "mobile", "visits": "3", "score": "-0.5", "big": "1e+21", "returning": "true", "tags": "a,2,false"}
	if len(got) != len(want) {
		t.Fatalf("flattened = %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if flattenAttributes(nil) != nil {
		t.Error("no attributes should flatten to nil")
	}
}
