package assign

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// GrowthBook's evalCondition is JavaScript and compares with JavaScript's
// rules: `value + "" === "10"`, `value * 1 === 10`, `actual < expected` with
// its coercions. The functions here reproduce those rules for JSON values
// without allocating (strings are built in caller-provided stack buffers).

// toNumber accepts the Go numeric types and json.Number; NaN and
// infinities are rejected.
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
	case json.Number:
		g, ok := parseDecimal(string(x))
		if !ok {
			return 0, false
		}
		f = g
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// jsType is GrowthBook's getType: missing attributes are null.
func jsType(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case []any, []string:
		return "array"
	case map[string]any:
		return "object"
	}
	if _, ok := toNumber(v); ok {
		return "number"
	}
	return "unknown"
}

// truthy is JavaScript's !!v.
func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case string:
		return x != ""
	case float64:
		return x != 0 && !math.IsNaN(x)
	}
	if f, ok := toNumber(v); ok {
		return f != 0
	}
	return true
}

// strictEqual is JavaScript's === between an attribute and a JSON operand:
// arrays and objects are compared by reference, so they are never equal.
func strictEqual(v, want any) bool {
	switch w := want.(type) {
	case nil:
		return v == nil
	case string:
		s, ok := v.(string)
		return ok && s == w
	case bool:
		b, ok := v.(bool)
		return ok && b == w
	case float64:
		f, ok := toNumber(v)
		return ok && f == w
	}
	return false
}

// jsonEqual compares an attribute with a literal array or object operand,
// as GrowthBook does with JSON.stringify on both sides (but independent of
// object key order, which Go maps do not keep).
func jsonEqual(v, want any) bool {
	switch w := want.(type) {
	case []any:
		n, ok := arrayLen(v)
		if !ok || n != len(w) {
			return false
		}
		for i := range w {
			if !jsonEqual(arrayAt(v, i), w[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		m, ok := v.(map[string]any)
		if !ok || len(m) != len(w) {
			return false
		}
		for k, wv := range w {
			mv, ok := m[k]
			if !ok || !jsonEqual(mv, wv) {
				return false
			}
		}
		return true
	}
	return strictEqual(v, want)
}

// jsCompare is JavaScript's abstract relational comparison: two strings
// (after arrays and objects become strings) compare as strings, anything
// else as numbers. ok is false when either side is NaN.
func jsCompare(a, b any) (c int, ok bool) {
	switch x := a.(type) {
	case string:
		if y, ok := b.(string); ok {
			return strings.Compare(x, y), true
		}
	case float64:
		if y, ok := b.(float64); ok {
			return compareFloats(x, y)
		}
	}
	var abuf, bbuf [64]byte
	as, aStr := primitiveString(abuf[:0], a)
	bs, bStr := primitiveString(bbuf[:0], b)
	if aStr && bStr {
		return bytes.Compare(as, bs), true
	}
	var x, y float64
	if aStr {
		x = stringToNumber(string(as))
	} else {
		x = jsToNumber(a)
	}
	if bStr {
		y = stringToNumber(string(bs))
	} else {
		y = jsToNumber(b)
	}
	return compareFloats(x, y)
}

func compareFloats(x, y float64) (int, bool) {
	switch {
	case math.IsNaN(x) || math.IsNaN(y):
		return 0, false
	case x < y:
		return -1, true
	case x > y:
		return 1, true
	}
	return 0, true
}

// primitiveString returns v as a string if JavaScript's ToPrimitive makes a
// string of it (strings, arrays, objects).
func primitiveString(dst []byte, v any) ([]byte, bool) {
	switch x := v.(type) {
	case string:
		return append(dst, x...), true
	case []any, []string, map[string]any:
		return appendJSString(dst, x), true
	}
	return dst, false
}

// jsToNumber is JavaScript's Number(v) (NaN for what is not a number).
func jsToNumber(v any) float64 {
	switch x := v.(type) {
	case nil:
		return 0
	case bool:
		if x {
			return 1
		}
		return 0
	case string:
		return stringToNumber(x)
	case []any, []string:
		n, _ := arrayLen(x)
		switch n {
		case 0:
			return 0
		case 1:
			el := arrayAt(x, 0)
			if el == nil {
				return 0
			}
			if _, isBool := el.(bool); isBool {
				return math.NaN() // "true" is not a number
			}
			return jsToNumber(el)
		}
		return math.NaN()
	case map[string]any:
		return math.NaN()
	}
	if f, ok := toNumber(v); ok {
		return f
	}
	return math.NaN()
}

// stringToNumber is JavaScript's StringToNumber: surrounding white space is
// ignored, "" is 0, 0x/0o/0b prefixes and Infinity are understood.
func stringToNumber(s string) float64 {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0
	}
	switch s {
	case "Infinity", "+Infinity":
		return math.Inf(1)
	case "-Infinity":
		return math.Inf(-1)
	}
	if len(s) > 2 && s[0] == '0' {
		base := 0
		switch s[1] {
		case 'x', 'X':
			base = 16
		case 'o', 'O':
			base = 8
		case 'b', 'B':
			base = 2
		}
		if base != 0 {
			var f float64
			for i := 2; i < len(s); i++ {
				d := digitValue(s[i])
				if d >= base {
					return math.NaN()
				}
				f = f*float64(base) + float64(d)
			}
			return f
		}
	}
	if f, ok := parseDecimal(s); ok {
		return f
	}
	return math.NaN()
}

func digitValue(c byte) int {
	switch {
	case '0' <= c && c <= '9':
		return int(c - '0')
	case 'a' <= c && c <= 'z':
		return int(c-'a') + 10
	case 'A' <= c && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// parseDecimal parses a JavaScript decimal literal ([+-] digits [. digits]
// [e [+-] digits], at least one mantissa digit). It checks the syntax first
// so that strconv never builds an error on the hot path.
func parseDecimal(s string) (float64, bool) {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && '0' <= s[i] && s[i] <= '9' {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil && !math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

// appendJSString appends JavaScript's String(v): null is "null", arrays
// join their elements with "," (null elements are empty), objects are
// "[object Object]".
func appendJSString(dst []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(dst, "null"...)
	case string:
		return append(dst, x...)
	case bool:
		return strconv.AppendBool(dst, x)
	case []any:
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			if e != nil {
				dst = appendJSString(dst, e)
			}
		}
		return dst
	case []string:
		for i, e := range x {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = append(dst, e...)
		}
		return dst
	case map[string]any:
		return append(dst, "[object Object]"...)
	}
	if f, ok := toNumber(v); ok {
		return appendJSNumber(dst, f)
	}
	return append(dst, "undefined"...)
}

// appendJSNumber appends JavaScript's Number::toString(f) for a finite f:
// the shortest round-trip digits, in plain notation for exponents from -7
// to 20 and as d.ddde+n otherwise.
func appendJSNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	var buf [32]byte
	e := strconv.AppendFloat(buf[:0], f, 'e', -1, 64)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
		dst = append(dst, '-')
	}
	// e is d[.ddd]e±xx
	mark := bytes.IndexByte(e, 'e')
	mant, expPart := e[:mark], e[mark+1:]
	exp, _ := strconv.Atoi(string(expPart))
	var digits [24]byte
	k := 0
	for _, c := range mant {
		if c != '.' {
			digits[k] = c
			k++
		}
	}
	n := exp + 1 // value = 0.d1d2...dk × 10^n
	switch {
	case k <= n && n <= 21:
		dst = append(dst, digits[:k]...)
		for i := 0; i < n-k; i++ {
			dst = append(dst, '0')
		}
	case 0 < n && n <= 21:
		dst = append(dst, digits[:n]...)
		dst = append(dst, '.')
		dst = append(dst, digits[n:k]...)
	case -6 < n && n <= 0:
		dst = append(dst, '0', '.')
		for i := 0; i < -n; i++ {
			dst = append(dst, '0')
		}
		dst = append(dst, digits[:k]...)
	default:
		dst = append(dst, digits[0])
		if k > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:k]...)
		}
		dst = append(dst, 'e')
		if n-1 >= 0 {
			dst = append(dst, '+')
		}
		dst = strconv.AppendInt(dst, int64(n-1), 10)
	}
	return dst
}

