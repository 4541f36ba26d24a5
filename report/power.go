package report

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// PowerInput is a planning question about a binomial metric (conversion
// rate: Baseline) or a mean metric (revenue per visitor: Sigma, and
// Baseline for the control mean when the effect is relative).
//
// What it answers depends on what is given:
//   - an effect (MDE, or Delta for a mean) without UnitsPerArm: the sample
//     size that detects it with the target Power;
//   - an effect and UnitsPerArm: the power of that sample for that effect;
//   - UnitsPerArm alone: the minimum detectable effect of that sample.
//
// Zero fields take the defaults: alpha 0.05, power 0.8, 2 arms, coverage 1,
// MDE scale relative (absolute for the MDE of a mean without a baseline),
// contrast absolute, Bonferroni, z test, frequentist.
type PowerInput struct {
	// Baseline is control's expected conversion rate in (0, 1) for a
	// binomial metric, or its mean per unit for a mean metric (needed for a
	// relative effect or contrast).
	Baseline float64 `json:"baseline,omitempty"`
	// MDE is the effect to plan for: relative (0.05 = +5 %) or absolute
	// (0.01 = one percentage point, or 1.50 of a mean) per MDEScale.
	MDE      float64        `json:"mde,omitempty"`
	MDEScale stats.MDEScale `json:"mde_scale,omitempty"`
	// Sigma is the per-unit standard deviation of a mean metric; Delta is
	// shorthand for an absolute MDE of a mean.
	Sigma float64 `json:"sigma,omitempty"`
	Delta float64 `json:"delta,omitempty"`
	// UnitsPerArm asks for the power (with an effect) or the MDE (without)
	// of a given sample.
	UnitsPerArm int64 `json:"units_per_arm,omitempty"`
	// Contrast is the test planned for: absolute (the difference, which the
	// report's verdicts use) or relative (the relative lift, delta method).
	Contrast stats.MDEScale `json:"contrast"`
	// Test is z or t (exact noncentral t, for small samples).
	Test stats.PlanTest `json:"test"`
	// Method is frequentist or sequential.
	Method stats.Method `json:"method"`
	// SequentialTuning is N* for a sequential plan; 0 tunes it to the plan.
	SequentialTuning float64 `json:"sequential_tuning,omitempty"`
	// Correction is bonferroni or none, over the Arms − 1 comparisons.
	Correction stats.Correction `json:"correction"`
	Alpha      float64          `json:"alpha"`
	Power      float64          `json:"power"`
	// Arms counts the variants including control.
	Arms int `json:"arms"`
	// DailyUnits are the eligible units per day at the touchpoint (0: unknown,
	// no duration is computed); Coverage the share of them in the experiment.
	DailyUnits float64 `json:"daily_units,omitempty"`
	Coverage   float64 `json:"coverage"`
}

// PlanQuestion is what a PowerPlan answers.
type PlanQuestion string

// Questions.
const (
	QuestionSampleSize PlanQuestion = "sample_size"
	QuestionPower      PlanQuestion = "power"
	QuestionMDE        PlanQuestion = "mde"
)

// PlanEffect is an effect on both scales.
type PlanEffect struct {
	// Absolute is treatment − control.
	Absolute float64 `json:"absolute"`
	// Relative is treatment/control − 1; absent for a mean metric without
	// a baseline.
	Relative *float64 `json:"relative,omitempty"`
}

