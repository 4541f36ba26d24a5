package jsonbody

import (
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

func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{}`, `{"name":"a"}`, `{"inner":{"weight":1e309}}`, `[`, `{"tags":[1,2]}`} {
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
