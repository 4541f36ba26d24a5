package report

import (
	"math"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// analyse computes the stage-grouped KPIs and the guardrail breaches of one
// population: all units, or the units of one segment. arms[i] holds the
// statistics of defs[i] per variant.
func analyse(e *experiment.Experiment, defs []kpiDef, arms [][]stats.ArmStats, segment string) ([]StageReport, []Breach) {
	ctl := e.VariantIndex(e.Control)
	kpis := make([]KPI, len(defs))
	for i, d := range defs {
		kpis[i] = kpiReport(e, d, arms[i], ctl)
	}
	adjustGoalFamily(e.Analysis, kpis)
	breaches := []Breach{}
	for i := range kpis {
		k := &kpis[i]
		for j := range k.Comparisons {
			c := &k.Comparisons[j]
			c.Verdict = verdict(*c, k.Direction, e.Analysis.Alpha, c.AdjustedPValue)
			// Guardrails read the unadjusted value: they protect the business,
			// so a missed harm costs more than a false alarm.
			if k.Guardrail && verdict(*c, k.Direction, e.Analysis.Alpha, nil) == Harms {
				c.GuardrailBreach = true
				breaches = append(breaches, Breach{Metric: k.Metric, Name: k.Name, Variant: c.Variant, Segment: segment,
					Lift: c.Relative, AbsoluteLift: c.Absolute, PValue: c.PValue, ChanceToWin: c.ChanceToWin})
			}
		}
		k.Verdict = summarise(k.Comparisons)
	}
	return byStage(kpis), breaches
}

// byStage groups KPIs by journey stage in journey order, keeping the
// experiment's order within a stage.
func byStage(kpis []KPI) []StageReport {
	out := []StageReport{}
	for _, s := range experiment.Stages() {
		var in []KPI
		for _, k := range kpis {
			if k.Stage == s {
				in = append(in, k)
			}
		}
		if len(in) > 0 {
			out = append(out, StageReport{Stage: s, KPIs: in})
		}
	}
	return out
}

func kpiReport(e *experiment.Experiment, d kpiDef, arms []stats.ArmStats, ctl int) KPI {
	m := d.metric
	k := KPI{Metric: m.Key, Name: m.Name, Stage: m.Stage, Kind: m.Kind, Direction: m.Direction,
		Role: d.role, Guardrail: d.guardrail, Arms: []Arm{}, Comparisons: []Comparison{}}
	for i, v := range e.Variants {
		k.Arms = append(k.Arms, armReport(v.Key, m.Kind, arms[i]))
	}
	opts := compareOptions(e.Analysis, m, true)
	for i, v := range e.Variants {
		if i == ctl {
			continue
		}
		res := stats.Compare(stats.Kind(m.Kind), arms[ctl], arms[i], opts)
		k.Comparisons = append(k.Comparisons, comparison(v.Key, res))
	}
	return k
}

// armReport is one variant's value of a metric; a value that is undefined
// (no units, a ratio without denominator) is a status, not a NaN.
func armReport(variant string, kind experiment.MetricKind, s stats.ArmStats) Arm {
	a := Arm{Variant: variant, Units: s.N, Status: stats.StatusNotEnoughData}
	var v float64
	switch {
	case kind == experiment.KindRatio && s.DenSum != 0:
		v = s.Sum / s.DenSum
	case kind != experiment.KindRatio && s.N > 0:
		v = s.Sum / float64(s.N)
	default:
		return a
	}
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return a
	}
	a.Value, a.Status = v, stats.StatusOK
	return a
}

// compareOptions maps the experiment's analysis settings onto stats.
// Frequentist and sequential tests are two-sided so that harm is detected as
// well as improvement. The Bayesian side only orients chance-to-win and risk,
// so it follows the metric's direction. cuped is false where no
// pre-exposure data can exist (funnel step conversions).
func compareOptions(a experiment.Analysis, m experiment.Metric, cuped bool) stats.Options {
	o := stats.Options{
		Method: stats.Method(a.Method), Alpha: a.Alpha, CUPED: a.CUPED && cuped,
		SequentialTuning: a.SequentialTuning, Sides: stats.TwoSided,
	}
	if o.Method == stats.Bayesian && m.Direction == experiment.LowerIsBetter {
		o.Sides = stats.Less
	}
	return o
}