// PowerPlan is the answer: units per arm for each treatment-vs-control
// comparison, the total, how many days that takes, and the power and the
// effect that go with them.
type PowerPlan struct {
	// Kind is "binomial" or "mean".
	Kind     experiment.MetricKind `json:"kind"`
	Question PlanQuestion          `json:"question"`
	// Input echoes the question with every default filled in.
	Input PowerInput `json:"input"`
	// Comparisons is the number of treatment-vs-control comparisons, Arms − 1;
	// ComparisonAlpha the level each is tested at after the correction.
	Comparisons     int     `json:"comparisons"`
	ComparisonAlpha float64 `json:"comparison_alpha"`
	// TreatmentRate (binomial) or TreatmentMean (mean with a baseline) is
	// the treatment's value the effect corresponds to.
	TreatmentRate float64 `json:"treatment_rate,omitempty"`
	TreatmentMean float64 `json:"treatment_mean,omitempty"`
	// ExactPerArm is the unrounded sample size (sample-size question).
	ExactPerArm float64 `json:"exact_per_arm,omitempty"`
	PerArm      int64   `json:"per_arm"`
	Total       int64   `json:"total"`
	// Days is set when DailyUnits is given.
	Days int64 `json:"days,omitempty"`
	// PowerAchieved is the power of PerArm units for the effect (at least
	// the target for a sample-size question); absent for an MDE question.
	PowerAchieved float64 `json:"power_achieved,omitempty"`
	// Effect is the effect planned for, or the MDE found, on both scales.
	Effect PlanEffect `json:"effect"`
	// SequentialTuning is the N* a sequential plan assumes: set the
	// experiment's analysis.sequential_tuning to it.
	SequentialTuning float64 `json:"sequential_tuning,omitempty"`
	// FixedHorizonPerArm is what the same plan needs with the
	// fixed-horizon method (sequential sample-size question), to show the
	// price of peeking safely.
	FixedHorizonPerArm int64 `json:"fixed_horizon_per_arm,omitempty"`
}

// PlanSampleSize answers a planning question (sample size, power or MDE;
// see PowerInput). Errors are *experiment.ValidationError naming the bad
// input.
func PlanSampleSize(in PowerInput) (PowerPlan, error) {
	in = powerDefaults(in)
	if err := validatePower(in); err != nil {
		return PowerPlan{}, err
	}
	d := design(in)
	plan := PowerPlan{Kind: experiment.MetricKind(d.Kind), Input: in,
		Comparisons: in.Arms - 1, ComparisonAlpha: d.ComparisonAlpha()}
	effect := in.MDE
	switch {
	case in.UnitsPerArm > 0 && effect != 0:
		plan.Question, plan.PerArm = QuestionPower, in.UnitsPerArm
		p, err := d.Power(effect, float64(in.UnitsPerArm))
		if err != nil {
			return PowerPlan{}, invalid("mde", "%v", err)
		}
		plan.PowerAchieved = p
	case in.UnitsPerArm > 0:
		plan.Question, plan.PerArm = QuestionMDE, in.UnitsPerArm
		m, err := d.MDE(float64(in.UnitsPerArm))
		if err != nil {
			return PowerPlan{}, invalid("units_per_arm", "%v", err)
		}
		effect = m
	default:
		plan.Question = QuestionSampleSize
		ss, err := d.SampleSize(effect)
		if err != nil {
			return PowerPlan{}, invalid("mde", "%v", err)
		}
		plan.ExactPerArm, plan.PerArm = ss.Exact, ss.PerArm
		if plan.PowerAchieved, err = d.Power(effect, float64(ss.PerArm)); err != nil {
			return PowerPlan{}, invalid("mde", "%v", err)
		}
		if d.Method == stats.Sequential {
			fixed := d
			fixed.Method = stats.Frequentist
			if fs, err := fixed.SampleSize(effect); err == nil {
				plan.FixedHorizonPerArm = fs.PerArm
			}
		}
	}
	plan.Effect = planEffect(d, effect)
	if d.Kind == stats.KindBinomial {
		plan.TreatmentRate = d.TreatmentMean(effect)
	} else if d.Baseline != 0 {
		plan.TreatmentMean = d.TreatmentMean(effect)
	}
	if d.Method == stats.Sequential {
		plan.SequentialTuning = d.TuningFor(float64(plan.PerArm))
	}
	if plan.PerArm > math.MaxInt64/int64(in.Arms) {
		return PowerPlan{}, invalid("mde", "the effect is too small to detect with any realistic sample")
	}
	plan.Total = plan.PerArm * int64(in.Arms)
	if in.DailyUnits > 0 {
		var err error
		if plan.Days, err = stats.Duration(plan.PerArm, in.Arms, in.DailyUnits, in.Coverage); err != nil {
			return PowerPlan{}, invalid("daily_units", "%v", err)
		}
	}
	return plan, nil
}

