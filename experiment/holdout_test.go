package experiment

import (
	"testing"
	"time"
)

func TestHoldoutExperiment(t *testing.T) {
	t1, t2 := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	layer := Layer{Key: "checkout", HoldoutShare: 0.1, Metrics: []string{"conversion"}}
	members := []*Experiment{
		{Key: "a", Layer: "checkout", Stage: StageCheckout, Touchpoint: "cta", Status: StatusStopped, StartedAt: &t1},
		{Key: "b", Layer: "checkout", Stage: StageCheckout, Touchpoint: "cta", Status: StatusRunning, StartedAt: &t2},
		{Key: "elsewhere", Layer: "other", Stage: StageReturns, Status: StatusRunning},
	}
	t.Run("a layer without metrics or without a holdout has no baseline", func(t *testing.T) {
		for _, l := range []Layer{{Key: "x", HoldoutShare: 0.1}, {Key: "x", Metrics: []string{"conversion"}}} {
			if e := HoldoutExperiment(l, members); e != nil {
				t.Errorf("%+v: got baseline %+v", l, e)
			}
		}
	})
	t.Run("the baseline compares the holdout, as control, with the rest of the layer", func(t *testing.T) {
		e := HoldoutExperiment(layer, members)
		if e == nil || e.Key != "layer:checkout" || e.Control != HoldoutArm || len(e.Variants) != 2 ||
			e.Variants[0].Key != HoldoutArm || e.Variants[0].Weight != 0.1 || e.Variants[1].Key != LayerArm || e.Variants[1].Weight != 0.9 {
			t.Fatalf("baseline = %+v", e)
		}
		if len(e.GoalMetrics) != 1 || e.GoalMetrics[0] != "conversion" {
			t.Errorf("goal metrics = %v", e.GoalMetrics)
		}
	})
	t.Run("it runs while a member runs, from the first start, on the members' shared stage", func(t *testing.T) {
		e := HoldoutExperiment(layer, members)
		if e.Status != StatusRunning || e.StartedAt == nil || !e.StartedAt.Equal(t2) || e.Stage != StageCheckout || e.Touchpoint != "cta" {
			t.Errorf("status %s, started %v, stage %q, touchpoint %q", e.Status, e.StartedAt, e.Stage, e.Touchpoint)
		}
		mixed := append(members, &Experiment{Key: "c", Layer: "checkout", Stage: StageReturns, Touchpoint: "returns", Status: StatusDraft})
		if e := HoldoutExperiment(layer, mixed); e.Stage != "" || e.Touchpoint != "" {
			t.Errorf("members on two stages and touchpoints: stage %q, touchpoint %q, want none", e.Stage, e.Touchpoint)
		}
		if e := HoldoutExperiment(layer, members[:1]); e.Status != StatusStopped {
			t.Errorf("only a stopped member: status %s", e.Status)
		}
	})
	t.Run("its key is no user experiment's and leads back to the layer", func(t *testing.T) {
		if validKey(HoldoutKey("checkout")) {
			t.Error("a baseline key is a valid experiment key")
		}
		if l, ok := HoldoutLayer(HoldoutKey("checkout")); !ok || l != "checkout" {
			t.Errorf("HoldoutLayer = %q, %v", l, ok)
		}
		if _, ok := HoldoutLayer("checkout"); ok {
			t.Error("an experiment key taken for a baseline key")
		}
	})
}
