package stats

import (
	"fmt"
	"math"
)

// PowerParams are the planned error rates of a fixed-horizon test. Zero
// fields take the defaults Alpha 0.05, Power 0.8, Sides TwoSided.
type PowerParams struct {
	// Alpha is the false-positive rate, in (0, 1).
	Alpha float64 `json:"alpha"`
	// Power is 1 − β, the chance of detecting a true effect of the MDE, in
	// (0, 1).
	Power float64 `json:"power"`
	// Sides is the planned alternative; one-sided tests use z(1−α) instead
	// of z(1−α/2).
	Sides Sides `json:"sides"`
}

// MDEScale says how a minimum detectable effect on a proportion is
// expressed.
type MDEScale string

// MDE scales.
const (
	// AbsoluteMDE: the treatment rate is baseline + mde (0.01 = one
	// percentage point).
	AbsoluteMDE MDEScale = "absolute"
	// RelativeMDE: the treatment rate is baseline·(1 + mde) (0.1 = +10 %).
	RelativeMDE MDEScale = "relative"
)

// SampleSize is a required number of units per arm.
type SampleSize struct {
	// Exact is the unrounded value of the formula.
	Exact float64 `json:"exact"`
	// PerArm is Exact rounded up: the number of units to plan for.
	PerArm int64 `json:"per_arm"`
}

// zAlphaBeta returns z(1−α/2) (or z(1−α) one-sided) and z(power).
func zAlphaBeta(pp PowerParams) (za, zb float64, err error) {
	if pp.Alpha == 0 {
		pp.Alpha = DefaultAlpha
	}
	if pp.Power == 0 {
		pp.Power = 0.8
	}
	if !(pp.Alpha > 0 && pp.Alpha < 1) || !(pp.Power > 0 && pp.Power < 1) {
		return 0, 0, fmt.Errorf("%w: alpha and power must be in (0, 1)", ErrInvalidInput)
	}
	switch pp.Sides {
	case "", TwoSided:
		za = -normQuantile(pp.Alpha / 2)
	case Greater, Less:
		za = -normQuantile(pp.Alpha)
	default:
		return 0, 0, fmt.Errorf("%w: unknown sides %q", ErrInvalidInput, string(pp.Sides))
	}
	return za, normQuantile(pp.Power), nil
}

// treatmentRate converts an MDE to the treatment conversion rate.
func treatmentRate(baseline, mde float64, scale MDEScale) (float64, error) {
	if !(baseline > 0 && baseline < 1) {
		return 0, fmt.Errorf("%w: baseline rate must be in (0, 1), got %g", ErrInvalidInput, baseline)
	}
	var p2 float64
	switch scale {
	case AbsoluteMDE:
		p2 = baseline + mde
	case RelativeMDE:
		p2 = baseline * (1 + mde)
	default:
		return 0, fmt.Errorf("%w: unknown MDE scale %q", ErrInvalidInput, string(scale))
	}
	if mde == 0 || !(p2 > 0 && p2 < 1) {
		return 0, fmt.Errorf("%w: MDE must be non-zero and keep the treatment rate in (0, 1), got %g", ErrInvalidInput, p2)
	}
	return p2, nil
}

// proportionN is the per-arm sample size of the two-proportion z-test:
//
//	unpooled: n = (zα + zβ)² (p1q1 + p2q2) / δ²
//	pooled:   n = (zα·sqrt(2p̄q̄) + zβ·sqrt(p1q1 + p2q2))² / δ²,  p̄ = (p1+p2)/2
//
// (Fleiss, Levin & Paik, Statistical Methods for Rates and Proportions,
// §4.2). Pooling uses the null variance for the α part, as the pooled test
// does.
func proportionN(p1, p2, za, zb float64, pooled bool) float64 {
	d := p2 - p1
	v := p1*(1-p1) + p2*(1-p2)
	if !pooled {
		return (za + zb) * (za + zb) * v / (d * d)
	}
	pb := (p1 + p2) / 2
	s := za*math.Sqrt(2*pb*(1-pb)) + zb*math.Sqrt(v)
	return s * s / (d * d)
}

// SampleSizeProportions is the number of units per arm needed to detect a
// change of a conversion rate from baseline by mde (on the given scale) with
// the planned alpha and power. Set pooled to plan for the pooled z-test;
// Compare uses unpooled variances, which need slightly fewer units.
func SampleSizeProportions(baseline, mde float64, scale MDEScale, pooled bool, pp PowerParams) (SampleSize, error) {
	za, zb, err := zAlphaBeta(pp)
	if err != nil {
		return SampleSize{}, err
	}
	p2, err := treatmentRate(baseline, mde, scale)
	if err != nil {
		return SampleSize{}, err
	}
	return sampleSize(proportionN(baseline, p2, za, zb, pooled))
}

func sampleSize(n float64) (SampleSize, error) {
	if !finite(n) || n > math.MaxInt64/2 {
		return SampleSize{}, fmt.Errorf("%w: sample size overflows", ErrInvalidInput)
	}
	return SampleSize{Exact: n, PerArm: int64(math.Ceil(n))}, nil
}

// Duration is the expected number of days to collect nPerArm units in each
// of arms arms when dailyUnits eligible units arrive per day and a share
// coverage (0, 1] of them enter the experiment:
//
//	days = ceil(nPerArm · arms / (dailyUnits · coverage))
//
// Arms are assumed equally weighted.
func Duration(nPerArm int64, arms int, dailyUnits, coverage float64) (int64, error) {
	if nPerArm < 0 || arms < 1 || !(dailyUnits > 0) || !(coverage > 0 && coverage <= 1) || math.IsInf(dailyUnits, 0) {
		return 0, fmt.Errorf("%w: need nPerArm ≥ 0, arms ≥ 1, dailyUnits > 0 and coverage in (0, 1]", ErrInvalidInput)
	}
	if nPerArm == 0 {
		return 0, nil
	}
	rate := dailyUnits * coverage
	if !(rate > 0) {
		// Tiny dailyUnits × coverage underflows to 0; the division below would be 0/0.
		return 0, fmt.Errorf("%w: dailyUnits × coverage underflows to zero", ErrInvalidInput)
	}
	days := math.Ceil(float64(nPerArm) * float64(arms) / rate)
	if !(days <= math.MaxInt64/2) {
		return 0, fmt.Errorf("%w: duration overflows", ErrInvalidInput)
	}
	return int64(days), nil
}
