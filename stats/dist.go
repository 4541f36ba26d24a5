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
func tQuantile(p, df float64) float64 {
	if !(df > 0) || df > largeDF || math.IsInf(df, 0) {
		return normQuantile(p)
	}
	return distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
}

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

// interval is the 1 − alpha interval est ± q·se for sides, with the open
// end of a one-sided interval reported as ±Unbounded.
func interval(est, se, alpha, df float64, sides Sides) (lo, hi float64) {
	switch sides {
	case Greater:
		return est - tQuantile(1-alpha, df)*se, Unbounded
	case Less:
		return -Unbounded, est + tQuantile(1-alpha, df)*se
	default:
		q := tQuantile(1-alpha/2, df)
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
