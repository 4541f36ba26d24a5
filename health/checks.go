package health

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

// Limits are the thresholds of one experiment's checks: its Settings with
// the scheduler's defaults filled in.
type Limits struct {
	ExposureDelay time.Duration
	EventDelay    time.Duration
	// PlannedUnits is 0 when the experiment has no sample-size plan.
	PlannedUnits int64
	MaxDays      float64
	// SRMAlpha is the level of the sequential SRM test.
	SRMAlpha float64
}

// MinDaysForProjection is how long an experiment must have run before the
// underpowered check projects its traffic: the first hours of a launch are
// not a fair sample of a week.
const MinDaysForProjection = 1.0

// Input is everything the checks read about one running experiment.
type Input struct {
	// Experiment is normalised (defaults filled).
	Experiment *experiment.Experiment
	Now        time.Time
	// Units are the exposed units per variant, in the experiment's order.
	Units []int64
	// Report is the experiment's report computed with the sequential
	// (anytime-valid) method, so that checking it on every tick does not
	// inflate false alarms.
	Report *report.Report
	// LastExposure is the newest exposure; LastEvent the first check
	// that saw the experiment's outcome statistics as they are now, i.e.
	// about when the newest outcome event counted (zero when none yet).
	LastExposure, LastEvent time.Time
	// CrossVariantUnits counts units seen in more than one variant.
	CrossVariantUnits int64
	Limits            Limits
}

// Finding is one failing check: the alert it opens or updates.
type Finding struct {
	Check    Check
	Subject  string
	Severity Severity
	Summary  string
	Detail   any
}

// Evaluate runs every check on in and returns the failing ones. A check
// that passes, or cannot run yet (too few units), returns nothing, which
// resolves its open alert. Evaluate is pure.
func Evaluate(in Input) []Finding {
	var out []Finding
	if f, ok := checkSRM(in); ok {
		out = append(out, f)
	}
	out = append(out, checkDelays(in)...)
	out = append(out, checkGuardrails(in)...)
	out = append(out, checkDecisions(in)...)
	if f, ok := checkUnderpowered(in); ok {
		out = append(out, f)
	}
	if f, ok := checkMultipleVariants(in); ok {
		out = append(out, f)
	}
	return out
}

// SRMDetail is the detail of an SRM alert.
type SRMDetail struct {
	Units          []int64   `json:"units"`
	Variants       []string  `json:"variants"`
	ExpectedShares []float64 `json:"expected_shares"`
	ObservedShares []float64 `json:"observed_shares"`
	PValue         float64   `json:"p_value"`
	LogBayesFactor float64   `json:"log_bayes_factor"`
	Alpha          float64   `json:"alpha"`
}

func checkSRM(in Input) (Finding, bool) {
	e := in.Experiment
	if e.Mode == experiment.ModeOptimise {
		return Finding{}, false
	}
	w := e.Weights()
	r := stats.SequentialSRM(in.Units, w, in.Limits.SRMAlpha, 0)
	if !r.Alert {
		return Finding{}, false
	}
	d := SRMDetail{Units: in.Units, PValue: r.PValue, LogBayesFactor: r.LogBayesFactor, Alpha: r.Alpha}
	var wsum float64
	for _, x := range w {
		wsum += x
	}
	var got, want []string
	for i, v := range e.Variants {
		d.Variants = append(d.Variants, v.Key)
		exp, obs := w[i]/wsum, 0.0
		if r.Units > 0 {
			obs = float64(in.Units[i]) / float64(r.Units)
		}
		d.ExpectedShares = append(d.ExpectedShares, exp)
		d.ObservedShares = append(d.ObservedShares, obs)
		got = append(got, fmt.Sprintf("%s %.1f%%", v.Key, 100*obs))
		want = append(want, fmt.Sprintf("%.1f%%", 100*exp))
	}
	return Finding{Check: CheckSRM, Severity: Critical, Detail: d,
		Summary: fmt.Sprintf("Sample ratio mismatch: %d units split %s, the weights ask for %s (anytime-valid p = %.2g < %g). Units are assigned or recorded unevenly; the results may be biased.",
			r.Units, strings.Join(got, " / "), strings.Join(want, " / "), r.PValue, r.Alpha)}, true
}

