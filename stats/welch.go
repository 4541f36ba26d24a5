package stats

import "math"

// contrast is a treatment-vs-control estimate with the variance of the
// estimator and the degrees of freedom of its t reference distribution.
type contrast struct {
	est, variance, df float64
}

// welchDF is the Welch–Satterthwaite approximation
//
//	df = (va/na + vb/nb)² / ((va/na)²/(na−1) + (vb/nb)²/(nb−1))
//
// computed from per-unit variances. The same df is used for the relative
// lift: the delta method changes the scale of the variance, not how many
// independent units it was estimated from.
func welchDF(a, b arm) float64 {
	ua, ub := a.v/a.n, b.v/b.n
	den := ua*ua/(a.n-1) + ub*ub/(b.n-1)
	if !(den > 0) {
		return 0
	}
	df := (ua + ub) * (ua + ub) / den
	if !finite(df) {
		return 0
	}
	return df
}

// absoluteContrast is treatment − control with Var = vb/nb + va/na
// (unpooled, as in Welch's test).
func absoluteContrast(a, b arm, df float64) contrast {
	return contrast{est: b.mean - a.mean, variance: b.v/b.n + a.v/a.n, df: df}
}

// relativeContrast is (μb − μa)/|μa| with the delta-method variance
//
//	Var = vb/(nb·μa²) + va·μb²/(na·μa⁴)
//
// (μb and μa independent). Dividing by |μa| rather than μa keeps the sign of
// the relative lift equal to that of the absolute lift for metrics that can
// be negative; for μa > 0 it is exactly μb/μa − 1.
func relativeContrast(a, b arm, df float64) contrast {
	ma2 := a.mean * a.mean
	return contrast{
		est:      (b.mean - a.mean) / math.Abs(a.mean),
		variance: b.v/(b.n*ma2) + a.v*b.mean*b.mean/(a.n*ma2*ma2),
		df:       df,
	}
}

// frequentistLift is the fixed-horizon t inference for one contrast; q is
// critical(alpha, c.df, sides), passed in because the absolute and relative
// contrasts share it and the t quantile is the costly part.
func frequentistLift(c contrast, q float64, sides Sides) Lift {
	se := math.Sqrt(c.variance)
	lo, hi := interval(c.est, se, q, sides)
	return Lift{
		Estimate: c.est,
		SE:       se,
		CILow:    lo,
		CIHigh:   hi,
		PValue:   pValue(c.est/se, c.df, sides),
		DF:       c.df,
	}
}
