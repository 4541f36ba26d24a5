package jsonbody

import (
	"encoding/json"
	"errors"
	"testing"
)

type sample struct {
	Name  string   `json:"name"`
	Count int      `json:"count"`
	Tags  []string `json:"tags"`
	Inner struct {
		Weight float64 `json:"weight"`
	} `json:"inner"`
}

func TestDecode(t *testing.T) {
	cases := []struct {
		name      string
		body      string
		wantField string
		wantErr   bool
	}{
		{"a valid object decodes", `{"name":"a","count":2,"tags":["x"]}`, "", false},
		{"an empty body is refused", ``, "", true},
		{"malformed JSON is refused", `{"name":`, "", true},
		{"an unknown field is named", `{"nmae":"a"}`, "nmae", true},
		{"a wrong type names the field", `{"count":"two"}`, "count", true},
		{"a wrong nested type names the path", `{"inner":{"weight":"heavy"}}`, "inner.weight", true},
		{"trailing data is refused", `{"name":"a"} {"name":"b"}`, "", true},
		{"unicode names decode", `{"name":"Größe 🛒"}`, "", false},
		{"a paired surrogate escape decodes", `{"name":"\ud83d\uded2"}`, "", false},
		{"a repeated name is refused", `{"name":"a","count":1,"name":"b"}`, "name", true},
		{"a repeated nested name names the path", `{"inner":{"weight":1,"weight":2}}`, "inner.weight", true},
		{"a name repeated through an escape is refused", `{"name":"a","n\u0061me":"b"}`, "name", true},
		{"the same name in two objects is fine", `{"inner":{"weight":1},"tags":["weight"]}`, "", false},
		{"invalid UTF-8 names the field", "{\"tags\":[\"ok\",\"\xff\"]}", "tags[1]", true},
		{"an unpaired high surrogate is refused", `{"name":"\ud800"}`, "name", true},
		{"an unpaired low surrogate is refused", `{"name":"x\udc00"}`, "name", true},
		{"a high surrogate followed by a non-surrogate is refused", `{"name":"\ud800\u0041"}`, "name", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s sample
			err := Decode([]byte(tc.body), &s)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, want error %v", err, tc.wantErr)
			}
			if err == nil {
				return
			}
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("error %T is not *Error", err)
			}
			if je.Field != tc.wantField {
				t.Errorf("field = %q, want %q (%v)", je.Field, tc.wantField, err)
			}
		})
	}
}

func TestDecodeTopChecksOnlyTheTopLevel(t *testing.T) {
	var v struct {
		Items []json.RawMessage `json:"items"`
	}
	if err := DecodeTop([]byte(`{"items":[{"a":1,"a":2},"\ud800"]}`), &v); err != nil {
		t.Fatalf("nested problems must be left to the nested decode: %v", err)
	}
	if len(v.Items) != 2 {
		t.Fatalf("items %d", len(v.Items))
	}
	var je *Error
	if err := DecodeTop([]byte(`{"items":[],"items":[]}`), &v); !errors.As(err, &je) || je.Field != "items" {
		t.Fatalf("a repeated top-level name: %v", err)
	}
}

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a"}`, `{"inner":{"weight":1e309}}`, `[`, `{"tags":[1,2]}`,
		`{"name":"a","name":"b"}`, `{"name":"\ud800"}`, `{"tags":["\"",{"x":[1,{"y":"\\"}]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var s sample
		err := Decode(body, &s)
		if err != nil {
			var je *Error
			if !errors.As(err, &je) {
				t.Fatalf("error %T is not *Error: %v", err, err)
			}
		}
	})
}

func FuzzCheckText(f *testing.F) {
	for _, s := range []string{`{}`, `[1,"a",{"b":null}]`, `{"a":1,"a":2}`, `"\ud800"`, `{"x":{"y":[{"z":"\\"}]}}`, ` 12 `} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		for _, depth := range []int{-1, 0, 1} {
			if err := checkText(b, depth); err != nil {
				var je *Error
				if !errors.As(err, &je) {
					t.Fatalf("error %T is not *Error: %v", err, err)
				}
			}
		}
	})
}
