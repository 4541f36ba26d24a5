package report

import (
	"context"
	"time"

	"journeylab/experiment"
	"journeylab/stats"
)

// Cell is one variant's sufficient statistics for one metric, optionally for
// one value of a dimension or one exposure day.
type Cell struct {
	Variant string
	// Segment is the dimension value ("" when not broken down; "(none)" for
	// units without the attribute).
	Segment string
	// Day is the UTC exposure day of the units in the cell (zero when not daily).
	Day   time.Time
	Stats stats.ArmStats
}

// CellQuery says how to slice the sufficient statistics.
type CellQuery struct {
	// Dimension names a unit attribute recorded at exposure (device, channel, ...).
	Dimension string
	// Daily splits cells by the units' exposure day.
	Daily bool
}

// Source reads what the report needs: sufficient statistics, never raw events.
// Conventions for Cell.Stats, per metric kind (units = exposed units of the arm,
// including those that sent no event, whose value is 0):
//   - binomial: N = units, Sum = SumSq = units with at least one event in the window.
//   - mean: N = units, Sum/SumSq over per-unit values (sum or count per the metric's
//     aggregation), capped when the metric says so (fixed value, or the percentile
//     computed over all units of the experiment).
//   - ratio: N = units; Sum, SumSq numerator; DenSum, DenSumSq denominator; SumNumDen.
//   - nps: N = respondents (units with a score), Sum = promoters − detractors,
//     SumSq = promoters + detractors, using each unit's latest score.
//   - Pre* fields: the same per-unit value over the pre-exposure window
//     (Analysis.PreExposureDays before exposure), for CUPED; zero when none.
type Source interface {
	// ExposureCounts returns exposed units per variant key (for SRM).
	ExposureCounts(ctx context.Context, experimentKey string) (map[string]int64, error)
	// MetricCells returns the cells of metric m for every variant of e.
	MetricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q CellQuery) ([]Cell, error)
	// Funnel returns, per variant key, how many exposed units completed
	// steps[0..k] (every step up to k, each per its metric's definition) for each k.
	Funnel(ctx context.Context, e *experiment.Experiment, steps []experiment.Metric) (map[string][]int64, error)
}
