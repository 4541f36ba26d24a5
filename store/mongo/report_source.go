package mongo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

// The MongoDB store is the report's data source.
var _ report.Source = (*Store)(nil)

// ExposureCounts implements report.Source with one aggregation over the
// experiment's exposures (a covered index scan on the server).
func (s *Store) ExposureCounts(ctx context.Context, experimentKey string) (map[string]int64, error) {
	ctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	defer cancel()
	rows, err := s.exposureGroups(ctx, experimentKey, false, "")
	if err != nil {
		return nil, wrap("exposure counts of "+experimentKey, err)
	}
	out := map[string]int64{}
	for _, r := range rows {
		out[r.ID.Variant] += r.N
	}
	return out, nil
}

// groupID is the _id of the report's $group stages.
type groupID struct {
	Variant string `bson:"v"`
	Day     *int64 `bson:"d"`
	Segment any    `bson:"s"`
}

// exposureRow is exposed units per group.
type exposureRow struct {
	ID groupID `bson:"_id"`
	N  int64   `bson:"n"`
}

// groupKey is the $group _id expression: variant, and optionally the
// exposure day and the dimension's segment value.
func groupKey(daily bool, dim string) bson.D {
	k := bson.D{{Key: "v", Value: "$variant"}}
	if daily {
		k = append(k, bson.E{Key: "d", Value: "$day"})
	}
	if dim != "" {
		k = append(k, bson.E{Key: "s", Value: segmentExpr(dim)})
	}
	return k
}

// exposurePipeline counts an experiment's exposed units per group.
func exposurePipeline(exp string, daily bool, dim string) drv.Pipeline {
	return drv.Pipeline{
		{{Key: "$match", Value: bson.D{eq("experiment", exp)}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: groupKey(daily, dim)}, {Key: "n", Value: bson.D{{Key: "$sum", Value: 1}}}}}},
	}
}

func (s *Store) exposureGroups(ctx context.Context, exp string, daily bool, dim string) ([]exposureRow, error) {
	var rows []exposureRow
	if err := s.aggregate(ctx, s.c.exposures, exposurePipeline(exp, daily, dim), &rows); err != nil {
		return nil, err
	}
	return rows, nil
}

func (s *Store) aggregate(ctx context.Context, c *drv.Collection, p drv.Pipeline, out any) error {
	cur, err := c.Aggregate(ctx, p, options.Aggregate().SetAllowDiskUse(true))
	if err != nil {
		return err
	}
	return cur.All(ctx, out)
}

// contributionRow is one group's summed contributions.
type contributionRow struct {
	ID         groupID `bson:"_id"`
	N          int64   `bson:"n"`
	Sum        float64 `bson:"sum"`
	SumSq      float64 `bson:"sum_sq"`
	DenSum     float64 `bson:"den_sum"`
	DenSumSq   float64 `bson:"den_sum_sq"`
	SumNumDen  float64 `bson:"sum_num_den"`
	PreSum     float64 `bson:"pre_sum"`
	PreSumSq   float64 `bson:"pre_sum_sq"`
	SumPrePost float64 `bson:"sum_pre_post"`
}

// contributionPipeline sums the per-unit contributions of one metric of an
// experiment per group, server-side, following events.Rule.Contribution:
// y and pre are capped at capAt for mean and ratio metrics (NaN = no cap).
func contributionPipeline(exp string, m experiment.Metric, capAt float64, daily bool, dim string) drv.Pipeline {
	y, pre := any("$y"), any("$pre")
	if (m.Kind == experiment.KindMean || m.Kind == experiment.KindRatio) && !math.IsNaN(capAt) {
		y = bson.D{{Key: "$min", Value: bson.A{"$y", capAt}}}
		pre = bson.D{{Key: "$min", Value: bson.A{"$pre", capAt}}}
	}
	mul := func(a, b string) bson.D {
		return bson.D{{Key: "$sum", Value: bson.D{{Key: "$multiply", Value: bson.A{a, b}}}}}
	}
	sum := func(a string) bson.D { return bson.D{{Key: "$sum", Value: a}} }
	return drv.Pipeline{
		{{Key: "$match", Value: bson.D{eq("experiment", exp), eq("metric", m.Key)}}},
		{{Key: "$project", Value: bson.D{
			{Key: "variant", Value: 1}, {Key: "day", Value: 1}, {Key: "attrs", Value: 1},
			{Key: "n", Value: 1}, {Key: "x", Value: 1}, {Key: "yc", Value: y}, {Key: "pc", Value: pre},
		}}},
		{{Key: "$group", Value: bson.D{
			{Key: "_id", Value: groupKey(daily, dim)},
			{Key: "n", Value: sum("$n")},
			{Key: "sum", Value: sum("$yc")}, {Key: "sum_sq", Value: mul("$yc", "$yc")},
			{Key: "den_sum", Value: sum("$x")}, {Key: "den_sum_sq", Value: mul("$x", "$x")}, {Key: "sum_num_den", Value: mul("$x", "$yc")},
			{Key: "pre_sum", Value: sum("$pc")}, {Key: "pre_sum_sq", Value: mul("$pc", "$pc")}, {Key: "sum_pre_post", Value: mul("$pc", "$yc")},
		}}},
	}
}

