package serving

import (
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

func TestParseContext(t *testing.T) {
	tests := []struct {
		name  string
		in    string
		want  Context
		check func(error) bool
	}{
		{"targetingKey is the unit, touchpoint is not an attribute, the rest are",
			`{"targetingKey":"u-1","touchpoint":"checkout","device":"mobile","visits":3,"tags":["a",true],"vip":null}`,
			Context{Unit: "u-1", Touchpoint: "checkout", Attributes: map[string]any{"device": "mobile", "visits": 3.0, "tags": []any{"a", true}, "vip": nil}}, nil},
		{"escapes decode as in /v1/assign", `{"targetingKey":"caf\u00e9","note":"a\"b"}`,
			Context{Unit: "café", Attributes: map[string]any{"note": `a"b`}}, nil},
		{"no targetingKey", `{"device":"mobile"}`, Context{}, func(err error) bool { return errors.Is(err, ErrTargetingKeyMissing) }},
		{"a null targetingKey is missing", `{"targetingKey":null}`, Context{}, func(err error) bool { return errors.Is(err, ErrTargetingKeyMissing) }},
		{"a number targetingKey names the field", `{"targetingKey":7}`, Context{}, fieldIs("context.targetingKey")},
		{"a nested object names the attribute", `{"targetingKey":"u","cart":{"n":1}}`, Context{}, fieldIs("attributes.cart")},
		{"an over-long unit is refused", `{"targetingKey":"` + strings.Repeat("u", MaxUnitIDBytes+1) + `"}`, Context{}, fieldIs("context.targetingKey")},
		{"a repeated targetingKey is refused", `{"targetingKey":"a","targetingKey":"b"}`, Context{}, fieldIs("context.targetingKey")},
		{"not an object", `"u-1"`, Context{}, fieldIs("context")},
		{"trailing data", `{"targetingKey":"u"} x`, Context{}, func(err error) bool { var je *jsonbody.Error; return errors.As(err, &je) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseContext([]byte(tt.in))
			if tt.check != nil {
				if err == nil || !tt.check(err) {
					t.Fatalf("error %v (%T) is not the one expected", err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.Unit != tt.want.Unit || got.Touchpoint != tt.want.Touchpoint || !reflect.DeepEqual(nonNil(got.Attributes), nonNil(tt.want.Attributes)) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func nonNil(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

func fieldIs(field string) func(error) bool {
	return func(err error) bool {
		var ve *experiment.ValidationError
		var je *jsonbody.Error
		switch {
		case errors.As(err, &ve):
			return ve.Field == field
		case errors.As(err, &je):
			return je.Field == field
		}
		return false
	}
}

// FuzzParseContext checks that no input panics and that an accepted
// context always has a unit within the limits.
func FuzzParseContext(f *testing.F) {
	for _, s := range []string{`{"targetingKey":"u-1","device":"mobile","n":[1,2]}`, `{}`, `{"targetingKey":"\ud800"}`, `[`, `{"touchpoint":null,"targetingKey":"x"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseContext(b)
		if err != nil {
			return
		}
		if c.Unit == "" || len(c.Unit) > MaxUnitIDBytes || len(c.Attributes) > MaxAttributes {
			t.Fatalf("accepted %q as %+v", b, c)
		}
	})
}

func TestParseEvaluationRequest(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantUnit string
		check    func(error) bool
	}{
		{"other members are skipped, whatever they hold", `{"flags":[1,{"a":[true,null,"x"]}],"context":{"targetingKey":"u-1"},"v":-1.5e3}`, "u-1", nil},
		{"no context", `{"other":1}`, "", fieldIs("context")},
		{"a null context", `{"context":null}`, "", fieldIs("context")},
		{"a repeated context", `{"context":{"targetingKey":"a"},"context":{"targetingKey":"b"}}`, "", fieldIs("context")},
		{"malformed JSON inside a skipped member", `{"x":[1,},"context":{"targetingKey":"u"}}`, "", syntaxError},
		{"malformed JSON inside the context", `{"context":{"targetingKey":"u",}}`, "", syntaxError},
		{"not an object", `[{"context":{}}]`, "", syntaxError},
		{"empty", ``, "", syntaxError},
		{"nesting beyond the limit", `{"x":` + strings.Repeat("[", 40) + strings.Repeat("]", 40) + `,"context":{"targetingKey":"u"}}`, "", syntaxError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvaluationRequest([]byte(tt.in))
			if tt.check != nil {
				if err == nil || !tt.check(err) {
					t.Fatalf("error %v (%T) is not the one expected", err, err)
				}
				return
			}
			if err != nil || got.Unit != tt.wantUnit {
				t.Fatalf("unit %q, err %v; want %q", got.Unit, err, tt.wantUnit)
			}
		})
	}
}

// syntaxError tells a malformed body: a jsonbody.Error naming no field.
func syntaxError(err error) bool {
	var je *jsonbody.Error
	return errors.As(err, &je) && je.Field == ""
}

// FuzzParseEvaluationRequest checks that no input panics and that only
// valid JSON is ever accepted.
func FuzzParseEvaluationRequest(f *testing.F) {
	for _, s := range []string{`{"context":{"targetingKey":"u-1","device":"mobile"}}`, `{"a":[{"b":null}],"context":{"targetingKey":"x"}}`, `{"context":`, `{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseEvaluationRequest(b)
		if err != nil {
			return
		}
		if !json.Valid(b) || c.Unit == "" {
			t.Fatalf("accepted %q as %+v", b, c)
		}
	})
}
