package bandit

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/journeylab/journeylab/stats"
)

func near(got, want, tol float64) bool { return math.Abs(got-want) <= tol }

// plus pools the statistics of two disjoint sets of units.
func plus(a, b stats.ArmStats) stats.ArmStats {
	s := addScaled(a, b, 1)
	s.N = a.N + b.N
	return s
}

func TestPeriodWeightedMatchesHandComputedExamples(t *testing.T) {
	type arm struct{ mean, se, pooled float64 }
	cases := []struct {
		name    string
		kind    stats.Kind
		periods [][]stats.ArmStats
		want    []arm
	}{
		{
			// Day 1: A 10/100, B 20/100. Day 2: A 30/100, B 120/300.
			// w = (200, 400)/600 = (1/3, 2/3).
			// A: 1/3·0.1 + 2/3·0.3 = 0.2333…; Var = 1/9·0.09/100 + 4/9·0.21/100 = 0.0010333…
			// B: 1/3·0.2 + 2/3·0.4 = 0.3333…; Var = 1/9·0.16/100 + 4/9·0.24/300 = 0.0005333…
			name: "conversion is weighted by each day's share of all units",
			kind: stats.KindBinomial,
			periods: [][]stats.ArmStats{
				{{N: 100, Sum: 10, SumSq: 10}, {N: 100, Sum: 20, SumSq: 20}},
				{{N: 100, Sum: 30, SumSq: 30}, {N: 300, Sum: 120, SumSq: 120}},
			},
			want: []arm{
				{mean: 0.7 / 3, se: math.Sqrt(0.0031 / 3), pooled: 40.0 / 200},
				{mean: 1.0 / 3, se: math.Sqrt(0.0016 / 3), pooled: 140.0 / 400},
			},
		},
		{
			// Day 1: A {1, 3} (mean 2, s² 2), B {2, 2} (mean 2, s² 0).
			// Day 2: A {5, 7} (mean 6, s² 2), B {4,4,4,6,6,6} (mean 5, s² 1.2).
			// w = (4, 8)/12 = (1/3, 2/3).
			// A: 2/3 + 4 = 4.666…; Var = 1/9·2/2 + 4/9·2/2 = 5/9.
			// B: 2/3 + 10/3 = 4;    Var = 0 + 4/9·1.2/6 = 0.0888…
			// Pooled, B (4.25) beats A (4): Simpson's paradox.
			name: "a revenue mean reverses Simpson's paradox",
			kind: stats.KindMean,
			periods: [][]stats.ArmStats{
				{{N: 2, Sum: 4, SumSq: 10}, {N: 2, Sum: 4, SumSq: 8}},
				{{N: 2, Sum: 12, SumSq: 74}, {N: 6, Sum: 30, SumSq: 156}},
			},
			want: []arm{
				{mean: 14.0 / 3, se: math.Sqrt(5.0 / 9), pooled: 4},
				{mean: 4, se: math.Sqrt(0.8 / 9), pooled: 4.25},
			},
		},
		{
			// Units (y, x). Day 1: A (10,1) (20,2); B (30,1) (30,1).
			// Day 2: A (40,2); B (10,1) ×6. w = (4, 7)/11.
			// A: ȳ = 4/11·15 + 7/11·40 = 340/11, x̄ = 4/11·1.5 + 7/11·2 = 20/11, r = 17.
			// Linearised z = (y − 17x)/x̄: day 1 z·x̄ = −7, −14 (s² 24.5, n 2);
			// day 2 a single unit (s² 0). Var = (4/11)²·24.5/(20/11)²/2 = 0.49.
			// B: ȳ = 4/11·30 + 7/11·10 = 190/11, x̄ = 1, r = 190/11; every z is 0 within a day.
			name: "a ratio weights numerator and denominator means",
			kind: stats.KindRatio,
			periods: [][]stats.ArmStats{
				{
					{N: 2, Sum: 30, SumSq: 500, DenSum: 3, DenSumSq: 5, SumNumDen: 50},
					{N: 2, Sum: 60, SumSq: 1800, DenSum: 2, DenSumSq: 2, SumNumDen: 60},
				},
				{
					{N: 1, Sum: 40, SumSq: 1600, DenSum: 2, DenSumSq: 4, SumNumDen: 80},
					{N: 6, Sum: 60, SumSq: 600, DenSum: 6, DenSumSq: 6, SumNumDen: 60},
				},
			},
			want: []arm{
				{mean: 17, se: 0.7, pooled: 70.0 / 5},
				{mean: 190.0 / 11, se: 0, pooled: 120.0 / 8},
			},
		},
		{
			// Day 1: A P=6 D=2 of 10; B P=2 D=2 of 10. Day 2: A P=1 D=1 of 10; B P=8 D=0 of 30.
			// w = (20, 40)/60. A: 1/3·0.4 + 2/3·0 = 0.1333…;
			// Var = 1/9·(0.8 − 0.16)/10 + 4/9·(0.2 − 0)/10 = 0.144/9 = 0.016.
			name: "NPS is promoters minus detractors per day, weighted",
			kind: stats.KindNPS,
			periods: [][]stats.ArmStats{
				{stats.NPSArm(6, 2, 2), stats.NPSArm(2, 6, 2)},
				{stats.NPSArm(1, 8, 1), stats.NPSArm(8, 22, 0)},
			},
			want: []arm{
				{mean: 0.4 / 3, se: math.Sqrt(0.016), pooled: 4.0 / 20},
				// B: 1/3·0 + 2/3·(8/30); Var = 1/9·0.4/10 + 4/9·(8/30 − 64/900)/30.
				{mean: 16.0 / 90, se: math.Sqrt(0.04/9 + 4.0/9*(8.0/30-64.0/900)/30), pooled: 8.0 / 40},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := PeriodWeighted(tc.kind, tc.periods)
			if err != nil {
				t.Fatal(err)
			}
			if got.Periods != 2 || got.Dropped != 0 {
				t.Errorf("periods used/dropped = %d/%d, want 2/0", got.Periods, got.Dropped)
			}
			for a, w := range tc.want {
				g := got.Arms[a]
				if !g.Defined || !near(g.Mean, w.mean, 1e-12) || !near(g.SE, w.se, 1e-12) {
					t.Errorf("arm %d: mean %.12g ± %.12g (defined %v), want %.12g ± %.12g", a, g.Mean, g.SE, g.Defined, w.mean, w.se)
				}
				pooled := plus(tc.periods[0][a], tc.periods[1][a])
				if tc.kind == stats.KindRatio {
					if p := pooled.Sum / pooled.DenSum; !near(p, w.pooled, 1e-12) {
						t.Errorf("arm %d: pooled %.6g, hand-computed %.6g", a, p, w.pooled)
					}
				} else if p := pooled.Sum / float64(pooled.N); !near(p, w.pooled, 1e-12) {
					t.Errorf("arm %d: pooled %.6g, hand-computed %.6g", a, p, w.pooled)
				}
				if wantUnits := tc.periods[0][a].N + tc.periods[1][a].N; g.Units != wantUnits {
					t.Errorf("arm %d: units %d, want %d", a, g.Units, wantUnits)
				}
			}
		})
	}
}