// DelayDetail is the detail of a data-delay alert.
type DelayDetail struct {
	// Last is the newest exposure or event; absent when there was none.
	Last         *time.Time `json:"last,omitempty"`
	SilentFor    string     `json:"silent_for"`
	LimitMinutes float64    `json:"limit_minutes"`
}

func checkDelays(in Input) []Finding {
	e := in.Experiment
	if e.StartedAt == nil {
		return nil
	}
	var out []Finding
	check := func(c Check, what string, last time.Time, limit time.Duration) {
		ref := *e.StartedAt
		if last.After(ref) {
			ref = last
		}
		silent := in.Now.Sub(ref)
		if limit <= 0 || silent <= limit {
			return
		}
		d := DelayDetail{SilentFor: span(silent), LimitMinutes: limit.Minutes()}
		since := "since launch"
		if !last.IsZero() {
			l := last.UTC()
			d.Last = &l
			since = "since " + l.Format(time.RFC3339)
		}
		out = append(out, Finding{Check: c, Severity: Warning, Detail: d,
			Summary: fmt.Sprintf("No %s for %s (%s; the limit is %s). Check that the front-end still calls journeylab.", what, d.SilentFor, since, span(limit))})
	}
	check(CheckNoExposures, "exposures", in.LastExposure, in.Limits.ExposureDelay)
	var units int64
	for _, u := range in.Units {
		units += u
	}
	// Without exposed units no event can count, and the exposure alert
	// already says so.
	if units > 0 && len(e.AllMetrics()) > 0 {
		check(CheckNoEvents, "outcome events from exposed units", in.LastEvent, in.Limits.EventDelay)
	}
	return out
}

// LiftDetail is the detail of a guardrail or decision alert.
type LiftDetail struct {
	Metric  string           `json:"metric"`
	Variant string           `json:"variant"`
	Verdict report.Verdict   `json:"verdict"`
	Lift    *report.Interval `json:"relative_lift,omitempty"`
	PValue  *float64         `json:"p_value,omitempty"`
}

func checkGuardrails(in Input) []Finding {
	if in.Report == nil {
		return nil
	}
	var out []Finding
	for _, b := range in.Report.GuardrailBreaches {
		d := LiftDetail{Metric: b.Metric, Variant: b.Variant, Verdict: report.Harms, Lift: b.Lift, PValue: b.PValue}
		out = append(out, Finding{Check: CheckGuardrail, Subject: b.Metric + "/" + b.Variant, Severity: Critical, Detail: d,
			Summary: fmt.Sprintf("Guardrail %s is harmed by variant %s: %s (always-valid p = %s).", nameOr(b.Name, b.Metric), b.Variant, liftText(b.Lift), pText(b.PValue))})
	}
	return out
}

func checkDecisions(in Input) []Finding {
	if in.Report == nil {
		return nil
	}
	var out []Finding
	for _, st := range in.Report.Stages {
		for _, k := range st.KPIs {
			if k.Role != report.RoleGoal {
				continue
			}
			for _, c := range k.Comparisons {
				if c.Verdict != report.Improves && c.Verdict != report.Harms {
					continue
				}
				p := c.AdjustedPValue
				if p == nil {
					p = c.PValue
				}
				d := LiftDetail{Metric: k.Metric, Variant: c.Variant, Verdict: c.Verdict, Lift: c.Relative, PValue: p}
				out = append(out, Finding{Check: CheckDecision, Subject: k.Metric + "/" + c.Variant, Severity: Info, Detail: d,
					Summary: fmt.Sprintf("Goal metric %s reached a decision: variant %s %s it, %s (always-valid p = %s, adjusted across the goal metrics).",
						nameOr(k.Name, k.Metric), c.Variant, c.Verdict, liftText(c.Relative), pText(p))})
			}
		}
	}
	return out
}

