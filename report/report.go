// Package report turns an experiment's sufficient statistics into the
// journey-stage report analysts read: SRM at the top, then every KPI grouped
// by journey stage with per-arm values, lift with intervals, p-values or
// chance-to-win, multiple-comparison-adjusted values and a verdict; plus the
// funnel across stages, the daily cumulative time series, a breakdown by
// one unit attribute and the lift by days since exposure. It reads data
// only through Source (outcomes.DayStore for the days since exposure) and
// does the statistics with package stats, so every backend gets the same
// report.
package report

import (
	"context"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
	"github.com/journeylab/journeylab/warning"
)

// Role is why a KPI is in the report.
type Role string

// Roles, from the experiment's goal_metrics, secondary_metrics and guardrail_metrics.
const (
	RoleGoal      Role = "goal"
	RoleSecondary Role = "secondary"
	RoleGuardrail Role = "guardrail"
)

// Verdict is the reading of one comparison (or one KPI) in the metric's
// direction.
type Verdict string

// Verdicts. Mixed only appears on a KPI of an experiment with several
// treatments, when one improves and another harms it.
const (
	Improves     Verdict = "improves"
	Harms        Verdict = "harms"
	Inconclusive Verdict = "inconclusive"
	Mixed        Verdict = "mixed"
)

// Options tune Build.
type Options struct {
	// Dimension, when set, adds a breakdown of every KPI by this unit
	// attribute (device, channel, segment, ...).
	Dimension string
	// Now stamps the report; zero means time.Now.
	Now time.Time
}

// Report is the journey-stage report of one experiment. Every float is
// finite: where a statistic cannot be computed the enclosing element says so
// with a Status instead of carrying NaN.
type Report struct {
	Experiment  string              `json:"experiment"`
	Name        string              `json:"name"`
	Stage       experiment.Stage    `json:"stage"`
	Touchpoint  string              `json:"touchpoint"`
	Status      experiment.Status   `json:"status"`
	GeneratedAt time.Time           `json:"generated_at"`
	Analysis    experiment.Analysis `json:"analysis"`
	Control     string              `json:"control"`
	Variants    []VariantInfo       `json:"variants"`
	// SRM checks that the split of exposed units matches the weights.
	SRM SRM `json:"srm"`
	// GuardrailBreaches lists every guardrail that moved significantly in
	// its bad direction, for any variant.
	GuardrailBreaches []Breach `json:"guardrail_breaches"`
	// Stages hold the KPIs, in journey order; stages without KPIs are left out.
	Stages []StageReport `json:"stages"`
	// Dimension and Segments are the breakdown asked for with Options.Dimension.
	Dimension string    `json:"dimension,omitempty"`
	Segments  []Segment `json:"segments,omitempty"`
	// SegmentsOmitted counts the smallest segments left out beyond MaxSegments.
	SegmentsOmitted int `json:"segments_omitted,omitempty"`
	// Warnings say when the request was answered but probably not as meant
	// (a breakdown attribute no unit has).
	Warnings []warning.Warning `json:"warnings,omitempty"`
	// Optimise is present for experiments in optimise (bandit) mode and
	// says how their estimates were made honest (see bandit.go).
	Optimise *Optimise `json:"optimise,omitempty"`
}

// VariantInfo describes one arm and how many units were exposed to it.
type VariantInfo struct {
	Key     string  `json:"key"`
	Name    string  `json:"name,omitempty"`
	Weight  float64 `json:"weight"`
	Control bool    `json:"control"`
	Units   int64   `json:"units"`
}

// StageReport is one journey stage with its KPIs in the experiment's order
// (goal, secondary, guardrail).
type StageReport struct {
	Stage experiment.Stage `json:"stage"`
	KPIs  []KPI            `json:"kpis"`
}

// KPI is one metric of the experiment: its value per arm and each
// treatment's comparison with control.
type KPI struct {
	Metric    string                `json:"metric"`
	Name      string                `json:"name"`
	Stage     experiment.Stage      `json:"stage"`
	Kind      experiment.MetricKind `json:"kind"`
	Direction experiment.Direction  `json:"direction"`
	Role      Role                  `json:"role"`
	// Guardrail is true when the experiment lists the metric as a guardrail
	// or the metric itself is marked as one.
	Guardrail   bool         `json:"guardrail"`
	Arms        []Arm        `json:"arms"`
	Comparisons []Comparison `json:"comparisons"`
	// Verdict summarises the comparisons: the single treatment's verdict, or
	// for several treatments improves/harms when they agree, mixed when they
	// disagree, inconclusive when none is conclusive.
	Verdict Verdict `json:"verdict"`
}