// TestPeriodWeightedStatsReadBackInStats checks the contract that lets the
// report reuse package stats: comparing the synthetic Stats of two arms
// gives exactly the difference of the period-weighted means and the
// standard error √(SE₀² + SE₁²), up to the rounding of the effective sample
// size.
func TestPeriodWeightedStatsReadBackInStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 11))
	for _, kind := range []stats.Kind{stats.KindBinomial, stats.KindMean, stats.KindRatio, stats.KindNPS} {
		t.Run(string(kind)+" statistics read back as the same mean and standard error", func(t *testing.T) {
			for range 50 {
				periods := randomPeriods(rng, kind, 1+rng.IntN(10), 2)
				est, err := PeriodWeighted(kind, periods)
				if err != nil {
					t.Fatal(err)
				}
				a, b := est.Arms[0], est.Arms[1]
				r := stats.Compare(kind, a.Stats, b.Stats, stats.Options{})
				if !r.OK() {
					t.Fatalf("stats.Compare on the synthetic stats: %s (%+v vs %+v)", r.Reason, a.Stats, b.Stats)
				}
				if !near(r.ControlMean, a.Mean, 1e-9*math.Max(1, math.Abs(a.Mean))) || !near(r.TreatmentMean, b.Mean, 1e-9*math.Max(1, math.Abs(b.Mean))) {
					t.Fatalf("means read back %g, %g; want %g, %g", r.ControlMean, r.TreatmentMean, a.Mean, b.Mean)
				}
				want := math.Hypot(a.SE, b.SE)
				// Rounding N to whole units, plus Bessel's n−1 for mean and ratio.
				tol := want * (1/float64(min(a.Stats.N, b.Stats.N)) + 1e-9)
				if !near(r.Absolute.SE, want, tol) {
					t.Fatalf("standard error read back %g, want %g (effective N %d, %d)", r.Absolute.SE, want, a.Stats.N, b.Stats.N)
				}
			}
		})
	}
	t.Run("one period gives back the pooled statistics unchanged", func(t *testing.T) {
		for _, kind := range []stats.Kind{stats.KindBinomial, stats.KindMean, stats.KindRatio, stats.KindNPS} {
			p := randomPeriods(rng, kind, 1, 3)
			est, err := PeriodWeighted(kind, p)
			if err != nil {
				t.Fatal(err)
			}
			for a, s := range p[0] {
				g := est.Arms[a].Stats
				if g.N != s.N || !near(g.Sum, s.Sum, 1e-9*math.Abs(s.Sum)) || !near(g.SumSq, s.SumSq, 1e-9*s.SumSq) || !near(g.DenSum, s.DenSum, 1e-9*math.Abs(s.DenSum)) {
					t.Errorf("%s arm %d: %+v, want %+v", kind, a, g, s)
				}
			}
		}
	})
}

