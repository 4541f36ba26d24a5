package report

import (
	"context"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// staticSource returns the same two-arm cells for every metric, so that
// BenchmarkBuildComputeOnly12KPIs measures the statistics, not a store.
type staticSource struct {
	cells map[experiment.MetricKind][]Cell
}

func (s staticSource) ExposureCounts(ctx context.Context, key string) (map[string]int64, error) {
	return map[string]int64{"control": 500_000, "treatment": 500_000}, nil
}

func (s staticSource) MetricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q CellQuery) ([]Cell, error) {
	return s.cells[m.Kind], nil
}

func (s staticSource) Funnel(ctx context.Context, e *experiment.Experiment, steps []experiment.Metric) (map[string][]int64, error) {
	return nil, nil
}

// BenchmarkBuildComputeOnly12KPIs is the report's own cost for 12 KPIs on
// 1M units, without any I/O.
func BenchmarkBuildComputeOnly12KPIs(b *testing.B) {
	arm := func(v string, n int64, s stats.ArmStats) Cell { s.N = n; return Cell{Variant: v, Stats: s} }
	src := staticSource{cells: map[experiment.MetricKind][]Cell{
		experiment.KindBinomial: {arm("control", 500_000, stats.ArmStats{Sum: 50_000, SumSq: 50_000}), arm("treatment", 500_000, stats.ArmStats{Sum: 51_000, SumSq: 51_000})},
		experiment.KindMean:     {arm("control", 500_000, stats.ArmStats{Sum: 2e7, SumSq: 2e9}), arm("treatment", 500_000, stats.ArmStats{Sum: 2.02e7, SumSq: 2.03e9})},
		experiment.KindRatio: {arm("control", 500_000, stats.ArmStats{Sum: 2e7, SumSq: 2e9, DenSum: 3e5, DenSumSq: 4e5, SumNumDen: 2.5e7}),
			arm("treatment", 500_000, stats.ArmStats{Sum: 2.02e7, SumSq: 2.03e9, DenSum: 3e5, DenSumSq: 4e5, SumNumDen: 2.6e7})},
		experiment.KindNPS: {arm("control", 25_000, stats.NPSArm(9000, 8000, 8000)), arm("treatment", 25_000, stats.NPSArm(9200, 8000, 7800))},
	}}
	e := &experiment.Experiment{Key: "bench", Name: "bench", Stage: experiment.StageCheckout, Touchpoint: "checkout",
		Variants:         []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}},
		GoalMetrics:      []string{"conversion", "add_to_cart_rate"},
		SecondaryMetrics: []string{"bounce_rate", "landing_ctr", "product_views_per_visitor", "time_on_page", "review_reads", "wishlist_rate", "average_order_value", "revenue_per_visitor"},
		GuardrailMetrics: []string{"nps", "cart_abandonment"}}
	metrics := metricsByKey()
	ctx := context.Background()
	for b.Loop() {
		if _, err := Build(ctx, src, e, metrics, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
