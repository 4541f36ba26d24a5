package assign

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
)

// Limits on a targeting rule. They bound the work of one evaluation on the
// assignment hot path and the memory of a snapshot, whatever an API client
// sends.
const (
	// MaxRuleDepth is the deepest allowed nesting of all/any groups; the
	// root rule is at depth 1.
	MaxRuleDepth = 10
	// MaxRuleConditions is the largest number of conditions (leaves) in one
	// rule.
	MaxRuleConditions = 100
	// MaxRuleListValues is the largest value list of an in/nin condition.
	MaxRuleListValues = 10000
	// MaxRegexLength is the longest regex pattern accepted.
	MaxRegexLength = 1024
)

// Rule is a targeting rule in the earlier form, still accepted as input and
// converted to the equivalent Condition (Rule.Condition). It is exactly one of: a group All (every child
// matches), a group Any (at least one child matches), or a condition
// (Attr, Op, Value). Its JSON form is
//
//	{"all":[ {"attr":"country","op":"in","value":["DE","AT"]},
//	         {"any":[ {"attr":"device","op":"eq","value":"mobile"},
//	                  {"attr":"visits","op":"gt","value":3} ]} ]}
//
// Operators (attribute op value):
//
//	eq, neq        equal / not equal; string, number or boolean, same type
//	in, nin        the attribute is / is not one of the array Value
//	gt, gte,       numeric comparison; Value and attribute must be numbers
//	lt, lte
//	contains       string attribute: Value is a substring;
//	               array attribute: one element equals Value
//	regex          string attribute matches the RE2 pattern Value (unanchored;
//	               use ^...$ to match the whole string)
//
// Comparisons are exact and case-sensitive, and there is no type coercion:
// the string "3" does not equal the number 3. An attribute that is absent or
// null is missing: a missing attribute never matches, except that neq and nin
// are true for it ("not DE" includes "country unknown"), which keeps
// neq/nin the exact complement of eq/in. An attribute of the wrong type
// (number compared to a string) is treated like a different value: eq, in,
// gt, ..., contains and regex are false, neq and nin are true.
type Rule struct {
	// All matches when every child rule matches.
	All []Rule `json:"all,omitempty"`
	// Any matches when at least one child rule matches.
	Any []Rule `json:"any,omitempty"`
	// Attr is the request attribute a condition tests.
	Attr string `json:"attr,omitempty"`
	// Op is the condition's operator (see above).
	Op string `json:"op,omitempty"`
	// Value is the operand: a string, number or boolean, or an array of
	// them for in/nin, as decoded from JSON (Go numeric types and []string
	// are accepted too).
	Value any `json:"value,omitempty"`
}

// RuleError is a rule that Compile rejects. Path names the offending field in
// the JSON form, e.g. "targeting.all[1].any[0].op", so an API can answer 400
// with the field.
type RuleError struct {
	// Path is the JSON path of the offending field, rooted at "targeting".
	Path string
	// Reason says what is wrong with it.
	Reason string
}

// Error implements error as "path: reason".
func (e *RuleError) Error() string { return e.Path + ": " + e.Reason }

// Compile validates rule and compiles its equivalent condition (see
// Rule.Condition). Errors are *RuleError with paths rooted at "targeting".
func Compile(rule Rule) (Matcher, error) {
	c, err := rule.Condition()
	if err != nil {
		return Matcher{}, err
	}
	return CompileCondition(c, Env{})
}

// Condition validates the rule and returns the condition that matches
// exactly the same attributes, so experiments saved with rules keep
// assigning every unit as before:
//
//	eq v        {"attr": {"$eq": v}}                  strict, no coercion
//	neq v       {"attr": {"$ne": v}}
//	in [..]     {"attr": {"$in": [..], "$not": {"$type": "array"}}}
//	nin [..]    {"attr": {"$not": {"$in": [..], "$not": {"$type": "array"}}}}
//	gt v, ...   {"attr": {"$type": "number", "$gt": v}}
//	contains s  {"$or": [{"attr": {"$type": "string", "$regex": quoted s}},
//	                     {"attr": {"$all": [{"$eq": s}]}}]}
//	regex p     {"attr": {"$type": "string", "$regex": p}}
//	all / any   {"$and": [...]} / {"$or": [...]}
func (r Rule) Condition() (Condition, error) {
	return r.conditionAt("targeting")
}

