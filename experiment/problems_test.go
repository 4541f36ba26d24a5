package experiment

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
)

// problemList renders every problem of err as "field: message" lines.
func problemList(err error) []string {
	var out []string
	for _, p := range Problems(err) {
		out = append(out, p.Field+": "+p.Message)
	}
	return out
}

// wantProblems fails t unless err is ErrInvalid with exactly the problems want.
func wantProblems(t *testing.T, err error, want []string) {
	t.Helper()
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("err = %v, want ErrInvalid", err)
	}
	if got := problemList(err); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("problems:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestValidateReportsEveryProblemAtOnce(t *testing.T) {
	cases := []struct {
		name string
		mut  func(e *Experiment)
		want []string
	}{
		{"an experiment with four mistakes", func(e *Experiment) {
			e.Key = "Gallery"
			e.Variants[1].Weight = -1
			e.Coverage = 2
			e.GoalMetrics = []string{"conversion", "conversion"}
		}, []string{
			"key: " + keyRule,
			"variants[1].weight: must be a non-negative number",
			"coverage: must be in (0, 1]",
			"goal_metrics[1]: metric \"conversion\" listed twice",
		}},
		{"variants with a bad key, a NaN weight and broken payload, and a missing control", func(e *Experiment) {
			e.Variants = []Variant{{Key: "A", Weight: 1}, {Key: "b", Weight: math.NaN(), Payload: json.RawMessage(`{`)}}
			e.Control = "control"
		}, []string{
			"variants[0].key: " + keyRule,
			"variants[1].weight: must be a non-negative number",
			"variants[1].payload: must be valid JSON",
			"control: \"control\" is not one of the variants",
		}},
		{"overrides to unknown variants, in unit order", func(e *Experiment) {
			e.Overrides = map[string]string{"qa-2": "nope", "qa-1": "gone", "qa-3": "control"}
		}, []string{
			"overrides.qa-1: variant \"gone\" is not one of the experiment's variants",
			"overrides.qa-2: variant \"nope\" is not one of the experiment's variants",
		}},
		{"bad analysis settings and an optimise block in a fixed split", func(e *Experiment) {
			e.Analysis.Method, e.Analysis.Alpha, e.Analysis.Correction = "vibes", 0.7, "bonferroni"
			e.Optimise = &Optimise{Metric: "add_to_cart_rate"}
		}, []string{
			"analysis.method: must be frequentist, sequential or bayesian, got \"vibes\"",
			"analysis.alpha: must be in (0, 0.5)",
			"analysis.correction: must be holm, bh or none, got \"bonferroni\"",
			"optimise: only for mode \"optimise\"",
		}},
	}
	for _, tc := range cases {
		t.Run("lists every problem of "+tc.name, func(t *testing.T) {
			e := valid()
			tc.mut(e)
			err := e.Validate()
			wantProblems(t, err, tc.want)
			var first *ValidationError
			if !errors.As(err, &first) || first.Field+": "+first.Message != tc.want[0] {
				t.Fatalf("errors.As finds %v, want the first problem %q", first, tc.want[0])
			}
		})
	}
}

func TestOtherDefinitionsReportEveryProblemAtOnce(t *testing.T) {
	cases := []struct {
		name string
		err  error
		want []string
	}{
		{"a metric", (&Metric{Key: "Bad Key", Stage: "nirvana", Kind: KindMean, Direction: "sideways", Event: "order completed",
			Aggregation: AggSum, Capping: Capping{Type: "percentile", Value: 2}}).Validate(), []string{
			"key: " + keyRule,
			"stage: unknown journey stage \"nirvana\" (want one of [awareness consideration decision checkout delivery usage loyalty returns])",
			"direction: must be \"up\" or \"down\", got \"sideways\"",
			"event: " + eventRule,
			"capping.value: percentile must be between 0 and 1 (e.g. 0.99)",
		}},
		{"a layer", (&Layer{Key: "checkout layer", HoldoutShare: 1, Metrics: []string{"conversion", "conversion"}}).Validate(), []string{
			"key: " + keyRule,
			"holdout_share: must be in [0, 1)",
			"metrics[1]: metric \"conversion\" listed twice",
		}},
		{"a persona with two bad parts of its condition", (&Persona{Key: "sarah", Name: strings.Repeat("n", 201),
			Condition: []byte(`{"$or":[{"country":{"$inn":["DE"]}},{"age":{"$gt":18,"$regex":7}}],"$persona":"x"}`)}).Validate(), []string{
			"name: at most 200 characters",
			"condition.$or[0].country.$inn: unknown operator \"$inn\"",
			"condition.$or[1].age.$regex: needs a string pattern, got a number",
			"condition.$persona: a persona cannot reference another persona",
		}},
	}
	for _, tc := range cases {
		t.Run("lists every problem of "+tc.name, func(t *testing.T) {
			wantProblems(t, tc.err, tc.want)
		})
	}
}

func TestValidationErrorsReadAsOneProblemPerLine(t *testing.T) {
	err := ValidationErrors{invalid("key", "bad"), invalid("variants[1].weight", "negative")}
	want := "2 problems:\n  key: bad\n  variants[1].weight: negative"
	if err.Error() != want {
		t.Fatalf("Error() = %q, want %q", err.Error(), want)
	}
	wrapped := fmt.Errorf("create experiment: %w", err)
	if !errors.Is(wrapped, ErrInvalid) || len(Problems(wrapped)) != 2 {
		t.Fatalf("a wrapped list must stay ErrInvalid with both problems: %v", Problems(wrapped))
	}
	if Problems(errors.New("disk full")) != nil {
		t.Fatal("an error that is no validation problem has no problems")
	}
}

func TestProblemsAreBoundedAndSayHowManyMore(t *testing.T) {
	var p problems
	for i := range maxProblems + 7 {
		p.add(fmt.Sprintf("f%d", i), "bad")
	}
	got := Problems(p.err())
	if len(got) != maxProblems+1 || got[maxProblems].Message != "and 7 more problems" {
		t.Fatalf("%d problems, last %+v; want %d and a count of the rest", len(got), got[len(got)-1], maxProblems+1)
	}
}
