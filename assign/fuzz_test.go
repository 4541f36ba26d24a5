package assign

import (
	"encoding/json"
	"errors"
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
