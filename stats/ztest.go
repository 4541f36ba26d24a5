package stats

import (
	"fmt"
	"math"
)

// ZTestResult is the classic two-proportion z-test of pB − pA.
type ZTestResult struct {
	// Diff is pB − pA.
	Diff float64 `json:"diff"`
	// Z is the test statistic (pooled or unpooled standard error).
	Z float64 `json:"z"`
	// PValue is two-sided.
	PValue float64 `json:"p_value"`
	// CILow and CIHigh are the Wald 1 − alpha interval of Diff; it always
	// uses the unpooled standard error, because pooling is only justified
	// under the null hypothesis that the interval does not assume.
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
}

// TwoProportionZ is the textbook two-proportion z-test for xA of nA versus
// xB of nB, two-sided at level alpha (0 means 0.05). With pooled the
// standard error under the null uses p̄ = (xA+xB)/(nA+nB):
// sqrt(p̄(1−p̄)(1/nA+1/nB)); otherwise sqrt(pA(1−pA)/nA + pB(1−pB)/nB).
//
// Compare(KindBinomial, ...) is the recommended analysis (Welch t on the
// same unpooled variance); this function exists for cross-checks against
// textbooks and other tools.
func TwoProportionZ(xA, nA, xB, nB int64, pooled bool, alpha float64) (ZTestResult, error) {
	if alpha == 0 {
		alpha = DefaultAlpha
	}
	if nA <= 0 || nB <= 0 || xA < 0 || xB < 0 || xA > nA || xB > nB || !(alpha > 0 && alpha < 1) {
		return ZTestResult{}, fmt.Errorf("%w: two-proportion z-test needs 0 ≤ x ≤ n, n > 0 and alpha in (0, 1)", ErrInvalidInput)
	}
	na, nb := float64(nA), float64(nB)
	pa, pb := float64(xA)/na, float64(xB)/nb
	unpooledSE := math.Sqrt(pa*(1-pa)/na + pb*(1-pb)/nb)
	se := unpooledSE
	if pooled {
		p := float64(xA+xB) / (na + nb)
		se = math.Sqrt(p * (1 - p) * (1/na + 1/nb))
	}
	if !(se > 0) || !(unpooledSE > 0) {
		return ZTestResult{}, fmt.Errorf("%w: both proportions are 0 or 1, the z statistic is undefined", ErrNotEnoughData)
	}
	d := pb - pa
	q := -normQuantile(alpha / 2)
	z := d / se
	return ZTestResult{
		Diff:   d,
		Z:      z,
		PValue: pValue(z, 0, TwoSided),
		CILow:  d - q*unpooledSE,
		CIHigh: d + q*unpooledSE,
	}, nil
}
