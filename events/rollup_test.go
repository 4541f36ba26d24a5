package events

import (
	"math"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

func fold(r Rule, exposedAt int64, pts ...Point) Rollup {
	var u Rollup
	for _, p := range pts {
		r.Fold(&u, exposedAt, p)
	}
	return u
}

func TestContributionConventions(t *testing.T) {
	h := int64(time.Hour)
	aov := experiment.Metric{Key: "aov", Kind: experiment.KindRatio, Event: "order", Aggregation: experiment.AggSum,
		DenominatorEvent: "order", DenominatorAggregation: experiment.AggCount, Capping: experiment.Capping{Type: "value", Value: 150}}
	revenue := experiment.Metric{Key: "rev", Kind: experiment.KindMean, Event: "order", Aggregation: experiment.AggSum}
	conv := experiment.Metric{Key: "conv", Kind: experiment.KindBinomial, Event: "order", Aggregation: experiment.AggCount}
	orders := []Point{{ID: "1", Event: "order", TS: h, Value: 100}, {ID: "2", Event: "order", TS: 2 * h, Value: 80}, {ID: "0", Event: "order", TS: -h, Value: 40}}
	cases := []struct {
		name string
		m    experiment.Metric
		cap  float64
		want Contribution
	}{
		{"a ratio caps the numerator, not the denominator", aov, 150,
			Contribution{Sum: 150, SumSq: 22500, DenSum: 2, DenSumSq: 4, SumNumDen: 300, PreSum: 40, PreSumSq: 1600, SumPrePost: 6000}},
		{"a mean without cap sums the values", revenue, math.NaN(),
			Contribution{Sum: 180, SumSq: 32400, PreSum: 40, PreSumSq: 1600, SumPrePost: 7200}},
		{"a mean caps the pre-exposure value too", revenue, 30,
			Contribution{Sum: 30, SumSq: 900, PreSum: 30, PreSumSq: 900, SumPrePost: 900}},
		{"a binomial is 0 or 1 whatever the values and cap", conv, 0.5,
			Contribution{Sum: 1, SumSq: 1, PreSum: 1, PreSumSq: 1, SumPrePost: 1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := NewRule(tc.m, 14)
			if got := r.Contribution(fold(r, 0, orders...), tc.cap); got != tc.want {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestFoldReportsChanges(t *testing.T) {
	r := NewRule(experiment.Metric{Kind: experiment.KindMean, Event: "order", Aggregation: experiment.AggSum, WindowHours: 1}, 1)
	var u Rollup
	if r.Fold(&u, 0, Point{ID: "x", Event: "page_view", TS: 1, Value: 1}) {
		t.Error("an event of another name changed the rollup")
	}
	if r.Fold(&u, 0, Point{ID: "x", Event: "order", TS: int64(2 * time.Hour), Value: 1}) {
		t.Error("an event after the window changed the rollup")
	}
	if r.Fold(&u, 0, Point{ID: "x", Event: "order", TS: -int64(25 * time.Hour), Value: 1}) {
		t.Error("an event before the pre-exposure window changed the rollup")
	}
	if !r.Fold(&u, 0, Point{ID: "x", Event: "order", TS: int64(time.Minute), Value: 3}) || u.Count != 1 || u.Sum != 3 {
		t.Errorf("an event in the window: %+v", u)
	}
}
