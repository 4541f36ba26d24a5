package serving

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/valyala/fasthttp"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

// FuzzAssignRequest checks the hand-written request parser against
// encoding/json: it never panics, every refusal is a 400-class error with a
// message, and whatever it accepts encoding/json accepts too, with the same
// values, within the documented limits.
func FuzzAssignRequest(f *testing.F) {
	for _, s := range []string{
		`{"unit_id":"u-1","touchpoint":"checkout","attributes":{"device":"mobile","visits":3,"new":true,"tags":["a",1,null],"x":null}}`,
		`{"unit_id":"u"}`,
		`{"unit_id":"u","touchpoint":"t","expose":false}`,
		`{"unit_id":"u","expose":null}`,
		` { "unit_id" : "\u00e9\ud83d\uded2\n" , "touchpoint" : null , "attributes" : null } `,
		`{"unit_id":"u","attributes":{"a":-0.5e+10,"b":0,"c":1E-3,"d":[]}}`,
		`{"unit_id":"\ud800","attributes":{"\"q\"":"\\/"}}`,
		`{"unit_id":"u","attributes":{"geo":{"c":"DE"}}}`,
		`{"unit_id":"u","unit_id":"v"}`,
		`{"unit_id":1e400}`,
		`{"unit_id":"u",}`,
		`[]`, ``, `{`, `{"unit_id":"u"} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var r Request
		err := parseBody(body, &r)
		if err != nil {
			var je *jsonbody.Error
			var ve *experiment.ValidationError
			if !errors.As(err, &je) && !errors.As(err, &ve) {
				t.Fatalf("error %T %v is neither a jsonbody.Error nor a ValidationError", err, err)
			}
			if err.Error() == "" {
				t.Fatal("empty error message")
			}
			return
		}
		if !utf8.Valid(body) {
			t.Fatalf("accepted invalid UTF-8: %q", body)
		}
		var ref struct {
			UnitID     *string        `json:"unit_id"`
			Touchpoint *string        `json:"touchpoint"`
			Attributes map[string]any `json:"attributes"`
			Expose     *bool          `json:"expose"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ref); err != nil {
			t.Fatalf("parser accepted %q, encoding/json refuses it: %v", body, err)
		}
		if ref.UnitID == nil || *ref.UnitID != r.unit {
			t.Fatalf("unit_id = %q, encoding/json says %v", r.unit, ref.UnitID)
		}
		if tp := ref.Touchpoint; (tp == nil && r.touchpoint != "") || (tp != nil && *tp != r.touchpoint) {
			t.Fatalf("touchpoint = %q, encoding/json says %v", r.touchpoint, tp)
		}
		if want := map[bool]exposeMode{true: exposeYes, false: exposeNo}; (ref.Expose == nil && r.expose != exposeDefault) || (ref.Expose != nil && want[*ref.Expose] != r.expose) {
			t.Fatalf("expose = %v, encoding/json says %v", r.expose, ref.Expose)
		}
		if len(ref.Attributes) != len(r.attrs) || (len(r.attrs) > 0 && !reflect.DeepEqual(ref.Attributes, r.attrs)) {
			t.Fatalf("attributes = %#v, encoding/json says %#v", r.attrs, ref.Attributes)
		}
		if r.unit == "" || len(r.unit) > MaxUnitIDBytes || len(r.attrs) > MaxAttributes {
			t.Fatalf("accepted a request outside the limits: %+v", r)
		}
		for k, v := range r.attrs {
			if list, ok := v.([]any); ok {
				for _, e := range list {
					if _, nested := e.([]any); nested {
						t.Fatalf("attribute %s has a nested array", k)
					}
				}
			} else if _, obj := v.(map[string]any); obj {
				t.Fatalf("attribute %s is an object", k)
			}
		}
		// The same request as a query string parses to the same unit.
		var q Request
		var args fasthttp.Args
		args.Add("unit_id", r.unit)
		args.Add("touchpoint", r.touchpoint)
		if err := parseQuery(&args, &q); err != nil || q.unit != r.unit {
			t.Fatalf("query form of unit %q: %v (got %q)", r.unit, err, q.unit)
		}
	})
}

// FuzzAppendJSONString checks that every string encodes to JSON that
// decodes to what encoding/json's encoding of it decodes to.
func FuzzAppendJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b\\c", "\x00\n\u2028", "Größe 🛒", "\xff\xfe"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		enc := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(enc, &back); err != nil {
			t.Fatalf("%q encodes to invalid JSON %s: %v", s, enc, err)
		}
		ref, err := json.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		var want string
		if err := json.Unmarshal(ref, &want); err != nil {
			t.Fatal(err)
		}
		if back != want {
			t.Fatalf("%q round-trips to %q, want %q", s, back, want)
		}
	})
}

func FuzzDecodeExposureRecord(f *testing.F) {
	at := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	f.Add(appendRecord(nil, []experiment.Exposure{{Experiment: "a", Unit: "u", Variant: "v", At: at, Attributes: map[string]string{"device": "mobile"}}}))
	f.Add([]byte{1, 0, 0, 0, 255, 255, 255, 255, 15})
	f.Fuzz(func(t *testing.T, b []byte) {
		xs, err := decodeRecord(nil, b, nil)
		if err != nil {
			if len(xs) != 0 {
				t.Fatalf("error %v with %d exposures decoded", err, len(xs))
			}
			return
		}
		if len(xs) == 0 {
			return
		}
		again, err := decodeRecord(nil, appendRecord(nil, xs), nil)
		if err != nil || len(again) != len(xs) {
			t.Fatalf("re-encoded record: %d exposures, %v; want %d", len(again), err, len(xs))
		}
		for i := range xs {
			if again[i].Experiment != xs[i].Experiment || again[i].Variant != xs[i].Variant || again[i].Unit != xs[i].Unit || !again[i].At.Equal(xs[i].At) {
				t.Fatalf("exposure %d changed in a round trip: %+v -> %+v", i, xs[i], again[i])
			}
		}
	})
}
