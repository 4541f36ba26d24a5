package stats

import (
	"fmt"
	"math"
)

// Compare analyses one treatment arm against control for one metric and
// returns absolute and relative lift with intervals and p-values (or, for
// Bayesian, chance to win and risk). It never panics and never returns NaN
// or Inf: inputs that do not allow inference give StatusNotEnoughData or
// StatusInvalidInput with a Reason, and zero estimates.
func Compare(kind Kind, control, treatment ArmStats, opts Options) Result {
	res := Result{Kind: kind}
	opts, reason := normalizeOptions(opts)
	res.Method, res.Sides, res.Alpha = opts.Method, opts.Sides, opts.Alpha
	if reason != "" {
		return invalid(res, reason)
	}
	switch kind {
	case KindBinomial, KindMean, KindRatio, KindNPS:
	default:
		return invalid(res, fmt.Sprintf("unknown metric kind %q", string(kind)))
	}
	if r := validateArm(kind, control, "control"); r != "" {
		return invalid(res, r)
	}
	if r := validateArm(kind, treatment, "treatment"); r != "" {
		return invalid(res, r)
	}

	a, ra := armMoments(kind, control, "control")
	b, rb := armMoments(kind, treatment, "treatment")
	if ra == "" && rb == "" {
		res.ControlMean, res.TreatmentMean = a.mean, b.mean
	}
	switch {
	case ra != "":
		return notEnough(res, ra)
	case rb != "":
		return notEnough(res, rb)
	case control.N <= 1 || treatment.N <= 1:
		return notEnough(res, fmt.Sprintf("need at least 2 units per arm, have %d (control) and %d (treatment)", control.N, treatment.N))
	case a.v == 0 && b.v == 0:
		return notEnough(res, "zero variance in both arms")
	case a.mean == 0 && opts.Method == Bayesian:
		// The prior, chance to win and risk are stated on the relative lift.
		return notEnough(res, zeroControlReason+"; the Bayesian analysis needs it")
	}
	res.ControlVariance, res.TreatmentVariance = a.v, b.v

	// A zero control mean leaves the relative lift undefined, but the
	// difference, its interval and p-value are as well defined as ever.
	relDefined := a.mean != 0
	if !relDefined {
		res.RelativeReason = zeroControlReason
	}
	df := welchDF(a, b)
	abs, rel := absoluteContrast(a, b, df), contrast{variance: 1, df: df}
	if relDefined {
		rel = relativeContrast(a, b, df)
	}
	if opts.CUPED {
		abs, rel = applyCUPED(&res, kind, control, treatment, a, b, abs, rel, relDefined)
	}
	if !finite(abs.est, abs.variance, rel.est, rel.variance, abs.df) {
		return notEnough(res, overflowReason)
	}
	if !(abs.variance > 0) || !(rel.variance > 0) {
		return notEnough(res, "zero variance after adjustment")
	}

	switch opts.Method {
	case Frequentist:
		q := critical(opts.Alpha, abs.df, opts.Sides) // rel.df == abs.df
		res.Absolute = frequentistLift(abs, q, opts.Sides)
		res.Relative = frequentistLift(rel, q, opts.Sides)
	case Sequential:
		n := a.n + b.n
		res.SequentialTuning = opts.SequentialTuning
		res.Absolute = sequentialLift(abs, n, opts.Alpha, opts.SequentialTuning, opts.Sides)
		res.Relative = sequentialLift(rel, n, opts.Alpha, opts.SequentialTuning, opts.Sides)
	case Bayesian:
		bayes(&res, abs, rel, a.mean, opts)
	}
	if opts.Method != Bayesian {
		if relDefined {
			res.Significant = res.Relative.PValue < opts.Alpha
		} else {
			res.Relative = Lift{}
			res.Significant = res.Absolute.PValue < opts.Alpha
		}
	}
	return finalize(res)
}

const zeroControlReason = "control mean is zero: relative lift is undefined"

// applyCUPED swaps the contrasts for CUPED-adjusted ones when the metric
// kind supports it and both arms carry pre-period data; otherwise it records
// why not and keeps the unadjusted contrasts.
//
// With relDefined false (zero control mean) only the absolute contrast is
// adjusted and rel is returned unchanged.
func applyCUPED(res *Result, kind Kind, control, treatment ArmStats, a, b arm, abs, rel contrast, relDefined bool) (contrast, contrast) {
	if kind == KindRatio {
		// Adjusting a ratio needs Σ pre·x, which ArmStats does not carry.
		res.CUPEDReason = "CUPED is not supported for ratio metrics"
		return abs, rel
	}
	for _, s := range []struct {
		name string
		arm  ArmStats
	}{{"control", control}, {"treatment", treatment}} {
		// All-zero pre sums mean "no pre-period data". Adjusting with one arm
		// missing would subtract θ·x̄ from the other arm only, which biases
		// the lift, so both arms must have it.
		if s.arm.PreSum == 0 && s.arm.PreSumSq == 0 {
			res.CUPEDReason = "no pre-period data in " + s.name + " arm"
			return abs, rel
		}
	}
	theta, ok := cupedTheta(control, treatment, kind)
	if !ok {
		res.CUPEDReason = "pre-period covariate has no variance"
		return abs, rel
	}
	cabs, crel := cupedContrasts(newCupedArm(a, control), newCupedArm(b, treatment), theta)
	if !relDefined {
		crel = rel
	}
	if !finite(cabs.est, cabs.variance, crel.est, crel.variance, cabs.df) || !(cabs.variance > 0) || !(crel.variance > 0) {
		res.CUPEDReason = "CUPED adjustment is numerically degenerate"
		return abs, rel
	}
	res.CUPEDApplied, res.CUPEDTheta = true, theta
	return cabs, crel
}

