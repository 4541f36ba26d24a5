package stats

import "math"

// gaussianPosterior combines a Gaussian likelihood N(est, v) with the prior
// N(m, tau2) (or a flat prior when !proper) by precision weighting.
func gaussianPosterior(est, v float64, proper bool, m, tau2 float64) (mean, variance float64) {
	if !proper {
		return est, v
	}
	prec := 1/v + 1/tau2
	return (est/v + m/tau2) / prec, 1 / prec
}

// bayesLift summarises a Gaussian posterior N(mean, sd²) as a Lift with an
// equal-tailed 1 − alpha credible interval. PValue is 1: a posterior has no
// p-value, and 1 is the value that can never be mistaken for a finding.
func bayesLift(mean, sd, alpha float64) Lift {
	lo, hi := interval(mean, sd, critical(alpha, 0, TwoSided), TwoSided)
	return Lift{Estimate: mean, SE: sd, CILow: lo, CIHigh: hi, PValue: 1}
}

// chanceToWinAndRisk returns P(treatment better) and the expected loss
// [of choosing control, of choosing treatment] for a relative-lift
// posterior N(mu, sigma²). dir is +1 when higher is better and −1 when lower
// is better; flipping the sign of mu turns "lower is better" into the
// higher-is-better formulas
//
//	chance = Φ(μ/σ)
//	risk_trt  = E[max(0, −lift)] = σφ(μ/σ) − μΦ(−μ/σ)
//	risk_ctrl = E[max(0,  lift)] = σφ(μ/σ) + μΦ(μ/σ)
func chanceToWinAndRisk(mu, sigma, dir float64) (chance float64, risk [2]float64) {
	mu *= dir
	z := mu / sigma
	chance = normCDF(z)
	pdf := sigma * normPDF(z)
	risk[0] = math.Max(0, pdf+mu*normCDF(z))
	risk[1] = math.Max(0, pdf-mu*normCDF(-z))
	return chance, risk
}
