package events

import (
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// defaultPreExposureDays is the CUPED look-back an experiment gets when its
// analysis does not set one.
const defaultPreExposureDays = 14

// ExperimentRule compiles m as a metric of e: with e's CUPED look-back, or
// defaultPreExposureDays when e does not set one.
func ExperimentRule(e *experiment.Experiment, m experiment.Metric) Rule {
	pre := e.Analysis.PreExposureDays
	if pre == 0 {
		pre = defaultPreExposureDays
	}
	return NewRule(m, pre)
}

// Attribution is the experiments' metric rules as of one config version,
// compiled once so that ingestion does not re-read definitions per event or
// per batch. Stores cache it and recompile when the version moves.
type Attribution struct {
	// Version is the config version the rules were compiled from.
	Version int64
	// Experiments holds each experiment's rules by experiment key.
	Experiments map[string]*ExperimentRules
	// ByEvent lists, per event name, the (experiment, rule) pairs it feeds.
	ByEvent map[string][]Target
	// Stages maps event names to the stages of the catalogue's metrics that
	// use them (experiment.StageBits), compiled once with the rules: the
	// journey map records stage reach with it on every event batch.
	Stages map[string]int64
}

// ExperimentRules are the compiled metrics of one experiment.
type ExperimentRules struct {
	Key   string
	Rules []Rule
}

// Target is one rule an event feeds: Exp.Rules[Rule].
type Target struct {
	Exp  *ExperimentRules
	Rule int
}

// UsesEvent reports whether any metric of the experiment reads event.
func (e *ExperimentRules) UsesEvent(event string) bool {
	for i := range e.Rules {
		if e.Rules[i].Uses(event) {
			return true
		}
	}
	return false
}

// MetricKeys returns the keys of the experiment's metrics, in rule order;
// never nil, so that an experiment without metrics encodes as an empty list.
func (e *ExperimentRules) MetricKeys() []string {
	keys := make([]string, len(e.Rules))
	for i := range e.Rules {
		keys[i] = e.Rules[i].Metric.Key
	}
	return keys
}

// CompileAttribution compiles every experiment's metrics into rules with
// ExperimentRule, and those of each layer's holdout baseline
// (experiment.HoldoutExperiment) under its key. Metric keys missing from
// metrics are skipped, and ratio metrics are fed by their denominator event
// too, once when both events are the same.
func CompileAttribution(version int64, exps []*experiment.Experiment, layers []experiment.Layer, metrics []experiment.Metric) *Attribution {
	byKey := make(map[string]experiment.Metric, len(metrics))
	for _, m := range metrics {
		byKey[m.Key] = m
	}
	a := &Attribution{Version: version, Experiments: map[string]*ExperimentRules{}, ByEvent: map[string][]Target{}, Stages: experiment.StageBits(metrics)}
	all := exps
	for _, l := range layers {
		if h := experiment.HoldoutExperiment(l, exps); h != nil {
			all = append(all[:len(all):len(all)], h)
		}
	}
	for _, e := range all {
		er := &ExperimentRules{Key: e.Key}
		for _, k := range e.AllMetrics() {
			if m, ok := byKey[k]; ok {
				er.Rules = append(er.Rules, ExperimentRule(e, m))
			}
		}
		a.Experiments[e.Key] = er
		for i := range er.Rules {
			m := er.Rules[i].Metric
			a.ByEvent[m.Event] = append(a.ByEvent[m.Event], Target{Exp: er, Rule: i})
			if m.Kind == experiment.KindRatio && m.DenominatorEvent != m.Event {
				a.ByEvent[m.DenominatorEvent] = append(a.ByEvent[m.DenominatorEvent], Target{Exp: er, Rule: i})
			}
		}
	}
	return a
}

// DayNanos is one UTC day in nanoseconds.
const DayNanos = int64(24 * time.Hour)

// DayOf is the UTC day (days since the Unix epoch) of a Unix-ns time. Event
// and exposure times are after 2000, so integer division is the floor.
func DayOf(ns int64) int64 { return ns / DayNanos }
