package report

import (
	"context"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
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
	// Dimension names a unit attribute recorded at exposure (device, channel,
	// ...); a Source accepts any name for which ValidDimension holds.
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

// ValidDimension reports whether name can be a CellQuery.Dimension: letters,
// digits, '_', ':', '.' and '-', at most 100 characters, not starting with
// ':', '.' or '-' (the rule `^[A-Za-z0-9_][A-Za-z0-9_:.-]{0,99}$`). It
// admits every name ParseDimension does (and a few more), so what the HTTP
// layer lets through is always readable from the store. Stores record
// segment totals only for attributes whose names pass, and reject a query
// for any other. It runs for every attribute of every exposure stored, so
// it is a loop over bytes rather than a regular expression.
func ValidDimension(name string) bool {
	if len(name) == 0 || len(name) > 100 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '_':
		case (c == ':' || c == '.' || c == '-') && i > 0:
		default:
			return false
		}
	}
	return true
}

// NoDay is CellKey.Day for a query that is not daily.
const NoDay = math.MinInt64

// CellKey identifies one cell while a Source sums it. Day counts UTC days
// since the Unix epoch, or is NoDay when the query is not daily; Segment is
// "" when the query has no dimension.
type CellKey struct {
	Variant, Segment string
	Day              int64
}

// OrderCells returns one cell per variant of e for each (segment, day) that
// cells holds, ordered by day, segment, then the experiment's variant
// order; a query that is not daily gets the plain group even without data.
// Variants without data get zero cells, so the report always has every
// arm, and every Source answers in the same order.
func OrderCells(e *experiment.Experiment, cells map[CellKey]*stats.ArmStats, daily bool) []Cell {
	type group struct {
		segment string
		day     int64
	}
	seen := map[group]bool{}
	var groups []group
	for k := range cells {
		g := group{k.Segment, k.Day}
		if !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 && !daily {
		groups = append(groups, group{day: NoDay})
	}
	slices.SortFunc(groups, func(a, b group) int {
		if a.day != b.day {
			if a.day < b.day {
				return -1
			}
			return 1
		}
		return strings.Compare(a.segment, b.segment)
	})
	out := make([]Cell, 0, len(groups)*len(e.Variants))
	for _, g := range groups {
		for _, v := range e.Variants {
			c := Cell{Variant: v.Key, Segment: g.segment}
			if g.day != NoDay {
				c.Day = time.Unix(0, 0).UTC().AddDate(0, 0, int(g.day))
			}
			if a := cells[CellKey{v.Key, g.segment, g.day}]; a != nil {
				c.Stats = *a
			}
			out = append(out, c)
		}
	}
	return out
}
