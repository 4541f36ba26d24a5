package report

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/journeylab/journeylab/bandit"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// OptimiseNote is the plain-words explanation an optimise-mode report carries.
const OptimiseNote = "Optimise mode: estimates are period-weighted because traffic weights changed over time. " +
	"Each exposure day counts in proportion to its share of all units, the same for every variant, " +
	"so a variant that got more traffic on good days is not favoured. " +
	"Units are the real exposed units; intervals and p-values use the period-weighted variance. " +
	"The segment breakdown and the daily time series pool units and are not period-weighted."

// Optimise says how the report of an experiment in optimise (bandit) mode
// was computed.
type Optimise struct {
	// Metric is the goal metric the bandit optimises.
	Metric string `json:"metric"`
	// Note explains the period weighting in plain words.
	Note string `json:"note"`
	// Days is the number of exposure days the goal metric's estimates use;
	// DroppedDays counts days left out because a variant had no units then.
	Days        int `json:"days"`
	DroppedDays int `json:"dropped_days"`

	// units are the real exposed units per metric and variant, shown
	// instead of the effective sample sizes the statistics carry.
	units map[string][]int64
}

// metricArms returns metric m's statistics per variant. In optimise mode
// they are period-weighted over exposure days (bandit.PeriodWeighted), so
// that the changing split does not bias them, and r.Optimise records how;
// otherwise all units are pooled.
func (r *Report) metricArms(ctx context.Context, src Source, e *experiment.Experiment, m experiment.Metric) ([]stats.ArmStats, error) {
	if e.Mode != experiment.ModeOptimise {
		cells, err := src.MetricCells(ctx, e, m, CellQuery{})
		if err != nil {
			return nil, err
		}
		return byVariant(e, cells), nil
	}
	cells, err := src.MetricCells(ctx, e, m, CellQuery{Daily: true})
	if err != nil {
		return nil, err
	}
	if r.Optimise == nil {
		r.Optimise = &Optimise{Note: OptimiseNote, units: map[string][]int64{}}
		if e.Optimise != nil {
			r.Optimise.Metric = e.Optimise.Metric
		}
	}
	periods := byDay(e, cells)
	est, err := bandit.PeriodWeighted(stats.Kind(m.Kind), periods)
	switch {
	case errors.Is(err, stats.ErrInvalidInput):
		// Let stats.Compare report the impossible input per comparison,
		// as it does for any experiment.
		return byVariant(e, cells), nil
	case err != nil && !errors.Is(err, stats.ErrNotEnoughData):
		return nil, fmt.Errorf("period-weighted estimate: %w", err)
	}
	out := make([]stats.ArmStats, len(e.Variants))
	units := make([]int64, len(e.Variants))
	for i, a := range est.Arms {
		units[i] = a.Units
		if err == nil {
			out[i] = a.Stats
		}
	}
	r.Optimise.units[m.Key] = units
	if e.Optimise != nil && m.Key == e.Optimise.Metric {
		r.Optimise.Days, r.Optimise.DroppedDays = est.Periods, est.Dropped
	}
	return out, nil
}

// showRealUnits puts the real exposed units into the KPI arms of an
// optimise-mode report, whose statistics carry effective sample sizes.
func (r *Report) showRealUnits() {
	if r.Optimise == nil {
		return
	}
	for s := range r.Stages {
		for k := range r.Stages[s].KPIs {
			kpi := &r.Stages[s].KPIs[k]
			units, ok := r.Optimise.units[kpi.Metric]
			if !ok {
				continue
			}
			for a := range kpi.Arms {
				if a < len(units) {
					kpi.Arms[a].Units = units[a]
				}
			}
		}
	}
}

// byDay arranges daily cells as periods[day][variant], days in time order.
// Cells of unknown variants are ignored, as byVariant does.
func byDay(e *experiment.Experiment, cells []Cell) [][]stats.ArmStats {
	index := map[time.Time]int{}
	var days []time.Time
	for _, c := range cells {
		d := c.Day.UTC()
		if _, ok := index[d]; !ok {
			index[d] = len(days)
			days = append(days, d)
		}
	}
	slices.SortFunc(days, time.Time.Compare)
	for i, d := range days {
		index[d] = i
	}
	out := make([][]stats.ArmStats, len(days))
	for i := range out {
		out[i] = make([]stats.ArmStats, len(e.Variants))
	}
	for _, c := range cells {
		if v := e.VariantIndex(c.Variant); v >= 0 {
			row := out[index[c.Day.UTC()]]
			row[v] = addStats(row[v], c.Stats)
		}
	}
	if len(out) == 0 {
		// No exposures yet: one empty day keeps the shape (every arm, no units).
		out = [][]stats.ArmStats{make([]stats.ArmStats, len(e.Variants))}
	}
	return out
}

// BanditSource adapts a Source to bandit.Source, which the bandit scheduler
// reads its goal metric through: all units of each variant, pooled.
type BanditSource struct {
	Source Source
}

// ArmStats returns metric m's statistics per variant of e, in e's order.
func (b BanditSource) ArmStats(ctx context.Context, e *experiment.Experiment, m experiment.Metric) ([]stats.ArmStats, error) {
	m.Normalize()
	cells, err := b.Source.MetricCells(ctx, e, m, CellQuery{})
	if err != nil {
		return nil, fmt.Errorf("bandit statistics of %s/%s: %w", e.Key, m.Key, err)
	}
	return byVariant(e, cells), nil
}
