package stats

import (
	"fmt"
	"math"

	"gonum.org/v1/gonum/stat/distuv"
)

// Correction is the family-wise error control a plan assumes when several
// treatments are each compared with control.
type Correction string

// Corrections.
const (
	// Bonferroni tests each of the k−1 comparisons at α/(k−1). Holm's first
	// step is the same test, so a plan made with it keeps its power under
	// Holm (the report's default) and is conservative under
	// Benjamini–Hochberg.
	Bonferroni Correction = "bonferroni"
	// NoCorrection tests every comparison at α: each comparison has the
	// planned power, but the chance of at least one false positive grows
	// with the number of treatments.
	NoCorrection Correction = "none"
)

// PlanTest is the reference distribution a fixed-horizon plan assumes.
type PlanTest string

// Plan tests.
const (
	// ZTest uses the normal distribution: the usual large-sample plan.
	ZTest PlanTest = "z"
	// TTest uses the exact noncentral t distribution with the
	// Welch–Satterthwaite degrees of freedom of the planned variances
	// (2n − 2 for a mean metric), as the analysis's Welch test does; it
	// matters below a few hundred units per arm.
	TTest PlanTest = "t"
)

// Design is a planned experiment whose treatments are each compared with
// control on one metric, with equal numbers of units in every arm. The zero
// values of the optional fields mean: two arms, Bonferroni, z test,
// Frequentist, α 0.05, power 0.8, two-sided, and for Sequential a tuning N*
// equal to the planned number of units in the two arms compared.
type Design struct {
	// Kind is KindBinomial or KindMean.
	Kind Kind
	// Baseline is the control's expected mean: a rate in (0, 1) for a
	// binomial metric; for a mean metric the mean per unit, needed only on
	// the relative scale (it must then be non-zero).
	Baseline float64
	// Sigma is the per-unit standard deviation of a mean metric, assumed
	// equal in every arm. Binomial metrics derive it from the rates.
	Sigma float64
	// Scale says how effects are given and returned: AbsoluteMDE
	// (treatment − control) or RelativeMDE (treatment/control − 1).
	Scale MDEScale
	// Contrast is the lift the planned test is run on. AbsoluteMDE ("" too)
	// is the Welch test of treatment − control, the test the report's
	// verdicts use, whatever scale the effect is stated on. RelativeMDE is
	// the test of the relative lift with its delta-method variance
	// vT/μC² + vC·μT²/μC⁴ (as GrowthBook plans), larger than the
	// difference's for an increase (for a mean metric by the factor
	// (1 + (1+δ)²)/2) and smaller for a decrease.
	Contrast MDEScale
	// Arms counts every arm, control included; 0 means 2.
	Arms int
	// Correction is the family-wise error control over the Arms − 1
	// comparisons; "" means Bonferroni.
	Correction Correction
	// Test is ZTest ("" too) or TTest; it applies to Frequentist plans.
	Test PlanTest
	// Method is Frequentist ("" too) or Sequential.
	Method Method
	// SequentialTuning is N* of the confidence sequence (see Options); 0
	// means the plan's own number of units in the two arms compared, the
	// tuning that makes the sequence tightest at the planned end.
	SequentialTuning float64
	// Alpha is the family-wise false-positive rate, in (0, 1); 0 means 0.05.
	Alpha float64
	// TargetPower is the power SampleSize and MDE solve for, in (0, 1); 0
	// means 0.8.
	TargetPower float64
	// Sides is the alternative; "" means TwoSided.
	Sides Sides
}

// ComparisonAlpha is the level at which each treatment-vs-control
// comparison is tested: Alpha, divided by Arms − 1 under Bonferroni.
func (d Design) ComparisonAlpha() float64 {
	d = d.WithDefaults()
	if d.Correction == Bonferroni && d.Arms > 2 {
		return d.Alpha / float64(d.Arms-1)
	}
	return d.Alpha
}