// design maps a validated input with defaults onto stats.
func design(in PowerInput) stats.Design {
	d := stats.Design{
		Kind: stats.KindBinomial, Baseline: in.Baseline, Scale: in.MDEScale, Contrast: in.Contrast,
		Arms: in.Arms, Correction: in.Correction, Test: in.Test, Method: in.Method,
		SequentialTuning: in.SequentialTuning, Alpha: in.Alpha, TargetPower: in.Power, Sides: stats.TwoSided,
	}
	if in.Sigma != 0 {
		d.Kind, d.Sigma = stats.KindMean, in.Sigma
	}
	return d
}

// planEffect states an effect on d.Scale on both scales.
func planEffect(d stats.Design, effect float64) PlanEffect {
	abs := d.TreatmentMean(effect) - d.Baseline
	if d.Baseline == 0 {
		return PlanEffect{Absolute: abs}
	}
	rel := abs / math.Abs(d.Baseline)
	return PlanEffect{Absolute: abs, Relative: &rel}
}

// powerDefaults fills the defaults: the statistical ones are stats.Design's,
// echoed back so that the plan states every choice it made.
func powerDefaults(in PowerInput) PowerInput {
	if in.Coverage == 0 {
		in.Coverage = 1
	}
	if in.Delta != 0 && in.MDE == 0 {
		// delta is the absolute MDE of a mean.
		in.MDE = in.Delta
		if in.MDEScale == "" {
			in.MDEScale = stats.AbsoluteMDE
		}
	}
	if in.MDEScale == "" && in.Sigma != 0 && in.Baseline == 0 && in.MDE == 0 {
		// The MDE of a mean whose level is unknown can only be absolute.
		in.MDEScale = stats.AbsoluteMDE
	}
	if in.MDEScale == "" {
		in.MDEScale = stats.RelativeMDE
	}
	d := design(in).WithDefaults()
	in.Alpha, in.Power, in.Arms, in.Correction = d.Alpha, d.TargetPower, d.Arms, d.Correction
	in.Contrast, in.Test, in.Method = d.Contrast, d.Test, d.Method
	return in
}

func validatePower(in PowerInput) error {
	mean := in.Sigma != 0 || in.Delta != 0
	relative := in.MDEScale == stats.RelativeMDE || in.Contrast == stats.RelativeMDE
	switch {
	case !mean && in.Baseline == 0:
		return invalid("baseline", "give baseline (a conversion rate) or sigma (the standard deviation of a mean)")
	case in.Delta != 0 && in.MDE != in.Delta:
		return invalid("delta", "give delta or mde, not both")
	case in.Delta != 0 && in.MDEScale != stats.AbsoluteMDE:
		return invalid("delta", "is an absolute change; for a relative one use mde")
	case !mean && !(in.Baseline > 0 && in.Baseline < 1):
		return invalid("baseline", "must be a rate in (0, 1), e.g. 0.05 or 5%%")
	case mean && !(in.Sigma > 0 && finite(in.Sigma)):
		return invalid("sigma", "must be a positive standard deviation")
	case !finite(in.Baseline):
		return invalid("baseline", "must be a number")
	case in.UnitsPerArm == 0 && (in.MDE == 0 || !finite(in.MDE)):
		return invalid("mde", "must be a non-zero change, e.g. 0.05 or 5%% (relative), unless units_per_arm asks for the MDE")
	case mean && relative && in.Baseline == 0:
		return invalid("baseline", "a relative effect of a mean needs the control's mean as baseline (or give an absolute delta)")
	case !finite(in.MDE):
		return invalid("mde", "must be a number")
	case in.UnitsPerArm < 0 || in.UnitsPerArm == 1:
		return invalid("units_per_arm", "must be at least 2")
	case in.MDEScale != stats.RelativeMDE && in.MDEScale != stats.AbsoluteMDE:
		return invalid("mde_scale", "must be relative or absolute, got %q", in.MDEScale)
	case in.Contrast != stats.RelativeMDE && in.Contrast != stats.AbsoluteMDE:
		return invalid("contrast", "must be absolute (the difference, as the report's verdicts) or relative (the relative lift), got %q", in.Contrast)
	case in.Test != stats.ZTest && in.Test != stats.TTest:
		return invalid("test", "must be z or t, got %q", in.Test)
	case in.Method != stats.Frequentist && in.Method != stats.Sequential:
		return invalid("method", "must be frequentist or sequential, got %q", in.Method)
	case in.Method == stats.Sequential && in.Test == stats.TTest:
		return invalid("test", "the sequential method is normal-based: use test z")
	case !(in.SequentialTuning >= 0 && finite(in.SequentialTuning)):
		return invalid("sequential_tuning", "must be a positive number of units (both arms), or 0 to tune it to the plan")
	case in.Correction != stats.Bonferroni && in.Correction != stats.NoCorrection:
		return invalid("correction", "must be bonferroni or none, got %q", in.Correction)
	case !(in.Alpha > 0 && in.Alpha < 0.5):
		return invalid("alpha", "must be in (0, 0.5), e.g. 0.05")
	case !(in.Power > 0 && in.Power < 1):
		return invalid("power", "must be in (0, 1), e.g. 0.8")
	case in.Arms < 2 || in.Arms > 20:
		return invalid("arms", "must be between 2 and 20 (control included)")
	case !(in.DailyUnits >= 0 && finite(in.DailyUnits)):
		return invalid("daily_units", "must be a non-negative number of units per day")
	case !(in.Coverage > 0 && in.Coverage <= 1):
		return invalid("coverage", "must be in (0, 1]")
	}
	if in.MDE != 0 && !mean {
		p2 := in.Baseline + in.MDE
		if in.MDEScale == stats.RelativeMDE {
			p2 = in.Baseline * (1 + in.MDE)
		}
		if !(p2 > 0 && p2 < 1) {
			return invalid("mde", "moves the rate to %g, outside (0, 1)", p2)
		}
	}
	return nil
}

