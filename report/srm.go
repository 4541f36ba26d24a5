package report

import (
	"fmt"
	"sort"
	"strings"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// SRMStatus is the outcome of the sample-ratio-mismatch check.
type SRMStatus string

// SRM outcomes.
const (
	// SRMOK: the split matches the weights (p ≥ 0.001).
	SRMOK SRMStatus = "ok"
	// SRMMismatch: the split is very unlikely under the weights (p < 0.001),
	// or units were found in a variant with zero weight or one that is not
	// configured (p = 0); the report's lifts may be biased.
	SRMMismatch SRMStatus = "mismatch"
	// SRMNotEnoughData: too few units for the chi-square test (fewer than 5
	// expected in some variant), or fewer than two arms with traffic.
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
	// UnexpectedUnits counts units in variants with zero weight or not
	// configured: the split cannot produce them. They are counted in Units
	// and listed in Arms, never dropped.
	UnexpectedUnits int64 `json:"unexpected_units,omitempty"`
	// Warning explains a mismatch in plain words.
	Warning string `json:"warning,omitempty"`
	// Reason explains not_enough_data and not_applicable.
	Reason string `json:"reason,omitempty"`
}

// SRMArm compares one variant's share of units with its configured share.
type SRMArm struct {
	Variant string `json:"variant"`
	// Unconfigured marks a variant key that has exposures but is not one of
	// the experiment's variants (removed, renamed, or sent by a client).
	Unconfigured  bool    `json:"unconfigured,omitempty"`
	Units         int64   `json:"units"`
	ExpectedShare float64 `json:"expected_share"`
	ObservedShare float64 `json:"observed_share"`
}

// checkSRM runs stats.SRM on units (in variant order) against e's weights.
// unconfigured holds exposed units per variant key that is not one of e's
// variants; they enter the test as arms of weight zero, so they raise the
// alarm instead of vanishing.
func checkSRM(e *experiment.Experiment, units []int64, unconfigured map[string]int64) SRM {
	weights := e.Weights()
	keys := make([]string, 0, len(e.Variants)+len(unconfigured))
	for _, v := range e.Variants {
		keys = append(keys, v.Key)
	}
	extra := make([]string, 0, len(unconfigured))
	for k, n := range unconfigured {
		if n > 0 {
			extra = append(extra, k)
		}
	}
	sort.Strings(extra)
	units = append([]int64(nil), units...)
	for _, k := range extra {
		keys = append(keys, k)
		units = append(units, unconfigured[k])
		weights = append(weights, 0)
	}
	var total int64
	var wsum float64
	for i := range units {
		total += units[i]
		wsum += weights[i]
	}
	out := SRM{Units: total, PValue: 1, Arms: []SRMArm{}}
	for i, k := range keys {
		a := SRMArm{Variant: k, Units: units[i], Unconfigured: i >= len(e.Variants)}
		if wsum > 0 {
			a.ExpectedShare = weights[i] / wsum
		}
		if total > 0 {
			a.ObservedShare = float64(units[i]) / float64(total)
		}
		out.Arms = append(out.Arms, a)
	}
	if e.Mode == experiment.ModeOptimise && len(extra) == 0 {
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
	out.UnexpectedUnits = res.UnexpectedUnits
	out.Status = SRMOK
	if res.Alert {
		out.Status = SRMMismatch
		out.Warning = srmWarning(out)
	}
	return out
}

func srmWarning(s SRM) string {
	if s.UnexpectedUnits > 0 {
		var where []string
		for _, a := range s.Arms {
			if a.Units == 0 || a.ExpectedShare > 0 {
				continue
			}
			why := "which has weight 0"
			if a.Unconfigured {
				why = "which is not configured"
			}
			where = append(where, fmt.Sprintf("%d in %q, %s", a.Units, a.Variant, why))
		}
		return fmt.Sprintf("Sample ratio mismatch: %d of the %d units were exposed to variants the split never assigns (%s). "+
			"Something outside the configured split is exposing units (a stale client or SDK cache, a variant removed or "+
			"re-weighted while running, forced exposures), so the lifts below may be biased. Find the cause before acting on this report.",
			s.UnexpectedUnits, s.Units, strings.Join(where, "; "))
	}
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
