package assign

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func mustCondition(t testing.TB, cond string, env Env) Matcher {
	t.Helper()
	m, err := CompileCondition(Condition(cond), env)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// TestConditionSemantics covers what GrowthBook's cases leave out:
// JavaScript's coercions at their edges, paths, personas and Go types.
func TestConditionSemantics(t *testing.T) {
	sarah := mustCondition(t, `{"returns": {"$gte": 2}}`, Env{})
	env := Env{Personas: map[string]Matcher{"sarah": sarah}}
	tests := []struct {
		name  string
		cond  string
		attrs map[string]any
		want  bool
	}{
		{"a string literal matches a number written the JavaScript way", `{"n": "1e+21"}`, map[string]any{"n": 1e21}, true},
		{"a string literal does not match another spelling of the number", `{"n": "10.0"}`, map[string]any{"n": 10.0}, false},
		{"a string literal matches a joined array", `{"tags": "a,b"}`, map[string]any{"tags": []any{"a", "b"}}, true},
		{"the string null matches a missing attribute, as in JavaScript", `{"x": "null"}`, map[string]any{}, true},
		{"a number literal matches a numeric string", `{"n": 10}`, map[string]any{"n": " 10 "}, true},
		{"a number literal matches a hexadecimal string", `{"n": 16}`, map[string]any{"n": "0x10"}, true},
		{"a number literal 0 matches a missing attribute, as in JavaScript", `{"n": 0}`, map[string]any{}, true},
		{"true matches a non-empty string", `{"b": true}`, map[string]any{"b": "yes"}, true},
		{"true does not match zero", `{"b": true}`, map[string]any{"b": 0.0}, false},
		{"$gt compares a string with a number numerically", `{"n": {"$gt": 9}}`, map[string]any{"n": "10"}, true},
		{"$gt compares two strings as strings", `{"n": {"$gt": "9"}}`, map[string]any{"n": "10"}, false},
		{"$lt with a non-numeric string is false both ways", `{"n": {"$lt": 5}}`, map[string]any{"n": "abc"}, false},
		{"$eq does not coerce", `{"n": {"$eq": 3}}`, map[string]any{"n": "3"}, false},
		{"$in matches a Go int attribute", `{"n": {"$in": [1, 2]}}`, map[string]any{"n": 2}, true},
		{"$in matches a json.Number attribute", `{"n": {"$in": [1.5]}}`, map[string]any{"n": json.Number("1.5")}, true},
		{"$in matches null for a missing attribute", `{"n": {"$in": [null]}}`, map[string]any{}, true},
		{"$ini folds non-ASCII strings", `{"city": {"$ini": ["MÜNCHEN"]}}`, map[string]any{"city": "münchen"}, true},
		{"$vgt orders a numeric version attribute", `{"v": {"$vgt": "1.9.0"}}`, map[string]any{"v": "1.10.0"}, true},
		{"$veq ignores build metadata", `{"v": {"$veq": "2.0.0+b1"}}`, map[string]any{"v": "v2.0.0+b7"}, true},
		{"a nested path walks objects and array indexes", `{"cart.items.1.sku": "B"}`, map[string]any{"cart": map[string]any{"items": []any{map[string]any{"sku": "A"}, map[string]any{"sku": "B"}}}}, true},
		{"a flat attribute with a dot in its name is found", `{"utm.source": "mail"}`, map[string]any{"utm.source": "mail"}, true},
		{"$persona includes the persona's condition", `{"$persona": "sarah", "country": "DE"}`, map[string]any{"returns": 3.0, "country": "DE"}, true},
		{"$persona fails when the persona does not match", `{"$persona": "sarah"}`, map[string]any{"returns": 1.0}, false},
		{"$not around $persona excludes it", `{"$not": {"$persona": "sarah"}}`, map[string]any{"returns": 1.0}, true},
		{"$elemMatch skips falsy elements, as GrowthBook does", `{"a": {"$elemMatch": {"$eq": 0}}}`, map[string]any{"a": []any{0.0}}, false},
		{"$all with operator elements matches strictly", `{"a": {"$all": [{"$eq": 1}]}}`, map[string]any{"a": []any{"1"}}, false},
		{"a literal object compares regardless of key order", `{"o": {"b": 1, "a": [1, {"c": null}]}}`, map[string]any{"o": map[string]any{"a": []any{1.0, map[string]any{"c": nil}}, "b": 1.0}}, true},
		{"an empty condition matches everyone", `{}`, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := mustCondition(t, tt.cond, env)
			if got := m.Match(tt.attrs); got != tt.want {
				t.Fatalf("%s on %v = %v, want %v", tt.cond, tt.attrs, got, tt.want)
			}
		})
	}
}

