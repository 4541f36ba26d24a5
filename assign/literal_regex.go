package assign

import (
	"regexp/syntax"
	"strings"
	"unicode/utf8"
)

// maxLiteralSet bounds the strings a literal-set pattern may expand to.
const maxLiteralSet = 32

// literalMatcher answers a regular expression that is only literals,
// alternations of literals and anchors — "^(newsletter|sea)-",
// "(iPhone|iPad)", "^DE$" — with string comparisons, which is several times
// faster than running the regexp machine. It gives exactly the regexp's
// answer: such a pattern matches a string iff one of its expansions is a
// prefix (anchored at the start), a suffix (at the end), the whole string
// (both) or a substring (neither) of it.
type literalMatcher struct {
	lits       []string
	start, end bool
}

// newLiteralMatcher returns the matcher for pattern, or nil when the
// pattern is anything more than literals, alternations and anchors.
func newLiteralMatcher(pattern string) *literalMatcher {
	re, err := syntax.Parse(pattern, syntax.Perl)
	if err != nil {
		return nil
	}
	re = re.Simplify()
	parts := []*syntax.Regexp{re}
	if re.Op == syntax.OpConcat {
		parts = re.Sub
	}
	m := &literalMatcher{}
	if len(parts) > 0 && parts[0].Op == syntax.OpBeginText {
		m.start, parts = true, parts[1:]
	}
	if len(parts) > 0 && parts[len(parts)-1].Op == syntax.OpEndText {
		m.end, parts = true, parts[:len(parts)-1]
	}
	lits, ok := expand(&syntax.Regexp{Op: syntax.OpConcat, Sub: parts})
	if !ok {
		return nil
	}
	for _, l := range lits {
		// The regexp reads invalid UTF-8 as U+FFFD; a byte comparison would not.
		if strings.ContainsRune(l, utf8.RuneError) {
			return nil
		}
	}
	m.lits = lits
	return m
}

// expand lists the strings a literal, a character class of a few
// characters, a capture or an alternation of those matches.
func expand(re *syntax.Regexp) ([]string, bool) {
	switch re.Op {
	case syntax.OpLiteral:
		if re.Flags&syntax.FoldCase != 0 {
			return nil, false
		}
		return []string{string(re.Rune)}, true
	case syntax.OpEmptyMatch:
		return []string{""}, true
	case syntax.OpCapture:
		return expand(re.Sub[0])
	case syntax.OpCharClass:
		var out []string
		for i := 0; i+1 < len(re.Rune); i += 2 {
			for r := re.Rune[i]; r <= re.Rune[i+1]; r++ {
				if len(out) == maxLiteralSet {
					return nil, false
				}
				out = append(out, string(r))
			}
		}
		return out, len(out) > 0
	case syntax.OpConcat:
		lits := []string{""}
		for _, s := range re.Sub {
			alts, ok := expand(s)
			if !ok || len(lits)*len(alts) > maxLiteralSet {
				return nil, false
			}
			next := make([]string, 0, len(lits)*len(alts))
			for _, a := range lits {
				for _, b := range alts {
					next = append(next, a+b)
				}
			}
			lits = next
		}
		return lits, true
	case syntax.OpAlternate:
		var out []string
		for _, s := range re.Sub {
			alts, ok := expand(s)
			if !ok || len(out)+len(alts) > maxLiteralSet {
				return nil, false
			}
			out = append(out, alts...)
		}
		return out, true
	}
	return nil, false
}

// match reports whether s matches the pattern.
func (m *literalMatcher) match(s string) bool {
	for _, l := range m.lits {
		var ok bool
		switch {
		case m.start && m.end:
			ok = s == l
		case m.start:
			ok = strings.HasPrefix(s, l)
		case m.end:
			ok = strings.HasSuffix(s, l)
		default:
			ok = strings.Contains(s, l)
		}
		if ok {
			return true
		}
	}
	return false
}
