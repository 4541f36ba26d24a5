package stats

import (
	"fmt"
	"testing"
)

func BenchmarkCompare(b *testing.B) {
	cupedA := ArmStats{N: 3001, Sum: 300, SumSq: 600, PreSum: 210, PreSumSq: 415, SumPrePost: -20}
	cupedB := ArmStats{N: 3000, Sum: 222, SumSq: 555, PreSum: 120, PreSumSq: 405, SumPrePost: -10}
	cases := []struct {
		name string
		kind Kind
		a, b ArmStats
		opts Options
	}{
		{"frequentist mean", KindMean, meanA, meanB, Options{}},
		{"frequentist binomial small df", KindBinomial, ArmStats{N: 28, Sum: 14}, ArmStats{N: 30, Sum: 16}, Options{}},
		{"frequentist mean CUPED", KindMean, cupedA, cupedB, Options{CUPED: true}},
		{"sequential mean", KindMean, meanA, meanB, Options{Method: Sequential}},
		{"bayesian binomial", KindBinomial, ArmStats{N: 100, Sum: 49}, ArmStats{N: 100, Sum: 51}, Options{Method: Bayesian}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Compare(c.kind, c.a, c.b, c.opts)
			}
		})
	}
}

func BenchmarkProbabilityBest(b *testing.B) {
	for _, k := range []int{2, 4, 10} {
		means, sds := make([]float64, k), make([]float64, k)
		for i := range k {
			means[i] = 0.10 + 0.002*float64(i)
			sds[i] = 0.003 + 0.0005*float64(i)
		}
		b.Run(fmt.Sprintf("%d arms", k), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ProbabilityBest(means, sds)
			}
		})
	}
	b.Run("2 arms with very unequal sds", func(b *testing.B) {
		for b.Loop() {
			ProbabilityBest([]float64{0.1, 0.1001}, []float64{0.01, 0.00001})
		}
	})
}
