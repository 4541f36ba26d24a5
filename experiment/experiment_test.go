package experiment

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/jsonbody"
)

func valid() *Experiment {
	e := &Experiment{Key: "gallery", Name: "Gallery", Stage: StageConsideration, Touchpoint: "product_page",
		Variants:    []Variant{{Key: "control", Weight: 1}, {Key: "gallery", Weight: 1}},
		GoalMetrics: []string{"add_to_cart_rate"}}
	e.Normalize()
	return e
}

func TestNormalizeFillsDefaults(t *testing.T) {
	e := valid()
	if e.Salt != "gallery" || e.Control != "control" || e.Coverage != 1 || e.Status != StatusDraft || e.Mode != ModeAB ||
		e.Analysis.Method != "frequentist" || e.Analysis.Alpha != 0.05 || e.Analysis.Correction != "holm" {
		t.Fatalf("defaults not filled: %+v", e)
	}
	if err := e.Validate(); err != nil {
		t.Fatalf("a normalised sample must be valid: %v", err)
	}
}

func TestValidateNamesTheField(t *testing.T) {
	cases := []struct {
		name  string
		mut   func(e *Experiment)
		field string
	}{
		{"an upper-case key", func(e *Experiment) { e.Key = "Gallery" }, "key"},
		{"a missing name", func(e *Experiment) { e.Name = "" }, "name"},
		{"an unknown stage", func(e *Experiment) { e.Stage = "nirvana" }, "stage"},
		{"one variant", func(e *Experiment) { e.Variants = e.Variants[:1] }, "variants"},
		{"a NaN weight", func(e *Experiment) { e.Variants[1].Weight = math.NaN() }, "variants[1].weight"},
		{"an infinite weight", func(e *Experiment) { e.Variants[1].Weight = math.Inf(1) }, "variants[1].weight"},
		{"invalid payload JSON", func(e *Experiment) { e.Variants[1].Payload = json.RawMessage(`{`) }, "variants[1].payload"},
		{"zero coverage after normalising", func(e *Experiment) { e.Coverage = -0.1 }, "coverage"},
		{"a layer share without a layer", func(e *Experiment) { e.LayerShare = 0.5 }, "layer_share"},
		{"an override to an unknown variant", func(e *Experiment) { e.Overrides = map[string]string{"qa": "nope"} }, "overrides.qa"},
		{"a goal metric listed twice", func(e *Experiment) { e.GoalMetrics = []string{"conversion", "conversion"} }, "goal_metrics[1]"},
		{"no goal metric", func(e *Experiment) { e.GoalMetrics = nil }, "goal_metrics"},
		{"an unknown analysis method", func(e *Experiment) { e.Analysis.Method = "vibes" }, "analysis.method"},
		{"an alpha of one half", func(e *Experiment) { e.Analysis.Alpha = 0.5 }, "analysis.alpha"},
		{"optimise mode without settings", func(e *Experiment) { e.Mode = ModeOptimise }, "optimise"},
		{"an optimise metric that is not a goal", func(e *Experiment) {
			e.Mode, e.Optimise = ModeOptimise, &Optimise{Metric: "conversion", IntervalMinutes: 60, Floor: 0.01}
		}, "optimise.metric"},
		{"a re-weighting every five minutes", func(e *Experiment) {
			e.Mode, e.Optimise = ModeOptimise, &Optimise{Metric: "add_to_cart_rate", IntervalMinutes: 5, Floor: 0.01}
		}, "optimise.interval_minutes"},
		{"a re-weighting interval that would overflow a duration", func(e *Experiment) {
			e.Mode, e.Optimise = ModeOptimise, &Optimise{Metric: "add_to_cart_rate", IntervalMinutes: 1 << 62, Floor: 0.01}
		}, "optimise.interval_minutes"},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			e := valid()
			tc.mut(e)
			err := e.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want a *ValidationError", err)
			}
			if ve.Field != tc.field {
				t.Fatalf("field %q, want %q (%v)", ve.Field, tc.field, err)
			}
		})
	}
}

