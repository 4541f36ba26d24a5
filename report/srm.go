package report

import (
	"fmt"
	"strings"

	"journeylab/experiment"
	"journeylab/stats"
)

// SRMStatus is the outcome of the sample-ratio-mismatch check.
type SRMStatus string

// SRM outcomes.
const (
	// SRMOK: the split matches the weights (p ≥ 0.001).
	SRMOK SRMStatus = "ok"
	// SRMMismatch: the split is very unlikely under the weights (p < 0.001);
	// the report's lifts may be biased.
	SRMMismatch SRMStatus = "mismatch"
	// SRMNotEnoughData: no units yet, or fewer than two arms with traffic.
	SRMNotEnoughData SRMStatus = "not_enough_data"
	// SRMNotApplicable: the weights change over time (bandit mode), so there
	// is no single expected split to test against.
	SRMNotApplicable SRMStatus = "not_applicable"
)

// SRM is the sample-ratio-mismatch check: a chi-square test of the exposed
// units per variant against the configured weights.
type SRM struct {
	Status    SRMStatus `json:"status"`
	PValue    float64   `json:"p_value"`
	ChiSquare float64   `json:"chi_square"`
	DF        int       `json:"df"`
	Units     int64     `json:"units"`
	Arms      []SRMArm  `json:"arms"`
	// Warning explains a mismatch in plain words.
	Warning string `json:"warning,omitempty"`
	// Reason explains not_enough_data and not_applicable.
	Reason string `json:"reason,omitempty"`
}

// SRMArm compares one variant's share of units with its configured share.
type SRMArm struct {
	Variant       string  `json:"variant"`
	Units         int64   `json:"units"`
	ExpectedShare float64 `json:"expected_share"`
	ObservedShare float64 `json:"observed_share"`
}

// checkSRM runs stats.SRM on units (in variant order) against e's weights.
func checkSRM(e *experiment.Experiment, units []int64) SRM {
	weights := e.Weights()
	var total int64
	var wsum float64
	for i := range units {
		total += units[i]
		wsum += weights[i]
	}
	out := SRM{Units: total, PValue: 1, Arms: []SRMArm{}}
	for i, v := range e.Variants {
		a := SRMArm{Variant: v.Key, Units: units[i]}
		if wsum > 0 {
			a.ExpectedShare = weights[i] / wsum
		}
		if total > 0 {
			a.ObservedShare = float64(units[i]) / float64(total)
		}
		out.Arms = append(out.Arms, a)
	}
	if e.Mode == experiment.ModeOptimise {
		out.Status = SRMNotApplicable
		out.Reason = "bandit mode moves traffic between variants on purpose, so there is no fixed split to check"
		return out
	}
	res := stats.SRM(units, weights)
	if res.Status != stats.StatusOK {
		out.Status, out.Reason = SRMNotEnoughData, res.Reason
		return out
	}
	out.PValue, out.ChiSquare, out.DF = res.PValue, res.ChiSquare, res.DF
	out.Status = SRMOK
	if res.Alert {
		out.Status = SRMMismatch
		out.Warning = srmWarning(out)
	}
	return out
}

func srmWarning(s SRM) string {
	var got, want []string
	for _, a := range s.Arms {
		got = append(got, fmt.Sprintf("%s %.1f%%", a.Variant, 100*a.ObservedShare))
		want = append(want, fmt.Sprintf("%.1f%%", 100*a.ExpectedShare))
	}
	return fmt.Sprintf("Sample ratio mismatch: the variants received %s of the %d units, but the weights ask for %s "+
		"(chance of a split this uneven by luck: p = %.2g). Units are being assigned or recorded unevenly "+
		"(a variant that fails before its exposure is logged, bots, redirects, a changed split), so the lifts "+
		"below may be biased. Find the cause before acting on this report.",
		strings.Join(got, " / "), s.Units, strings.Join(want, " / "), s.PValue)
}
