package assign

import (
	"fmt"
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// TestCoverageRamp raises coverage 10% -> 50% -> 100% and checks that no
// unit that was in leaves or changes variant.
func TestCoverageRamp(t *testing.T) {
	const n = 100_000
	ramp := []float64{0.10, 0.50, 1.00}
	prev := make([]int, n) // variant index + 1; 0 = not in the experiment
	for step, cov := range ramp {
		t.Run(fmt.Sprintf("at %.0f%% coverage no earlier unit leaves or switches variant", cov*100), func(t *testing.T) {
			s, err := NewSnapshot([]Experiment{{
				Key: "ramp", Touchpoint: "pdp", Coverage: cov,
				Variants:   []Variant{{Key: "a"}, {Key: "b"}, {Key: "c"}},
				Allocation: mustAllocate(t, 1, 1, 1),
			}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			in := 0
			var dst []Assignment
			for i := range n {
				dst = s.Assign(unitID(i), "pdp", nil, dst[:0])
				cur := 0
				if len(dst) == 1 {
					cur = dst[0].VariantIndex + 1
					in++
				}
				if prev[i] != 0 && cur != prev[i] {
					t.Fatalf("unit %d was variant %d at the previous step, now %d", i, prev[i]-1, cur-1)
				}
				prev[i] = cur
			}
			share := float64(in) / n
			t.Logf("step %d: %.2f%% of units in the experiment (coverage %.0f%%)", step, 100*share, 100*cov)
			if math.Abs(share-cov) > 0.005 {
				t.Errorf("share in = %.4f, want %.2f ± 0.005", share, cov)
			}
		})
	}
}

// TestSplitBalance runs a sample-ratio-mismatch check on 1M unit ids: the
// observed split must be consistent with the allocation (p > 0.001).
func TestSplitBalance(t *testing.T) {
	if testing.Short() {
		t.Skip("1M ids per case; skipped with -short")
	}
	const n = 1_000_000
	tests := []struct {
		name     string
		weights  []float64
		coverage float64
	}{
		{"a 50/50 split over 1M ids passes the SRM check", []float64{50, 50}, 1},
		{"a 90/10 split over 1M ids passes the SRM check", []float64{90, 10}, 1},
		{"a 3-way split over 1M ids passes the SRM check", []float64{1, 1, 1}, 1},
		{"a 50/50 split among the 30% covered units passes the SRM check", []float64{50, 50}, 0.3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustAllocate(t, tt.weights...)
			cov := ShareToBuckets(tt.coverage)
			obs := make([]float64, len(tt.weights))
			total := 0.0
			salt := "srm-" + tt.name
			for i := range n {
				h := Hash(salt, unitID(i))
				if CoverageBucket(h) >= cov {
					continue
				}
				obs[a.Variant(VariantBucket(h))]++
				total++
			}
			chi2 := 0.0
			counts := a.Counts()
			shares := make([]string, len(obs))
			for v := range obs {
				exp := total * float64(counts[v]) / Buckets
				chi2 += (obs[v] - exp) * (obs[v] - exp) / exp
				shares[v] = fmt.Sprintf("%.4f", obs[v]/total)
			}
			p := distuv.ChiSquared{K: float64(len(obs) - 1)}.Survival(chi2)
			t.Logf("n=%.0f shares=%v chi2=%.3f p=%.4f", total, shares, chi2, p)
			if p <= 0.001 {
				t.Errorf("sample ratio mismatch: chi2 = %.2f, p = %.5f", chi2, p)
			}
		})
	}
}
