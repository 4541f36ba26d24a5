package report

import (
	"math"
	"strconv"

	"journeylab/experiment"
	"journeylab/stats"
)

// PowerInput is a sample-size question. Give Baseline and MDE for a
// binomial metric (conversion rate), or Sigma and Delta for a mean metric
// (revenue per visitor). Zero Alpha, Power, Arms, Coverage and MDEScale take
// the defaults 0.05, 0.8, 2, 1 and relative.
type PowerInput struct {
	// Baseline is control's expected conversion rate, in (0, 1).
	Baseline float64 `json:"baseline,omitempty"`
	// MDE is the smallest change worth detecting: relative (0.05 = +5 %) or
	// absolute (0.01 = one percentage point) per MDEScale.
	MDE      float64        `json:"mde,omitempty"`
	MDEScale stats.MDEScale `json:"mde_scale,omitempty"`
	// Sigma is the per-unit standard deviation of a mean metric; Delta the
	// smallest absolute change of its mean worth detecting.
	Sigma float64 `json:"sigma,omitempty"`
	Delta float64 `json:"delta,omitempty"`
	Alpha float64 `json:"alpha"`
	Power float64 `json:"power"`
	// Arms counts the variants including control.
	Arms int `json:"arms"`
	// DailyUnits are the eligible units per day at the touchpoint (0: unknown,
	// no duration is computed); Coverage the share of them in the experiment.
	DailyUnits float64 `json:"daily_units,omitempty"`
	Coverage   float64 `json:"coverage"`
}

// PowerPlan is the answer: units per arm for a two-sided test of each
// treatment against control, the total, and how many days that takes.
type PowerPlan struct {
	// Kind is "binomial" or "mean".
	Kind  experiment.MetricKind `json:"kind"`
	Input PowerInput            `json:"input"`
	// TreatmentRate is the conversion rate the MDE corresponds to (binomial).
	TreatmentRate float64 `json:"treatment_rate,omitempty"`
	ExactPerArm   float64 `json:"exact_per_arm"`
	PerArm        int64   `json:"per_arm"`
	Total         int64   `json:"total"`
	// Days is set when DailyUnits is given.
	Days int64 `json:"days,omitempty"`
}

// PlanSampleSize answers a sample-size question. Errors are
// *experiment.ValidationError naming the bad input.
func PlanSampleSize(in PowerInput) (PowerPlan, error) {
	in = powerDefaults(in)
	if err := validatePower(in); err != nil {
		return PowerPlan{}, err
	}
	pp := stats.PowerParams{Alpha: in.Alpha, Power: in.Power, Sides: stats.TwoSided}
	plan := PowerPlan{Input: in}
	var ss stats.SampleSize
	var err error
	if in.Baseline != 0 {
		plan.Kind = experiment.KindBinomial
		plan.TreatmentRate = in.Baseline + in.MDE
		if in.MDEScale == stats.RelativeMDE {
			plan.TreatmentRate = in.Baseline * (1 + in.MDE)
		}
		// Unpooled variances, like the Welch analysis the report runs.
		ss, err = stats.SampleSizeProportions(in.Baseline, in.MDE, in.MDEScale, false, pp)
	} else {
		plan.Kind = experiment.KindMean
		ss, err = stats.SampleSizeMeans(in.Sigma, in.Delta, pp)
	}
	if err != nil {
		return PowerPlan{}, invalid("mde", "%v", err)
	}
	// A comparison needs two units per arm whatever the formula says (a
	// huge effect on a tiny spread rounds to zero).
	plan.ExactPerArm, plan.PerArm = ss.Exact, max(ss.PerArm, 2)
	if plan.PerArm > math.MaxInt64/int64(in.Arms) {
		return PowerPlan{}, invalid("mde", "the effect is too small to detect with any realistic sample")
	}
	plan.Total = plan.PerArm * int64(in.Arms)
	if in.DailyUnits > 0 {
		if plan.Days, err = stats.Duration(plan.PerArm, in.Arms, in.DailyUnits, in.Coverage); err != nil {
			return PowerPlan{}, invalid("daily_units", "%v", err)
		}
	}
	return plan, nil
}

func powerDefaults(in PowerInput) PowerInput {
	if in.Alpha == 0 {
		in.Alpha = stats.DefaultAlpha
	}
	if in.Power == 0 {
		in.Power = 0.8
	}
	if in.Arms == 0 {
		in.Arms = 2
	}
	if in.Coverage == 0 {
		in.Coverage = 1
	}
	if in.MDEScale == "" && in.Baseline != 0 {
		in.MDEScale = stats.RelativeMDE
	}
	return in
}

func validatePower(in PowerInput) error {
	binomial := in.Baseline != 0 || in.MDE != 0
	mean := in.Sigma != 0 || in.Delta != 0
	switch {
	case binomial == mean:
		return invalid("baseline", "give baseline and mde (a conversion rate) or sigma and delta (a mean), not both or neither")
	case binomial && !(in.Baseline > 0 && in.Baseline < 1):
		return invalid("baseline", "must be a rate in (0, 1), e.g. 0.05 for 5%%")
	case binomial && (in.MDE == 0 || !finite(in.MDE)):
		return invalid("mde", "must be a non-zero change, e.g. 0.05 for +5%% (relative)")
	case binomial && in.MDEScale != stats.RelativeMDE && in.MDEScale != stats.AbsoluteMDE:
		return invalid("mde_scale", "must be relative or absolute, got %q", in.MDEScale)
	case mean && !(in.Sigma > 0 && finite(in.Sigma)):
		return invalid("sigma", "must be a positive standard deviation")
	case mean && (in.Delta == 0 || !finite(in.Delta)):
		return invalid("delta", "must be a non-zero change of the mean")
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
	if binomial {
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

// ParsePowerQuery reads a PowerInput from query parameters (baseline, mde,
// mde_scale, sigma, delta, alpha, power, arms, daily_units, coverage); get
// returns "" for a missing one.
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
	}
	for _, f := range floats {
		s := get(f.name)
		if s == "" {
			continue
		}
		v, err := strconv.ParseFloat(s, 64)
		if err != nil || !finite(v) {
			return in, invalid(f.name, "must be a number, got %q", s)
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
	in.MDEScale = stats.MDEScale(get("mde_scale"))
	return in, nil
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }
