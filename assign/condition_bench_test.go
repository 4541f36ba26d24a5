package assign

import (
	"strconv"
	"testing"
)

// benchCondition is a realistic targeting condition: five clauses, one of
// them a regular expression and one a persona.
const benchCondition = `{
	"country": {"$in": ["DE", "AT", "CH"]},
	"device": {"$ne": "desktop"},
	"app_version": {"$vgte": "4.2.0"},
	"utm_source": {"$regex": "^(newsletter|sea)-"},
	"$persona": "sarah"
}`

const benchPersona = `{"returns_last_year": {"$gte": 2}, "segment": {"$in": ["quality-seeker", "size-unsure"]}}`

var benchAttrs = map[string]any{
	"country": "DE", "device": "mobile", "app_version": "4.10.1", "utm_source": "newsletter-2026-11",
	"returns_last_year": 3.0, "segment": "size-unsure", "visits": 5.0, "channel": "email",
}

var sinkBool bool

func benchPersonas(tb testing.TB) []Persona {
	tb.Helper()
	return []Persona{{Key: "sarah", Condition: Condition(benchPersona)}}
}

// BenchmarkCondition evaluates the realistic condition on matching
// attributes (every clause is evaluated).
func BenchmarkCondition(b *testing.B) {
	sarah, err := CompilePersona(Condition(benchPersona), Env{})
	if err != nil {
		b.Fatal(err)
	}
	m, err := CompileCondition(Condition(benchCondition), Env{Personas: map[string]Matcher{"sarah": sarah}})
	if err != nil {
		b.Fatal(err)
	}
	if !m.Match(benchAttrs) {
		b.Fatal("the benchmark condition must match")
	}
	b.ReportAllocs()
	for b.Loop() {
		sinkBool = m.Match(benchAttrs)
	}
}

// benchTenOn builds ten experiments on one touchpoint, each with the
// realistic condition when targeted.
func benchTenOn(tb testing.TB, targeted bool) *Snapshot {
	tb.Helper()
	var exps []Experiment
	for i := range 10 {
		e := Experiment{
			Key: "exp-" + strconv.Itoa(i), Touchpoint: "checkout", Stage: "checkout", Coverage: 1,
			Variants: []Variant{{Key: "control"}, {Key: "treatment", Payload: []byte(`{"color":"green"}`)}},
		}
		if targeted {
			e.Targeting = Condition(benchCondition)
		}
		exps = append(exps, e)
	}
	s, err := NewSnapshot(exps, nil, benchPersonas(tb)...)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkAssignTen compares one assign call over ten experiments without
// targeting and with the realistic condition on each (all matching, so
// both return ten assignments).
func BenchmarkAssignTen(b *testing.B) {
	for _, tc := range []struct {
		name     string
		targeted bool
	}{{"untargeted", false}, {"targeted", true}} {
		b.Run(tc.name, func(b *testing.B) {
			s := benchTenOn(b, tc.targeted)
			dst := make([]Assignment, 0, 16)
			if got := len(s.Assign("u", "checkout", benchAttrs, dst)); got != 10 {
				b.Fatalf("%d assignments, want 10", got)
			}
			b.ReportAllocs()
			n := 0
			for i := 0; b.Loop(); i++ {
				dst = s.Assign(benchUnits[i&1023], "checkout", benchAttrs, dst[:0])
				n += len(dst)
			}
			sinkInt = n
		})
	}
}

// BenchmarkPersonas measures which personas a unit belongs to (for report
// segments) with five personas.
func BenchmarkPersonas(b *testing.B) {
	var ps []Persona
	for i := range 5 {
		ps = append(ps, Persona{Key: "p" + strconv.Itoa(i), Condition: Condition(benchPersona)})
	}
	s, err := NewSnapshot(nil, nil, ps...)
	if err != nil {
		b.Fatal(err)
	}
	dst := make([]string, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		dst = s.Personas(benchAttrs, dst[:0])
	}
	sinkInt = len(dst)
}
