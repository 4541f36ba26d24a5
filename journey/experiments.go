package journey

import (
	"context"
	"fmt"
	"math"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

// ExperimentView is an experiment that ran at a stage during the range,
// with the report's verdicts on its goal KPIs and on its KPIs of that stage.
type ExperimentView struct {
	Key      string             `json:"key"`
	Name     string             `json:"name"`
	Status   experiment.Status  `json:"status"`
	Verdicts []Verdict          `json:"verdicts"`
	Shipped  *ShippedExperiment `json:"shipped,omitempty"`
	Error    string             `json:"error,omitempty"`
}

// Verdict is the report's reading of one KPI of an experiment.
type Verdict struct {
	Metric  string         `json:"metric"`
	Name    string         `json:"name"`
	Role    report.Role    `json:"role"`
	Verdict report.Verdict `json:"verdict"`
	// RelativeLift is the best treatment's relative lift estimate (in the
	// metric's good direction), when the report has one.
	RelativeLift *float64 `json:"relative_lift,omitempty"`
}

// ShippedExperiment is a shipped winner: a stopped (or archived)
// experiment whose report found a treatment improving its first goal KPI.
type ShippedExperiment struct {
	Experiment string  `json:"experiment"`
	Variant    string  `json:"variant"`
	Metric     string  `json:"metric"`
	Lift       float64 `json:"relative_lift"`
}

// ShippedLift is the cumulative measured lift of the shipped winners on
// one KPI: the product of (1 + each winner's relative lift) minus 1.
type ShippedLift struct {
	Metric      string              `json:"metric"`
	Name        string              `json:"name"`
	Lift        float64             `json:"relative_lift"`
	Experiments []ShippedExperiment `json:"experiments"`
}

// ran reports whether e was started and was live at some time in [from, to).
func ran(e *experiment.Experiment, from, to int64) bool {
	if e.StartedAt == nil || e.StartedAt.UnixNano() >= dayTime(to).UnixNano() {
		return false
	}
	return e.StoppedAt == nil || e.StoppedAt.UnixNano() >= dayTime(from).UnixNano()
}

// shipped reports whether e's run is over (stopped or archived).
func shipped(e *experiment.Experiment) bool {
	return e.StartedAt != nil && (e.Status == experiment.StatusStopped || e.Status == experiment.StatusArchived)
}

// experiments fills each stage's experiments and shipped lifts from the
// experiments' reports (report.Build: the same verdicts as the report page).
func (s *Service) experiments(ctx context.Context, byStage map[experiment.Stage]*StageView, from, to int64) error {
	exps, err := s.cat.ListExperiments(ctx, experiment.Filter{})
	if err != nil {
		return fmt.Errorf("journey: list experiments: %w", err)
	}
	var metrics map[string]experiment.Metric
	lifts := map[string]*ShippedLift{}
	var liftOrder []string
	for _, e := range exps {
		listed, done := ran(e, from, to), shipped(e)
		sv := byStage[e.Stage]
		if sv == nil || (!listed && !done) {
			continue
		}
		if metrics == nil {
			if _, metrics, err = report.Load(ctx, s.cat, e.Key); err != nil {
				return err
			}
		}
		v := ExperimentView{Key: e.Key, Name: e.Name, Status: e.Status, Verdicts: []Verdict{}}
		r, err := report.Build(ctx, s.rep, e, metrics, report.Options{Now: s.now()})
		if err != nil {
			// One experiment's report failing must not hide the map.
			v.Error = err.Error()
		} else {
			v.Verdicts = verdicts(r, e.Stage)
			if done {
				v.Shipped = winner(r, e)
			}
		}
		if w := v.Shipped; w != nil {
			l := lifts[w.Metric]
			if l == nil {
				m := metrics[w.Metric]
				l = &ShippedLift{Metric: w.Metric, Name: m.Name, Lift: 0}
				lifts[w.Metric] = l
				liftOrder = append(liftOrder, w.Metric)
			}
			l.Lift = (1+l.Lift)*(1+w.Lift) - 1
			l.Experiments = append(l.Experiments, *w)
		}
		if listed {
			sv.Experiments = append(sv.Experiments, v)
		}
	}
	for _, k := range liftOrder {
		if sv := byStage[metrics[k].Stage]; sv != nil {
			sv.Shipped = append(sv.Shipped, *lifts[k])
		}
	}
	return nil
}

// verdicts lists the report's goal KPIs and its KPIs of stage.
func verdicts(r *report.Report, stage experiment.Stage) []Verdict {
	out := []Verdict{}
	for _, sr := range r.Stages {
		for _, k := range sr.KPIs {
			if k.Role != report.RoleGoal && k.Stage != stage {
				continue
			}
			v := Verdict{Metric: k.Metric, Name: k.Name, Role: k.Role, Verdict: k.Verdict}
			if c := best(k); c != nil {
				x := c.Relative.Estimate
				v.RelativeLift = &x
			}
			out = append(out, v)
		}
	}
	return out
}

// best is the comparison with the largest relative lift in the KPI's good
// direction, among those with one.
func best(k report.KPI) *report.Comparison {
	var out *report.Comparison
	sign := 1.0
	if k.Direction == experiment.LowerIsBetter {
		sign = -1
	}
	for i := range k.Comparisons {
		c := &k.Comparisons[i]
		if c.Relative == nil {
			continue
		}
		if out == nil || sign*c.Relative.Estimate > sign*out.Relative.Estimate {
			out = c
		}
	}
	return out
}

// winner returns the shipped winner of a finished experiment: the
// treatment that improves its first goal KPI most, if any does.
func winner(r *report.Report, e *experiment.Experiment) *ShippedExperiment {
	if len(e.GoalMetrics) == 0 {
		return nil
	}
	goal := e.GoalMetrics[0]
	for _, sr := range r.Stages {
		for _, k := range sr.KPIs {
			if k.Metric != goal {
				continue
			}
			var w *report.Comparison
			for i := range k.Comparisons {
				c := &k.Comparisons[i]
				if c.Verdict != report.Improves || c.Relative == nil {
					continue
				}
				if w == nil || math.Abs(c.Relative.Estimate) > math.Abs(w.Relative.Estimate) {
					w = c
				}
			}
			if w == nil {
				return nil
			}
			return &ShippedExperiment{Experiment: e.Key, Variant: w.Variant, Metric: goal, Lift: w.Relative.Estimate}
		}
	}
	return nil
}