func TestConditionErrorsNameThePath(t *testing.T) {
	deep := `{"a": 1}`
	for range MaxConditionDepth {
		deep = `{"$and": [` + deep + `]}`
	}
	many := `{` + strings.Repeat(`"a": {"$eq": 1, "$ne": 2}, `, 1) + `"$or": [` + strings.Repeat(`{"b": {"$gt": 1, "$lt": 2}},`, MaxConditionClauses/2) + `{"c": 1}]}`
	tests := []struct {
		name, cond, path, reason string
	}{
		{"an unknown operator", `{"$or": [{"a": 1}, {"b": {"$gtx": 1}}]}`, "targeting.$or[1].b.$gtx", "unknown operator"},
		{"a regex RE2 cannot compile", `{"ua": {"$regex": "(?=Mobile)"}}`, "targeting.ua.$regex", "invalid regex"},
		{"a regex that is not a string", `{"ua": {"$regexi": 1}}`, "targeting.ua.$regexi", "needs a string pattern"},
		{"an unknown type name", `{"a": {"$type": "date"}}`, "targeting.a.$type", "needs one of"},
		{"$or without an array", `{"$or": {"a": 1}}`, "targeting.$or", "needs an array"},
		{"an $and element that is not an object", `{"$and": [{"a": 1}, 2]}`, "targeting.$and[1]", "must be a condition object"},
		{"$not without an object", `{"$not": [1]}`, "targeting.$not", "needs a condition object"},
		{"an unknown persona", `{"$and": [{"$persona": "tom"}]}`, "targeting.$and[0].$persona", `unknown persona "tom"`},
		{"an unknown group", `{"id": {"$inGroup": "beta"}}`, "targeting.id.$inGroup", `unknown group "beta"`},
		{"$elemMatch with a string", `{"a": {"$elemMatch": "x"}}`, "targeting.a.$elemMatch", "needs an object"},
		{"a condition that is not an object", `["a"]`, "targeting", "must be an object"},
		{"invalid JSON", `{"a": }`, "targeting", "invalid JSON"},
		{"trailing data", `{"a": 1} {}`, "targeting", "data after"},
		{"an empty attribute name", `{"": 1}`, "targeting.", "empty attribute name"},
		{"nesting beyond the limit", deep, "targeting", "nesting deeper than"},
		{"more operators than the limit", many, "targeting.$or", "more than 200 clauses"},
		{"a legacy rule keeps its legacy path", `{"all": [{"attr": "a", "op": "like", "value": 1}]}`, "targeting.all[0].op", "unknown operator"},
	}
	for _, tt := range tests {
		t.Run("refuses "+tt.name, func(t *testing.T) {
			_, err := CompileCondition(Condition(tt.cond), Env{})
			var re *RuleError
			if !errors.As(err, &re) {
				t.Fatalf("err = %v, want a *RuleError", err)
			}
			if !strings.HasPrefix(re.Path, tt.path) || !strings.Contains(re.Reason, tt.reason) {
				t.Fatalf("got %q: %q, want path %q and reason containing %q", re.Path, re.Reason, tt.path, tt.reason)
			}
		})
	}
	t.Run("a persona cannot reference a persona", func(t *testing.T) {
		_, err := CompilePersona(Condition(`{"$persona": "sarah"}`), Env{})
		if err == nil || !strings.Contains(err.Error(), "condition.$persona: a persona cannot reference another persona") {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestConditionJSON(t *testing.T) {
	t.Run("a stored legacy rule is read as the equivalent condition", func(t *testing.T) {
		var c Condition
		if err := json.Unmarshal([]byte(`{"attr":"device","op":"eq","value":"mobile"}`), &c); err != nil {
			t.Fatal(err)
		}
		if string(c) != `{"device":{"$eq":"mobile"}}` {
			t.Fatalf("got %s", c)
		}
	})
	t.Run("a condition reads and writes back unchanged", func(t *testing.T) {
		in := `{"country":{"$in":["DE"]},"$or":[{"$persona":"sarah"}]}`
		var c Condition
		if err := json.Unmarshal([]byte(in), &c); err != nil {
			t.Fatal(err)
		}
		out, err := json.Marshal(c)
		if err != nil || string(out) != in {
			t.Fatalf("got %s, %v", out, err)
		}
		if p := c.Personas(); len(p) != 1 || p[0] != "sarah" {
			t.Fatalf("personas %v", p)
		}
	})
	t.Run("null is no targeting", func(t *testing.T) {
		var s struct {
			T Condition `json:"t,omitempty"`
		}
		if err := json.Unmarshal([]byte(`{"t":null}`), &s); err != nil || !s.T.IsZero() {
			t.Fatalf("got %q, %v", s.T, err)
		}
		if out, _ := json.Marshal(s); string(out) != `{}` {
			t.Fatalf("marshal %s", out)
		}
	})
}
