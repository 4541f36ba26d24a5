package assign

import (
	"bytes"
	"strings"
)

// memo holds what one Assign call has already evaluated: the results of
// shared conditions and clauses by memo slot (bit i-1 of done is set once
// slot i is evaluated, the same bit of val holds its result), and the
// values of attribute paths several clauses read, by path slot.
type memo struct {
	done, val uint64
	got       uint16
	vals      [16]any
}

// attr returns the value at p, looked up once per call for a path with a
// slot.
func (m *memo) attr(obj any, p *fieldPath) any {
	if m == nil || p.slot == 0 {
		return lookup(obj, p)
	}
	bit := uint16(1) << (p.slot - 1)
	if m.got&bit == 0 {
		m.vals[p.slot-1] = lookup(obj, p)
		m.got |= bit
	}
	return m.vals[p.slot-1]
}

// eval reports whether obj satisfies every clause. obj is the attributes
// map at the top level, or an array element under $elemMatch (evaluated
// without the memo, which holds results for the attributes only).
func (e *expr) eval(obj any, m *memo) bool {
	if e.memo == 0 || m == nil {
		return e.evalClauses(obj, m)
	}
	bit := uint64(1) << (e.memo - 1)
	if m.done&bit != 0 {
		return m.val&bit != 0
	}
	r := e.evalClauses(obj, m)
	m.done |= bit
	if r {
		m.val |= bit
	}
	return r
}

func (e *expr) evalClauses(obj any, m *memo) bool {
	// Once every memoised clause of a conjunction has been evaluated in
	// this call (by an earlier experiment), one mask test answers for all
	// of them and only the clauses of this condition alone are evaluated.
	if e.known != 0 && m != nil && m.done&e.known == e.known {
		if m.val&e.known != e.known {
			return false
		}
		for _, i := range e.rest {
			if !e.clauses[i].holds(obj, m) {
				return false
			}
		}
		return true
	}
	for i := range e.clauses {
		if !e.clauses[i].holds(obj, m) {
			return false
		}
	}
	return true
}

// holds reports whether obj satisfies one clause.
func (cl *clause) holds(obj any, m *memo) bool {
	switch cl.kind {
	case clField:
		if cl.memo != 0 && m != nil {
			bit := uint64(1) << (cl.memo - 1)
			if m.done&bit == 0 {
				m.done |= bit
				if cl.val.eval(m.attr(obj, &cl.path)) {
					m.val |= bit
				}
			}
			return m.val&bit != 0
		}
		return cl.val.eval(m.attr(obj, &cl.path))
	case clAnd:
		for j := range cl.subs {
			if !cl.subs[j].eval(obj, m) {
				return false
			}
		}
	case clOr, clNor:
		hit := len(cl.subs) == 0 // GrowthBook: an empty $or holds
		for j := range cl.subs {
			if cl.subs[j].eval(obj, m) {
				hit = true
				break
			}
		}
		return hit != (cl.kind == clNor)
	case clNot:
		return !cl.sub.eval(obj, m)
	case clPersona:
		return cl.sub.eval(obj, m)
	}
	return true
}

// lookup returns the value at path, or nil when any segment is missing.
// An attribute whose name is the whole dotted path wins over the nested
// walk, so flat attributes with dots in their names stay reachable.
func lookup(obj any, p *fieldPath) any {
	if m, ok := obj.(map[string]any); ok {
		if v, ok := m[p.full]; ok || len(p.parts) == 1 {
			return v
		}
	}
	cur := obj
	for i, part := range p.parts {
		switch x := cur.(type) {
		case map[string]any:
			v, ok := x[part]
			if !ok {
				return nil
			}
			cur = v
		case []any:
			n := p.index[i]
			if n < 0 || n >= len(x) {
				return nil
			}
			cur = x[n]
		default:
			return nil
		}
	}
	return cur
}

// eval is GrowthBook's evalConditionValue.
func (cv *cvalue) eval(v any) bool {
	switch cv.kind {
	case vString:
		if x, ok := v.(string); ok {
			if cv.fold {
				return strings.EqualFold(x, cv.s)
			}
			return x == cv.s
		}
		var buf [64]byte
		s := appendJSString(buf[:0], v)
		if cv.fold {
			return strings.EqualFold(string(s), cv.s)
		}
		return string(s) == cv.s
	case vNumber:
		return jsToNumber(v) == cv.f
	case vBool:
		return v != nil && truthy(v) == cv.b
	case vNull:
		return v == nil
	case vLiteral:
		return jsonEqual(v, cv.lit)
	}
	for i := range cv.ops {
		if !cv.ops[i].eval(v) {
			return false
		}
	}
	return true
}