func (r Rule) conditionAt(root string) (Condition, error) {
	c := compiler{}
	v, err := c.convert(&r, root, 1)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &RuleError{root, "cannot be written as JSON: " + err.Error()}
	}
	return Condition(b), nil
}

// legacyRule reports whether raw is a rule in the earlier form: an object
// whose keys are only all, any, attr, op and value, shaped like a rule
// (all/any hold arrays of such objects; attr and op are strings).
func legacyRule(raw []byte) (Rule, bool) {
	var probe any
	if err := json.Unmarshal(raw, &probe); err != nil || !legacyShape(probe) {
		return Rule{}, false
	}
	var r Rule
	if err := json.Unmarshal(raw, &r); err != nil {
		return Rule{}, false
	}
	return r, true
}

func legacyShape(v any) bool {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return false
	}
	for k, e := range m {
		switch k {
		case "all", "any":
			list, ok := e.([]any)
			if !ok {
				return false
			}
			for _, x := range list {
				if !legacyShape(x) {
					return false
				}
			}
		case "attr", "op":
			if _, ok := e.(string); !ok {
				return false
			}
		case "value":
		default:
			return false
		}
	}
	_, all := m["all"]
	_, anyOf := m["any"]
	_, attr := m["attr"]
	_, op := m["op"]
	return all || anyOf || attr && op
}

var legacyOps = map[string]bool{
	"eq": true, "neq": true, "in": true, "nin": true, "gt": true, "gte": true,
	"lt": true, "lte": true, "contains": true, "regex": true,
}

// reservedKeys cannot be attribute names at the top of a condition.
var reservedKeys = map[string]bool{"$and": true, "$or": true, "$nor": true, "$not": true, "$persona": true}

type compiler struct {
	conditions int
}

func (c *compiler) convert(r *Rule, path string, depth int) (any, error) {
	if depth > MaxRuleDepth {
		return nil, &RuleError{path, fmt.Sprintf("nesting deeper than %d levels", MaxRuleDepth)}
	}
	isCond := r.Attr != "" || r.Op != "" || r.Value != nil
	shapes := 0
	if r.All != nil {
		shapes++
	}
	if r.Any != nil {
		shapes++
	}
	if isCond {
		shapes++
	}
	switch {
	case shapes == 0:
		return nil, &RuleError{path, `empty rule: want "all", "any" or a condition with "attr", "op" and "value"`}
	case shapes > 1:
		return nil, &RuleError{path, `a rule is exactly one of "all", "any" or a condition ("attr", "op", "value")`}
	case r.All != nil:
		return c.group("$and", r.All, path+".all", depth)
	case r.Any != nil:
		return c.group("$or", r.Any, path+".any", depth)
	}
	return c.condition(r, path)
}

func (c *compiler) group(op string, rules []Rule, path string, depth int) (any, error) {
	if len(rules) == 0 {
		return nil, &RuleError{path, "must not be empty"}
	}
	list := make([]any, len(rules))
	for i := range rules {
		child, err := c.convert(&rules[i], path+"["+strconv.Itoa(i)+"]", depth+1)
		if err != nil {
			return nil, err
		}
		list[i] = child
	}
	return map[string]any{op: list}, nil
}

