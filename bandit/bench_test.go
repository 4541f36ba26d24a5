package bandit

import (
	"math/rand/v2"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// BenchmarkWeights is one re-weighting of a three-arm experiment: the
// scheduler's CPU cost per experiment per interval, store reads aside.
func BenchmarkWeights(b *testing.B) {
	arms := []stats.ArmStats{conv(10000, 1000), conv(10000, 1100), conv(10000, 1300)}
	for b.Loop() {
		if _, err := Weights(arms, stats.KindBinomial, experiment.HigherIsBetter, 0.01); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPeriodWeighted is the report's estimate for one KPI of a
// three-arm experiment that ran for 90 days.
func BenchmarkPeriodWeighted(b *testing.B) {
	periods := randomPeriods(rand.New(rand.NewPCG(1, 2)), stats.KindRatio, 90, 3)
	for b.Loop() {
		if _, err := PeriodWeighted(stats.KindRatio, periods); err != nil {
			b.Fatal(err)
		}
	}
}
