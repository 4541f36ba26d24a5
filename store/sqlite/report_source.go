package sqlite

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

// The SQLite store is the report's data source.
var _ report.Source = (*Store)(nil)

// ExposureCounts implements report.Source.
func (s *Store) ExposureCounts(ctx context.Context, experimentKey string) (map[string]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT variant, SUM(n) FROM exposure_counts WHERE experiment = ? GROUP BY variant`, experimentKey)
	if err != nil {
		return nil, fmt.Errorf("exposure counts of %s: %w", experimentKey, err)
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var v string
		var n int64
		if err := rows.Scan(&v, &n); err != nil {
			return nil, fmt.Errorf("scan exposure count: %w", err)
		}
		out[v] = n
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("exposure counts of %s: %w", experimentKey, err)
	}
	return out, nil
}

// cellSet accumulates cells; day is report.NoDay when the query is not daily.
type cellSet struct {
	daily bool
	cells map[report.CellKey]*stats.ArmStats
}

func (c *cellSet) at(variant, segment string, day int64) *stats.ArmStats {
	if !c.daily {
		day = report.NoDay
	}
	k := report.CellKey{Variant: variant, Segment: segment, Day: day}
	a := c.cells[k]
	if a == nil {
		a = &stats.ArmStats{}
		c.cells[k] = a
	}
	return a
}

// MetricCells implements report.Source. The plain query (no dimension, no
// percentile cap) reads only the maintained totals: a few rows per variant
// and exposure day, whatever the number of units. A dimension breakdown
// reads the maintained segment totals too (segments.go), unless the metric
// has a percentile cap, some exposure had the dimension beyond the bounds,
// or the segment totals are still pending a rebuild: then it, like the
// percentile cap, scans the experiment's per-unit rollups. A metric without
// rollups (added to the experiment after launch and not rebuilt yet) reads
// as zeros.
func (s *Store) MetricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q report.CellQuery) ([]report.Cell, error) {
	if q.Dimension != "" && !report.ValidDimension(q.Dimension) {
		return nil, &experiment.ValidationError{Field: "dimension", Message: "must be an attribute name: letters, digits, '_', ':', '.' and '-', at most 100 characters"}
	}
	rule := events.ExperimentRule(e, m)
	set := &cellSet{daily: q.Daily, cells: map[report.CellKey]*stats.ArmStats{}}
	var err error
	switch {
	case q.Dimension != "":
		maintained := false
		if m.Capping.Type != "percentile" {
			maintained, err = s.segmentsMaintained(ctx, e.Key, q.Dimension)
		}
		switch {
		case err != nil:
		case maintained:
			err = s.maintainedSegmentCells(ctx, e.Key, &rule, q.Dimension, set)
		default:
			err = s.segmentCells(ctx, e.Key, &rule, q.Dimension, set)
		}
	case m.Capping.Type == "percentile":
		err = s.scannedCells(ctx, e.Key, &rule, set)
	default:
		err = s.totalCells(ctx, e.Key, m, set)
	}
	if err != nil {
		return nil, fmt.Errorf("cells of %s/%s: %w", e.Key, m.Key, err)
	}
	return report.OrderCells(e, set.cells, set.daily), nil
}

// totalCells reads exposure counts and the maintained totals.
func (s *Store) totalCells(ctx context.Context, exp string, m experiment.Metric, set *cellSet) error {
	if err := s.addExposureCells(ctx, exp, m.Kind, set); err != nil {
		return err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT variant, day, n, sum, sum_sq, den_sum, den_sum_sq, sum_num_den, pre_sum, pre_sum_sq, sum_pre_post
		FROM metric_totals WHERE experiment = ? AND metric = ?`, exp, m.Key)
	if err != nil {
		return fmt.Errorf("read totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var day int64
		var c events.Contribution
		if err := rows.Scan(&v, &day, &c.N, &c.Sum, &c.SumSq, &c.DenSum, &c.DenSumSq, &c.SumNumDen, &c.PreSum, &c.PreSumSq, &c.SumPrePost); err != nil {
			return fmt.Errorf("scan totals: %w", err)
		}
		c.AddTo(set.at(v, "", day))
	}
	return rows.Err()
}

