package stats

import (
	"fmt"
	"math"
)

// arm is what every method needs from one arm: the number of units, the
// metric value (rate, mean, ratio or NPS) and the per-unit variance of that
// value, so that Var(mean) = v/n.
type arm struct {
	n    float64
	mean float64
	v    float64
}

// cauchyTol is the relative slack allowed before Σy² < (Σy)²/n is treated as
// impossible input rather than floating-point rounding.
const cauchyTol = 1e-9

// validateArm rejects sufficient statistics that no data set can produce.
// It returns "" when s is plausible for kind.
func validateArm(kind Kind, s ArmStats, name string) string {
	if !finite(s.Sum, s.SumSq, s.DenSum, s.DenSumSq, s.SumNumDen, s.PreSum, s.PreSumSq, s.SumPrePost) {
		return name + ": NaN or Inf in sufficient statistics"
	}
	if s.N < 0 {
		return fmt.Sprintf("%s: negative unit count %d", name, s.N)
	}
	if s.SumSq < 0 || s.DenSumSq < 0 || s.PreSumSq < 0 {
		return name + ": negative sum of squares"
	}
	n := float64(s.N)
	switch kind {
	case KindBinomial:
		if s.Sum < 0 || s.Sum > n {
			return fmt.Sprintf("%s: conversions %g outside [0, N=%d]", name, s.Sum, s.N)
		}
	case KindNPS:
		// P = (SumSq+Sum)/2 and D = (SumSq−Sum)/2 must be counts with P+D ≤ N.
		if s.SumSq > n || math.Abs(s.Sum) > s.SumSq {
			return fmt.Sprintf("%s: NPS needs |Sum| ≤ SumSq ≤ N (Sum = P−D, SumSq = P+D), got Sum %g, SumSq %g, N %d", name, s.Sum, s.SumSq, s.N)
		}
	case KindMean, KindRatio:
		if impossibleSquares(s.Sum, s.SumSq, n) {
			return name + ": SumSq < Sum²/N is impossible"
		}
		if kind == KindRatio && impossibleSquares(s.DenSum, s.DenSumSq, n) {
			return name + ": DenSumSq < DenSum²/N is impossible"
		}
		if kind == KindRatio && impossibleCross(s.DenSum, s.DenSumSq, s.Sum, s.SumSq, s.SumNumDen, n) {
			return name + ": SumNumDen (Σx·y) is impossible: the covariance of numerator and denominator exceeds the Cauchy–Schwarz bound of their variances"
		}
	}
	if kind != KindRatio {
		// Σy² of a 0/1 outcome is Σy, whatever SumSq holds.
		ySq := s.SumSq
		if kind == KindBinomial {
			ySq = s.Sum
		}
		if impossibleCross(s.PreSum, s.PreSumSq, s.Sum, ySq, s.SumPrePost, n) {
			return name + ": SumPrePost (Σpre·y) is impossible: the covariance of the pre-period covariate and the metric exceeds the Cauchy–Schwarz bound of their variances"
		}
	}
	return ""
}

// impossibleCross reports whether Σxy is one that no data can produce with
// the given Σx, Σx², Σy, Σy² over n units: the centred cross product must
// satisfy |Sxy| ≤ sqrt(Sxx·Syy) (Cauchy–Schwarz). The slack scales with the
// uncentred sums, whose rounding the centred ones inherit.
func impossibleCross(sx, sxx, sy, syy, sxy, n float64) bool {
	if n <= 0 {
		return sxy != 0
	}
	cxx := math.Max(sxx-sx/n*sx, 0)
	cyy := math.Max(syy-sy/n*sy, 0)
	cxy := sxy - sx/n*sy
	slack := cauchyTol*math.Sqrt(sxx)*math.Sqrt(syy) + 1e-300
	return math.Abs(cxy) > math.Sqrt(cxx)*math.Sqrt(cyy)+slack
}

func impossibleSquares(sum, sumSq, n float64) bool {
	if n <= 0 {
		return sum != 0 || sumSq != 0
	}
	need := sum / n * sum
	return sumSq < need*(1-cauchyTol)-1e-300
}

// sampleVar is the Bessel-corrected variance from Σx, Σx² and n, clamped at
// zero because rounding can make Σx² − (Σx)²/n slightly negative.
func sampleVar(sum, sumSq, n float64) float64 {
	if n <= 1 {
		return 0
	}
	v := (sumSq - sum*(sum/n)) / (n - 1)
	if v < 0 || math.IsNaN(v) {
		return 0
	}
	return v
}

// sampleCov is the Bessel-corrected covariance from Σx, Σy, Σxy and n.
func sampleCov(sumX, sumY, sumXY, n float64) float64 {
	if n <= 1 {
		return 0
	}
	return (sumXY - sumX*(sumY/n)) / (n - 1)
}

// armMoments computes the metric value and per-unit variance of one arm.
// reason is non-empty when the value is undefined, e.g. a ratio with Σx = 0.
func armMoments(kind Kind, s ArmStats, name string) (a arm, reason string) {
	n := float64(s.N)
	a.n = n
	if n <= 0 {
		return a, name + ": no units"
	}
	switch kind {
	case KindBinomial:
		// Unpooled p(1−p): each arm keeps its own variance, as Welch does.
		p := s.Sum / n
		a.mean, a.v = p, p*(1-p)
	case KindMean:
		a.mean, a.v = s.Sum/n, sampleVar(s.Sum, s.SumSq, n)
	case KindNPS:
		// Multinomial variance of a score in {−1, 0, 1}: E[s²] − E[s]² =
		// p + d − (p − d)². No Bessel correction, like the binomial.
		m := s.Sum / n
		v := s.SumSq/n - m*m
		if v < 0 {
			v = 0
		}
		a.mean, a.v = m, v
	case KindRatio:
		if s.DenSum == 0 {
			return a, name + ": ratio denominator Σx is zero"
		}
		// Delta method for r = ȳ/x̄: n·Var(r) ≈ (σy² − 2rσxy + r²σx²)/x̄².
		mx := s.DenSum / n
		r := s.Sum / s.DenSum
		vy := sampleVar(s.Sum, s.SumSq, n)
		vx := sampleVar(s.DenSum, s.DenSumSq, n)
		cxy := sampleCov(s.DenSum, s.Sum, s.SumNumDen, n)
		v := (vy - 2*r*cxy + r*r*vx) / (mx * mx)
		if v < 0 || math.IsNaN(v) {
			v = 0
		}
		a.mean, a.v = r, v
	}
	if !finite(a.mean, a.v) {
		return a, name + ": sufficient statistics overflow"
	}
	return a, ""
}
