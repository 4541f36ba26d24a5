package assign

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Limits on a targeting condition. They bound the work of one evaluation on
// the assignment hot path and the memory of a snapshot, whatever an API
// client sends.
const (
	// MaxConditionDepth is the deepest allowed nesting of objects and
	// arrays in a condition; the condition object itself is at depth 1.
	MaxConditionDepth = 12
	// MaxConditionClauses is the largest number of field clauses and
	// operators in one condition.
	MaxConditionClauses = 200
	// MaxConditionBytes is the largest condition accepted, as JSON.
	MaxConditionBytes = 64 << 10
)

// Condition is a targeting condition: a JSON object in MongoDB query syntax,
// in the dialect GrowthBook's SDKs evaluate (evalCondition), for example
//
//	{"country": {"$in": ["DE", "AT"]}, "device": "mobile",
//	 "$or": [{"visits": {"$gt": 3}}, {"$persona": "sarah"}]}
//
// Keys are attribute paths (dot-separated for nested objects) or the logical
// operators $and, $or, $nor and $not; $persona references a persona (a named,
// reusable condition) by key. Values are literals (compared with
// JavaScript's loose rules, as GrowthBook does) or operator objects with
// $eq $ne $gt $gte $lt $lte $in $nin $ini $nini $all $alli $size $elemMatch
// $exists $type $regex $regexi $not $veq $vne $vgt $vgte $vlt $vlte
// $inGroup $notInGroup. docs/assignment.md has the full semantics and the
// few deliberate differences from GrowthBook.
//
// A nil or empty Condition means no targeting. When decoded from JSON, a
// rule in the earlier all/any/attr/op/value form (see Rule) is converted to
// the equivalent condition.
type Condition json.RawMessage

// MarshalJSON writes the condition, or null when it is empty.
func (c Condition) MarshalJSON() ([]byte, error) {
	if len(c) == 0 {
		return []byte("null"), nil
	}
	return []byte(c), nil
}

// UnmarshalJSON keeps the JSON as given, except that a rule in the earlier
// all/any/attr/op/value form that validates is converted to the equivalent
// condition. Nothing else is validated here: CompileCondition reports what
// is wrong with the path of the bad part.
func (c *Condition) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if bytes.Equal(b, []byte("null")) {
		*c = nil
		return nil
	}
	if r, ok := legacyRule(b); ok {
		if conv, err := r.Condition(); err == nil {
			*c = conv
			return nil
		}
	}
	*c = append(Condition(nil), b...)
	return nil
}

// IsZero reports whether the condition is empty (no targeting).
func (c Condition) IsZero() bool { return len(c) == 0 }

// Env resolves the names a condition refers to when it is compiled.
type Env struct {
	// Personas are compiled personas by key, for $persona.
	Personas map[string]Matcher
	// Groups are id lists by key, for $inGroup and $notInGroup.
	Groups map[string][]any
}

// Matcher is a compiled Condition. The zero Matcher matches every unit (no
// targeting). A Matcher is immutable and safe for concurrent use.
type Matcher struct {
	root *expr
	// key is the condition's canonical JSON (sorted keys), so that a
	// snapshot compiles identical conditions once.
	key string
}

// Match reports whether the attributes satisfy the condition. Attribute
// values are what encoding/json produces (string, float64, bool, nil, []any,
// map[string]any); Go integer types, float32 and json.Number are accepted as
// numbers. It does not allocate for these types.
func (m Matcher) Match(attrs map[string]any) bool {
	if m.root == nil {
		return true
	}
	return m.root.eval(attrs, nil)
}

// CompileCondition validates c and compiles it into a Matcher: value lists
// become sets, regular expressions (RE2, linear time) and version strings are
// prepared once, and $persona references are resolved through env. Errors
// are *RuleError with paths rooted at "targeting", e.g.
// "targeting.$or[1].visits.$gt".
func CompileCondition(c Condition, env Env) (Matcher, error) {
	return compileConditionAt(c, env, "targeting")
}

// CompilePersona compiles the condition of a persona. It is
// CompileCondition with errors rooted at "condition", and a persona cannot
// reference another persona.
func CompilePersona(c Condition, env Env) (Matcher, error) {
	return compileConditionAt(c, env, "condition")
}

