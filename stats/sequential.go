package stats

import "math"

// sequentialRho is the mixture tuning ρ of the normal-mixture confidence
// sequence, chosen so that the sequence is tightest when the total sample
// size N = nA + nB reaches nStar:
//
//	ρ = sqrt((−2 ln α + ln(−2 ln α + 1)) / N*)
func sequentialRho(alpha, nStar float64) float64 {
	l := -2 * math.Log(alpha)
	return math.Sqrt((l + math.Log(l+1)) / nStar)
}

// sequentialHalfWidth is the half-width of the asymptotic confidence
// sequence (Howard et al. 2021; Waudby-Smith et al. 2023) for an estimator
// with variance v after n = nA + nB units, with s² = v·n the per-unit
// variance:
//
//	hw = s · sqrt( 2(nρ²+1)/(n²ρ²) · ln( sqrt(nρ²+1)/α ) )
func sequentialHalfWidth(v, n, rho, alpha float64) float64 {
	nr2 := n * rho * rho
	s2 := v * n
	return math.Sqrt(s2) * math.Sqrt(2*(nr2+1)/(n*n*rho*rho)*math.Log(math.Sqrt(nr2+1)/alpha))
}

// sequentialPValue is the always-valid p-value that matches the confidence
// sequence: the smallest α' at which the sequence, with ρ kept at the value
// tuned for the design α, excludes 0. Solving hw(α') = |estimate| gives
//
//	p = min(1, sqrt(nρ²+1) · exp(−z²·nρ² / (2(nρ²+1)))),  z = est/se,
//
// which is 1/M_n for the normal-mixture martingale M_n, so P(∃n: p_n ≤ α) ≤ α
// under the null. By construction p < α exactly when the sequence excludes 0.
// For a one-sided alternative the same boundary is used on the tested side
// (conservative) and p = 1 when the estimate points the other way.
func sequentialPValue(est, v, n, rho float64, sides Sides) float64 {
	if (sides == Greater && est <= 0) || (sides == Less && est >= 0) {
		return 1
	}
	nr2 := n * rho * rho
	z2 := est * est / v
	logP := 0.5*math.Log1p(nr2) - z2*nr2/(2*(nr2+1))
	if logP >= 0 || math.IsNaN(logP) {
		return 1
	}
	return math.Exp(logP)
}

// sequentialLift is the always-valid inference for one contrast at total
// sample size n (both arms).
func sequentialLift(c contrast, n, alpha, nStar float64, sides Sides) Lift {
	rho := sequentialRho(alpha, nStar)
	hw := sequentialHalfWidth(c.variance, n, rho, alpha)
	l := Lift{
		Estimate: c.est,
		SE:       math.Sqrt(c.variance),
		CILow:    c.est - hw,
		CIHigh:   c.est + hw,
		PValue:   sequentialPValue(c.est, c.variance, n, rho, sides),
	}
	switch sides {
	case Greater:
		l.CIHigh = Unbounded
	case Less:
		l.CILow = -Unbounded
	}
	return l
}
