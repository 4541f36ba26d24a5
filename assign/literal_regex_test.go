package assign

import (
	"regexp"
	"testing"
)

func TestLiteralRegexAnswersLikeTheRegexp(t *testing.T) {
	inputs := []string{"", "newsletter-2026", "sea-", "xsea-1", "DE", "DEU", "aDE", "iPhone 15", "my iPad", "ab", "abc", "\xff", "b", "tea"}
	tests := []struct {
		pattern string
		fast    bool
	}{
		{"^(newsletter|sea)-", true},
		{"(iPhone|iPad)", true},
		{"^DE$", true},
		{"DE$", true},
		{"^a[bc]", true},
		{"", true},
		{"^(a|)$", true},
		{"t(ea|o)", true},
		{"(?i)^de$", false},
		{"^de.", false},
		{"a+", false},
		{"^[a-z]", true},
		{"^[a-z]{2}", false},
		{"(?m)^DE$", false},
		{"\\x{FFFD}", false},
	}
	for _, tt := range tests {
		t.Run("pattern "+tt.pattern, func(t *testing.T) {
			lm := newLiteralMatcher(tt.pattern)
			if (lm != nil) != tt.fast {
				t.Fatalf("fast path = %v, want %v", lm != nil, tt.fast)
			}
			if lm == nil {
				return
			}
			re := regexp.MustCompile(tt.pattern)
			for _, in := range inputs {
				if got, want := lm.match(in), re.MatchString(in); got != want {
					t.Fatalf("%q on %q: fast %v, regexp %v", tt.pattern, in, got, want)
				}
			}
		})
	}
}

// FuzzLiteralRegex checks the literal fast path against the regexp on
// arbitrary patterns and inputs.
func FuzzLiteralRegex(f *testing.F) {
	f.Add("^(newsletter|sea)-", "newsletter-1")
	f.Add("(a|b)c$", "xbc")
	f.Add("^[xy]z$", "yz")
	f.Fuzz(func(t *testing.T, pattern, in string) {
		re, err := regexp.Compile(pattern)
		if err != nil {
			return
		}
		lm := newLiteralMatcher(pattern)
		if lm == nil {
			return
		}
		if got, want := lm.match(in), re.MatchString(in); got != want {
			t.Fatalf("%q on %q: fast %v, regexp %v", pattern, in, got, want)
		}
	})
}
