package assign_test

import (
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/assign"
)

// legacyRules are stored targeting rules of the earlier all/any/attr/op/value
// form, covering every operator and the edge cases of missing, null,
// wrongly typed and array attributes.
var legacyRules = []string{
	`{"all":[{"attr":"country","op":"in","value":["DE","AT"]},{"any":[{"attr":"device","op":"eq","value":"mobile"},{"attr":"visits","op":"gt","value":3}]}]}`,
	`{"all":[{"attr":"country","op":"nin","value":["DE"]},{"attr":"device","op":"neq","value":"mobile"}]}`,
	`{"any":[{"attr":"segments","op":"contains","value":"vip"},{"attr":"segments","op":"contains","value":1},{"attr":"returning","op":"contains","value":true}]}`,
	`{"attr":"channel","op":"regex","value":"^(email|sea)-"}`,
	`{"all":[{"attr":"visits","op":"gte","value":2},{"attr":"visits","op":"lt","value":7.5},{"attr":"score","op":"lte","value":0.5}]}`,
	`{"any":[{"attr":"returning","op":"eq","value":true},{"attr":"visits","op":"eq","value":3},{"attr":"visits","op":"in","value":[1,"2",false]}]}`,
	`{"attr":"visits","op":"nin","value":[3,"3",true]}`,
	`{"attr":"a.b","op":"eq","value":"x"}`,
	`{"attr":"channel","op":"contains","value":""}`,
	`{"attr":"segments","op":"contains","value":"vip-"}`,
	`{"attr":"country","op":"neq","value":"DE"}`,
}

// randomAttrs draws attributes as /v1/assign decodes them: strings,
// numbers, booleans, nulls and arrays, sometimes missing.
func randomAttrs(r *rand.Rand) map[string]any {
	pick := func(vals ...any) any { return vals[r.IntN(len(vals))] }
	const missing = "\x00missing"
	m := map[string]any{}
	set := func(k string, v any) {
		if v != missing {
			m[k] = v
		}
	}
	set("country", pick("DE", "AT", "FR", "", nil, 3.0, []any{"DE"}, missing))
	set("device", pick("mobile", "desktop", "Mobile", nil, missing))
	set("visits", pick(0.0, 1.0, 2.0, 3.0, 4.0, 7.5, 10.0, "3", "2", nil, true, false, []any{3.0}, missing))
	set("segments", pick([]any{"vip", "new"}, []any{"x"}, []any{}, "vip-member", []any{1.0, true}, []any{"vip-x"}, nil, missing))
	set("channel", pick("email-x", "sea-1", "seo", "", 5.0, []any{"email-x"}, missing))
	set("returning", pick(true, false, "true", []any{true}, missing))
	set("score", pick(0.1, 0.5, 0.9, "0.1", missing))
	set("a.b", pick("x", "y", missing))
	return m
}

func legacyExperiment(t *testing.T, i int, rule string) assign.Experiment {
	t.Helper()
	var e assign.Experiment
	doc := `{"key":"legacy-` + strconv.Itoa(i) + `","touchpoint":"pdp","coverage":0.9,
	  "variants":[{"key":"a"},{"key":"b"},{"key":"c"}],"targeting":` + rule + `}`
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		t.Fatal(err)
	}
	return e
}

// TestLegacyRulesAssignLikeBefore checks, for every stored rule form, that
// 100,000 units with random attributes get the same assignment from the
// converted condition as from the earlier rule evaluator (kept in
// legacy_reference_test.go).
func TestLegacyRulesAssignLikeBefore(t *testing.T) {
	const units = 100_000
	for i, rule := range legacyRules {
		t.Run("rule "+strconv.Itoa(i)+" assigns every unit as before", func(t *testing.T) {
			var r assign.Rule
			if err := json.Unmarshal([]byte(rule), &r); err != nil {
				t.Fatal(err)
			}
			ref, err := refCompile(r)
			if err != nil {
				t.Fatal(err)
			}
			e := legacyExperiment(t, i, rule)
			if strings.Contains(string(e.Targeting), `"op"`) {
				t.Fatalf("the stored rule was not converted on read: %s", e.Targeting)
			}
			converted, err := assign.NewSnapshot([]assign.Experiment{e}, nil)
			if err != nil {
				t.Fatal(err)
			}
			e.Targeting = nil
			untargeted, err := assign.NewSnapshot([]assign.Experiment{e}, nil)
			if err != nil {
				t.Fatal(err)
			}
			rng := rand.New(rand.NewPCG(uint64(i), 16))
			matched := 0
			var got, want []assign.Assignment
			for u := range units {
				unit := "unit-" + strconv.Itoa(u)
				attrs := randomAttrs(rng)
				got = converted.Assign(unit, "pdp", attrs, got[:0])
				want = want[:0]
				if ref.Match(attrs) {
					matched++
					want = untargeted.Assign(unit, "pdp", attrs, want)
				}
				if len(got) != len(want) || len(got) == 1 && got[0].VariantIndex != want[0].VariantIndex {
					t.Fatalf("unit %s with %v: got %+v, want %+v (condition %s)", unit, attrs, got, want, e.Targeting)
				}
			}
			if matched == 0 || matched == units {
				t.Fatalf("the rule matched %d of %d units: the test exercises nothing", matched, units)
			}
		})
	}
}