// appendPaddedVersion is GrowthBook's paddedVersionString: drop a leading
// "v" and any "+build" suffix, split on "-" and ".", add "~" after a plain
// three-part version (so 1.0.0 sorts after 1.0.0-beta), left-pad numeric
// parts to five characters and join with "-". The results compare as
// strings.
func appendPaddedVersion(dst []byte, v any) []byte {
	var nbuf [32]byte
	var s string
	switch x := v.(type) {
	case string:
		if out, ok := appendPaddedDigits(dst, x); ok {
			return out
		}
		s = x
	default:
		if f, ok := toNumber(v); ok {
			s = string(appendJSNumber(nbuf[:0], f))
		}
	}
	return appendPaddedVersionGeneral(dst, s)
}

// appendPaddedVersionGeneral is appendPaddedVersion for any string.
func appendPaddedVersionGeneral(dst []byte, s string) []byte {
	if s == "" {
		s = "0"
	}
	s = strings.TrimPrefix(s, "v")
	if i := strings.IndexByte(s, '+'); i >= 0 {
		s = s[:i]
	}
	parts := 0
	for first := true; ; first = false {
		end, numeric := -1, true
		for i := 0; i < len(s); i++ {
			c := s[i]
			if c == '-' || c == '.' {
				end = i
				break
			}
			numeric = numeric && '0' <= c && c <= '9'
		}
		part := s
		if end >= 0 {
			part = s[:end]
		}
		if !first {
			dst = append(dst, '-')
		}
		parts++
		if numeric && part != "" {
			for i := len(part); i < 5; i++ {
				dst = append(dst, ' ')
			}
		}
		dst = append(dst, part...)
		if end < 0 {
			break
		}
		s = s[end+1:]
	}
	if parts == 3 {
		dst = append(dst, "-~"...)
	}
	return dst
}

// appendPaddedDigits is appendPaddedVersion for the usual form of a
// version, numbers of at most five digits separated by dots ("4.10.1"),
// written in one pass; ok is false for any other string, which
// appendPaddedVersion then pads in general.
func appendPaddedDigits(dst []byte, s string) ([]byte, bool) {
	if s == "" {
		return dst, false
	}
	start := len(dst)
	parts, n := 0, 0 // parts so far, digits of the current part
	for i := 0; i <= len(s); i++ {
		if i < len(s) && '0' <= s[i] && s[i] <= '9' {
			n++
			if n > 5 {
				return dst[:start], false
			}
			continue
		}
		if n == 0 || i < len(s) && s[i] != '.' {
			return dst[:start], false
		}
		if parts > 0 {
			dst = append(dst, '-')
		}
		dst = append(dst, "     "[:5-n]...)
		dst = append(dst, s[i-n:i]...)
		parts, n = parts+1, 0
	}
	if parts == 3 {
		dst = append(dst, "-~"...)
	}
	return dst, true
}
