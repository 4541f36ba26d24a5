package assign

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustCompile(t testing.TB, js string) Matcher {
	t.Helper()
	var r Rule
	if err := json.Unmarshal([]byte(js), &r); err != nil {
		t.Fatal(err)
	}
	m, err := Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func attrsJSON(t testing.TB, js string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTargetingOperators(t *testing.T) {
	tests := []struct {
		name  string
		rule  string
		attrs string
		want  bool
	}{
		{"eq matches an equal string", `{"attr":"device","op":"eq","value":"mobile"}`, `{"device":"mobile"}`, true},
		{"eq is case-sensitive", `{"attr":"device","op":"eq","value":"mobile"}`, `{"device":"Mobile"}`, false},
		{"eq matches an equal number", `{"attr":"visits","op":"eq","value":3}`, `{"visits":3.0}`, true},
		{"eq matches an equal boolean", `{"attr":"returning","op":"eq","value":true}`, `{"returning":true}`, true},
		{"eq does not coerce a string to a number", `{"attr":"visits","op":"eq","value":3}`, `{"visits":"3"}`, false},
		{"eq is false for a missing attribute", `{"attr":"device","op":"eq","value":"mobile"}`, `{}`, false},
		{"eq treats null as missing", `{"attr":"device","op":"eq","value":"mobile"}`, `{"device":null}`, false},
		{"neq matches a different string", `{"attr":"device","op":"neq","value":"mobile"}`, `{"device":"desktop"}`, true},
		{"neq is false for an equal value", `{"attr":"device","op":"neq","value":"mobile"}`, `{"device":"mobile"}`, false},
		{"neq is true for a missing attribute", `{"attr":"device","op":"neq","value":"mobile"}`, `{}`, true},
		{"neq is true for a value of another type", `{"attr":"visits","op":"neq","value":3}`, `{"visits":"3"}`, true},
		{"in matches a listed string", `{"attr":"country","op":"in","value":["DE","AT"]}`, `{"country":"AT"}`, true},
		{"in does not match an unlisted string", `{"attr":"country","op":"in","value":["DE","AT"]}`, `{"country":"FR"}`, false},
		{"in matches a listed number", `{"attr":"segment","op":"in","value":[1,2,3]}`, `{"segment":2}`, true},
		{"in matches a listed boolean in a mixed list", `{"attr":"flag","op":"in","value":["x",1,false]}`, `{"flag":false}`, true},
		{"in is false for a missing attribute", `{"attr":"country","op":"in","value":["DE"]}`, `{}`, false},
		{"in with an empty list never matches", `{"attr":"country","op":"in","value":[]}`, `{"country":"DE"}`, false},
		{"in is false for an array attribute", `{"attr":"country","op":"in","value":["DE"]}`, `{"country":["DE"]}`, false},
		{"nin matches an unlisted value", `{"attr":"country","op":"nin","value":["DE","AT"]}`, `{"country":"FR"}`, true},
		{"nin does not match a listed value", `{"attr":"country","op":"nin","value":["DE","AT"]}`, `{"country":"DE"}`, false},
		{"nin is true for a missing attribute", `{"attr":"country","op":"nin","value":["DE"]}`, `{}`, true},
		{"gt matches a larger number", `{"attr":"visits","op":"gt","value":3}`, `{"visits":4}`, true},
		{"gt does not match an equal number", `{"attr":"visits","op":"gt","value":3}`, `{"visits":3}`, false},
		{"gte matches an equal number", `{"attr":"visits","op":"gte","value":3}`, `{"visits":3}`, true},
		{"lt matches a smaller number", `{"attr":"cart_value","op":"lt","value":49.9}`, `{"cart_value":12.5}`, true},
		{"lt does not match an equal number", `{"attr":"cart_value","op":"lt","value":49.9}`, `{"cart_value":49.9}`, false},
		{"lte matches an equal number", `{"attr":"cart_value","op":"lte","value":49.9}`, `{"cart_value":49.9}`, true},
		{"gt is false for a string attribute", `{"attr":"visits","op":"gt","value":3}`, `{"visits":"10"}`, false},
		{"gt is false for a missing attribute", `{"attr":"visits","op":"gt","value":3}`, `{}`, false},
		{"contains matches a substring", `{"attr":"referrer","op":"contains","value":"google"}`, `{"referrer":"https://www.google.com/"}`, true},
		{"contains does not match a missing substring", `{"attr":"referrer","op":"contains","value":"bing"}`, `{"referrer":"https://www.google.com/"}`, false},
		{"contains matches an element of an array attribute", `{"attr":"segments","op":"contains","value":"vip"}`, `{"segments":["new","vip"]}`, true},
		{"contains matches a number element of an array attribute", `{"attr":"cohorts","op":"contains","value":7}`, `{"cohorts":[1,7]}`, true},
		{"contains does not match an absent array element", `{"attr":"segments","op":"contains","value":"vip"}`, `{"segments":["new"]}`, false},
		{"contains is false for a number attribute", `{"attr":"visits","op":"contains","value":"1"}`, `{"visits":10}`, false},
		{"regex matches an RE2 pattern", `{"attr":"channel","op":"regex","value":"^(email|sea)-"}`, `{"channel":"sea-brand"}`, true},
		{"regex is unanchored unless anchored", `{"attr":"channel","op":"regex","value":"brand"}`, `{"channel":"sea-brand-x"}`, true},
		{"regex does not match other strings", `{"attr":"channel","op":"regex","value":"^(email|sea)-"}`, `{"channel":"social"}`, false},
		{"regex is false for a non-string attribute", `{"attr":"visits","op":"regex","value":"1"}`, `{"visits":1}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCompile(t, tt.rule)
			if got := m.Match(attrsJSON(t, tt.attrs)); got != tt.want {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTargetingNesting(t *testing.T) {
	rule := `{"all":[
		{"attr":"country","op":"in","value":["DE","AT"]},
		{"any":[{"attr":"device","op":"eq","value":"mobile"},{"attr":"visits","op":"gt","value":3}]}]}`
	m := mustCompile(t, rule)
	tests := []struct {
		name  string
		attrs string
		want  bool
	}{
		{"all and the first any branch match", `{"country":"DE","device":"mobile"}`, true},
		{"all and the second any branch match", `{"country":"AT","device":"desktop","visits":4}`, true},
		{"no any branch matches", `{"country":"DE","device":"desktop","visits":1}`, false},
		{"the all condition fails", `{"country":"FR","device":"mobile"}`, false},
		{"missing attributes fail every positive condition", `{}`, false},
		{"nil attributes behave like missing ones", `null`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.Match(attrsJSON(t, tt.attrs)); got != tt.want {
				t.Fatalf("Match = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("the zero Matcher matches everyone", func(t *testing.T) {
		if !(Matcher{}).Match(nil) {
			t.Fatal("zero Matcher did not match")
		}
	})
	t.Run("rules built in Go with native types behave like JSON ones", func(t *testing.T) {
		m, err := Compile(Rule{All: []Rule{
			{Attr: "country", Op: "in", Value: []string{"DE", "AT"}},
			{Attr: "visits", Op: "gte", Value: 3},
			{Attr: "cohort", Op: "in", Value: []int{1, 2}},
		}})
		if err != nil {
			t.Fatal(err)
		}
		if !m.Match(map[string]any{"country": "DE", "visits": 3, "cohort": int64(2)}) {
			t.Fatal("native Go values did not match")
		}
		if !m.Match(map[string]any{"country": "AT", "visits": json.Number("7"), "cohort": 1.0}) {
			t.Fatal("json.Number did not match")
		}
	})
	t.Run("a compiled matcher does not allocate", func(t *testing.T) {
		m := mustCompile(t, `{"all":[{"attr":"country","op":"in","value":["DE","AT"]},{"attr":"segments","op":"contains","value":"vip"},{"attr":"channel","op":"regex","value":"^sea"}, {"attr":"visits","op":"lte","value":9}]}`)
		attrs := attrsJSON(t, `{"country":"DE","segments":["vip"],"channel":"sea-1","visits":2}`)
		if n := testing.AllocsPerRun(100, func() { m.Match(attrs) }); n != 0 {
			t.Fatalf("Match allocates %v times per run", n)
		}
	})
}

func TestTargetingRejectsInvalidRules(t *testing.T) {
	deep := `{"attr":"a","op":"eq","value":1}`
	for range MaxRuleDepth {
		deep = `{"all":[` + deep + `]}`
	}
	many := `{"any":[` + strings.Repeat(`{"attr":"a","op":"eq","value":1},`, MaxRuleConditions) + `{"attr":"a","op":"eq","value":1}]}`
	tests := []struct {
		name string
		rule string
		want string
	}{
		{"an unknown operator is named with its path", `{"all":[{"attr":"a","op":"eq","value":1},{"any":[{"attr":"x","op":"like","value":"y"}]}]}`,
			`targeting.all[1].any[0].op: unknown operator "like"`},
		{"a missing attr is named", `{"all":[{"op":"eq","value":1}]}`, "targeting.all[0].attr: required"},
		{"a missing op is named", `{"attr":"a","value":1}`, "targeting.op: required"},
		{"a missing value is named", `{"attr":"a","op":"eq"}`, "targeting.value: required"},
		{"a null value is named", `{"attr":"a","op":"eq","value":null}`, "targeting.value: required"},
		{"in without an array is rejected", `{"attr":"country","op":"in","value":"DE"}`, `targeting.value: operator "in" needs an array, got a string`},
		{"nin without an array is rejected", `{"attr":"country","op":"nin","value":3}`, `targeting.value: operator "nin" needs an array, got a number`},
		{"a nested array inside in is rejected with its index", `{"attr":"c","op":"in","value":["DE",["AT"]]}`, "targeting.value[1]: must be a string, number or boolean, got an array"},
		{"an object inside in is rejected", `{"attr":"c","op":"in","value":[{"a":1}]}`, "targeting.value[0]: must be a string, number or boolean, got an object"},
		{"gt with a string is rejected", `{"attr":"visits","op":"gt","value":"3"}`, `targeting.value: operator "gt" needs a number, got a string`},
		{"lte with a boolean is rejected", `{"attr":"visits","op":"lte","value":true}`, `targeting.value: operator "lte" needs a number, got a boolean`},
		{"eq with an array is rejected", `{"attr":"a","op":"eq","value":[1]}`, `targeting.value: operator "eq" needs a string, number or boolean, got an array`},
		{"contains with an object is rejected", `{"attr":"a","op":"contains","value":{}}`, `targeting.value: operator "contains" needs a string, number or boolean, got an object`},
		{"a regex that does not compile is rejected", `{"any":[{"attr":"c","op":"regex","value":"(unclosed"}]}`, "targeting.any[0].value: invalid regex"},
		{"a Perl-only regex feature is rejected", `{"attr":"c","op":"regex","value":"(?=x)"}`, "targeting.value: invalid regex"},
		{"a regex that is not a string is rejected", `{"attr":"c","op":"regex","value":1}`, `targeting.value: operator "regex" needs a string pattern`},
		{"an overlong regex is rejected", `{"attr":"c","op":"regex","value":"` + strings.Repeat("a", MaxRegexLength+1) + `"}`, "targeting.value: regex longer than"},
		{"an empty rule is rejected", `{}`, "targeting: empty rule"},
		{"an empty all is rejected", `{"all":[]}`, "targeting.all: must not be empty"},
		{"an empty any deep inside is rejected with its path", `{"all":[{"any":[]}]}`, "targeting.all[0].any: must not be empty"},
		{"a rule mixing a group and a condition is rejected", `{"all":[{"attr":"a","op":"eq","value":1}],"attr":"b"}`, "targeting: a rule is exactly one of"},
		{"a rule with both all and any is rejected", `{"all":[{"attr":"a","op":"eq","value":1}],"any":[{"attr":"a","op":"eq","value":1}]}`, "targeting: a rule is exactly one of"},
		{"nesting deeper than the limit is rejected", deep, "nesting deeper than 10 levels"},
		{"more conditions than the limit are rejected", many, "targeting.any[100]: more than 100 conditions"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var r Rule
			if err := json.Unmarshal([]byte(tt.rule), &r); err != nil {
				t.Fatal(err)
			}
			_, err := Compile(r)
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RuleError", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %q, want it to contain %q", err, tt.want)
			}
			if !strings.HasPrefix(re.Path, "targeting") {
				t.Fatalf("path %q does not start at targeting", re.Path)
			}
		})
	}
	t.Run("the deepest allowed nesting is accepted", func(t *testing.T) {
		ok := `{"attr":"a","op":"eq","value":1}`
		for range MaxRuleDepth - 1 {
			ok = `{"all":[` + ok + `]}`
		}
		mustCompile(t, ok)
	})
	t.Run("exactly the maximum number of conditions is accepted", func(t *testing.T) {
		mustCompile(t, `{"any":[`+strings.Repeat(`{"attr":"a","op":"eq","value":1},`, MaxRuleConditions-1)+`{"attr":"a","op":"eq","value":1}]}`)
	})
	t.Run("a Go rule with a non-finite number is rejected", func(t *testing.T) {
		inf := 1.0
		for range 2000 {
			inf *= 10
		}
		_, err := Compile(Rule{Attr: "a", Op: "gt", Value: inf})
		if err == nil || !strings.Contains(err.Error(), "non-finite") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRuleJSONRoundTrip(t *testing.T) {
	t.Run("a rule marshals back to the documented shape", func(t *testing.T) {
		in := `{"all":[{"attr":"country","op":"in","value":["DE","AT"]},{"any":[{"attr":"device","op":"eq","value":"mobile"},{"attr":"visits","op":"gt","value":3}]}]}`
		var r Rule
		if err := json.Unmarshal([]byte(in), &r); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != in {
			t.Fatalf("got  %s\nwant %s", out, in)
		}
	})
}