// bayes fills the Bayesian fields. The prior is stated on the relative lift;
// for the absolute lift it is rescaled by |control mean| so both posteriors
// express the same belief.
func bayes(res *Result, abs, rel contrast, controlMean float64, opts Options) {
	p := opts.Prior
	rm, rv := gaussianPosterior(rel.est, rel.variance, p.Proper, p.Mean, p.Variance)
	scale := math.Abs(controlMean)
	am, av := gaussianPosterior(abs.est, abs.variance, p.Proper, p.Mean*scale, p.Variance*scale*scale)
	res.Relative = bayesLift(rm, math.Sqrt(rv), opts.Alpha)
	res.Absolute = bayesLift(am, math.Sqrt(av), opts.Alpha)
	dir := 1.0
	if opts.Sides == Less {
		dir = -1
	}
	res.ChanceToWin, res.Risk = chanceToWinAndRisk(rm, math.Sqrt(rv), dir)
	res.Credible = [2]float64{res.Relative.CILow, res.Relative.CIHigh}
	if opts.Sides == TwoSided {
		res.Significant = res.Relative.CILow > 0 || res.Relative.CIHigh < 0
	} else {
		res.Significant = res.ChanceToWin > 1-opts.Alpha
	}
}

// normalizeOptions fills defaults and rejects impossible options.
func normalizeOptions(o Options) (Options, string) {
	if o.Method == "" {
		o.Method = Frequentist
	}
	if o.Sides == "" {
		o.Sides = TwoSided
	}
	if o.Alpha == 0 {
		o.Alpha = DefaultAlpha
	}
	if o.SequentialTuning == 0 {
		o.SequentialTuning = DefaultSequentialTuning
	}
	switch {
	case o.Method != Frequentist && o.Method != Sequential && o.Method != Bayesian:
		return o, fmt.Sprintf("unknown method %q", string(o.Method))
	case o.Sides != TwoSided && o.Sides != Greater && o.Sides != Less:
		return o, fmt.Sprintf("unknown sides %q", string(o.Sides))
	case !(o.Alpha > 0 && o.Alpha < 1):
		o.Alpha = DefaultAlpha // keep the echoed value finite
		return o, "alpha must be in (0, 1)"
	case !(o.SequentialTuning > 0) || math.IsInf(o.SequentialTuning, 0):
		o.SequentialTuning = DefaultSequentialTuning
		return o, "sequential tuning N* must be a positive number"
	case o.Prior.Proper && (!(o.Prior.Variance > 0) || !finite(o.Prior.Mean, o.Prior.Variance)):
		return o, "proper prior needs a finite mean and a finite variance > 0"
	}
	return o, ""
}

const overflowReason = "numerical overflow: sufficient statistics too extreme"

func invalid(r Result, reason string) Result {
	return withStatus(r, StatusInvalidInput, reason)
}

func notEnough(r Result, reason string) Result {
	return withStatus(r, StatusNotEnoughData, reason)
}

// withStatus keeps only the descriptive fields (kind, method, means, CUPED
// flag) and zeroes every estimate, so a caller that ignores Status still
// never sees a half-computed number.
func withStatus(r Result, s Status, reason string) Result {
	out := Result{
		Status: s, Reason: reason,
		Kind: r.Kind, Method: r.Method, Sides: r.Sides, Alpha: r.Alpha,
		CUPEDReason: r.CUPEDReason,
	}
	if finite(r.ControlMean, r.TreatmentMean) {
		out.ControlMean, out.TreatmentMean = r.ControlMean, r.TreatmentMean
	}
	return out
}

// finalize is the last line of defence for the "never NaN/Inf" contract:
// extreme but valid inputs (1e300 sums) can still overflow intermediate
// products.
func finalize(r Result) Result {
	if !finite(r.Alpha, r.ControlMean, r.TreatmentMean, r.CUPEDTheta, r.ChanceToWin,
		r.Risk[0], r.Risk[1], r.Credible[0], r.Credible[1]) || !r.Absolute.finite() || !r.Relative.finite() {
		return notEnough(r, overflowReason)
	}
	r.Status = StatusOK
	return r
}

func (l Lift) finite() bool {
	return finite(l.Estimate, l.SE, l.CILow, l.CIHigh, l.PValue, l.DF)
}
