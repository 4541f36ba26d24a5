package events

import (
	"slices"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

func TestCompileAttribution(t *testing.T) {
	conv := experiment.Metric{Key: "conv", Kind: experiment.KindBinomial, Event: "order", Aggregation: experiment.AggCount}
	aov := experiment.Metric{Key: "aov", Kind: experiment.KindRatio, Event: "order", Aggregation: experiment.AggSum,
		DenominatorEvent: "order", DenominatorAggregation: experiment.AggCount}
	ctr := experiment.Metric{Key: "ctr", Kind: experiment.KindRatio, Event: "click", Aggregation: experiment.AggCount,
		DenominatorEvent: "view", DenominatorAggregation: experiment.AggCount}
	metrics := []experiment.Metric{conv, aov, ctr}
	// target names Exp.Rules[Rule] as "experiment/metric".
	target := func(tg Target) string { return tg.Exp.Key + "/" + tg.Exp.Rules[tg.Rule].Metric.Key }
	cases := []struct {
		name    string
		exps    []*experiment.Experiment
		layers  []experiment.Layer
		rules   map[string][]string
		byEvent map[string][]string
		pre     float64
	}{
		{"no experiments compile to empty indexes", nil, nil, map[string][]string{}, map[string][]string{}, 0},
		{"metrics follow goal, secondary, guardrail order, each once, unknown keys skipped",
			[]*experiment.Experiment{{Key: "e", GoalMetrics: []string{"conv"}, SecondaryMetrics: []string{"missing", "aov"}, GuardrailMetrics: []string{"conv"}}}, nil,
			map[string][]string{"e": {"conv", "aov"}},
			map[string][]string{"order": {"e/conv", "e/aov"}}, 14},
		{"a ratio is fed by its denominator event too",
			[]*experiment.Experiment{{Key: "e", GoalMetrics: []string{"ctr"}, Analysis: experiment.Analysis{PreExposureDays: 7}}}, nil,
			map[string][]string{"e": {"ctr"}},
			map[string][]string{"click": {"e/ctr"}, "view": {"e/ctr"}}, 7},
		{"an experiment without known metrics is indexed with no rules",
			[]*experiment.Experiment{{Key: "e", GoalMetrics: []string{"missing"}}}, nil,
			map[string][]string{"e": nil}, map[string][]string{}, 0},
		{"events feed the experiments in their listed order",
			[]*experiment.Experiment{{Key: "b", GoalMetrics: []string{"conv"}}, {Key: "a", GoalMetrics: []string{"conv"}}}, nil,
			map[string][]string{"a": {"conv"}, "b": {"conv"}},
			map[string][]string{"order": {"b/conv", "a/conv"}}, 14},
		{"a layer's holdout baseline is compiled under its own key, after the experiments",
			[]*experiment.Experiment{{Key: "e", Layer: "l", GoalMetrics: []string{"ctr"}}},
			[]experiment.Layer{{Key: "l", HoldoutShare: 0.1, Metrics: []string{"conv"}}, {Key: "no-metrics", HoldoutShare: 0.1}, {Key: "no-holdout"}},
			map[string][]string{"e": {"ctr"}, "layer:l": {"conv"}},
			map[string][]string{"order": {"layer:l/conv"}, "click": {"e/ctr"}, "view": {"e/ctr"}}, 14},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a := CompileAttribution(42, tc.exps, tc.layers, metrics)
			if a.Version != 42 {
				t.Errorf("Version = %d, want 42", a.Version)
			}
			if len(a.Experiments) != len(tc.rules) {
				t.Fatalf("%d experiments, want %d", len(a.Experiments), len(tc.rules))
			}
			for key, want := range tc.rules {
				er := a.Experiments[key]
				if er == nil || er.Key != key {
					t.Fatalf("experiment %q missing or mis-keyed: %+v", key, er)
				}
				if got := er.MetricKeys(); !slices.Equal(got, want) {
					t.Errorf("%s metrics = %v, want %v", key, got, want)
				}
				for _, r := range er.Rules {
					if wantPre := int64(tc.pre * 24 * float64(time.Hour)); r.pre != wantPre {
						t.Errorf("%s/%s look-back = %d ns, want %d", key, r.Metric.Key, r.pre, wantPre)
					}
				}
			}
			if len(a.ByEvent) != len(tc.byEvent) {
				t.Errorf("%d events indexed, want %d", len(a.ByEvent), len(tc.byEvent))
			}
			for ev, want := range tc.byEvent {
				var got []string
				for _, tg := range a.ByEvent[ev] {
					got = append(got, target(tg))
				}
				if !slices.Equal(got, want) {
					t.Errorf("ByEvent[%q] = %v, want %v", ev, got, want)
				}
			}
		})
	}
}

func TestExperimentRules(t *testing.T) {
	ctr := experiment.Metric{Key: "ctr", Kind: experiment.KindRatio, Event: "click", DenominatorEvent: "view"}
	er := &ExperimentRules{Key: "e", Rules: []Rule{NewRule(ctr, 14)}}
	cases := []struct {
		name  string
		event string
		want  bool
	}{
		{"the numerator event is used", "click", true},
		{"the denominator event of a ratio is used", "view", true},
		{"another event is not used", "order", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := er.UsesEvent(tc.event); got != tc.want {
				t.Errorf("UsesEvent(%q) = %v, want %v", tc.event, got, tc.want)
			}
		})
	}
	t.Run("an experiment without metrics has an empty, non-nil key list", func(t *testing.T) {
		if keys := (&ExperimentRules{Key: "e"}).MetricKeys(); keys == nil || len(keys) != 0 {
			t.Errorf("MetricKeys() = %#v, want []string{}", keys)
		}
	})
}

func TestDayOf(t *testing.T) {
	cases := []struct {
		name string
		at   time.Time
		want int64
	}{
		{"midnight starts its day", time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), 19783},
		{"the last nanosecond stays in the day", time.Date(2024, 3, 1, 23, 59, 59, 999999999, time.UTC), 19783},
		{"the day is UTC whatever the zone", time.Date(2024, 3, 2, 0, 30, 0, 0, time.FixedZone("CET", 3600)), 19783},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := DayOf(tc.at.UnixNano()); got != tc.want {
				t.Errorf("DayOf(%v) = %d, want %d", tc.at, got, tc.want)
			}
		})
	}
}