// Arm is one variant's value of a KPI.
type Arm struct {
	Variant string `json:"variant"`
	// Units are the arm's exposed units (respondents for NPS).
	Units int64 `json:"units"`
	// Value is the rate (binomial), mean per unit (mean), Σnum/Σden (ratio)
	// or promoters − detractors share in [−1, 1] (NPS). Zero when Status is
	// not "ok".
	Value  float64      `json:"value"`
	Status stats.Status `json:"status"`
}

// Interval is an estimate with its 1 − alpha interval (confidence interval,
// confidence sequence or credible interval, per the method).
type Interval struct {
	Estimate float64 `json:"estimate"`
	Low      float64 `json:"ci_low"`
	High     float64 `json:"ci_high"`
}

// Risk is the Bayesian expected relative loss of choosing each arm.
type Risk struct {
	Control float64 `json:"control"`
	Variant float64 `json:"variant"`
}

// Comparison is one treatment against control for one KPI. Estimates are
// present only when Status is "ok"; method-specific fields only for their
// method (p-values for frequentist and sequential, chance to win and risk for
// Bayesian).
type Comparison struct {
	Variant string       `json:"variant"`
	Status  stats.Status `json:"status"`
	Reason  string       `json:"reason,omitempty"`
	// Absolute is variant − control; Relative is variant/control − 1.
	// Relative is absent, with RelativeReason, when the control's value is
	// zero: the difference is still reported.
	Absolute       *Interval `json:"absolute_lift,omitempty"`
	Relative       *Interval `json:"relative_lift,omitempty"`
	RelativeReason string    `json:"relative_reason,omitempty"`
	// PValue is the two-sided p-value of the difference variant − control
	// (Welch's t; always valid for the sequential method). It agrees with
	// the absolute interval; the relative interval (delta method) can
	// disagree with it in borderline cases.
	PValue *float64 `json:"p_value,omitempty"`
	// AdjustedPValue is PValue corrected across the goal-metric × variant
	// family (Analysis.Correction); goal metrics only.
	AdjustedPValue *float64 `json:"adjusted_p_value,omitempty"`
	// ChanceToWin is the posterior probability that the variant is better
	// than control in the metric's direction.
	ChanceToWin *float64 `json:"chance_to_win,omitempty"`
	Risk        *Risk    `json:"risk,omitempty"`
	// CUPEDApplied says whether the variance reduction was used; CUPEDReason
	// why not, when it was asked for.
	CUPEDApplied bool   `json:"cuped_applied"`
	CUPEDReason  string `json:"cuped_reason,omitempty"`
	// CUPEDTheta is the adjustment's coefficient when it was applied.
	CUPEDTheta float64 `json:"cuped_theta,omitempty"`
	// Variance is each arm's per-unit variance, from which (with the arms'
	// units and CUPEDTheta) every standard error can be recomputed.
	Variance *ArmVariance `json:"variance,omitempty"`
	// SequentialTuning is the N* the sequential method used (default
	// included).
	SequentialTuning float64 `json:"sequential_tuning,omitempty"`
	Verdict          Verdict `json:"verdict"`
	// GuardrailBreach is true for a guardrail KPI that this variant harms.
	GuardrailBreach bool `json:"guardrail_breach,omitempty"`
}

// ArmVariance is the per-unit variance v of a metric in control and in the
// variant, so that Var(value) = v/units: p(1−p) for a binomial metric, the
// Bessel-corrected sample variance for a mean, the delta-method variance
// for a ratio, p + d − (p − d)² for NPS.
type ArmVariance struct {
	Control float64 `json:"control"`
	Variant float64 `json:"variant"`
}

// Breach is a guardrail harmed by a variant.
type Breach struct {
	Metric  string    `json:"metric"`
	Name    string    `json:"name"`
	Variant string    `json:"variant"`
	Segment string    `json:"segment,omitempty"`
	Lift    *Interval `json:"relative_lift,omitempty"`
	// AbsoluteLift is variant − control (the only lift when the control's
	// value is zero).
	AbsoluteLift *Interval `json:"absolute_lift,omitempty"`
	PValue       *float64  `json:"p_value,omitempty"`
	// ChanceToWin is set instead of PValue for Bayesian experiments.
	ChanceToWin *float64 `json:"chance_to_win,omitempty"`
}

// Segment is the report for the units with one value of the breakdown dimension.
type Segment struct {
	// Value is the attribute value; "(none)" for units without the attribute.
	Value  string        `json:"value"`
	Units  []ArmUnits    `json:"units"`
	SRM    SRM           `json:"srm"`
	Stages []StageReport `json:"stages"`
	// GuardrailBreaches within this segment only.
	GuardrailBreaches []Breach `json:"guardrail_breaches"`
}

// ArmUnits counts one variant's units.
type ArmUnits struct {
	Variant string `json:"variant"`
	Units   int64  `json:"units"`
}

