package serving

import (
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/assign"
)

// benchUnits is the pool of returning visitors the benchmarks cycle
// through; every pair is in the dedupe cache after the first round, as for
// a visitor's second page view.
var benchUnits = func() []string {
	u := make([]string, 4096)
	for i := range u {
		u[i] = fmt.Sprintf("3f6c2a1e-9b7d-4c11-8e0f-%012d", i)
	}
	return u
}()

var benchAttrs = map[string]any{"device": "mobile", "country": "DE", "channel": "email", "returning": true}

func benchService(b *testing.B, layerMetrics ...string) *Service {
	e := newEnv(b)
	e.launchTen(b, layerMetrics...)
	s := e.start(b, Options{RefreshInterval: time.Hour})
	for _, u := range benchUnits {
		s.Assign(u, "checkout_cta", benchAttrs, nil)
	}
	return s
}

// BenchmarkServiceAssign is the hot path without HTTP: snapshot lookup of
// ten experiments, targeting, layer, and the dedupe check per result.
func BenchmarkServiceAssign(b *testing.B) {
	s := benchService(b)
	dst := make([]assign.Assignment, 0, 16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst = s.Assign(benchUnits[i&4095], "checkout_cta", benchAttrs, dst[:0])
	}
}

// BenchmarkServiceAssignWithBaseline is BenchmarkServiceAssign with the
// layer's holdout recorded as its baseline: one more result per request.
func BenchmarkServiceAssignWithBaseline(b *testing.B) {
	s := benchService(b, "conversion")
	dst := make([]assign.Assignment, 0, 16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst = s.Assign(benchUnits[i&4095], "checkout_cta", benchAttrs, dst[:0])
	}
}

// BenchmarkServiceAssignParallel is the same under contention for the
// dedupe cache shards.
func BenchmarkServiceAssignParallel(b *testing.B) {
	s := benchService(b)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		dst := make([]assign.Assignment, 0, 16)
		i := 0
		for pb.Next() {
			dst = s.Assign(benchUnits[i&4095], "checkout_cta", benchAttrs, dst[:0])
			i++
		}
	})
}

func benchBodies() [][]byte {
	out := make([][]byte, len(benchUnits))
	for i, u := range benchUnits {
		out[i] = fmt.Appendf(nil, `{"unit_id":%q,"touchpoint":"checkout_cta","attributes":{"device":"mobile","country":"DE","channel":"email","returning":true}}`, u)
	}
	return out
}

// BenchmarkParseBody is the request parser alone.
func BenchmarkParseBody(b *testing.B) {
	bodies := benchBodies()
	var r Request
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		r.reset()
		if err := parseBody(bodies[i&4095], &r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkAppendResponse is the response encoder alone, for ten
// assignments with payloads.
func BenchmarkAppendResponse(b *testing.B) {
	as := make([]assign.Assignment, 10)
	for i := range as {
		as[i] = assign.Assignment{Experiment: fmt.Sprintf("cta-%d", i), Variant: "v1", Payload: []byte(`{"color":"green"}`), Stage: "checkout", Touchpoint: "checkout_cta"}
	}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendResponse(buf[:0], benchUnits[0], as)
	}
}
