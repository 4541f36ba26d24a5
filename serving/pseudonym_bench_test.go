package serving

import (
	"testing"
	"time"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/privacy"
)

// BenchmarkServiceAssignPseudonymised is BenchmarkServiceAssign with
// stored ids pseudonymised (privacy.Pseudonymiser): one HMAC-SHA256 per
// request, for the dedupe check and the exposures.
func BenchmarkServiceAssignPseudonymised(b *testing.B) {
	e := newEnv(b)
	e.launchTen(b)
	s := e.start(b, Options{RefreshInterval: time.Hour, StoredUnit: privacy.NewPseudonymiser([]byte("a-pseudonym-key-16")).Unit})
	for _, u := range benchUnits {
		s.Assign(u, "checkout_cta", benchAttrs, nil)
	}
	dst := make([]assign.Assignment, 0, 16)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		dst = s.Assign(benchUnits[i&4095], "checkout_cta", benchAttrs, dst[:0])
	}
}