// PowerDetail is the detail of an underpowered alert.
type PowerDetail struct {
	Units          int64   `json:"units"`
	PlannedUnits   int64   `json:"planned_units"`
	DaysRunning    float64 `json:"days_running"`
	UnitsPerDay    float64 `json:"units_per_day"`
	ProjectedDays  float64 `json:"projected_days"`
	MaxDays        float64 `json:"max_days"`
	NeverCompletes bool    `json:"never_completes,omitempty"`
}

func checkUnderpowered(in Input) (Finding, bool) {
	e, l := in.Experiment, in.Limits
	var units int64
	for _, u := range in.Units {
		units += u
	}
	p, ok := Project(e, units, l.PlannedUnits, in.Now)
	if !ok || l.MaxDays <= 0 || p.Reached || p.Early {
		return Finding{}, false
	}
	d := PowerDetail{Units: units, PlannedUnits: l.PlannedUnits, DaysRunning: round2(p.DaysRunning), MaxDays: l.MaxDays}
	d.UnitsPerDay = round2(p.UnitsPerDay)
	projected := math.Inf(1)
	if p.DaysRemaining != nil {
		projected = p.DaysRunning + *p.DaysRemaining
	}
	if projected <= l.MaxDays {
		return Finding{}, false
	}
	when := "never at the current traffic (no units yet)"
	if math.IsInf(projected, 1) {
		d.NeverCompletes = true
	} else {
		d.ProjectedDays = round2(projected)
		when = fmt.Sprintf("after %.0f days at %.0f units a day", projected, d.UnitsPerDay)
	}
	return Finding{Check: CheckUnderpowered, Severity: Warning, Detail: d,
		Summary: fmt.Sprintf("Underpowered: %d of the planned %d units after %.1f days; the plan completes %s, beyond the limit of %g days. Raise coverage, drop a variant or accept a larger detectable effect.",
			units, l.PlannedUnits, p.DaysRunning, when, l.MaxDays)}, true
}

// CrossDetail is the detail of a multiple-variants alert.
type CrossDetail struct {
	Units      int64   `json:"units"`
	Share      float64 `json:"share"`
	TotalUnits int64   `json:"total_units"`
}

// CrossCriticalShare is the share of units seen in several variants from
// which the alert is critical: that many contaminated units bias the lift.
const CrossCriticalShare = 0.01

func checkMultipleVariants(in Input) (Finding, bool) {
	if in.CrossVariantUnits <= 0 {
		return Finding{}, false
	}
	var total int64
	for _, u := range in.Units {
		total += u
	}
	d := CrossDetail{Units: in.CrossVariantUnits, TotalUnits: total}
	if total > 0 {
		d.Share = float64(in.CrossVariantUnits) / float64(total)
	}
	sev := Warning
	if d.Share >= CrossCriticalShare {
		sev = Critical
	}
	return Finding{Check: CheckMultipleVariants, Severity: sev, Detail: d,
		Summary: fmt.Sprintf("%d units (%.2f%% of %d) were reported in more than one variant; each counts in its first variant only. Look for clients that evaluate with stale settings or share unit ids.",
			d.Units, 100*d.Share, total)}, true
}

// span writes a duration for people: "45m", "3h12m", "7.0 days".
func span(d time.Duration) string {
	d = d.Round(time.Minute)
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%.1f days", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dm", int(d.Minutes()))
}

func nameOr(name, key string) string {
	if name == "" {
		return key
	}
	return name
}

func liftText(l *report.Interval) string {
	if l == nil {
		return "lift not estimable"
	}
	return fmt.Sprintf("%+.2f%% (%+.2f%% to %+.2f%%)", 100*l.Estimate, 100*l.Low, 100*l.High)
}

func pText(p *float64) string {
	if p == nil {
		return "n/a"
	}
	return fmt.Sprintf("%.2g", *p)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

// encodeDetail marshals a finding's detail (plain data: cannot fail).
func encodeDetail(d any) json.RawMessage {
	if d == nil {
		return nil
	}
	b, err := json.Marshal(d)
	if err != nil {
		panic("health: encode detail: " + err.Error())
	}
	return b
}
