package report

import (
	"regexp"
	"strings"
	"testing"
)

// dimensionRule is ValidDimension's rule as a regular expression, the
// reference the byte loop is checked against.
var dimensionRule = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_:.-]{0,99}$`)

func TestValidDimensionFollowsItsRule(t *testing.T) {
	for _, name := range []string{"", "device", "utm_source", "jl:persona", "a.b-c", ":x", ".x", "-x", "_x", "9", "x y", "Größe",
		"$where", strings.Repeat("a", 100), strings.Repeat("a", 101), "a\x00"} {
		if got, want := ValidDimension(name), dimensionRule.MatchString(name); got != want {
			t.Errorf("ValidDimension(%q) = %v, the rule says %v", name, got, want)
		}
	}
}

func FuzzValidDimension(f *testing.F) {
	f.Add("device")
	f.Add(":x")
	f.Fuzz(func(t *testing.T, name string) {
		if got, want := ValidDimension(name), dimensionRule.MatchString(name); got != want {
			t.Fatalf("ValidDimension(%q) = %v, the rule says %v", name, got, want)
		}
	})
}
