package bandit

import (
	"errors"
	"math"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// FuzzWeights feeds arbitrary statistics (they come from a store that any
// client can fill with events) and checks that Weights and PeriodWeighted
// never panic and either fail with a typed error or return finite weights
// that sum to 1 above the floor, and statistics that package stats accepts.
func FuzzWeights(f *testing.F) {
	f.Add(int64(1000), 100.0, 0.0, int64(1000), 130.0, 0.0, int64(200), 20.0, 0.0, uint8(0), 0.01)
	f.Add(int64(500), 1000.0, 5e5, int64(500), 1200.0, 9e5, int64(500), 900.0, 4e5, uint8(1), 0.05)
	f.Add(int64(300), -10.0, 100.0, int64(300), 20.0, 80.0, int64(300), 0.0, 0.0, uint8(3), 0.0)
	f.Add(int64(0), 0.0, 0.0, int64(-5), math.Inf(1), math.NaN(), int64(1), 1.0, 1.0, uint8(2), 0.4)
	kinds := []stats.Kind{stats.KindBinomial, stats.KindMean, stats.KindRatio, stats.KindNPS}
	f.Fuzz(func(t *testing.T, n1 int64, s1, q1 float64, n2 int64, s2, q2 float64, n3 int64, s3, q3 float64, k uint8, floor float64) {
		kind := kinds[int(k)%len(kinds)]
		arm := func(n int64, s, q float64) stats.ArmStats {
			a := stats.ArmStats{N: n, Sum: s, SumSq: q}
			if kind == stats.KindBinomial {
				a.SumSq = s
			}
			if kind == stats.KindRatio {
				a.DenSum, a.DenSumSq, a.SumNumDen = float64(n), float64(n), s
			}
			return a
		}
		arms := []stats.ArmStats{arm(n1, s1, q1), arm(n2, s2, q2), arm(n3, s3, q3)}
		dir := experiment.HigherIsBetter
		if k >= 128 {
			dir = experiment.LowerIsBetter
		}
		u, err := Weights(arms, kind, dir, floor)
		switch {
		case errors.Is(err, ErrNotYet), errors.Is(err, stats.ErrInvalidInput):
		case err != nil:
			t.Fatalf("untyped error %v", err)
		default:
			sum := 0.0
			for _, a := range u.Arms {
				if math.IsNaN(a.Weight) || a.Weight < floor-1e-12 || math.IsNaN(a.Mean) || math.IsNaN(a.SD) {
					t.Fatalf("arm %+v with floor %g", a, floor)
				}
				sum += a.Weight
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Fatalf("weights sum to %g", sum)
			}
		}

		est, err := PeriodWeighted(kind, [][]stats.ArmStats{arms[:2], arms[1:]})
		if err != nil {
			if !errors.Is(err, stats.ErrInvalidInput) && !errors.Is(err, stats.ErrNotEnoughData) {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		for _, a := range est.Arms {
			if !a.Defined {
				continue
			}
			if math.IsNaN(a.Mean) || math.IsInf(a.Mean, 0) || math.IsNaN(a.SE) || math.IsInf(a.SE, 0) {
				t.Fatalf("estimate %+v is not finite", a)
			}
			if r := stats.Compare(kind, a.Stats, a.Stats, stats.Options{}); r.Status == stats.StatusInvalidInput {
				t.Fatalf("package stats rejects the synthetic statistics %+v: %s", a.Stats, r.Reason)
			}
		}
	})
}
