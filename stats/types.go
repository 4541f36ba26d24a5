package stats

import (
	"errors"
	"fmt"
	"math"
)

// ArmStats are the sufficient statistics of one arm for one metric.
//
// Which fields are read depends on the metric Kind:
//
//   - KindBinomial: N units, Sum = number of units that converted (0 ≤ Sum ≤ N).
//     SumSq is ignored because y² = y for a 0/1 outcome.
//   - KindMean: N, Sum = Σy, SumSq = Σy².
//   - KindRatio: N, Sum = Σy (numerator), SumSq = Σy², DenSum = Σx
//     (denominator), DenSumSq = Σx², SumNumDen = Σx·y.
//   - KindNPS: N respondents, each scored s = +1 (promoter), 0 (passive) or
//     −1 (detractor); Sum = Σs = P − D and SumSq = Σs² = P + D. Build it with
//     NPSArm.
//
// The Pre* fields are the CUPED covariate (the unit's pre-exposure value of
// the same metric). They are optional; all zero means "no pre-period data".
type ArmStats struct {
	N     int64   // units in the arm (denominator of mean/binomial)
	Sum   float64 // Σ y (numerator for ratio metrics)
	SumSq float64 // Σ y²
	// Ratio metrics only (y/x per arm by the delta method):
	DenSum, DenSumSq, SumNumDen float64 // Σ x, Σ x², Σ x·y
	// CUPED covariate (the unit's pre-exposure value of the same metric), optional:
	PreSum, PreSumSq, SumPrePost float64 // Σ pre, Σ pre², Σ pre·y
}

// Kind is the type of metric; it decides how the per-unit variance is
// computed from ArmStats.
type Kind string

// Metric kinds.
const (
	// KindBinomial is a conversion metric: did the unit do X at least once.
	// Per-unit variance is the unpooled p(1−p).
	KindBinomial Kind = "binomial"
	// KindMean is a per-unit sum (revenue, count). Per-unit variance is the
	// sample variance with Bessel's correction.
	KindMean Kind = "mean"
	// KindRatio is Σy/Σx per arm (e.g. average order value = revenue/orders),
	// analysed with the delta method including the x–y covariance.
	KindRatio Kind = "ratio"
	// KindNPS is the net promoter score: promoter share minus detractor
	// share, with multinomial per-respondent variance p + d − (p − d)².
	KindNPS Kind = "nps"
)

// Method selects the inference procedure used by Compare.
type Method string

// Inference methods. The zero value "" means Frequentist.
const (
	// Frequentist is a fixed-horizon Welch t-test: valid when looked at
	// once, at a sample size fixed in advance.
	Frequentist Method = "frequentist"
	// Sequential is an always-valid confidence sequence: safe to look at
	// after every new batch of data.
	Sequential Method = "sequential"
	// Bayesian is a Gaussian posterior on the relative lift.
	Bayesian Method = "bayesian"
)

// Sides is the alternative hypothesis, i.e. which direction of
// treatment − control counts as a finding (or, for Bayesian, as a win).
type Sides string

// Alternatives. The zero value "" means TwoSided.
const (
	// TwoSided tests treatment ≠ control. For Bayesian it means "higher is
	// better".
	TwoSided Sides = "two-sided"
	// Greater tests treatment > control: use it for metrics where higher is
	// better (conversion, revenue).
	Greater Sides = "greater"
	// Less tests treatment < control: use it for metrics where lower is
	// better (bounce rate, returns, cart abandonment).
	Less Sides = "less"
)

// Prior is the Bayesian prior on the relative lift (treatment/control − 1).
// The zero value is the flat (improper) prior.
type Prior struct {
	// Proper selects the Gaussian prior N(Mean, Variance); when false the
	// prior is flat and Mean/Variance are ignored.
	Proper bool `json:"proper"`
	// Mean is the prior mean of the relative lift, e.g. 0.
	Mean float64 `json:"mean"`
	// Variance is the prior variance of the relative lift, e.g. 0.3² (must be
	// > 0 when Proper).
	Variance float64 `json:"variance"`
}

