package assign

import (
	"strconv"
	"testing"

	"github.com/journeylab/journeylab/internal/benchratio"
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

// targetingFor gives experiment i of a benchmark snapshot its condition.
type targetingFor func(i int) Condition

var (
	untargeted targetingFor = func(int) Condition { return nil }
	// sharedRealistic gives all ten experiments the realistic condition.
	sharedRealistic targetingFor = func(int) Condition { return Condition(benchCondition) }
	// distinctRealistic gives each experiment its own realistic condition
	// (the same shape, a different country list), sharing the persona.
	distinctRealistic targetingFor = func(i int) Condition {
		return Condition(`{"country": {"$in": ["DE", "AT", "CH", "X` + strconv.Itoa(i) + `"]}, "device": {"$ne": "desktop"},
			"app_version": {"$vgte": "4.2.0"}, "utm_source": {"$regex": "^(newsletter|sea)-"}, "$persona": "sarah"}`)
	}
	// distinctSimple gives each experiment its own one-clause condition.
	distinctSimple targetingFor = func(i int) Condition {
		return Condition(`{"country": {"$in": ["DE", "AT", "X` + strconv.Itoa(i) + `"]}}`)
	}
)

// benchTen builds ten experiments on one touchpoint with the given
// targeting; every one matches benchAttrs.
func benchTen(tb testing.TB, targeting targetingFor) *Snapshot {
	tb.Helper()
	var exps []Experiment
	for i := range 10 {
		exps = append(exps, Experiment{
			Key: "exp-" + strconv.Itoa(i), Touchpoint: "checkout", Stage: "checkout", Coverage: 1,
			Variants:  []Variant{{Key: "control"}, {Key: "treatment", Payload: []byte(`{"color":"green"}`)}},
			Targeting: targeting(i),
		})
	}
	s, err := NewSnapshot(exps, nil, benchPersonas(tb)...)
	if err != nil {
		tb.Fatal(err)
	}
	if got := len(s.Assign("u", "checkout", benchAttrs, nil)); got != 10 {
		tb.Fatalf("%d assignments, want 10", got)
	}
	return s
}

// BenchmarkAssignTen measures one assign call over ten experiments, with no
// targeting and with each kind of condition (all matching, so every case
// returns ten assignments).
func BenchmarkAssignTen(b *testing.B) {
	for _, tc := range []struct {
		name      string
		targeting targetingFor
	}{{"untargeted", untargeted}, {"shared-realistic", sharedRealistic}, {"distinct-realistic", distinctRealistic}, {"distinct-simple", distinctSimple}} {
		b.Run(tc.name, func(b *testing.B) {
			s := benchTen(b, tc.targeting)
			dst := make([]Assignment, 0, 16)
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

// BenchmarkTargetedOverUntargeted reports how much slower one assign call
// over ten targeted experiments is than over the same ten untargeted, as
// the ratio of median block times: blocks of calls alternate between the
// two snapshots, so load from other processes falls on both alike.
func BenchmarkTargetedOverUntargeted(b *testing.B) {
	const block = 512
	for _, tc := range []struct {
		name      string
		targeting targetingFor
	}{{"shared-realistic", sharedRealistic}, {"distinct-realistic", distinctRealistic}, {"distinct-simple", distinctSimple}} {
		b.Run(tc.name, func(b *testing.B) {
			base, targeted := benchTen(b, untargeted), benchTen(b, tc.targeting)
			dst := make([]Assignment, 0, 16)
			call := func(s *Snapshot) func(int) {
				return func(i int) { dst = s.Assign(benchUnits[i&1023], "checkout", benchAttrs, dst[:0]) }
			}
			benchratio.Report(b, block, "untargeted", call(base), "targeted", call(targeted))
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
