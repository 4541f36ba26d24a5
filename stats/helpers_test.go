package stats

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
)

// nonFiniteFields lists every float field of v (recursing into structs and
// arrays) that is NaN or ±Inf.
func nonFiniteFields(v any) []string {
	var bad []string
	var walk func(path string, rv reflect.Value)
	walk = func(path string, rv reflect.Value) {
		switch rv.Kind() {
		case reflect.Float32, reflect.Float64:
			if f := rv.Float(); math.IsNaN(f) || math.IsInf(f, 0) {
				bad = append(bad, fmt.Sprintf("%s=%v", path, f))
			}
		case reflect.Struct:
			for i := range rv.NumField() {
				walk(path+"."+rv.Type().Field(i).Name, rv.Field(i))
			}
		case reflect.Array, reflect.Slice:
			for i := range rv.Len() {
				walk(fmt.Sprintf("%s[%d]", path, i), rv.Index(i))
			}
		}
	}
	walk("Result", reflect.ValueOf(v))
	return bad
}

// resultProblems reports anything that breaks the Result contract: a
// non-finite float, a failing json.Marshal, or estimates on a non-OK result.
func resultProblems(r Result) []string {
	bad := nonFiniteFields(r)
	if _, err := json.Marshal(r); err != nil {
		bad = append(bad, "json: "+err.Error())
	}
	if r.Status != StatusOK {
		if r.Absolute != (Lift{}) || r.Relative != (Lift{}) || r.ChanceToWin != 0 {
			bad = append(bad, "estimates filled in on a "+string(r.Status)+" result")
		}
		if r.Reason == "" {
			bad = append(bad, "no reason for status "+string(r.Status))
		}
	}
	switch r.Status {
	case StatusOK, StatusNotEnoughData, StatusInvalidInput:
	default:
		bad = append(bad, "unknown status "+string(r.Status))
	}
	for _, p := range []float64{r.Absolute.PValue, r.Relative.PValue, r.ChanceToWin} {
		if p < 0 || p > 1 {
			bad = append(bad, fmt.Sprintf("probability %g outside [0, 1]", p))
		}
	}
	return bad
}

// near reports whether got is within rel relative error of want (absolute
// error when want is 0).
func near(got, want, rel float64) bool {
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-300) || got == want
}
