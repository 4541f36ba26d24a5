package stats

import "math"

// DefaultSRMConcentration is the default Dirichlet prior concentration of
// SequentialSRM: the prior on the arm shares is Dirichlet(c·θ0). It is
// sized for the split errors that matter in practice (one arm losing a few
// percent of its exposures): the mixture is most sensitive to share
// deviations of about 1/√c, here ≈ 2 percentage points.
const DefaultSRMConcentration = 2500

// SequentialSRMResult is an anytime-valid sample-ratio-mismatch test.
type SequentialSRMResult struct {
	// LogBayesFactor is ln BF_n of "the shares differ from the weights"
	// against "they match".
	LogBayesFactor float64 `json:"log_bayes_factor"`
	// PValue is the anytime-valid p-value min(1, 1/BF_n): under a correct
	// split the chance that it ever drops below α, at any number of looks,
	// is at most α. 1 when the test could not run.
	PValue float64 `json:"p_value"`
	// Alert is true when PValue < Alpha.
	Alert bool    `json:"alert"`
	Alpha float64 `json:"alpha"`
	// Units counts the units of the arms with positive weight.
	Units  int64  `json:"units"`
	Status Status `json:"status"`
	Reason string `json:"reason,omitempty"`
}

// SequentialSRM tests observed unit counts per arm against the traffic
// weights with the Dirichlet–multinomial Bayes factor of Lindon & Malek
// (2022, "Anytime-valid inference for multinomial count data"). With θ0
// the normalised weights, prior Dirichlet(a), a = concentration·θ0, and x
// the counts (n = Σx),
//
//	BF_n = [B(a + x) / B(a)] / Π θ0ᵢ^xᵢ,   B(a) = Π Γ(aᵢ) / Γ(Σ aᵢ),
//
// a nonnegative martingale under the null, so by Ville's inequality
// P(∃n: BF_n ≥ 1/α) ≤ α: the test may be repeated after every batch of
// data, as a scheduled health check does, without inflating false alarms.
// Zero-weight arms are dropped, as in SRM; concentration ≤ 0 means
// DefaultSRMConcentration and alpha outside (0, 1) means SRMAlertP.
func SequentialSRM(observed []int64, weights []float64, alpha, concentration float64) SequentialSRMResult {
	if !(alpha > 0 && alpha < 1) {
		alpha = SRMAlertP
	}
	if !(concentration > 0) || math.IsInf(concentration, 0) {
		concentration = DefaultSRMConcentration
	}
	res := SequentialSRMResult{PValue: 1, Alpha: alpha, Status: StatusOK}
	fail := func(s Status, reason string) SequentialSRMResult {
		res.Status, res.Reason, res.PValue, res.LogBayesFactor, res.Alert = s, reason, 1, 0, false
		return res
	}
	if len(observed) != len(weights) {
		return fail(StatusInvalidInput, "observed and weights differ in length")
	}
	var wsum float64
	arms := 0
	for i, w := range weights {
		if !finite(w) || w < 0 || observed[i] < 0 {
			return fail(StatusInvalidInput, "weights must be finite and ≥ 0, counts ≥ 0")
		}
		if w > 0 {
			arms++
			wsum += w
			res.Units += observed[i]
		}
	}
	if arms < 2 {
		return fail(StatusNotEnoughData, "need at least two arms with positive weight")
	}
	if res.Units == 0 {
		return fail(StatusNotEnoughData, "no units observed")
	}
	n := float64(res.Units)
	logBF := lgamma(concentration) - lgamma(concentration+n)
	for i, w := range weights {
		if w == 0 {
			continue
		}
		theta := w / wsum
		a, x := concentration*theta, float64(observed[i])
		logBF += lgamma(a+x) - lgamma(a) - x*math.Log(theta)
	}
	if !finite(logBF) {
		return fail(StatusInvalidInput, "counts overflow")
	}
	res.LogBayesFactor = logBF
	if logBF > 0 {
		res.PValue = math.Exp(-logBF)
	}
	res.Alert = res.PValue < alpha
	return res
}

// lgamma is ln Γ(x) for x > 0 (the standard library's; no special
// function is written here).
func lgamma(x float64) float64 {
	v, _ := math.Lgamma(x)
	return v
}