// comparison converts a stats.Result, keeping only what applies to its
// method and status.
func comparison(variant string, r stats.Result) Comparison {
	c := Comparison{Variant: variant, Status: r.Status, Reason: r.Reason, CUPEDApplied: r.CUPEDApplied, CUPEDReason: r.CUPEDReason}
	if !r.OK() {
		return c
	}
	c.Absolute = &Interval{Estimate: r.Absolute.Estimate, Low: r.Absolute.CILow, High: r.Absolute.CIHigh}
	if r.RelativeReason == "" {
		c.Relative = &Interval{Estimate: r.Relative.Estimate, Low: r.Relative.CILow, High: r.Relative.CIHigh}
	}
	c.RelativeReason = r.RelativeReason
	c.Variance = &ArmVariance{Control: r.ControlVariance, Variant: r.TreatmentVariance}
	c.SequentialTuning = r.SequentialTuning
	if r.CUPEDApplied {
		c.CUPEDTheta = r.CUPEDTheta
	}
	if r.Method == stats.Bayesian {
		ctw := r.ChanceToWin
		c.ChanceToWin = &ctw
		c.Risk = &Risk{Control: r.Risk[0], Variant: r.Risk[1]}
	} else {
		// The p-value of the difference, not of the relative lift: the
		// delta-method relative test is lopsided at small samples (with 400
		// units a arm at a 10% rate, 5.1% false "decreases" but 0.5% false
		// "increases"), which would bias verdicts by the metric's direction.
		// The absolute Welch test is calibrated on both sides and tests the
		// same null hypothesis.
		p := r.Absolute.PValue
		c.PValue = &p
	}
	return c
}

// adjustGoalFamily sets AdjustedPValue on every goal KPI comparison that has
// a p-value, corrected across that family. Bayesian results have no p-value
// and are left alone.
func adjustGoalFamily(a experiment.Analysis, kpis []KPI) {
	var family []*Comparison
	var ps []float64
	for i := range kpis {
		if kpis[i].Role != RoleGoal {
			continue
		}
		for j := range kpis[i].Comparisons {
			if c := &kpis[i].Comparisons[j]; c.PValue != nil {
				family = append(family, c)
				ps = append(ps, *c.PValue)
			}
		}
	}
	if len(ps) == 0 {
		return
	}
	adjusted := ps
	switch a.Correction {
	case "holm":
		adjusted = stats.Holm(ps)
	case "bh":
		adjusted = stats.BenjaminiHochberg(ps)
	}
	for i, c := range family {
		p := adjusted[i]
		c.AdjustedPValue = &p
	}
}

// verdict reads one comparison in the metric's direction: significant at
// alpha (on adjusted when given, else the raw p-value; chance-to-win beyond
// 1 − alpha or below alpha for Bayesian) and in the good or bad direction.
func verdict(c Comparison, dir experiment.Direction, alpha float64, adjusted *float64) Verdict {
	if c.Status != stats.StatusOK || c.Absolute == nil {
		return Inconclusive
	}
	// The difference has the relative lift's sign and exists even when
	// the control's value is zero.
	better := c.Absolute.Estimate > 0
	if dir == experiment.LowerIsBetter {
		better = c.Absolute.Estimate < 0
	}
	var significant bool
	switch {
	case c.ChanceToWin != nil:
		// Chance to win is already oriented by the metric's direction.
		switch {
		case *c.ChanceToWin >= 1-alpha:
			return Improves
		case *c.ChanceToWin <= alpha:
			return Harms
		}
		return Inconclusive
	case adjusted != nil:
		significant = *adjusted < alpha
	case c.PValue != nil:
		significant = *c.PValue < alpha
	}
	switch {
	case !significant:
		return Inconclusive
	case better:
		return Improves
	default:
		return Harms
	}
}

// summarise is a KPI's verdict over its treatments.
func summarise(cs []Comparison) Verdict {
	var up, down bool
	for _, c := range cs {
		up = up || c.Verdict == Improves
		down = down || c.Verdict == Harms
	}
	switch {
	case up && down:
		return Mixed
	case up:
		return Improves
	case down:
		return Harms
	}
	return Inconclusive
}
