package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestA400ListsEveryInvalidField(t *testing.T) {
	a := newApp(t)
	type problem struct{ Field, Message string }
	cases := []struct {
		name, method, path, body string
		message                  string
		want                     []problem
	}{
		{"an experiment with mistakes in its fields, its targeting and its metric references", "POST", "/v1/experiments",
			`{"key":"one-page-checkout","name":"One-page checkout","stage":"checkout","touchpoint":"checkout",
			  "variants":[{"key":"control","weight":1},{"key":"one-page","weight":-1}],
			  "goal_metrics":["conversoin"],"targeting":{"$or":[{"country":{"$inn":["DE"]}},{"device":"mobile"}]}}`,
			"must be a non-negative number (and 2 more problems, see errors)",
			[]problem{
				{"variants[1].weight", "must be a non-negative number"},
				{"targeting.$or[0].country.$inn", `unknown operator "$inn"`},
				{"goal_metrics[0]", `unknown metric "conversoin"`},
			}},
		{"a metric with two mistakes", "POST", "/v1/metrics",
			`{"key":"gift_wrap","stage":"checkout","kind":"mean","direction":"upward","event":"gift wrap"}`,
			`must be "up" or "down", got "upward" (and 1 more problem, see errors)`,
			[]problem{
				{"direction", `must be "up" or "down", got "upward"`},
				{"event", "use 1 to 100 letters, digits, '_', ':' or '-', starting with a letter or digit (like order_completed)"},
			}},
		{"a layer with an unknown metric and a share out of range", "PUT", "/v1/layers/checkout",
			`{"holdout_share":1.5,"metrics":["conversion","no_such_metric"]}`,
			"must be in [0, 1) (and 1 more problem, see errors)",
			[]problem{
				{"holdout_share", "must be in [0, 1)"},
				{"metrics[1]", `unknown metric "no_such_metric"`},
			}},
		{"an API key with a bad scope and a long name", "POST", "/v1/keys",
			`{"name":"` + strings.Repeat("k", 201) + `","scope":"root"}`,
			`unknown scope "root" (want sdk, admin or read) (and 1 more problem, see errors)`,
			[]problem{
				{"scope", `unknown scope "root" (want sdk, admin or read)`},
				{"name", "at most 200 bytes"},
			}},
		{"one mistake, listed alone", "POST", "/v1/personas",
			`{"key":"sarah","condition":{"age":{"$gt":18,"$regex":7}}}`,
			"needs a string pattern, got a number",
			[]problem{{"condition.age.$regex", "needs a string pattern, got a number"}}},
	}
	for _, tc := range cases {
		t.Run("answers 400 for "+tc.name+" with all of them", func(t *testing.T) {
			r := must(t, a, 400, tc.method, tc.path, tc.body)
			var body struct {
				Error struct {
					Code, Message, Field string
					Errors               []problem
				}
			}
			if err := json.Unmarshal(r.raw, &body); err != nil {
				t.Fatal(err)
			}
			got := body.Error
			if got.Code != "invalid" || got.Message != tc.message || got.Field != tc.want[0].Field {
				t.Fatalf("code %q, field %q, message %q; want invalid, %q, %q", got.Code, got.Field, got.Message, tc.want[0].Field, tc.message)
			}
			if len(got.Errors) != len(tc.want) {
				t.Fatalf("errors %+v, want %+v", got.Errors, tc.want)
			}
			for i := range tc.want {
				if got.Errors[i] != tc.want[i] {
					t.Errorf("errors[%d] = %+v, want %+v", i, got.Errors[i], tc.want[i])
				}
			}
		})
	}
}