// WithDefaults returns d with every optional zero field set to its default,
// as Power, SampleSize and MDE read it.
func (d Design) WithDefaults() Design {
	if d.Arms == 0 {
		d.Arms = 2
	}
	if d.Correction == "" {
		d.Correction = Bonferroni
	}
	if d.Test == "" {
		d.Test = ZTest
	}
	if d.Contrast == "" {
		d.Contrast = AbsoluteMDE
	}
	if d.Method == "" {
		d.Method = Frequentist
	}
	if d.Alpha == 0 {
		d.Alpha = DefaultAlpha
	}
	if d.TargetPower == 0 {
		d.TargetPower = 0.8
	}
	if d.Sides == "" {
		d.Sides = TwoSided
	}
	return d
}

// validate checks everything but the effect and the sample size.
func (d Design) validate() error {
	switch {
	case d.Kind != KindBinomial && d.Kind != KindMean:
		return fmt.Errorf("%w: plans are for binomial or mean metrics, got %q", ErrInvalidInput, string(d.Kind))
	case d.Kind == KindBinomial && !(d.Baseline > 0 && d.Baseline < 1):
		return fmt.Errorf("%w: baseline rate must be in (0, 1), got %g", ErrInvalidInput, d.Baseline)
	case d.Kind == KindMean && (!(d.Sigma > 0) || !finite(d.Sigma)):
		return fmt.Errorf("%w: sigma must be a positive number", ErrInvalidInput)
	case d.Kind == KindMean && !finite(d.Baseline):
		return fmt.Errorf("%w: baseline mean must be finite", ErrInvalidInput)
	case d.Scale != AbsoluteMDE && d.Scale != RelativeMDE:
		return fmt.Errorf("%w: unknown MDE scale %q", ErrInvalidInput, string(d.Scale))
	case d.Contrast != AbsoluteMDE && d.Contrast != RelativeMDE:
		return fmt.Errorf("%w: unknown contrast %q", ErrInvalidInput, string(d.Contrast))
	case (d.Scale == RelativeMDE || d.Contrast == RelativeMDE) && d.Baseline == 0:
		return fmt.Errorf("%w: a relative effect needs a non-zero baseline mean", ErrInvalidInput)
	case d.Arms < 2:
		return fmt.Errorf("%w: need at least 2 arms, got %d", ErrInvalidInput, d.Arms)
	case d.Correction != Bonferroni && d.Correction != NoCorrection:
		return fmt.Errorf("%w: unknown correction %q", ErrInvalidInput, string(d.Correction))
	case d.Test != ZTest && d.Test != TTest:
		return fmt.Errorf("%w: unknown test %q", ErrInvalidInput, string(d.Test))
	case d.Method != Frequentist && d.Method != Sequential:
		return fmt.Errorf("%w: plans are for the frequentist or sequential method, got %q", ErrInvalidInput, string(d.Method))
	case d.Method == Sequential && d.Test == TTest:
		return fmt.Errorf("%w: the sequential method is normal-based; plan it with the z test", ErrInvalidInput)
	case d.SequentialTuning < 0 || !finite(d.SequentialTuning):
		return fmt.Errorf("%w: sequential tuning must be ≥ 0", ErrInvalidInput)
	}
	_, _, err := zAlphaBeta(PowerParams{Alpha: d.Alpha, Power: d.TargetPower, Sides: d.Sides})
	return err
}

// TreatmentMean is the treatment arm's mean that an effect of size effect
// (on d.Scale) implies.
func (d Design) TreatmentMean(effect float64) float64 {
	if d.Scale == RelativeMDE {
		return d.Baseline * (1 + effect)
	}
	return d.Baseline + effect
}