// MetricCells implements report.Source: the exposed units per cell and the
// summed contributions of the metric's rollups per cell, each one
// aggregation on the server, whatever the number of units. A metric
// without rollups (added after launch and not rebuilt yet) reads as zeros.
func (s *Store) MetricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q report.CellQuery) ([]report.Cell, error) {
	if q.Dimension != "" && !report.ValidDimension(q.Dimension) {
		return nil, &experiment.ValidationError{Field: "dimension", Message: "must be an attribute name: letters, digits, '_', ':', '.' and '-', at most 100 characters"}
	}
	ctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	defer cancel()
	cells, err := s.metricCells(ctx, e, m, q)
	if err != nil {
		return nil, wrap(fmt.Sprintf("cells of %s/%s", e.Key, m.Key), err)
	}
	return cells, nil
}

func (s *Store) metricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q report.CellQuery) ([]report.Cell, error) {
	rule := events.ExperimentRule(e, m)
	capAt, err := s.percentileCap(ctx, e.Key, &rule)
	if err != nil {
		return nil, err
	}
	cells := map[report.CellKey]*stats.ArmStats{}
	at := func(id groupID) *stats.ArmStats {
		k := report.CellKey{Variant: id.Variant, Day: report.NoDay}
		if q.Daily && id.Day != nil {
			k.Day = *id.Day
		}
		if q.Dimension != "" {
			k.Segment = segmentName(id.Segment)
		}
		a := cells[k]
		if a == nil {
			a = &stats.ArmStats{}
			cells[k] = a
		}
		return a
	}
	xs, err := s.exposureGroups(ctx, e.Key, q.Daily, q.Dimension)
	if err != nil {
		return nil, fmt.Errorf("count exposures: %w", err)
	}
	for _, r := range xs {
		a := at(r.ID)
		// NPS cells count respondents, but still get a cell for every group.
		if m.Kind != experiment.KindNPS {
			a.N += r.N
		}
	}
	var rows []contributionRow
	if err := s.aggregate(ctx, s.c.unitMetrics, contributionPipeline(e.Key, m, capAt, q.Daily, q.Dimension), &rows); err != nil {
		return nil, fmt.Errorf("sum rollups: %w", err)
	}
	for _, r := range rows {
		events.Contribution{N: r.N, Sum: r.Sum, SumSq: r.SumSq, DenSum: r.DenSum, DenSumSq: r.DenSumSq, SumNumDen: r.SumNumDen,
			PreSum: r.PreSum, PreSumSq: r.PreSumSq, SumPrePost: r.SumPrePost}.AddTo(at(r.ID))
	}
	return report.OrderCells(e, cells, q.Daily), nil
}

// percentileCap returns the cap of the rule's metric: its fixed value, the
// Value-quantile of every exposed unit's uncapped value, or NaN for none.
// The quantile is stats.PercentileCap's, as in store/sqlite, over all
// exposed units with those without a rollup counted as zeros, located by
// stats.PercentileCapRank: three counts and one ordered index look-up on
// the server instead of reading the values.
func (s *Store) percentileCap(ctx context.Context, exp string, rule *events.Rule) (float64, error) {
	if rule.Metric.Capping.Type != "percentile" {
		return rule.FixedCap(), nil
	}
	f := capFilters(exp, rule.Metric.Key)
	exposed, err := s.c.exposures.CountDocuments(ctx, f.exposed)
	if err != nil {
		return 0, fmt.Errorf("count exposures: %w", err)
	}
	rolled, err := s.c.unitMetrics.CountDocuments(ctx, f.rolled)
	if err != nil {
		return 0, fmt.Errorf("count rollups: %w", err)
	}
	zeros := max(exposed-rolled, 0)
	if rolled+zeros == 0 {
		return math.NaN(), nil
	}
	negative, err := s.c.unitMetrics.CountDocuments(ctx, f.negative)
	if err != nil {
		return 0, fmt.Errorf("count negative values: %w", err)
	}
	k, zero, ok := stats.PercentileCapRank(rule.Metric.Capping.Value, rolled, negative, zeros)
	switch {
	case !ok:
		return math.NaN(), nil
	case zero:
		return 0, nil
	}
	var d rollupDoc
	err = s.c.unitMetrics.FindOne(ctx, f.rolled, capLookup(k)).Decode(&d)
	if errors.Is(err, drv.ErrNoDocuments) {
		// Rollups changed between the counts and the look-up; the largest value is the nearest answer.
		err = s.c.unitMetrics.FindOne(ctx, f.rolled, capLookupLargest()).Decode(&d)
	}
	if err != nil {
		return 0, fmt.Errorf("find the percentile value: %w", err)
	}
	return d.Y, nil
}