func TestPeriodWeightedEdgeCases(t *testing.T) {
	conv := func(n int64, c float64) stats.ArmStats { return stats.ArmStats{N: n, Sum: c, SumSq: c} }
	t.Run("a day on which one arm had no units is left out for every arm", func(t *testing.T) {
		got, err := PeriodWeighted(stats.KindBinomial, [][]stats.ArmStats{
			{conv(100, 10), conv(0, 0)},
			{conv(100, 20), conv(100, 30)},
		})
		if err != nil {
			t.Fatal(err)
		}
		if got.Periods != 1 || got.Dropped != 1 {
			t.Errorf("used/dropped = %d/%d, want 1/1", got.Periods, got.Dropped)
		}
		if got.Arms[0].Mean != 0.2 || got.Arms[0].Units != 200 {
			t.Errorf("arm 0 = %+v, want mean 0.2 from day 2 and 200 units in all", got.Arms[0])
		}
	})
	t.Run("days without any units are neither used nor counted as dropped", func(t *testing.T) {
		got, err := PeriodWeighted(stats.KindBinomial, [][]stats.ArmStats{{{}, {}}, {conv(10, 1), conv(10, 2)}})
		if err != nil || got.Periods != 1 || got.Dropped != 0 {
			t.Errorf("got %+v, %v; want one period used, none dropped", got, err)
		}
	})
	t.Run("without a day with units in every arm there is not enough data", func(t *testing.T) {
		got, err := PeriodWeighted(stats.KindBinomial, [][]stats.ArmStats{{conv(100, 10), {}}, {{}, conv(100, 30)}})
		if !errors.Is(err, stats.ErrNotEnoughData) {
			t.Fatalf("err = %v, want ErrNotEnoughData", err)
		}
		if got.Arms[0].Units != 100 || got.Arms[1].Units != 100 {
			t.Errorf("units = %d, %d, want 100, 100 even without an estimate", got.Arms[0].Units, got.Arms[1].Units)
		}
	})
	t.Run("a ratio without denominator is undefined, not NaN", func(t *testing.T) {
		got, err := PeriodWeighted(stats.KindRatio, [][]stats.ArmStats{{{N: 5}, {N: 5, Sum: 10, SumSq: 20, DenSum: 5, DenSumSq: 5, SumNumDen: 10}}})
		if err != nil {
			t.Fatal(err)
		}
		if a := got.Arms[0]; a.Defined || a.Mean != 0 || a.SE != 0 || a.Stats.N != 5 {
			t.Errorf("arm 0 = %+v, want undefined with zero mean and 5 units", a)
		}
		if !got.Arms[1].Defined || got.Arms[1].Mean != 2 {
			t.Errorf("arm 1 = %+v, want defined with ratio 2", got.Arms[1])
		}
	})
	invalid := []struct {
		name    string
		kind    stats.Kind
		periods [][]stats.ArmStats
	}{
		{"no periods", stats.KindBinomial, nil},
		{"no arms", stats.KindBinomial, [][]stats.ArmStats{{}}},
		{"ragged rows", stats.KindBinomial, [][]stats.ArmStats{{conv(1, 0), conv(1, 0)}, {conv(1, 0)}}},
		{"more conversions than units", stats.KindBinomial, [][]stats.ArmStats{{conv(10, 11), conv(10, 1)}}},
		{"negative units", stats.KindMean, [][]stats.ArmStats{{{N: -1}, {N: 1}}}},
		{"NaN", stats.KindMean, [][]stats.ArmStats{{{N: 1, Sum: math.NaN()}, {N: 1}}}},
		{"impossible NPS", stats.KindNPS, [][]stats.ArmStats{{{N: 1, Sum: 2, SumSq: 2}, {N: 1}}}},
		{"unknown kind", "median", [][]stats.ArmStats{{conv(1, 0), conv(1, 0)}}},
	}
	for _, tc := range invalid {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			if _, err := PeriodWeighted(tc.kind, tc.periods); !errors.Is(err, stats.ErrInvalidInput) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}

// TestPeriodWeightedIsUnbiasedUnderDrift simulates the situation the
// estimator exists for: conversion rises from 5% to 15% over 20 days while
// the bandit moves treatment from 10% to 90% of traffic. Pooling credits
// treatment with the good late days; period weighting does not.
func TestPeriodWeightedIsUnbiasedUnderDrift(t *testing.T) {
	const (
		days    = 20
		perDay  = 2000
		reps    = 300
		uplift  = 0.02
		drift0  = 0.05
		drift1  = 0.15
		control = 0
		treat   = 1
	)
	rng := rand.New(rand.NewPCG(2024, 9))
	base := func(d int) float64 { return drift0 + (drift1-drift0)*float64(d)/(days-1) }
	// Equal daily volumes, so the truth is the plain average over days.
	truth := [2]float64{}
	for d := range days {
		truth[control] += base(d) / days
		truth[treat] += (base(d) + uplift) / days
	}
	var pwLift, pooledLift, pwLiftSq, seSum float64
	covered := 0
	for range reps {
		periods := make([][]stats.ArmStats, days)
		var pooled [2]stats.ArmStats
		for d := range days {
			share := 0.1 + 0.8*float64(d)/(days-1)
			nT := int64(distuv.Binomial{N: perDay, P: share, Src: rng}.Rand())
			nC := perDay - nT
			cC := distuv.Binomial{N: float64(nC), P: base(d), Src: rng}.Rand()
			cT := distuv.Binomial{N: float64(nT), P: base(d) + uplift, Src: rng}.Rand()
			periods[d] = []stats.ArmStats{{N: nC, Sum: cC, SumSq: cC}, {N: nT, Sum: cT, SumSq: cT}}
			pooled[control] = plus(pooled[control], periods[d][control])
			pooled[treat] = plus(pooled[treat], periods[d][treat])
		}
		est, err := PeriodWeighted(stats.KindBinomial, periods)
		if err != nil {
			t.Fatal(err)
		}
		lift := est.Arms[treat].Mean - est.Arms[control].Mean
		se := math.Hypot(est.Arms[treat].SE, est.Arms[control].SE)
		pwLift += lift / reps
		pwLiftSq += lift * lift / reps
		seSum += se / reps
		if math.Abs(lift-uplift) <= 1.96*se {
			covered++
		}
		pooledLift += (pooled[treat].Sum/float64(pooled[treat].N) - pooled[control].Sum/float64(pooled[control].N)) / reps
	}
	sdLift := math.Sqrt(pwLiftSq - pwLift*pwLift)
	coverage := float64(covered) / reps
	t.Logf("true lift %.4f (control %.4f, treatment %.4f); mean over %d runs: period-weighted %.4f, pooled %.4f",
		uplift, truth[control], truth[treat], reps, pwLift, pooledLift)
	t.Logf("period-weighted: empirical sd %.5f, mean reported SE %.5f, 95%% interval coverage %.3f", sdLift, seSum, coverage)
	if tol := 4 * sdLift / math.Sqrt(reps); math.Abs(pwLift-uplift) > tol {
		t.Errorf("period-weighted lift %.5f is biased: truth %.5f, tolerance %.5f", pwLift, uplift, tol)
	}
	if math.Abs(pooledLift-uplift) < 0.02 {
		t.Errorf("pooled lift %.5f should be visibly biased in this scenario (truth %.5f)", pooledLift, uplift)
	}
	if math.Abs(seSum/sdLift-1) > 0.15 {
		t.Errorf("reported SE %.5f does not match the empirical sd %.5f", seSum, sdLift)
	}
	if coverage < 0.91 || coverage > 0.99 {
		t.Errorf("95%% interval coverage %.3f, want about 0.95", coverage)
	}
}

// randomPeriods draws plausible sufficient statistics of kind for k arms
// over the given number of periods, every arm with units in every period.
func randomPeriods(rng *rand.Rand, kind stats.Kind, periods, k int) [][]stats.ArmStats {
	out := make([][]stats.ArmStats, periods)
	for p := range out {
		out[p] = make([]stats.ArmStats, k)
		for a := range k {
			n := 20 + rng.IntN(500)
			var s stats.ArmStats
			s.N = int64(n)
			rate := 0.05 + 0.3*rng.Float64()
			for range n {
				switch kind {
				case stats.KindBinomial:
					if rng.Float64() < rate {
						s.Sum++
						s.SumSq++
					}
				case stats.KindNPS:
					switch u := rng.Float64(); {
					case u < rate:
						s.Sum--
						s.SumSq++
					case u > 1-2*rate:
						s.Sum++
						s.SumSq++
					}
				default:
					x := float64(rng.IntN(3))
					y := x * (20 + 60*rng.Float64() + 10*float64(p))
					s.Sum += y
					s.SumSq += y * y
					s.DenSum += x
					s.DenSumSq += x * x
					s.SumNumDen += x * y
				}
			}
			if kind == stats.KindMean {
				s.DenSum, s.DenSumSq, s.SumNumDen = 0, 0, 0
			}
			out[p][a] = s
		}
	}
	return out
}
