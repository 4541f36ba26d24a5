package stats

import (
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// All distribution functions come from gonum; this file only picks the
// right tail for the alternative and guards the parameters.

// largeDF is where the t distribution is replaced by the normal: beyond it
// the two differ by less than 1e-8 and gonum's incomplete beta gets slower.
const largeDF = 1e8

func normCDF(x float64) float64      { return distuv.UnitNormal.CDF(x) }
func normSurvival(x float64) float64 { return distuv.UnitNormal.Survival(x) }
func normPDF(x float64) float64      { return distuv.UnitNormal.Prob(x) }
func normQuantile(p float64) float64 { return distuv.UnitNormal.Quantile(p) }

// tSurvival is P(T > x) for Student's t with df degrees of freedom
// (the normal when df is missing or huge).
func tSurvival(x, df float64) float64 {
	if !(df > 0) || df > largeDF || math.IsInf(df, 0) {
		return normSurvival(x)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Survival(x)
}

// tQuantile is the p-quantile of Student's t (normal when df is huge).
//
// gonum's StudentsT.Quantile inverts the regularised incomplete beta; it
// takes 20–200 µs once df is in the thousands (the usual case here) and
// loses accuracy in the far tails (at df 5842, p = 1e-12 it is off by 1e-3),
// while its CDF takes about 1 µs and stays accurate. So for df > newtonMinDF the quantile is found by
// Newton's method on gonum's survival function and density, started from
// the Cornish–Fisher expansion z + (z³ + z)/(4df), which is already within
// O(1/df²); two or three steps reach 1e-12. Small df use gonum's Quantile
// directly.
func tQuantile(p, df float64) float64 {
	if !(df > 0) || df > largeDF || math.IsInf(df, 0) {
		return normQuantile(p)
	}
	d := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
	if df <= newtonMinDF || p <= 0 || p >= 1 {
		return d.Quantile(p)
	}
	// Solve S(x) = tail on the upper half, where the tail probability is
	// represented exactly, and use the symmetry of t for the lower half.
	sign, tail := 1.0, 1-p
	if p < 0.5 {
		sign, tail = -1, p
	}
	z := -normQuantile(tail)
	x := z + (z*z*z+z)/(4*df)
	for range 30 {
		step := (d.Survival(x) - tail) / d.Prob(x)
		if !finite(step) {
			return d.Quantile(p)
		}
		x += step
		// gonum's CDF carries ~1e-10 relative noise at very large df, so
		// machine precision is not always reachable; 1e-12 is plenty.
		if math.Abs(step) <= 1e-12*math.Max(1, x) {
			break
		}
	}
	return sign * x
}

// newtonMinDF is the df above which tQuantile uses Newton's method.
const newtonMinDF = 30

// pValue turns a t (or z, df = 0) statistic into a p-value for sides.
func pValue(stat, df float64, sides Sides) float64 {
	var p float64
	switch sides {
	case Greater:
		p = tSurvival(stat, df)
	case Less:
		p = tSurvival(-stat, df)
	default:
		p = 2 * tSurvival(math.Abs(stat), df)
	}
	return clamp01(p)
}

// critical is the positive t (df > 0) or z (df = 0) value that bounds a
// 1 − alpha interval for sides: the alpha/2 tail two-sided, alpha one-sided.
// It is −tQuantile(tail) rather than tQuantile(1 − tail) because 1 − tail
// rounds to 1 for a tiny alpha.
func critical(alpha, df float64, sides Sides) float64 {
	if sides == Greater || sides == Less {
		return -tQuantile(alpha, df)
	}
	return -tQuantile(alpha/2, df)
}

// interval is est ± q·se for sides, with the open end of a one-sided
// interval reported as ±Unbounded.
func interval(est, se, q float64, sides Sides) (lo, hi float64) {
	switch sides {
	case Greater:
		return est - q*se, Unbounded
	case Less:
		return -Unbounded, est + q*se
	default:
		return est - q*se, est + q*se
	}
}

func clamp01(p float64) float64 {
	switch {
	case p < 0:
		return 0
	case p > 1:
		return 1
	case math.IsNaN(p):
		return 1
	}
	return p
}

func finite(xs ...float64) bool {
	for _, x := range xs {
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return false
		}
	}
	return true
}