func (c *compiler) condition(r *Rule, path string) (any, error) {
	c.conditions++
	if c.conditions > MaxRuleConditions {
		return nil, &RuleError{path, fmt.Sprintf("more than %d conditions", MaxRuleConditions)}
	}
	if r.Attr == "" {
		return nil, &RuleError{path + ".attr", "required"}
	}
	if reservedKeys[r.Attr] {
		return nil, &RuleError{path + ".attr", fmt.Sprintf("%q is an operator in conditions; rename the attribute", r.Attr)}
	}
	if r.Op == "" {
		return nil, &RuleError{path + ".op", "required"}
	}
	if !legacyOps[r.Op] {
		return nil, &RuleError{path + ".op", fmt.Sprintf("unknown operator %q (want eq, neq, in, nin, gt, gte, lt, lte, contains or regex)", r.Op)}
	}
	vpath := path + ".value"
	if r.Value == nil {
		return nil, &RuleError{vpath, "required"}
	}
	field := func(ops map[string]any) any { return map[string]any{r.Attr: ops} }
	switch r.Op {
	case "eq", "neq", "contains":
		s, ok := toScalar(r.Value)
		if !ok {
			return nil, &RuleError{vpath, fmt.Sprintf("operator %q needs a string, number or boolean, got %s", r.Op, describe(r.Value))}
		}
		v := s.value()
		switch r.Op {
		case "eq":
			return field(map[string]any{"$eq": v}), nil
		case "neq":
			return field(map[string]any{"$ne": v}), nil
		}
		elem := field(map[string]any{"$all": []any{map[string]any{"$eq": v}}})
		if s.kind != kString {
			return elem, nil
		}
		sub := field(map[string]any{"$type": "string", "$regex": regexp.QuoteMeta(s.s)})
		return map[string]any{"$or": []any{sub, elem}}, nil
	case "gt", "gte", "lt", "lte":
		s, ok := toScalar(r.Value)
		if !ok || s.kind != kNumber {
			return nil, &RuleError{vpath, fmt.Sprintf("operator %q needs a number, got %s", r.Op, describe(r.Value))}
		}
		return field(map[string]any{"$type": "number", "$" + r.Op: s.f}), nil
	case "regex":
		p, ok := r.Value.(string)
		if !ok {
			return nil, &RuleError{vpath, fmt.Sprintf("operator \"regex\" needs a string pattern, got %s", describe(r.Value))}
		}
		if len(p) > MaxRegexLength {
			return nil, &RuleError{vpath, fmt.Sprintf("regex longer than %d bytes", MaxRegexLength)}
		}
		if _, err := regexp.Compile(p); err != nil {
			return nil, &RuleError{vpath, "invalid regex: " + err.Error()}
		}
		return field(map[string]any{"$type": "string", "$regex": p}), nil
	}
	list, err := toList(r.Value, r.Op, vpath)
	if err != nil {
		return nil, err
	}
	in := map[string]any{"$in": list, "$not": map[string]any{"$type": "array"}}
	if r.Op == "in" {
		return field(in), nil
	}
	return field(map[string]any{"$not": in}), nil
}

func (s scalar) value() any {
	switch s.kind {
	case kString:
		return s.s
	case kNumber:
		return s.f
	}
	return s.b
}

type scalarKind uint8

const (
	kString scalarKind = iota + 1
	kNumber
	kBool
)

type scalar struct {
	kind scalarKind
	s    string
	f    float64
	b    bool
}

// toScalar normalises a rule value or an attribute value. It must not
// allocate because Match calls it.
func toScalar(v any) (scalar, bool) {
	switch x := v.(type) {
	case string:
		return scalar{kind: kString, s: x}, true
	case bool:
		return scalar{kind: kBool, b: x}, true
	case json.Number:
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil || math.IsInf(f, 0) {
			return scalar{}, false
		}
		return scalar{kind: kNumber, f: f}, true
	}
	if f, ok := toNumber(v); ok {
		return scalar{kind: kNumber, f: f}, true
	}
	return scalar{}, false
}

func toList(v any, opName, path string) ([]any, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, &RuleError{path, fmt.Sprintf("operator %q needs an array, got %s", opName, describe(v))}
	}
	if rv.Len() > MaxRuleListValues {
		return nil, &RuleError{path, fmt.Sprintf("more than %d values", MaxRuleListValues)}
	}
	list := make([]any, rv.Len())
	for i := range list {
		e := rv.Index(i).Interface()
		s, ok := toScalar(e)
		if !ok {
			return nil, &RuleError{path + "[" + strconv.Itoa(i) + "]", fmt.Sprintf("must be a string, number or boolean, got %s", describe(e))}
		}
		list[i] = s.value()
	}
	return list, nil
}

func describe(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any:
		return "an object"
	}
	if _, ok := toNumber(v); ok {
		return "a number"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Float32, reflect.Float64:
		return "a non-finite number"
	}
	return fmt.Sprintf("%T", v)
}
