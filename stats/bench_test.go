package stats

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat"
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

func BenchmarkPlan(b *testing.B) {
	rate := Design{Kind: KindBinomial, Baseline: 0.05, Scale: RelativeMDE}
	small := Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Test: TTest}
	seq := Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Method: Sequential, Arms: 3}
	cases := []struct {
		name string
		f    func() error
	}{
		{"sample size z", func() error { _, err := rate.SampleSize(0.1); return err }},
		{"sample size exact t", func() error { _, err := small.SampleSize(1); return err }},
		{"sample size sequential 3 arms", func() error { _, err := seq.SampleSize(0.1); return err }},
		{"power z", func() error { _, err := rate.Power(0.1, 20000); return err }},
		{"MDE z", func() error { _, err := rate.MDE(20000); return err }},
		{"MDE exact t", func() error { _, err := small.MDE(12); return err }},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				if err := c.f(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPercentileCap is the cap of a report over 1M exposed units, 30%
// of them with a value (the rest are zeros), beside gonum's weighted
// empirical quantile on the same input, the computation it replaced:
//
//	go test ./stats -run '^$' -bench PercentileCap -benchtime 20x -count 3
func BenchmarkPercentileCap(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	values := make([]float64, 300_000)
	for i := range values {
		values[i] = rng.ExpFloat64() * 50
	}
	const zeros = 700_000
	b.Run("PercentileCap", func(b *testing.B) {
		for b.Loop() {
			PercentileCap(values, zeros, 0.99)
		}
	})
	b.Run("gonum weighted quantile", func(b *testing.B) {
		for b.Loop() {
			xs := slices.Clone(values)
			slices.Sort(xs)
			ws := make([]float64, len(xs), len(xs)+1)
			for i := range ws {
				ws[i] = 1
			}
			at, _ := slices.BinarySearch(xs, 0)
			xs, ws = slices.Insert(xs, at, 0), slices.Insert(ws, at, zeros)
			stat.Quantile(0.99, stat.Empirical, xs, ws)
		}
	})
}
