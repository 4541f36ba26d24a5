package assign

import (
	"math/rand/v2"
	"strconv"
	"testing"
)

// TestSharedEvaluationGivesEachConditionsOwnAnswer checks that evaluating
// personas, shared conditions and shared clauses once per Assign call never
// changes an experiment's answer: for random attributes, an experiment is
// assigned exactly when its condition, compiled on its own, matches.
func TestSharedEvaluationGivesEachConditionsOwnAnswer(t *testing.T) {
	conds := []string{
		`{"country": {"$in": ["DE", "AT"]}, "$persona": "sarah"}`,
		`{"country": {"$in": ["DE", "AT"]}, "device": "mobile"}`,
		`{"country": {"$in": ["DE", "AT"]}, "$persona": "sarah"}`,
		`{"$not": {"device": "mobile"}, "$or": [{"country": {"$in": ["DE", "AT"]}}, {"$persona": "sarah"}]}`,
		`{"$nor": [{"device": "mobile"}], "visits": {"$gt": 2}}`,
		`{"tags": {"$elemMatch": {"returns": {"$gte": 0}, "$persona": "sarah"}}, "visits": {"$gt": 2}}`,
		`{"$persona": "bargain", "device": "mobile"}`,
		`{"$or": [{"$persona": "sarah"}, {"$persona": "bargain"}], "visits": {"$gt": 2}}`,
	}
	personas := []Persona{
		{Key: "sarah", Condition: Condition(`{"returns": {"$gte": 2}}`)},
		{Key: "bargain", Condition: Condition(`{"coupon": true, "device": "mobile"}`)},
	}
	var exps []Experiment
	env := Env{Personas: map[string]Matcher{}}
	for _, p := range personas {
		m, err := CompilePersona(p.Condition, Env{})
		if err != nil {
			t.Fatal(err)
		}
		env.Personas[p.Key] = m
	}
	alone := make([]Matcher, len(conds))
	for i, c := range conds {
		exps = append(exps, Experiment{Key: "e" + strconv.Itoa(i), Touchpoint: "tp", Coverage: 1, Variants: []Variant{{Key: "a"}}, Targeting: Condition(c)})
		alone[i] = mustCondition(t, c, env)
	}
	s, err := NewSnapshot(exps, nil, personas...)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	pick := func(vals ...any) any { return vals[rng.IntN(len(vals))] }
	var dst []Assignment
	for u := range 20000 {
		attrs := map[string]any{
			"country": pick("DE", "AT", "FR", nil), "device": pick("mobile", "desktop"),
			"visits": pick(1.0, 3.0), "returns": pick(0.0, 2.0, 5.0), "coupon": pick(true, false),
			"tags": pick([]any{map[string]any{"returns": 3.0}}, []any{map[string]any{"returns": 1.0}}, []any{}),
		}
		dst = s.Assign("u"+strconv.Itoa(u), "tp", attrs, dst[:0])
		got := map[string]bool{}
		for _, a := range dst {
			got[a.Experiment] = true
		}
		for i := range conds {
			if want := alone[i].Match(attrs); got["e"+strconv.Itoa(i)] != want {
				t.Fatalf("attributes %v: experiment %d (%s) assigned %v, its condition alone says %v", attrs, i, conds[i], got["e"+strconv.Itoa(i)], want)
			}
		}
	}
}