// capQueryFilters are the filters of percentileCap's counts: an
// experiment's exposures, its rollups of one metric, and those of them
// with a negative value.
type capQueryFilters struct {
	exposed, rolled, negative bson.D
}

// capFilters builds percentileCap's count filters for one metric of exp.
func capFilters(exp, metric string) capQueryFilters {
	of := bson.D{eq("experiment", exp), eq("metric", metric)}
	return capQueryFilters{
		exposed:  bson.D{eq("experiment", exp)},
		rolled:   of,
		negative: append(slices.Clone(of), bson.E{Key: "y", Value: bson.D{{Key: "$lt", Value: 0.0}}}),
	}
}

// capLookup reads the rollup value at rank k in ascending order of y, from
// the experiment_metric_y index.
func capLookup(k int64) *options.FindOneOptions {
	return options.FindOne().SetSort(bson.D{{Key: "y", Value: 1}}).SetSkip(k).
		SetProjection(bson.D{{Key: "y", Value: 1}}).SetHint("experiment_metric_y")
}

// capLookupLargest reads the largest rollup value.
func capLookupLargest() *options.FindOneOptions {
	return options.FindOne().SetSort(bson.D{{Key: "y", Value: -1}}).
		SetProjection(bson.D{{Key: "y", Value: 1}}).SetHint("experiment_metric_y")
}

// segmentName names a segment value: "(none)" for a missing or empty attribute.
func segmentName(v any) string {
	switch x := v.(type) {
	case nil:
		return report.NoSegment
	case string:
		if x == "" {
			return report.NoSegment
		}
		return x
	case int32:
		return strconv.FormatInt(int64(x), 10)
	case int64:
		return strconv.FormatInt(x, 10)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	default:
		return fmt.Sprint(x)
	}
}

// funnelPipeline counts, per variant, the units whose rollups show every
// step up to k completed (count > 0), for each k: one $group collects each
// unit's completed metrics, a second counts prefixes per variant.
func funnelPipeline(exp string, steps []experiment.Metric) drv.Pipeline {
	keys := make([]string, 0, len(steps))
	for _, m := range steps {
		if !slices.Contains(keys, m.Key) {
			keys = append(keys, m.Key)
		}
	}
	counts := bson.D{{Key: "_id", Value: "$v"}}
	for k := range steps {
		prefix := make(bson.A, 0, k+1)
		for _, m := range steps[:k+1] {
			prefix = append(prefix, m.Key)
		}
		done := bson.D{{Key: "$setIsSubset", Value: bson.A{bson.D{{Key: "$literal", Value: prefix}}, "$ms"}}}
		counts = append(counts, bson.E{Key: "s" + strconv.Itoa(k), Value: bson.D{{Key: "$sum", Value: bson.D{{Key: "$cond", Value: bson.A{done, 1, 0}}}}}})
	}
	return drv.Pipeline{
		{{Key: "$match", Value: bson.D{eq("experiment", exp), in("metric", keys), {Key: "count", Value: bson.D{{Key: "$gt", Value: 0}}}}}},
		{{Key: "$group", Value: bson.D{{Key: "_id", Value: "$unit_id"}, {Key: "v", Value: bson.D{{Key: "$first", Value: "$variant"}}}, {Key: "ms", Value: bson.D{{Key: "$addToSet", Value: "$metric"}}}}}},
		{{Key: "$group", Value: counts}},
	}
}

// Funnel implements report.Source: per variant, how many exposed units
// completed steps 0..k (at least one numerator event inside each step
// metric's window), for every k, counted on the server. A step whose
// metric is not one of the experiment's metrics has no rollups, so it and
// the steps after it count 0.
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
	ctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	defer cancel()
	var rows []bson.M
	if err := s.aggregate(ctx, s.c.unitMetrics, funnelPipeline(e.Key, steps), &rows); err != nil {
		return nil, wrap("funnel of "+e.Key, err)
	}
	for _, r := range rows {
		v, _ := r["_id"].(string)
		counts := out[v]
		if counts == nil {
			continue
		}
		for k := range steps {
			counts[k] = toInt64(r["s"+strconv.Itoa(k)])
		}
	}
	return out, nil
}

// toInt64 reads a $sum result, which the server returns as int32 or int64.
func toInt64(v any) int64 {
	switch x := v.(type) {
	case int32:
		return int64(x)
	case int64:
		return x
	case float64:
		return int64(x)
	}
	return 0
}
