package stats

import (
	"fmt"

	"gonum.org/v1/gonum/stat/distuv"
)

// SRMAlertP is the p-value below which SRM raises an alert. It is strict on
// purpose: SRM is checked on every experiment at every look, and a real
// assignment bug produces p-values far below it.
const SRMAlertP = 0.001

// SRMMinExpected is the smallest expected number of units per arm (with
// positive weight) at which the chi-square approximation is trusted
// (Cochran's rule); below it the check is StatusNotEnoughData.
const SRMMinExpected = 5

// SRMResult is a sample-ratio-mismatch check.
type SRMResult struct {
	// ChiSquare is Pearson's Σ (observed − expected)²/expected.
	ChiSquare float64 `json:"chi_square"`
	// DF is the number of arms with positive weight minus one.
	DF int `json:"df"`
	// PValue is the chi-square upper tail; 1 when the check could not run,
	// 0 when units were found in an arm with zero weight.
	PValue float64 `json:"p_value"`
	// Alert is true when PValue < SRMAlertP or UnexpectedUnits > 0.
	Alert bool `json:"alert"`
	// UnexpectedUnits counts the units in arms with zero weight, which the
	// configured split never assigns: any such unit means the split is
	// broken.
	UnexpectedUnits int64 `json:"unexpected_units"`
	// Status is StatusOK, or why the check could not run.
	Status Status `json:"status"`
	// Reason explains a Status other than StatusOK.
	Reason string `json:"reason,omitempty"`
}

// SRM tests whether observed unit counts per arm match the configured
// traffic weights with a chi-square goodness-of-fit test. Weights need not
// sum to 1. Units in an arm with zero weight cannot come from the
// configured split, so they raise the alert by themselves (PValue 0,
// UnexpectedUnits, Reason), whatever the other counts. Otherwise the test
// runs over the arms with positive weight; it needs at least two of them
// and SRMMinExpected expected units in each, else StatusNotEnoughData.
func SRM(observed []int64, weights []float64) SRMResult {
	res := SRMResult{PValue: 1, Status: StatusOK}
	if len(observed) != len(weights) {
		return srmFail(res, StatusInvalidInput, "observed and weights differ in length")
	}
	var total, wsum float64
	arms := 0
	for i, w := range weights {
		if !finite(w) || w < 0 || observed[i] < 0 {
			return srmFail(res, StatusInvalidInput, "weights must be finite and ≥ 0, counts ≥ 0")
		}
		if w == 0 {
			res.UnexpectedUnits += observed[i]
			continue
		}
		arms++
		wsum += w
		total += float64(observed[i])
	}
	if res.UnexpectedUnits > 0 {
		res.PValue, res.Alert = 0, true
		res.Reason = fmt.Sprintf("%d units in arms with zero weight, which the configured split never assigns", res.UnexpectedUnits)
		return res
	}
	if arms < 2 {
		return srmFail(res, StatusNotEnoughData, "need at least two arms with positive weight")
	}
	if total == 0 {
		return srmFail(res, StatusNotEnoughData, "no units observed")
	}
	var chi float64
	for i, w := range weights {
		if w == 0 {
			continue
		}
		e := total * w / wsum
		if e < SRMMinExpected {
			return srmFail(res, StatusNotEnoughData, fmt.Sprintf(
				"arm %d expects %.3g of the %.0f units; the chi-square test needs at least %d expected units in every arm",
				i, e, total, SRMMinExpected))
		}
		d := float64(observed[i]) - e
		chi += d * d / e
	}
	if !finite(chi) {
		return srmFail(res, StatusInvalidInput, "counts overflow")
	}
	res.ChiSquare, res.DF = chi, arms-1
	res.PValue = clamp01(distuv.ChiSquared{K: float64(res.DF)}.Survival(chi))
	res.Alert = res.PValue < SRMAlertP
	return res
}

func srmFail(r SRMResult, s Status, reason string) SRMResult {
	r.Status, r.Reason, r.PValue, r.Alert = s, reason, 1, false
	return r
}
