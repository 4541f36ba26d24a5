package report

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/stats"
)

// Days since exposure bounds.
const (
	// DefaultExposureDays is how many days since exposure a view shows
	// unless asked otherwise: four weeks show most novelty effects fading.
	DefaultExposureDays = 28
	// MaxExposureDays bounds the days a view may ask for.
	MaxExposureDays = 90
)

// ExposureDaysCaveat is the plain-words warning every days-since-exposure
// view carries (docs/report.md explains it).
const ExposureDaysCaveat = "Day k compares only the units exposed at least k+1 days ago: a smaller, " +
	"earlier-exposed subset as k grows, so a trend can come from who is in it rather than from time since exposure. " +
	"Each day is a separate comparison, not adjusted for looking at many days."

// ExposureDaysOptions tune BuildExposureDays.
type ExposureDaysOptions struct {
	// View is outcomes.Daily (default) or outcomes.Cumulative.
	View outcomes.DayView
	// Days is how many days since exposure to show (DefaultExposureDays when 0).
	Days int
	// Now is the clock: a unit's day k counts once it has ended by Now.
	Now time.Time
}

// ExposureDays is the lift of KPIs by days since each unit's first exposure,
// for reading novelty (a lift that fades) and learning (a lift that grows)
// effects.
type ExposureDays struct {
	Experiment  string              `json:"experiment"`
	GeneratedAt time.Time           `json:"generated_at"`
	Analysis    experiment.Analysis `json:"analysis"`
	Control     string              `json:"control"`
	// View is "daily" (events of day k only) or "cumulative" (days 0..k).
	View outcomes.DayView `json:"view"`
	// MaxDays is the number of days asked for; a metric lists fewer while
	// no unit has been exposed that long, or when its window ends sooner.
	MaxDays int          `json:"max_days"`
	Metrics []DaysMetric `json:"metrics"`
	// Notes say how to read the view (always the subset caveat).
	Notes []string `json:"notes"`
}

// DaysMetric is one KPI by day since exposure.
type DaysMetric struct {
	Metric    string                `json:"metric"`
	Name      string                `json:"name"`
	Kind      experiment.MetricKind `json:"kind"`
	Direction experiment.Direction  `json:"direction"`
	Days      []DayResult           `json:"days"`
}

// DayResult is the comparison on day k since exposure among the units whose
// day k has ended.
type DayResult struct {
	// Day is k: 0 is the first 24 hours after a unit's first exposure.
	Day         int          `json:"day"`
	Arms        []DayArm     `json:"arms"`
	Comparisons []Comparison `json:"comparisons"`
}

// DayArm is one variant's value on day k. Units are the units in the
// statistics (respondents that day for NPS); EligibleUnits all units of
// the arm whose day k has ended.
type DayArm struct {
	Arm
	EligibleUnits int64 `json:"eligible_units"`
}

// ParseExposureDaysOptions reads the view and days query values ("" means
// daily and DefaultExposureDays).
func ParseExposureDaysOptions(view, days string) (ExposureDaysOptions, error) {
	o := ExposureDaysOptions{View: outcomes.Daily, Days: DefaultExposureDays}
	switch outcomes.DayView(view) {
	case "", outcomes.Daily:
	case outcomes.Cumulative:
		o.View = outcomes.Cumulative
	default:
		return o, invalid("view", "unknown view %q (want daily or cumulative)", view)
	}
	if days != "" {
		n, err := strconv.Atoi(days)
		if err != nil || n < 1 || n > MaxExposureDays {
			return o, invalid("days", "must be a whole number of days from 1 to %d, got %q", MaxExposureDays, days)
		}
		o.Days = n
	}
	return o, nil
}

// BuildExposureDays computes, for each metric and each day k since exposure,
// every treatment's comparison with control among the units whose day k
// has ended, with the experiment's method. It reads the experiment's
// exposures and its units' raw events once for all metrics.
func BuildExposureDays(ctx context.Context, st outcomes.DayStore, e *experiment.Experiment, metrics []experiment.Metric, opts ExposureDaysOptions) (*ExposureDays, error) {
	e = normalized(e)
	if opts.View == "" {
		opts.View = outcomes.Daily
	}
	if opts.Days <= 0 {
		opts.Days = DefaultExposureDays
	}
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	ms := make([]experiment.Metric, len(metrics))
	for i, m := range metrics {
		m.Normalize()
		ms[i] = m
	}
	fold := outcomes.NewByDay(e, ms, opts.View, now.UnixNano(), opts.Days)
	if err := outcomes.ScanDays(ctx, st, e.Key, 0, fold); err != nil {
		return nil, err
	}
	out := &ExposureDays{Experiment: e.Key, GeneratedAt: now.UTC(), Analysis: e.Analysis, Control: e.Control,
		View: opts.View, MaxDays: opts.Days, Metrics: []DaysMetric{}, Notes: []string{ExposureDaysCaveat}}
	if e.Mode == experiment.ModeOptimise {
		out.Notes = append(out.Notes, "Optimise mode: traffic weights changed over time and days since exposure pool units of every exposure day, so these comparisons are not period-weighted like the report's.")
	}
	ctl := e.VariantIndex(e.Control)
	for i, m := range ms {
		dm := DaysMetric{Metric: m.Key, Name: m.Name, Kind: m.Kind, Direction: m.Direction, Days: []DayResult{}}
		cmp := compareOptions(e.Analysis, m, true)
		for k := range min(fold.Days(), windowDays(m)) {
			arms := fold.Arms(i, k)
			eligible := fold.Units(k)
			day := DayResult{Day: k, Arms: make([]DayArm, len(e.Variants)), Comparisons: []Comparison{}}
			for j, v := range e.Variants {
				day.Arms[j] = DayArm{Arm: armReport(v.Key, m.Kind, arms[j]), EligibleUnits: eligible[j]}
				if j == ctl {
					continue
				}
				c := comparison(v.Key, stats.Compare(stats.Kind(m.Kind), arms[ctl], arms[j], cmp))
				c.Verdict = verdict(c, m.Direction, e.Analysis.Alpha, nil)
				day.Comparisons = append(day.Comparisons, c)
			}
			dm.Days = append(dm.Days, day)
		}
		out.Metrics = append(out.Metrics, dm)
	}
	return out, nil
}

// windowDays is how many days since exposure metric m's conversion window
// touches: later days can hold no event of the metric.
func windowDays(m experiment.Metric) int {
	if m.WindowHours <= 0 {
		return math.MaxInt
	}
	return int(math.Ceil(m.WindowHours / 24))
}