// contrastVariance returns the planned contrast's true value for an effect
// of size effect (on d.Scale) and V such that the variance of its estimate
// is V/n with n units per arm: vC + vT for the difference, vT/μC² +
// vC·μT²/μC⁴ for the relative lift (the delta method Compare uses). It also
// returns the per-unit variances, for the degrees of freedom.
func (d Design) contrastVariance(effect float64) (value, v, vC, vT float64, err error) {
	mT := d.TreatmentMean(effect)
	if d.Kind == KindBinomial {
		if !(mT > 0 && mT < 1) {
			return 0, 0, 0, 0, fmt.Errorf("%w: the effect moves the rate to %g, outside (0, 1)", ErrInvalidInput, mT)
		}
		vC, vT = d.Baseline*(1-d.Baseline), mT*(1-mT)
	} else {
		vC, vT = d.Sigma*d.Sigma, d.Sigma*d.Sigma
	}
	if d.Contrast == AbsoluteMDE {
		return mT - d.Baseline, vC + vT, vC, vT, nil
	}
	m2 := d.Baseline * d.Baseline
	return (mT - d.Baseline) / math.Abs(d.Baseline), vT/m2 + vC*mT*mT/(m2*m2), vC, vT, nil
}

// Power is the chance that a comparison of one treatment with control,
// run with nPerArm units in each arm, finds an effect of size effect (on
// d.Scale) significant at the comparison's level. For Sequential it is the
// chance that the confidence sequence excludes 0 at the planned end (a
// lower bound on the chance that it does so at some look). Two-sided power
// counts both tails.
func (d Design) Power(effect, nPerArm float64) (float64, error) {
	d = d.WithDefaults()
	if err := d.validate(); err != nil {
		return 0, err
	}
	if !finite(effect) {
		return 0, fmt.Errorf("%w: effect must be finite", ErrInvalidInput)
	}
	if !(nPerArm >= 2) || math.IsInf(nPerArm, 0) {
		return 0, fmt.Errorf("%w: need at least 2 units per arm, got %g", ErrInvalidInput, nPerArm)
	}
	return d.power(effect, nPerArm)
}

// power assumes a validated design with defaults.
func (d Design) power(effect, n float64) (float64, error) {
	value, v, vC, vT, err := d.contrastVariance(effect)
	if err != nil {
		return 0, err
	}
	ncp := value / math.Sqrt(v/n)
	alpha := d.ComparisonAlpha()
	if d.Method == Sequential {
		return normalPower(ncp, d.sequentialCritical(n, alpha), d.Sides), nil
	}
	if d.Test == ZTest {
		return normalPower(ncp, critical(alpha, 0, d.Sides), d.Sides), nil
	}
	df := welchDF(arm{n: n, v: vC}, arm{n: n, v: vT})
	return tPower(ncp, df, critical(alpha, df, d.Sides), d.Sides), nil
}

// sequentialCritical is the half-width of the confidence sequence in
// standard errors after n units in each of the two arms compared.
func (d Design) sequentialCritical(nPerArm, alpha float64) float64 {
	total := 2 * nPerArm
	nStar := d.SequentialTuning
	if nStar == 0 {
		nStar = total
	}
	// ρ is tuned at the experiment's α, as Compare does; the comparison is
	// significant when the always-valid p-value is below alpha (α/(k−1)
	// under Bonferroni), i.e. outside the sequence at level alpha.
	return sequentialHalfWidth(1, total, sequentialRho(d.Alpha, nStar), alpha)
}

// TuningFor is the sequential tuning N* the plan assumes for nPerArm units
// per arm: d.SequentialTuning, or the two compared arms' total when unset.
func (d Design) TuningFor(nPerArm float64) float64 {
	if d.SequentialTuning > 0 {
		return d.SequentialTuning
	}
	return 2 * nPerArm
}

// normalPower is P(reject) for a statistic ~ N(ncp, 1) with critical value c.
func normalPower(ncp, c float64, sides Sides) float64 {
	switch sides {
	case Greater:
		return normCDF(ncp - c)
	case Less:
		return normCDF(-ncp - c)
	}
	return clamp01(normCDF(ncp-c) + normCDF(-ncp-c))
}

