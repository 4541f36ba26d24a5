package assign_test

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/journeylab/journeylab/assign"
)

// refMatcher is the evaluator of rules as it was before conditions
// replaced it, kept as the reference the conversion is tested against.
type refMatcher struct {
	root *node
}

func refCompile(rule assign.Rule) (refMatcher, error) {
	c := compiler{}
	n, err := c.compile(&rule, "targeting", 1)
	if err != nil {
		return refMatcher{}, err
	}
	return refMatcher{root: n}, nil
}

func (m refMatcher) Match(attrs map[string]any) bool {
	if m.root == nil {
		return true
	}
	return m.root.match(attrs)
}

type op uint8

const (
	opEq op = iota + 1
	opNeq
	opIn
	opNin
	opGt
	opGte
	opLt
	opLte
	opContains
	opRegex
)

var ops = map[string]op{
	"eq": opEq, "neq": opNeq, "in": opIn, "nin": opNin,
	"gt": opGt, "gte": opGte, "lt": opLt, "lte": opLte,
	"contains": opContains, "regex": opRegex,
}

type nodeKind uint8

const (
	kindAll nodeKind = iota + 1
	kindAny
	kindCond
)

// node is a compiled rule. A tagged struct rather than an interface per
// operator keeps evaluation a switch over plain fields.
type node struct {
	kind     nodeKind
	children []node
	attr     string
	op       op
	val      scalar
	set      *valueSet
	re       *regexp.Regexp
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

type valueSet struct {
	strs     map[string]struct{}
	nums     map[float64]struct{}
	hasTrue  bool
	hasFalse bool
}

type compiler struct {
	conditions int
}

func (c *compiler) compile(r *assign.Rule, path string, depth int) (*node, error) {
	if depth > assign.MaxRuleDepth {
		return nil, &assign.RuleError{Path: path, Reason: fmt.Sprintf("nesting deeper than %d levels", assign.MaxRuleDepth)}
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
		return nil, &assign.RuleError{Path: path, Reason: `empty rule: want "all", "any" or a condition with "attr", "op" and "value"`}
	case shapes > 1:
		return nil, &assign.RuleError{Path: path, Reason: `a rule is exactly one of "all", "any" or a condition ("attr", "op", "value")`}
	case r.All != nil:
		return c.group(kindAll, r.All, path+".all", depth)
	case r.Any != nil:
		return c.group(kindAny, r.Any, path+".any", depth)
	}
	return c.condition(r, path)
}

func (c *compiler) group(kind nodeKind, rules []assign.Rule, path string, depth int) (*node, error) {
	if len(rules) == 0 {
		return nil, &assign.RuleError{Path: path, Reason: "must not be empty"}
	}
	n := &node{kind: kind, children: make([]node, len(rules))}
	for i := range rules {
		child, err := c.compile(&rules[i], path+"["+strconv.Itoa(i)+"]", depth+1)
		if err != nil {
			return nil, err
		}
		n.children[i] = *child
	}
	return n, nil
}

func (c *compiler) condition(r *assign.Rule, path string) (*node, error) {
	c.conditions++
	if c.conditions > assign.MaxRuleConditions {
		return nil, &assign.RuleError{Path: path, Reason: fmt.Sprintf("more than %d conditions", assign.MaxRuleConditions)}
	}
	if r.Attr == "" {
		return nil, &assign.RuleError{Path: path + ".attr", Reason: "required"}
	}
	if r.Op == "" {
		return nil, &assign.RuleError{Path: path + ".op", Reason: "required"}
	}
	o, ok := ops[r.Op]
	if !ok {
		return nil, &assign.RuleError{Path: path + ".op", Reason: fmt.Sprintf("unknown operator %q (want eq, neq, in, nin, gt, gte, lt, lte, contains or regex)", r.Op)}
	}
	vpath := path + ".value"
	if r.Value == nil {
		return nil, &assign.RuleError{Path: vpath, Reason: "required"}
	}
	n := &node{kind: kindCond, attr: r.Attr, op: o}
	switch o {
	case opEq, opNeq, opContains:
		s, ok := toScalar(r.Value)
		if !ok {
			return nil, &assign.RuleError{Path: vpath, Reason: fmt.Sprintf("operator %q needs a string, number or boolean, got %s", r.Op, describe(r.Value))}
		}
		n.val = s
	case opGt, opGte, opLt, opLte:
		s, ok := toScalar(r.Value)
		if !ok || s.kind != kNumber {
			return nil, &assign.RuleError{Path: vpath, Reason: fmt.Sprintf("operator %q needs a number, got %s", r.Op, describe(r.Value))}
		}
		n.val = s
	case opRegex:
		p, ok := r.Value.(string)
		if !ok {
			return nil, &assign.RuleError{Path: vpath, Reason: fmt.Sprintf("operator \"regex\" needs a string pattern, got %s", describe(r.Value))}
		}
		if len(p) > assign.MaxRegexLength {
			return nil, &assign.RuleError{Path: vpath, Reason: fmt.Sprintf("regex longer than %d bytes", assign.MaxRegexLength)}
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, &assign.RuleError{Path: vpath, Reason: "invalid regex: " + err.Error()}
		}
		n.re = re
	case opIn, opNin:
		set, err := toSet(r.Value, r.Op, vpath)
		if err != nil {
			return nil, err
		}
		n.set = set
	}
	return n, nil
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

// toNumber accepts the Go numeric types; NaN and infinities are rejected so
// that every comparison has a meaning.
func toNumber(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func toSet(v any, opName, path string) (*valueSet, error) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, &assign.RuleError{Path: path, Reason: fmt.Sprintf("operator %q needs an array, got %s", opName, describe(v))}
	}
	if rv.Len() > assign.MaxRuleListValues {
		return nil, &assign.RuleError{Path: path, Reason: fmt.Sprintf("more than %d values", assign.MaxRuleListValues)}
	}
	set := &valueSet{}
	for i := 0; i < rv.Len(); i++ {
		e := rv.Index(i).Interface()
		s, ok := toScalar(e)
		if !ok {
			return nil, &assign.RuleError{Path: path + "[" + strconv.Itoa(i) + "]", Reason: fmt.Sprintf("must be a string, number or boolean, got %s", describe(e))}
		}
		switch s.kind {
		case kString:
			if set.strs == nil {
				set.strs = make(map[string]struct{})
			}
			set.strs[s.s] = struct{}{}
		case kNumber:
			if set.nums == nil {
				set.nums = make(map[float64]struct{})
			}
			set.nums[s.f] = struct{}{}
		case kBool:
			if s.b {
				set.hasTrue = true
			} else {
				set.hasFalse = true
			}
		}
	}
	return set, nil
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

func (n *node) match(attrs map[string]any) bool {
	switch n.kind {
	case kindAll:
		for i := range n.children {
			if !n.children[i].match(attrs) {
				return false
			}
		}
		return true
	case kindAny:
		for i := range n.children {
			if n.children[i].match(attrs) {
				return true
			}
		}
		return false
	}
	v, present := attrs[n.attr]
	if !present || v == nil {
		// Missing: only the negative operators hold (see Rule).
		return n.op == opNeq || n.op == opNin
	}
	switch n.op {
	case opEq:
		return equal(v, n.val)
	case opNeq:
		return !equal(v, n.val)
	case opIn:
		return n.set.has(v)
	case opNin:
		return !n.set.has(v)
	case opGt, opGte, opLt, opLte:
		x, ok := toScalar(v)
		if !ok || x.kind != kNumber {
			return false
		}
		f := x.f
		switch n.op {
		case opGt:
			return f > n.val.f
		case opGte:
			return f >= n.val.f
		case opLt:
			return f < n.val.f
		default:
			return f <= n.val.f
		}
	case opContains:
		return contains(v, n.val)
	case opRegex:
		s, ok := v.(string)
		return ok && n.re.MatchString(s)
	}
	return false
}

func equal(v any, want scalar) bool {
	got, ok := toScalar(v)
	if !ok || got.kind != want.kind {
		return false
	}
	switch want.kind {
	case kString:
		return got.s == want.s
	case kNumber:
		return got.f == want.f
	default:
		return got.b == want.b
	}
}

func (s *valueSet) has(v any) bool {
	x, ok := toScalar(v)
	if !ok {
		return false
	}
	switch x.kind {
	case kString:
		_, ok = s.strs[x.s]
	case kNumber:
		_, ok = s.nums[x.f]
	default:
		ok = (x.b && s.hasTrue) || (!x.b && s.hasFalse)
	}
	return ok
}

func contains(v any, want scalar) bool {
	switch x := v.(type) {
	case string:
		return want.kind == kString && strings.Contains(x, want.s)
	case []any:
		for _, e := range x {
			if equal(e, want) {
				return true
			}
		}
	case []string:
		if want.kind != kString {
			return false
		}
		for _, e := range x {
			if e == want.s {
				return true
			}
		}
	}
	return false
}