// ParseAmount reads a number, or a percentage written with a trailing %
// ("5%" = 0.05, "0.5%" = 0.005), as planning inputs accept both.
func ParseAmount(s string) (float64, error) {
	t := strings.TrimSpace(s)
	scale := 1.0
	if p, ok := strings.CutSuffix(t, "%"); ok {
		t, scale = strings.TrimSpace(p), 0.01
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !finite(v) {
		return 0, errors.New("must be a number or a percentage such as 5%")
	}
	return v * scale, nil
}

// ParsePowerQuery reads a PowerInput from query parameters (baseline, mde,
// mde_scale, sigma, delta, units_per_arm, contrast, test, method,
// sequential_tuning, correction, alpha, power, arms, daily_units,
// coverage); get returns "" for a missing one. Rates and effects may be
// written as percentages (mde=5%25 in a URL).
func ParsePowerQuery(get func(string) string) (PowerInput, error) {
	var in PowerInput
	// For alpha, power and coverage zero means "default" in PowerInput, so
	// an explicit 0 in a query is refused rather than silently replaced.
	floats := []struct {
		name   string
		dst    *float64
		zeroOK bool
	}{
		{"baseline", &in.Baseline, true}, {"mde", &in.MDE, true}, {"sigma", &in.Sigma, true}, {"delta", &in.Delta, true},
		{"alpha", &in.Alpha, false}, {"power", &in.Power, false}, {"daily_units", &in.DailyUnits, true}, {"coverage", &in.Coverage, false},
		{"sequential_tuning", &in.SequentialTuning, true},
	}
	for _, f := range floats {
		s := get(f.name)
		if s == "" {
			continue
		}
		v, err := ParseAmount(s)
		if err != nil {
			return in, invalid(f.name, "%v, got %q", err, s)
		}
		if v == 0 && !f.zeroOK {
			return in, invalid(f.name, "must not be 0 (leave it out for the default)")
		}
		*f.dst = v
	}
	if s := get("arms"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			return in, invalid("arms", "must be a whole number of variants (control included), got %q", s)
		}
		in.Arms = n
	}
	if s := get("units_per_arm"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 2 {
			return in, invalid("units_per_arm", "must be a whole number of units, at least 2, got %q", s)
		}
		in.UnitsPerArm = n
	}
	in.MDEScale = stats.MDEScale(get("mde_scale"))
	in.Contrast = stats.MDEScale(get("contrast"))
	in.Test = stats.PlanTest(get("test"))
	in.Method = stats.Method(get("method"))
	in.Correction = stats.Correction(get("correction"))
	return in, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