// Defaults applied by Compare when an Options field is zero.
const (
	// DefaultAlpha is the significance level (and 1 − credibility).
	DefaultAlpha = 0.05
	// DefaultSequentialTuning is N*, the total sample size (both arms) at
	// which the confidence sequence is tightest.
	DefaultSequentialTuning = 5000
)

// Options configure Compare. The zero value is a two-sided frequentist
// Welch test at alpha 0.05 without CUPED.
type Options struct {
	// Method is Frequentist (default), Sequential or Bayesian.
	Method Method `json:"method"`
	// Alpha is the significance level in (0, 1); 0 means DefaultAlpha.
	// Intervals have coverage 1 − Alpha.
	Alpha float64 `json:"alpha"`
	// Sides is the alternative; "" means TwoSided.
	Sides Sides `json:"sides"`
	// CUPED adjusts for the pre-exposure covariate in ArmStats.Pre* when
	// present (mean, binomial and NPS metrics).
	CUPED bool `json:"cuped"`
	// SequentialTuning is N* for the Sequential method; 0 means
	// DefaultSequentialTuning.
	SequentialTuning float64 `json:"sequential_tuning"`
	// Prior is the prior on the relative lift for the Bayesian method.
	Prior Prior `json:"prior"`
}

// Status tells whether a Result carries estimates.
type Status string

// Result statuses.
const (
	// StatusOK means all estimates are filled in.
	StatusOK Status = "ok"
	// StatusNotEnoughData means the inputs are valid but do not allow
	// inference yet (n ≤ 1, zero variance, zero control mean, ...).
	// Result.Reason says which.
	StatusNotEnoughData Status = "not_enough_data"
	// StatusInvalidInput means the inputs or options are impossible
	// (negative counts, NaN/Inf, Sum > N for a binomial, unknown Kind, ...).
	StatusInvalidInput Status = "invalid_input"
)

// Sentinel errors returned by Result.Err and by the power functions; test
// with errors.Is.
var (
	// ErrNotEnoughData is wrapped by Result.Err for StatusNotEnoughData.
	ErrNotEnoughData = errors.New("stats: not enough data")
	// ErrInvalidInput is wrapped by Result.Err for StatusInvalidInput and by
	// functions that reject their arguments.
	ErrInvalidInput = errors.New("stats: invalid input")
)

// Unbounded stands for an infinite confidence bound. One-sided tests have one
// open end (CIHigh for Greater, CILow for Less); it is reported as
// ±Unbounded rather than ±Inf so that a Result always marshals to JSON.
const Unbounded = math.MaxFloat64

// Lift is an estimate of treatment − control (absolute) or
// treatment/control − 1 (relative) with its uncertainty.
type Lift struct {
	// Estimate is the point estimate (posterior mean for Bayesian).
	Estimate float64 `json:"estimate"`
	// SE is the standard error (posterior standard deviation for Bayesian).
	SE float64 `json:"se"`
	// CILow and CIHigh bound the 1 − Alpha interval: a confidence interval
	// (Frequentist), a confidence sequence (Sequential) or an equal-tailed
	// credible interval (Bayesian). An open end is ±Unbounded.
	CILow  float64 `json:"ci_low"`
	CIHigh float64 `json:"ci_high"`
	// PValue is the p-value for the chosen Sides (Frequentist), the
	// always-valid p-value (Sequential), and 1 for Bayesian, where it is
	// not defined (use ChanceToWin).
	PValue float64 `json:"p_value"`
	// DF are the Welch–Satterthwaite degrees of freedom of the t
	// distribution used (Frequentist); 0 when a normal approximation is used
	// (Sequential, Bayesian).
	DF float64 `json:"df"`
}