// MaxSegments bounds a dimension breakdown; a high-cardinality attribute
// (country, campaign) would otherwise make the report unreadable and slow.
const MaxSegments = 50

// Build computes the report of e from src. metrics must hold every metric
// the experiment lists; other entries are ignored.
func Build(ctx context.Context, src Source, e *experiment.Experiment, metrics map[string]experiment.Metric, opts Options) (*Report, error) {
	e = normalized(e)
	defs, err := kpiDefs(e, metrics)
	if err != nil {
		return nil, err
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	counts, err := src.ExposureCounts(ctx, e.Key)
	if err != nil {
		return nil, fmt.Errorf("report %s: exposure counts: %w", e.Key, err)
	}
	r := &Report{
		Experiment: e.Key, Name: e.Name, Stage: e.Stage, Touchpoint: e.Touchpoint, Status: e.Status,
		GeneratedAt: now.UTC(), Analysis: e.Analysis, Control: e.Control,
		GuardrailBreaches: []Breach{}, Stages: []StageReport{},
	}
	units := make([]int64, len(e.Variants))
	unconfigured := map[string]int64{}
	for k, n := range counts {
		unconfigured[k] = n
	}
	for i, v := range e.Variants {
		units[i] = counts[v.Key]
		delete(unconfigured, v.Key)
		r.Variants = append(r.Variants, VariantInfo{Key: v.Key, Name: v.Name, Weight: v.Weight, Control: v.Key == e.Control, Units: units[i]})
	}
	r.SRM = checkSRM(e, units, unconfigured)

	arms := make([][]stats.ArmStats, len(defs))
	for i, d := range defs {
		if arms[i], err = r.metricArms(ctx, src, e, d.metric); err != nil {
			return nil, fmt.Errorf("report %s: metric %s: %w", e.Key, d.metric.Key, err)
		}
	}
	r.Stages, r.GuardrailBreaches = analyse(e, defs, arms, "")
	r.showRealUnits()

	if opts.Dimension != "" {
		r.Dimension = opts.Dimension
		if err := r.addSegments(ctx, src, e, defs); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// normalized returns a copy of e with defaults filled, so that an
// experiment built in code (tests, the demo) reads like a stored one.
func normalized(e *experiment.Experiment) *experiment.Experiment {
	c := e.Clone()
	c.Normalize()
	return c
}

// kpiDef is one KPI of the experiment with its role.
type kpiDef struct {
	metric    experiment.Metric
	role      Role
	guardrail bool
}

// kpiDefs lists the experiment's metrics once each (goal, secondary,
// guardrail order), resolving their definitions.
func kpiDefs(e *experiment.Experiment, metrics map[string]experiment.Metric) ([]kpiDef, error) {
	guard := map[string]bool{}
	for _, k := range e.GuardrailMetrics {
		guard[k] = true
	}
	role := func(k string) Role {
		for _, g := range e.GoalMetrics {
			if g == k {
				return RoleGoal
			}
		}
		for _, s := range e.SecondaryMetrics {
			if s == k {
				return RoleSecondary
			}
		}
		return RoleGuardrail
	}
	var defs []kpiDef
	for _, k := range e.AllMetrics() {
		m, ok := metrics[k]
		if !ok {
			// Metrics cannot be deleted, so this is a caller bug, not a 404.
			return nil, fmt.Errorf("report %s: definition of metric %q not provided", e.Key, k)
		}
		m.Normalize()
		defs = append(defs, kpiDef{metric: m, role: role(k), guardrail: guard[k] || m.Guardrail})
	}
	return defs, nil
}

// byVariant sums the cells per variant, in the experiment's variant order.
// Variants without cells get zero statistics (no units).
func byVariant(e *experiment.Experiment, cells []Cell) []stats.ArmStats {
	out := make([]stats.ArmStats, len(e.Variants))
	for _, c := range cells {
		if i := e.VariantIndex(c.Variant); i >= 0 {
			out[i] = addStats(out[i], c.Stats)
		}
	}
	return out
}

// addStats adds two sets of sufficient statistics (they are sums, so cells
// of disjoint units add up to the cell of their union).
func addStats(a, b stats.ArmStats) stats.ArmStats {
	return stats.ArmStats{
		N: a.N + b.N, Sum: a.Sum + b.Sum, SumSq: a.SumSq + b.SumSq,
		DenSum: a.DenSum + b.DenSum, DenSumSq: a.DenSumSq + b.DenSumSq, SumNumDen: a.SumNumDen + b.SumNumDen,
		PreSum: a.PreSum + b.PreSum, PreSumSq: a.PreSumSq + b.PreSumSq, SumPrePost: a.SumPrePost + b.SumPrePost,
	}
}