func (o *operation) eval(v any) bool {
	switch o.op {
	case opEq:
		return strictEqual(v, o.arg)
	case opNe:
		return !strictEqual(v, o.arg)
	case opLt:
		c, ok := jsCompare(v, o.arg)
		return ok && c < 0
	case opLte:
		c, ok := jsCompare(v, o.arg)
		return ok && c <= 0
	case opGt:
		c, ok := jsCompare(v, o.arg)
		return ok && c > 0
	case opGte:
		c, ok := jsCompare(v, o.arg)
		return ok && c >= 0
	case opExists:
		return (v != nil) == o.truthy
	case opIn, opIni, opInGroup:
		return o.set.isIn(v)
	case opNin, opNini, opNotInGroup:
		return !o.set.isIn(v)
	case opNot:
		return !o.sub.eval(v)
	case opSize:
		n, ok := arrayLen(v)
		return ok && o.sub.eval(float64(n))
	case opElemMatch:
		n, ok := arrayLen(v)
		if !ok {
			return false
		}
		for i := 0; i < n; i++ {
			el := arrayAt(v, i)
			if !truthy(el) { // GrowthBook skips falsy elements
				continue
			}
			if o.sub != nil && o.sub.eval(el) || o.cond != nil && o.cond.eval(el, nil) {
				return true
			}
		}
		return false
	case opAll, opAlli:
		n, ok := arrayLen(v)
		if !ok {
			return false
		}
		for i := range o.subs {
			found := false
			for j := 0; j < n && !found; j++ {
				found = o.subs[i].eval(arrayAt(v, j))
			}
			if !found {
				return false
			}
		}
		return true
	case opRegex:
		if s, ok := v.(string); ok {
			if o.lit != nil {
				return o.lit.match(s)
			}
			return o.re.MatchString(s)
		}
		var buf [64]byte
		return o.re.Match(appendJSString(buf[:0], v))
	case opType:
		return jsType(v) == o.typ
	case opVeq, opVne, opVgt, opVgte, opVlt, opVlte:
		var buf [64]byte
		c := bytes.Compare(appendPaddedVersion(buf[:0], v), o.version)
		switch o.op {
		case opVeq:
			return c == 0
		case opVne:
			return c != 0
		case opVgt:
			return c > 0
		case opVgte:
			return c >= 0
		case opVlt:
			return c < 0
		default:
			return c <= 0
		}
	}
	return false // opNever
}

// isIn is GrowthBook's isIn: an array attribute matches when any element
// is in the set.
func (s *jsSet) isIn(v any) bool {
	if n, ok := arrayLen(v); ok {
		for i := 0; i < n; i++ {
			if s.has(arrayAt(v, i)) {
				return true
			}
		}
		return false
	}
	return s.has(v)
}

func (s *jsSet) has(v any) bool {
	switch x := v.(type) {
	case nil:
		return s.hasNull
	case string:
		if s.fold {
			return s.hasFolded(x)
		}
		if s.few != nil {
			for _, f := range s.few {
				if f == x {
					return true
				}
			}
			return false
		}
		_, ok := s.strs[x]
		return ok
	case bool:
		return x && s.hasTrue || !x && s.hasFalse
	}
	if f, ok := toNumber(v); ok {
		_, in := s.nums[f]
		return in
	}
	return false
}

// hasFolded looks x up case-insensitively: ASCII strings are lower-cased in
// a stack buffer, others compared one by one.
func (s *jsSet) hasFolded(x string) bool {
	var buf [64]byte
	if len(x) <= len(buf) {
		ascii := true
		for i := 0; i < len(x); i++ {
			c := x[i]
			if c >= 0x80 {
				ascii = false
				break
			}
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			buf[i] = c
		}
		if ascii {
			_, ok := s.strs[string(buf[:len(x)])]
			return ok
		}
	}
	for _, f := range s.folded {
		if strings.EqualFold(x, f) {
			return true
		}
	}
	return false
}

func arrayLen(v any) (int, bool) {
	switch x := v.(type) {
	case []any:
		return len(x), true
	case []string:
		return len(x), true
	}
	return 0, false
}

// arrayAt returns element i of an array attribute. Elements of a []string
// are boxed, which allocates; attributes decoded from JSON are []any.
func arrayAt(v any, i int) any {
	switch x := v.(type) {
	case []any:
		return x[i]
	case []string:
		return x[i]
	}
	return nil
}
