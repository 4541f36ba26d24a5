package assign

import (
	"encoding/json"
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

var fuzzAttrs = []map[string]any{
	nil,
	{},
	{"country": "DE", "device": "mobile", "visits": 4.0, "returning": true, "segments": []any{"vip", 3.0}},
	{"country": 1.0, "device": nil, "visits": "x", "segments": "vip", "a": []any{[]any{}}, "b": map[string]any{"c": 1.0}},
}

func FuzzCompileRule(f *testing.F) {
	for _, seed := range []string{
		`{"all":[{"attr":"country","op":"in","value":["DE","AT"]},{"any":[{"attr":"device","op":"eq","value":"mobile"},{"attr":"visits","op":"gt","value":3}]}]}`,
		`{"attr":"segments","op":"contains","value":"vip"}`,
		`{"attr":"channel","op":"regex","value":"^(email|sea)-"}`,
		`{"attr":"country","op":"nin","value":[]}`,
		`{"attr":"x","op":"like","value":1}`,
		`{"any":[]}`,
		`{}`,
		`{"all":[{"all":[{"all":[{"attr":"a","op":"lte","value":1e308}]}]}]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var r Rule
		if err := json.Unmarshal(data, &r); err != nil {
			return
		}
		m, err := Compile(r)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) || re.Path == "" {
				t.Fatalf("Compile error %v is not a *RuleError with a path", err)
			}
			return
		}
		for _, attrs := range fuzzAttrs {
			first := m.Match(attrs)
			if m.Match(attrs) != first {
				t.Fatal("Match is not deterministic")
			}
		}
	})
}

func FuzzBucket(f *testing.F) {
	f.Add("checkout-cta", "user-42")
	f.Add("", "")
	f.Add("salt|with|pipe", "😀")
	f.Add(string(make([]byte, 200)), "u")
	f.Fuzz(func(t *testing.T, salt, unit string) {
		h := Hash(salt, unit)
		if h != Hash(salt, unit) {
			t.Fatal("Hash is not deterministic")
		}
		if want := xxhash.Sum64String(salt + "|" + unit); h != want {
			t.Fatalf("Hash = %d, want xxhash(salt|unit) = %d", h, want)
		}
		cb, vb := CoverageBucket(h), VariantBucket(h)
		if cb < 0 || cb >= Buckets || vb < 0 || vb >= Buckets {
			t.Fatalf("buckets out of range: coverage %d, variant %d", cb, vb)
		}
		if lb := LayerBucket(salt, unit); lb != cb {
			t.Fatalf("LayerBucket %d != coverage bucket %d of the same salt", lb, cb)
		}
	})
}

// FuzzCompileCondition compiles arbitrary conditions and evaluates them on
// arbitrary attributes: nothing may panic, refusals are *RuleError with a
// path rooted at "targeting", and evaluation is deterministic.
func FuzzCompileCondition(f *testing.F) {
	for _, seed := range []struct{ cond, attrs string }{
		{`{"country": {"$in": ["DE", "AT"]}, "$or": [{"visits": {"$gt": 3}}, {"$persona": "sarah"}]}`, `{"country":"DE","visits":4}`},
		{`{"tags": {"$elemMatch": {"name": {"$regex": "^ping"}}}, "v": {"$vgte": "1.2.3-rc.1"}}`, `{"tags":[{"name":"pingpong"}],"v":"v1.10.0"}`},
		{`{"n": {"$gt": "5", "$lt": 10}, "s": {"$size": {"$gte": 1}}, "id": {"$inGroup": "g"}}`, `{"n":"8","s":[1],"id":2}`},
		{`{"$nor": [{"a": null}], "b": [1, {"c": 2}], "c": {"$not": {"$type": "array"}}, "d": {"$alli": ["X"]}}`, `{"a":0,"b":[1,{"c":2}],"d":["x"]}`},
		{`{"a.b.0": {"$exists": true}, "x": {"$ini": ["A"]}, "y": {"$regexi": "^é"}}`, `{"a":{"b":[0]},"x":["a"],"y":"É"}`},
		{`{"$and": [], "$or": []}`, `{}`},
		{`[]`, `null`},
	} {
		f.Add([]byte(seed.cond), []byte(seed.attrs))
	}
	sarah, err := CompilePersona(Condition(`{"segment": "quality-seeker"}`), Env{})
	if err != nil {
		f.Fatal(err)
	}
	env := Env{Personas: map[string]Matcher{"sarah": sarah}, Groups: map[string][]any{"g": {1.0, "2", true}}}
	f.Fuzz(func(t *testing.T, cond, attrsJSON []byte) {
		m, err := CompileCondition(Condition(cond), env)
		if err != nil {
			var re *RuleError
			if !errors.As(err, &re) || !strings.HasPrefix(re.Path, "targeting") {
				t.Fatalf("CompileCondition error %v is not a *RuleError rooted at targeting", err)
			}
			return
		}
		var attrs map[string]any
		_ = json.Unmarshal(attrsJSON, &attrs)
		for _, a := range append(fuzzAttrs, attrs) {
			first := m.Match(a)
			if m.Match(a) != first {
				t.Fatal("Match is not deterministic")
			}
		}
	})
}

// FuzzJSNumber checks the JavaScript number formatting against Go's own
// parser: every finite number's string reads back as the same number.
func FuzzJSNumber(f *testing.F) {
	for _, x := range []float64{0, 1, -1, 0.1, 1e21, 1e-7, 123456789012345680000, 1.5e-10, -0.000001} {
		f.Add(x)
	}
	f.Fuzz(func(t *testing.T, x float64) {
		if !finiteFloat(x) {
			return
		}
		s := string(appendJSNumber(nil, x))
		y, err := strconv.ParseFloat(s, 64)
		if err != nil || y != x {
			t.Fatalf("%v formats as %q, which reads back as %v (%v)", x, s, y, err)
		}
		if z := stringToNumber(s); z != x {
			t.Fatalf("stringToNumber(%q) = %v, want %v", s, z, x)
		}
	})
}

func finiteFloat(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// FuzzPaddedDigits checks that the one-pass padding of dotted numbers
// gives what the general padding gives, for every string it accepts.
func FuzzPaddedDigits(f *testing.F) {
	for _, s := range []string{"4.10.1", "1.0.0", "1", "12345.1", "123456.1", "1..2", ".1", "1.", "v1.2.3", "1.2.3-beta", "00001.2"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		fast, ok := appendPaddedDigits([]byte("x"), s)
		if !ok {
			if string(fast) != "x" {
				t.Fatalf("%q: refused but wrote %q", s, fast)
			}
			return
		}
		var general []byte
		general = append(general, 'x')
		general = appendPaddedVersionGeneral(general, s)
		if string(fast) != string(general) {
			t.Fatalf("%q: one pass gives %q, the general padding %q", s, fast, general)
		}
	})
}