func compileConditionAt(c Condition, env Env, root string) (Matcher, error) {
	if len(c) == 0 {
		return Matcher{}, nil
	}
	if len(c) > MaxConditionBytes {
		return Matcher{}, &RuleError{root, fmt.Sprintf("condition larger than %d bytes", MaxConditionBytes)}
	}
	raw := []byte(c)
	if r, ok := legacyRule(raw); ok {
		conv, err := r.conditionAt(root)
		if err != nil {
			return Matcher{}, err
		}
		raw = conv
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	if err := d.Decode(&v); err != nil {
		return Matcher{}, &RuleError{root, "invalid JSON: " + err.Error()}
	}
	if d.More() {
		return Matcher{}, &RuleError{root, "invalid JSON: data after the condition"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return Matcher{}, &RuleError{root, "must be an object, got " + describe(v)}
	}
	cc := condCompiler{env: env, inPersona: root == "condition"}
	e, err := cc.expr(obj, root, 1)
	if err != nil || len(cc.errs) > 0 {
		return Matcher{}, cc.result(err)
	}
	key, err := json.Marshal(obj)
	if err != nil {
		return Matcher{}, &RuleError{root, "cannot be written as JSON: " + err.Error()}
	}
	return Matcher{root: e, key: string(key)}, nil
}

// expr is a compiled condition object: every clause must hold. A snapshot
// gives the conditions several experiments share, and personas, a memo
// slot (1..64) so that one Assign call evaluates each of them once.
type expr struct {
	clauses []clause
	memo    uint8
	// known has the memo bits of the clauses whose results the memo holds
	// (shared attribute clauses and personas), and rest the indexes of
	// the other clauses: see splitMemo.
	known uint64
	rest  []int
}

type clauseKind uint8

const (
	clField clauseKind = iota + 1
	clAnd
	clOr
	clNor
	clNot
	clPersona
)

type clause struct {
	kind clauseKind
	path fieldPath
	val  *cvalue
	subs []expr
	sub  *expr
	// key identifies a field clause by its path and canonical operand, so
	// that a snapshot can give the clauses several conditions share one
	// memo slot.
	key  string
	memo uint8
}

// fieldPath is an attribute path; parts are its dot-separated segments and
// index the array index a segment stands for (-1 if none).
type fieldPath struct {
	full  string
	parts []string
	index []int
	// slot (1..16) caches the path's value for one Assign call when a
	// snapshot has several distinct clauses on it.
	slot uint8
}

type valueKind uint8

const (
	vString valueKind = iota + 1
	vNumber
	vBool
	vNull
	vLiteral
	vOps
)

// cvalue is a compiled condition value: a literal or an operator object.
type cvalue struct {
	kind valueKind
	s    string
	f    float64
	b    bool
	lit  any
	fold bool // $alli: string literals compare case-insensitively
	ops  []operation
}

type opCode uint8

const (
	opEq opCode = iota + 1
	opNe
	opLt
	opLte
	opGt
	opGte
	opExists
	opIn
	opNin
	opIni
	opNini
	opInGroup
	opNotInGroup
	opNot
	opSize
	opElemMatch
	opAll
	opAlli
	opRegex
	opType
	opVeq
	opVne
	opVgt
	opVgte
	opVlt
	opVlte
	opNever // an operand GrowthBook never matches ($in with a non-array)
)

var opCodes = map[string]opCode{
	"$eq": opEq, "$ne": opNe, "$lt": opLt, "$lte": opLte, "$gt": opGt, "$gte": opGte,
	"$exists": opExists, "$in": opIn, "$nin": opNin, "$ini": opIni, "$nini": opNini,
	"$inGroup": opInGroup, "$notInGroup": opNotInGroup, "$not": opNot, "$size": opSize,
	"$elemMatch": opElemMatch, "$all": opAll, "$alli": opAlli, "$regex": opRegex,
	"$regexi": opRegex, "$type": opType, "$veq": opVeq, "$vne": opVne, "$vgt": opVgt,
	"$vgte": opVgte, "$vlt": opVlt, "$vlte": opVlte,
}

// operation is one compiled operator of an operator object.
type operation struct {
	op      opCode
	arg     any // the operand, for $eq/$ne/$lt...
	typ     string
	truthy  bool
	set     *jsSet
	sub     *cvalue
	subs    []cvalue
	cond    *expr
	re      *regexp.Regexp
	lit     *literalMatcher // the same answer as re, for literal-set patterns
	version []byte          // the operand of $veq and its kin, padded
}

var jsTypes = map[string]bool{"string": true, "number": true, "boolean": true, "object": true, "array": true, "null": true, "undefined": true}

type condCompiler struct {
	env       Env
	inPersona bool
	clauses   int
	// errs are the problems found so far: compilation goes on past a bad
	// clause or operator so that one answer names all of them.
	errs []error
}

// limitError is a problem that stops compilation (too many clauses, too
// deep): looking further would be unbounded work.
type limitError struct{ *RuleError }

func (e limitError) Unwrap() error { return e.RuleError }

// note records err and returns it if compilation must stop, nil if it can
// go on with the next clause or operator.
func (c *condCompiler) note(err error) error {
	var limit limitError
	if errors.As(err, &limit) {
		return err
	}
	c.errs = append(c.errs, err)
	return nil
}

// result is every problem found, nil for none.
func (c *condCompiler) result(fatal error) error {
	errs := c.errs
	if fatal != nil {
		errs = append(errs, fatal)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

func (c *condCompiler) count(path string) error {
	c.clauses++
	if c.clauses > MaxConditionClauses {
		return limitError{&RuleError{path, fmt.Sprintf("more than %d clauses and operators", MaxConditionClauses)}}
	}
	return nil
}

func depthError(path string) error {
	return limitError{&RuleError{path, fmt.Sprintf("nesting deeper than %d levels", MaxConditionDepth)}}
}

// sortedKeys gives map keys in a fixed order so that errors and evaluation
// order do not depend on map iteration.
func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// expr compiles a condition object. A bad clause is noted and skipped;
// the error returned is one that stops compilation.
func (c *condCompiler) expr(obj map[string]any, path string, depth int) (*expr, error) {
	if depth > MaxConditionDepth {
		return nil, depthError(path)
	}
	e := &expr{}
	for _, k := range sortedKeys(obj) {
		cl, err := c.clause(k, obj[k], path+"."+k, depth)
		if err != nil {
			if err := c.note(err); err != nil {
				return nil, err
			}
			continue
		}
		e.clauses = append(e.clauses, cl)
	}
	return e, nil
}

func (c *condCompiler) clause(k string, v any, kp string, depth int) (clause, error) {
	var cl clause
	switch k {
	case "$and", "$or", "$nor":
		list, ok := v.([]any)
		if !ok {
			return cl, &RuleError{kp, "needs an array of conditions, got " + describe(v)}
		}
		cl.kind = map[string]clauseKind{"$and": clAnd, "$or": clOr, "$nor": clNor}[k]
		cl.subs = make([]expr, len(list))
		for i, item := range list {
			ip := kp + "[" + strconv.Itoa(i) + "]"
			o, ok := item.(map[string]any)
			if !ok {
				if err := c.note(&RuleError{ip, "must be a condition object, got " + describe(item)}); err != nil {
					return cl, err
				}
				continue
			}
			sub, err := c.expr(o, ip, depth+1)
			if err != nil {
				return cl, err
			}
			cl.subs[i] = *sub
		}
	case "$not":
		o, ok := v.(map[string]any)
		if !ok {
			return cl, &RuleError{kp, "needs a condition object, got " + describe(v)}
		}
		sub, err := c.expr(o, kp, depth+1)
		if err != nil {
			return cl, err
		}
		cl.kind, cl.sub = clNot, sub
	case "$persona":
		key, ok := v.(string)
		if !ok {
			return cl, &RuleError{kp, "needs a persona key (a string), got " + describe(v)}
		}
		if c.inPersona {
			return cl, &RuleError{kp, "a persona cannot reference another persona"}
		}
		p, ok := c.env.Personas[key]
		if !ok {
			return cl, &RuleError{kp, fmt.Sprintf("unknown persona %q", key)}
		}
		cl.kind, cl.sub = clPersona, p.root
		if cl.sub == nil {
			cl.sub = &expr{}
		}
	default:
		if err := c.count(kp); err != nil {
			return cl, err
		}
		if k == "" {
			return cl, &RuleError{kp, "empty attribute name"}
		}
		val, err := c.value(v, kp, depth+1, false)
		if err != nil {
			return cl, err
		}
		operand, err := json.Marshal(v)
		if err != nil {
			return cl, &RuleError{kp, "cannot be written as JSON: " + err.Error()}
		}
		cl.kind, cl.path, cl.val, cl.key = clField, newPath(k), val, k+"\x00"+string(operand)
	}
	return cl, nil
}

func newPath(full string) fieldPath {
	p := fieldPath{full: full, parts: strings.Split(full, ".")}
	p.index = make([]int, len(p.parts))
	for i, s := range p.parts {
		p.index[i] = -1
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && strconv.Itoa(n) == s {
			p.index[i] = n
		}
	}
	return p
}

// isOperatorObject is GrowthBook's test: a non-empty object whose keys all
// start with "$".
func isOperatorObject(v any) (map[string]any, bool) {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil, false
	}
	for k := range m {
		if !strings.HasPrefix(k, "$") {
			return nil, false
		}
	}
	return m, true
}

func checkDepth(v any, path string, depth int) error {
	if depth > MaxConditionDepth {
		return depthError(path)
	}
	switch x := v.(type) {
	case []any:
		for i, e := range x {
			if err := checkDepth(e, path+"["+strconv.Itoa(i)+"]", depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, k := range sortedKeys(x) {
			if err := checkDepth(x[k], path+"."+k, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

func (c *condCompiler) value(v any, path string, depth int, fold bool) (*cvalue, error) {
	if depth > MaxConditionDepth {
		return nil, depthError(path)
	}
	switch x := v.(type) {
	case string:
		return &cvalue{kind: vString, s: x, fold: fold}, nil
	case float64:
		return &cvalue{kind: vNumber, f: x}, nil
	case bool:
		return &cvalue{kind: vBool, b: x}, nil
	case nil:
		return &cvalue{kind: vNull}, nil
	}
	ops, ok := isOperatorObject(v)
	if !ok {
		if err := checkDepth(v, path, depth); err != nil {
			return nil, err
		}
		return &cvalue{kind: vLiteral, lit: v}, nil
	}
	cv := &cvalue{kind: vOps}
	keys := sortedKeys(ops)
	// Type and existence checks are cheap and often guard the others.
	sort.SliceStable(keys, func(i, j int) bool { return cheapOp(keys[i]) && !cheapOp(keys[j]) })
	for _, k := range keys {
		o, err := c.operation(k, ops[k], path+"."+k, depth+1)
		if err != nil {
			if err := c.note(err); err != nil {
				return nil, err
			}
			continue
		}
		cv.ops = append(cv.ops, o)
	}
	return cv, nil
}

func cheapOp(name string) bool { return name == "$type" || name == "$exists" }

func (c *condCompiler) operation(name string, arg any, path string, depth int) (operation, error) {
	if err := c.count(path); err != nil {
		return operation{}, err
	}
	code, ok := opCodes[name]
	if !ok {
		return operation{}, &RuleError{path, fmt.Sprintf("unknown operator %q", name)}
	}
	o := operation{op: code}
	switch code {
	case opEq, opNe, opLt, opLte, opGt, opGte:
		if err := checkDepth(arg, path, depth); err != nil {
			return o, err
		}
		o.arg = arg
	case opExists:
		o.truthy = truthy(arg)
	case opIn, opNin, opIni, opNini:
		list, ok, err := listOperand(arg, path)
		if !ok || err != nil {
			o.op = opNever
			return o, err
		}
		o.set = newJSSet(list, code == opIni || code == opNini)
	case opInGroup, opNotInGroup:
		key, ok := arg.(string)
		if !ok {
			return o, &RuleError{path, "needs a group key (a string), got " + describe(arg)}
		}
		list, ok := c.env.Groups[key]
		if !ok {
			return o, &RuleError{path, fmt.Sprintf("unknown group %q", key)}
		}
		o.set = newJSSet(list, false)
	case opNot, opSize:
		sub, err := c.value(arg, path, depth, false)
		if err != nil {
			return o, err
		}
		o.sub = sub
	case opElemMatch:
		if m, isOps := isOperatorObject(arg); isOps {
			sub, err := c.value(m, path, depth, false)
			if err != nil {
				return o, err
			}
			o.sub = sub
			break
		}
		m, ok := arg.(map[string]any)
		if !ok {
			return o, &RuleError{path, "needs an object, got " + describe(arg)}
		}
		e, err := c.expr(m, path, depth)
		if err != nil {
			return o, err
		}
		o.cond = e
	case opAll, opAlli:
		list, ok, err := listOperand(arg, path)
		if !ok || err != nil {
			o.op = opNever
			return o, err
		}
		o.subs = make([]cvalue, len(list))
		for i, e := range list {
			sub, err := c.value(e, path+"["+strconv.Itoa(i)+"]", depth+1, code == opAlli)
			if err != nil {
				return o, err
			}
			o.subs[i] = *sub
		}
	case opRegex:
		p, ok := arg.(string)
		if !ok {
			return o, &RuleError{path, "needs a string pattern, got " + describe(arg)}
		}
		if len(p) > MaxRegexLength {
			return o, &RuleError{path, fmt.Sprintf("regex longer than %d bytes", MaxRegexLength)}
		}
		if name == "$regexi" {
			p = "(?i)" + p
		}
		re, err := regexp.Compile(p)
		if err != nil {
			return o, &RuleError{path, "invalid regex (RE2 syntax): " + err.Error()}
		}
		o.re, o.lit = re, newLiteralMatcher(p)
	case opType:
		t, ok := arg.(string)
		if !ok || !jsTypes[t] {
			return o, &RuleError{path, `needs one of "string", "number", "boolean", "object", "array", "null"`}
		}
		o.typ = t
	case opVeq, opVne, opVgt, opVgte, opVlt, opVlte:
		if err := checkDepth(arg, path, depth); err != nil {
			return o, err
		}
		o.version = appendPaddedVersion(nil, arg)
	}
	return o, nil
}

// listOperand returns the array operand of $in, $all and their kin. ok is
// false for any other operand: GrowthBook answers false for it, and so do
// we (opNever), rather than refusing a condition it accepts.
func listOperand(arg any, path string) (list []any, ok bool, err error) {
	list, ok = arg.([]any)
	if ok && len(list) > MaxRuleListValues {
		return nil, true, &RuleError{path, fmt.Sprintf("more than %d values", MaxRuleListValues)}
	}
	return list, ok, nil
}

// jsSet is the operand list of $in and its kin, for Array.includes lookups.
type jsSet struct {
	strs     map[string]struct{}
	nums     map[float64]struct{}
	hasTrue  bool
	hasFalse bool
	hasNull  bool
	fold     bool
	folded   []string // lower-cased strings, for non-ASCII look-ups under fold
	// few holds the strings of a short case-sensitive list (at most
	// fewStrings): comparing them one by one is cheaper than hashing the
	// attribute, and most targeting lists are short.
	few []string
}

// fewStrings is the longest string list that jsSet compares one by one.
const fewStrings = 8

func newJSSet(list []any, fold bool) *jsSet {
	s := &jsSet{fold: fold, strs: map[string]struct{}{}, nums: map[float64]struct{}{}}
	for _, e := range list {
		switch x := e.(type) {
		case string:
			if fold {
				x = strings.ToLower(x)
				s.folded = append(s.folded, x)
			}
			s.strs[x] = struct{}{}
		case float64:
			s.nums[x] = struct{}{}
		case bool:
			if x {
				s.hasTrue = true
			} else {
				s.hasFalse = true
			}
		case nil:
			s.hasNull = true
		}
		// Arrays and objects are compared by reference in JavaScript, so
		// they never match an attribute.
	}
	if !fold && len(s.strs) > 0 && len(s.strs) <= fewStrings {
		for x := range s.strs {
			s.few = append(s.few, x)
		}
		sort.Strings(s.few)
	}
	return s
}

// Personas returns the keys of the personas the condition references with
// $persona, sorted and without duplicates (nil for a condition that does
// not parse; CompileCondition reports why).
func (c Condition) Personas() []string {
	if len(c) == 0 {
		return nil
	}
	raw := []byte(c)
	if r, ok := legacyRule(raw); ok {
		if conv, err := r.Condition(); err == nil {
			raw = conv
		}
	}
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return nil
	}
	seen := map[string]bool{}
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			for k, e := range x {
				if s, ok := e.(string); ok && k == "$persona" {
					seen[s] = true
				}
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	walk(v)
	out := make([]string, 0, len(seen))
	for k := range seen {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