// addExposureCells sets N of every (variant, day) cell from the exposure
// counts (binomial, mean and ratio); NPS cells count respondents instead,
// but still get a cell for every exposure day.
func (s *Store) addExposureCells(ctx context.Context, exp string, kind experiment.MetricKind, set *cellSet) error {
	rows, err := s.r.QueryContext(ctx, `SELECT variant, day, n FROM exposure_counts WHERE experiment = ?`, exp)
	if err != nil {
		return fmt.Errorf("read exposure counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var day, n int64
		if err := rows.Scan(&v, &day, &n); err != nil {
			return fmt.Errorf("scan exposure count: %w", err)
		}
		a := set.at(v, "", day)
		if kind != experiment.KindNPS {
			a.N += n
		}
	}
	return rows.Err()
}

// scannedCells sums per-unit contributions of a percentile-capped metric,
// with the cap computed over every exposed unit (units without events have
// the value 0). The rollups are read once: their values are kept until the
// cap is known.
func (s *Store) scannedCells(ctx context.Context, exp string, rule *events.Rule, set *cellSet) error {
	if err := s.addExposureCells(ctx, exp, rule.Metric.Kind, set); err != nil {
		return err
	}
	type unitValues struct {
		arm       *stats.ArmStats
		y, x, pre float64
		counts    bool
	}
	var units []unitValues
	rows, err := s.r.QueryContext(ctx, `SELECT variant, day, `+rollupColumns+` FROM unit_metrics WHERE experiment = ? AND metric = ?`, exp, rule.Metric.Key)
	if err != nil {
		return fmt.Errorf("scan rollups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var day int64
		u, err := scanRollup(rows.Scan, &v, &day)
		if err != nil {
			return fmt.Errorf("scan rollup: %w", err)
		}
		y, x, pre, counts := rule.Values(u)
		units = append(units, unitValues{set.at(v, "", day), y, x, pre, counts})
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("scan rollups: %w", err)
	}
	ys := make([]float64, len(units))
	for i := range units {
		ys[i] = units[i].y
	}
	cap, err := s.quantileOfExposed(ctx, exp, rule.Metric.Capping.Value, ys)
	if err != nil {
		return err
	}
	for _, u := range units {
		rule.ContributionOf(u.y, u.x, u.pre, u.counts, cap).AddTo(u.arm)
	}
	return nil
}

// percentileCap returns the cap of the metric's capping: its fixed value,
// the Value-quantile of every exposed unit's value, or NaN for none.
func (s *Store) percentileCap(ctx context.Context, exp string, rule *events.Rule) (float64, error) {
	if rule.Metric.Capping.Type != "percentile" {
		return rule.FixedCap(), nil
	}
	rows, err := s.r.QueryContext(ctx, `SELECT `+rollupColumns+` FROM unit_metrics WHERE experiment = ? AND metric = ?`, exp, rule.Metric.Key)
	if err != nil {
		return 0, fmt.Errorf("scan rollups: %w", err)
	}
	defer rows.Close()
	var values []float64
	for rows.Next() {
		u, err := scanRollup(rows.Scan)
		if err != nil {
			return 0, fmt.Errorf("scan rollup: %w", err)
		}
		y, _, _, _ := rule.Values(u)
		values = append(values, y)
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return s.quantileOfExposed(ctx, exp, rule.Metric.Capping.Value, values)
}

// quantileOfExposed returns the p-quantile of the values of the units with a
// rollup together with the experiment's other exposed units, whose value is
// 0 (stats.PercentileCap); NaN, no cap, when nobody is exposed.
func (s *Store) quantileOfExposed(ctx context.Context, exp string, p float64, values []float64) (float64, error) {
	var exposed int64
	if err := s.r.QueryRowContext(ctx, `SELECT COALESCE(SUM(n), 0) FROM exposure_counts WHERE experiment = ?`, exp).Scan(&exposed); err != nil {
		return 0, fmt.Errorf("count exposures: %w", err)
	}
	return stats.PercentileCap(values, exposed-int64(len(values)), p), nil
}

// segmentCells breaks the metric down by an exposure attribute: it joins
// every exposure of the experiment with the unit's rollup.
func (s *Store) segmentCells(ctx context.Context, exp string, rule *events.Rule, dim string, set *cellSet) error {
	cap, err := s.percentileCap(ctx, exp, rule)
	if err != nil {
		return err
	}
	cols := strings.ReplaceAll(rollupColumns, " ", "")
	var sel []string
	for _, c := range strings.Split(cols, ",") {
		zero := "0"
		if strings.HasSuffix(c, "_id") {
			zero = "''"
		}
		sel = append(sel, "COALESCE(u."+c+", "+zero+")")
	}
	rows, err := s.r.QueryContext(ctx, `SELECT x.variant, x.at, json_extract(x.attributes, ?), `+strings.Join(sel, ", ")+`
		FROM exposures x LEFT JOIN unit_metrics u ON u.experiment = x.experiment AND u.unit_id = x.unit_id AND u.metric = ?
		WHERE x.experiment = ?`, `$."`+dim+`"`, rule.Metric.Key, exp)
	if err != nil {
		return fmt.Errorf("scan exposures: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var v string
		var at int64
		var seg any
		u, err := scanRollup(rows.Scan, &v, &at, &seg)
		if err != nil {
			return fmt.Errorf("scan exposure rollup: %w", err)
		}
		a := set.at(v, segmentName(seg), events.DayOf(at))
		if rule.Metric.Kind != experiment.KindNPS {
			a.N++
		}
		rule.Contribution(u, cap).AddTo(a)
	}
	return rows.Err()
}

func segmentName(v any) string {
	switch x := v.(type) {
	case nil:
		return report.NoSegment
	case string:
		if x == "" {
			return report.NoSegment
		}
		return x
	case []byte:
		if len(x) == 0 {
			return report.NoSegment
		}
		return string(x)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// Funnel implements report.Source: per variant, how many exposed units
// completed steps 0..k (at least one numerator event inside each step
// metric's window), for every k. A step whose metric is not one of the
// experiment's metrics has no rollups, so it and the steps after it count 0.
func (s *Store) Funnel(ctx context.Context, e *experiment.Experiment, steps []experiment.Metric) (map[string][]int64, error) {
	out := map[string][]int64{}
	for _, v := range e.Variants {
		out[v.Key] = make([]int64, len(steps))
	}
	if len(steps) == 0 {
		return out, nil
	}
	if len(steps) > 62 {
		return nil, &experiment.ValidationError{Field: "steps", Message: "at most 62 funnel steps"}
	}
	bit := map[string]uint64{}
	var keys []any
	for i, m := range steps {
		if _, ok := bit[m.Key]; !ok {
			keys = append(keys, m.Key)
		}
		bit[m.Key] |= 1 << i
	}
	// Rows come in primary-key order (experiment, unit, metric), so one
	// unit's steps are adjacent and no per-unit map is needed.
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id, variant, metric FROM unit_metrics
		WHERE experiment = ? AND count > 0 AND metric IN (?`+strings.Repeat(", ?", len(keys)-1)+`) ORDER BY unit_id`,
		append([]any{e.Key}, keys...)...)
	if err != nil {
		return nil, fmt.Errorf("funnel of %s: %w", e.Key, err)
	}
	defer rows.Close()
	var unit, variant string
	var mask uint64
	count := func() {
		counts := out[variant]
		if counts == nil {
			return
		}
		for k := range steps {
			if mask&(1<<k) == 0 {
				break
			}
			counts[k]++
		}
	}
	for rows.Next() {
		var u, v, metric string
		if err := rows.Scan(&u, &v, &metric); err != nil {
			return nil, fmt.Errorf("scan funnel row: %w", err)
		}
		if u != unit {
			if unit != "" {
				count()
			}
			unit, variant, mask = u, v, 0
		}
		mask |= bit[metric]
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("funnel of %s: %w", e.Key, err)
	}
	if unit != "" {
		count()
	}
	return out, nil
}