// Result is the comparison of one treatment arm against control for one
// metric. Every float field is finite; fields that do not apply are zero.
type Result struct {
	// Status is StatusOK when the estimates below are filled in.
	Status Status `json:"status"`
	// Reason explains a status other than StatusOK.
	Reason string `json:"reason,omitempty"`

	// Kind, Method, Sides and Alpha echo the analysis actually run
	// (defaults filled in).
	Kind   Kind    `json:"kind"`
	Method Method  `json:"method"`
	Sides  Sides   `json:"sides"`
	Alpha  float64 `json:"alpha"`

	// ControlMean and TreatmentMean are the unadjusted per-arm values of the
	// metric: conversion rate, mean per unit, ratio Σy/Σx, or NPS in [−1, 1].
	ControlMean   float64 `json:"control_mean"`
	TreatmentMean float64 `json:"treatment_mean"`

	// Absolute is treatment − control.
	Absolute Lift `json:"absolute"`
	// Relative is (treatment − control)/|control|, i.e. treatment/control − 1
	// when the control mean is positive. The |·| keeps its sign equal to
	// the sign of Absolute for metrics that can be negative. It is all zero
	// when RelativeReason is set.
	Relative Lift `json:"relative"`
	// RelativeReason says why Relative is not estimated although Status is
	// StatusOK: a zero control mean leaves the relative lift undefined while
	// Absolute, its interval and p-value are still reported (Frequentist and
	// Sequential; a Bayesian analysis is StatusNotEnoughData then).
	RelativeReason string `json:"relative_reason,omitempty"`

	// Significant is true when Relative.PValue < Alpha (Frequentist,
	// Sequential; equivalently the interval excludes 0), or Absolute.PValue
	// < Alpha when the relative lift is undefined. For Bayesian it is
	// true when the credible interval excludes 0 (TwoSided) or when
	// ChanceToWin > 1 − Alpha (Greater, Less).
	Significant bool `json:"significant"`

	// ControlVariance and TreatmentVariance are the per-unit variances v
	// of each arm's metric value (Var(mean) = v/n; see the package
	// documentation for each kind), before any CUPED adjustment, so that
	// every standard error can be recomputed from them, the arms' N and
	// CUPEDTheta.
	ControlVariance   float64 `json:"control_variance"`
	TreatmentVariance float64 `json:"treatment_variance"`
	// SequentialTuning is the N* the Sequential method used (the default
	// filled in); 0 for other methods.
	SequentialTuning float64 `json:"sequential_tuning,omitempty"`

	// CUPEDApplied says whether the CUPED adjustment was used; CUPEDTheta is
	// the pooled regression coefficient it used; CUPEDReason says why it was
	// not applied when it was requested.
	CUPEDApplied bool    `json:"cuped_applied"`
	CUPEDTheta   float64 `json:"cuped_theta"`
	CUPEDReason  string  `json:"cuped_reason,omitempty"`

	// ChanceToWin is the posterior probability that treatment is better than
	// control in the direction given by Sides (Bayesian only).
	ChanceToWin float64 `json:"chance_to_win"`
	// Risk is the expected relative loss [of choosing control, of choosing
	// treatment] (Bayesian only).
	Risk [2]float64 `json:"risk"`
	// Credible is the equal-tailed 1 − Alpha credible interval of the
	// relative lift [low, high] (Bayesian only; equals Relative.CILow/CIHigh).
	Credible [2]float64 `json:"credible"`
}

// OK reports whether r carries estimates.
func (r Result) OK() bool { return r.Status == StatusOK }

// Err returns nil for StatusOK, otherwise an error wrapping ErrNotEnoughData
// or ErrInvalidInput with the Reason.
func (r Result) Err() error {
	switch r.Status {
	case StatusOK:
		return nil
	case StatusNotEnoughData:
		return fmt.Errorf("%w: %s", ErrNotEnoughData, r.Reason)
	default:
		return fmt.Errorf("%w: %s", ErrInvalidInput, r.Reason)
	}
}