// tPower is P(reject) for a statistic with a noncentral t distribution
// (gonum's NoncentralT) with df degrees of freedom and noncentrality ncp.
func tPower(ncp, df, c float64, sides Sides) float64 {
	if !(df > 0) || df > largeDF {
		return normalPower(ncp, c, sides)
	}
	t := distuv.NoncentralT{Nu: df, Mu: ncp}
	upper := 1 - t.CDF(c)
	lower := t.CDF(-c)
	switch sides {
	case Greater:
		return clamp01(upper)
	case Less:
		return clamp01(lower)
	}
	return clamp01(upper + lower)
}

// maxPlanUnits bounds the search for a sample size; beyond it the effect is
// not detectable in any real experiment.
const maxPlanUnits = 1e12

// SampleSize is the number of units per arm at which Power reaches the
// target d.TargetPower for an effect of size effect (on d.Scale). Exact is the
// real-valued root; PerArm rounds it up and is at least 2.
func (d Design) SampleSize(effect float64) (SampleSize, error) {
	d = d.WithDefaults()
	if err := d.validate(); err != nil {
		return SampleSize{}, err
	}
	if effect == 0 || !finite(effect) {
		return SampleSize{}, fmt.Errorf("%w: the effect must be a non-zero number", ErrInvalidInput)
	}
	if _, _, _, _, err := d.contrastVariance(effect); err != nil {
		return SampleSize{}, err
	}
	reach := func(n float64) bool {
		p, _ := d.power(effect, n)
		return p >= d.TargetPower
	}
	if reach(2) {
		return SampleSize{Exact: 2, PerArm: 2}, nil
	}
	hi := 4.0
	for !reach(hi) {
		if hi *= 2; hi > maxPlanUnits {
			return SampleSize{}, fmt.Errorf("%w: the effect is too small to detect with any realistic sample", ErrInvalidInput)
		}
	}
	n := bisect(hi/2, hi, reach)
	return sampleSize(n)
}

// MDE is the smallest increase (on d.Scale) that a comparison with nPerArm
// units per arm detects with the target power d.Power. For a binomial
// metric it fails with ErrNotEnoughData when not even a rate of 1 would be
// detected.
func (d Design) MDE(nPerArm float64) (float64, error) {
	d = d.WithDefaults()
	if err := d.validate(); err != nil {
		return 0, err
	}
	if !(nPerArm >= 2) || math.IsInf(nPerArm, 0) {
		return 0, fmt.Errorf("%w: need at least 2 units per arm, got %g", ErrInvalidInput, nPerArm)
	}
	reach := func(effect float64) bool {
		p, err := d.power(effect, nPerArm)
		return err == nil && p >= d.TargetPower
	}
	var hi float64
	if d.Kind == KindBinomial {
		// The largest increase keeps the treatment rate just below 1.
		hi = 1 - d.Baseline
		if d.Scale == RelativeMDE {
			hi /= d.Baseline
		}
		hi *= 1 - 1e-12
		if !reach(hi) {
			return 0, fmt.Errorf("%w: %g units per arm cannot detect any increase from %g", ErrNotEnoughData, nPerArm, d.Baseline)
		}
	} else {
		hi = d.Sigma
		if d.Scale == RelativeMDE {
			hi = d.Sigma / math.Abs(d.Baseline)
		}
		for !reach(hi) {
			if hi *= 2; !finite(hi) || hi > 1e300 {
				return 0, fmt.Errorf("%w: no effect is detectable with %g units per arm", ErrNotEnoughData, nPerArm)
			}
		}
	}
	return bisect(0, hi, reach), nil
}

// bisect returns the smallest x in (lo, hi] with ok(x), to 1e-12
// relative, for ok false at lo and true at hi and monotone in between.
func bisect(lo, hi float64, ok func(float64) bool) float64 {
	for range 200 {
		mid := (lo + hi) / 2
		if mid <= lo || mid >= hi || hi-lo <= 1e-13*hi {
			break
		}
		if ok(mid) {
			hi = mid
		} else {
			lo = mid
		}
	}
	return hi
}