func TestDiffListsOnlyChangedFields(t *testing.T) {
	a := valid()
	b := a.Clone()
	b.Name, b.Version = "Gallery v2", 7
	b.Variants[1].Weight = 3
	changes := Diff(a, b)
	var fields []string
	for _, c := range changes {
		fields = append(fields, c.Field)
	}
	if strings.Join(fields, ",") != "name,variants" {
		t.Fatalf("changed fields %v, want name and variants (version is bookkeeping)", fields)
	}
	if string(changes[0].From) != `"Gallery"` || string(changes[0].To) != `"Gallery v2"` {
		t.Fatalf("name change %s -> %s", changes[0].From, changes[0].To)
	}
	if len(Diff(nil, a)) == 0 {
		t.Fatal("a creation must list the fields it sets")
	}
}

func TestBuiltinMetricsCoverEveryStage(t *testing.T) {
	seen := map[Stage]int{}
	keys := map[string]bool{}
	for _, m := range BuiltinMetrics() {
		seen[m.Stage]++
		if keys[m.Key] {
			t.Fatalf("metric key %s twice", m.Key)
		}
		keys[m.Key] = true
		if !m.BuiltIn {
			t.Fatalf("%s not marked built-in", m.Key)
		}
	}
	for _, s := range Stages() {
		if seen[s] == 0 {
			t.Errorf("stage %s has no built-in KPI", s)
		}
	}
	aov := map[string]Metric{}
	for _, m := range BuiltinMetrics() {
		aov[m.Key] = m
	}
	if m := aov["average_order_value"]; m.Kind != KindRatio || m.Event != "order_completed" || m.Aggregation != AggSum || m.DenominatorAggregation != AggCount {
		t.Fatalf("average order value must be revenue / orders: %+v", m)
	}
}

func TestMetricValidation(t *testing.T) {
	base := Metric{Key: "gift", Stage: StageCheckout, Kind: KindMean, Direction: HigherIsBetter, Event: "gift_wrap"}
	cases := []struct {
		name  string
		mut   func(m *Metric)
		field string
	}{
		{"a valid mean metric", func(m *Metric) {}, ""},
		{"a ratio without denominator", func(m *Metric) { m.Kind = KindRatio }, "denominator_event"},
		{"a denominator on a mean", func(m *Metric) { m.DenominatorEvent = "x" }, "denominator_event"},
		{"a percentile cap of 1", func(m *Metric) { m.Capping = Capping{Type: "percentile", Value: 1} }, "capping.value"},
		{"a cap on a binomial", func(m *Metric) { m.Kind = KindBinomial; m.Capping = Capping{Type: "value", Value: 5} }, "capping.type"},
		{"an event name with a dollar", func(m *Metric) { m.Event = "$set" }, "event"},
		{"a negative window", func(m *Metric) { m.WindowHours = -1 }, "window_hours"},
		{"a sideways direction", func(m *Metric) { m.Direction = "sideways" }, "direction"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := base
			tc.mut(&m)
			m.Normalize()
			err := m.Validate()
			if tc.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var ve *ValidationError
			if !errors.As(err, &ve) || ve.Field != tc.field {
				t.Fatalf("err = %v, want field %q", err, tc.field)
			}
		})
	}
}

// FuzzExperimentJSON feeds arbitrary request bodies through the same decode,
// normalise and validate steps the API uses: nothing may panic, and whatever
// validates must also compute an allocation.
func FuzzExperimentJSON(f *testing.F) {
	seed, _ := json.Marshal(valid())
	f.Add(seed)
	f.Add([]byte(`{"key":"a","variants":[{"key":"a","weight":1e308},{"key":"b","weight":1e308}]}`))
	f.Add([]byte(`{"targeting":{"all":[{"attr":"x","op":"regex","value":"("}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var e Experiment
		if err := jsonbody.Decode(body, &e); err != nil {
			return
		}
		e.Normalize()
		if err := e.Validate(); err != nil {
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("validation error %T is not a *ValidationError: %v", err, err)
			}
			return
		}
		if _, err := assign.Allocate(e.Weights()); err != nil {
			t.Fatalf("valid experiment but no allocation: %v (weights %v)", err, e.Weights())
		}
	})
}
