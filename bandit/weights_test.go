package bandit

import (
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

func conv(n int64, c float64) stats.ArmStats { return stats.ArmStats{N: n, Sum: c, SumSq: c} }

func pooled(arms ...stats.ArmStats) []stats.ArmStats { return arms }

func TestWeightsSumToOneAndRespectTheFloor(t *testing.T) {
	cases := []struct {
		name  string
		arms  []stats.ArmStats
		floor float64
	}{
		{"a clear winner leaves the others at the floor", pooled(conv(5000, 500), conv(5000, 550), conv(5000, 800)), 0.01},
		{"a large floor still leaves room for the winner", pooled(conv(5000, 500), conv(5000, 800)), 0.2},
		{"no floor lets the losers go to zero", pooled(conv(50000, 5000), conv(50000, 8000)), 0},
		{"identical arms split evenly", pooled(conv(1000, 100), conv(1000, 100), conv(1000, 100), conv(1000, 100)), 0.01},
		{"twenty arms with the maximum useful floor", pooled(slices.Repeat([]stats.ArmStats{conv(200, 20)}, 20)...), 0.049},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Weights(tc.arms, stats.KindBinomial, experiment.HigherIsBetter, tc.floor)
			if err != nil {
				t.Fatal(err)
			}
			sum, sumBest := 0.0, 0.0
			for a, arm := range u.Arms {
				sum += arm.Weight
				sumBest += arm.ProbBest
				if arm.Weight < tc.floor-1e-15 {
					t.Errorf("arm %d weight %g below the floor %g", a, arm.Weight, tc.floor)
				}
				want := tc.floor + (1-float64(len(u.Arms))*tc.floor)*arm.ProbBest
				if !near(arm.Weight, want, 1e-12) {
					t.Errorf("arm %d weight %g, want f + (1 − k·f)·P(best) = %g", a, arm.Weight, want)
				}
			}
			if !near(sum, 1, 1e-12) || !near(sumBest, 1, 1e-12) {
				t.Errorf("weights sum to %.15f and P(best) to %.15f, want 1", sum, sumBest)
			}
		})
	}
	t.Run("a clear winner gets nearly everything above the floors", func(t *testing.T) {
		u, err := Weights(pooled(conv(5000, 500), conv(5000, 550), conv(5000, 800)), stats.KindBinomial, experiment.HigherIsBetter, 0.01)
		if err != nil {
			t.Fatal(err)
		}
		if w := u.Weights(); w[2] < 0.97 || !near(w[0], 0.01, 1e-9) {
			t.Errorf("weights %v, want about [0.01 0.01 0.98]", w)
		}
	})
}

func TestWeightsWaitForOneHundredUnitsPerArm(t *testing.T) {
	cases := []struct {
		name  string
		arms  []stats.ArmStats
		arm   int
		units int64
	}{
		{"one arm one unit short", pooled(conv(5000, 500), conv(5000, 600), conv(99, 30)), 2, 99},
		{"the first short arm is named", pooled(conv(10, 1), conv(5000, 600), conv(0, 0)), 0, 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Weights(tc.arms, stats.KindBinomial, experiment.HigherIsBetter, 0.01)
			var notYet *NotYetError
			if !errors.As(err, &notYet) || !errors.Is(err, ErrNotYet) {
				t.Fatalf("err = %v, want a *NotYetError", err)
			}
			if notYet.Arm != tc.arm || notYet.Units != tc.units {
				t.Errorf("not yet because of arm %d with %d units, want arm %d with %d", notYet.Arm, notYet.Units, tc.arm, tc.units)
			}
		})
	}
	t.Run("exactly one hundred units is enough", func(t *testing.T) {
		if _, err := Weights(pooled(conv(100, 10), conv(100, 12)), stats.KindBinomial, experiment.HigherIsBetter, 0.01); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("an undefined ratio waits", func(t *testing.T) {
		ratio := stats.ArmStats{N: 200, Sum: 400, SumSq: 2000, DenSum: 100, DenSumSq: 100, SumNumDen: 400}
		_, err := Weights(pooled(ratio, stats.ArmStats{N: 200}), stats.KindRatio, experiment.HigherIsBetter, 0.01)
		var notYet *NotYetError
		if !errors.As(err, &notYet) || notYet.Arm != 1 {
			t.Errorf("err = %v, want not yet because of arm 1", err)
		}
	})
}

func TestWeightsFollowTheMetricDirection(t *testing.T) {
	// Return rates: arm 0 returns 10%, arm 1 returns 14%.
	arms := pooled(conv(2000, 200), conv(2000, 280))
	cases := []struct {
		name string
		dir  experiment.Direction
		best int
	}{
		{"higher is better favours the higher rate", experiment.HigherIsBetter, 1},
		{"lower is better favours the lower rate", experiment.LowerIsBetter, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u, err := Weights(arms, stats.KindBinomial, tc.dir, 0.05)
			if err != nil {
				t.Fatal(err)
			}
			if u.Arms[tc.best].ProbBest < 0.999 || u.Arms[tc.best].Weight < 0.94 {
				t.Errorf("arm %d: P(best) %g, weight %g; want it to win", tc.best, u.Arms[tc.best].ProbBest, u.Arms[tc.best].Weight)
			}
			// The posterior is reported in the metric's own sign.
			if !near(u.Arms[0].Mean, 0.1, 1e-15) || !near(u.Arms[1].Mean, 0.14, 1e-15) {
				t.Errorf("means %g, %g, want 0.1, 0.14", u.Arms[0].Mean, u.Arms[1].Mean)
			}
		})
	}
	t.Run("close arms mirror each other exactly", func(t *testing.T) {
		close := pooled(conv(500, 50), conv(500, 56))
		up, err1 := Weights(close, stats.KindBinomial, experiment.HigherIsBetter, 0.01)
		down, err2 := Weights(close, stats.KindBinomial, experiment.LowerIsBetter, 0.01)
		if err1 != nil || err2 != nil {
			t.Fatal(err1, err2)
		}
		if !near(up.Arms[0].ProbBest, down.Arms[1].ProbBest, 1e-12) || up.Arms[1].ProbBest < 0.6 {
			t.Errorf("P(best) up %v, down %v; want mirrored with arm 1 ahead when higher is better",
				[]float64{up.Arms[0].ProbBest, up.Arms[1].ProbBest}, []float64{down.Arms[0].ProbBest, down.Arms[1].ProbBest})
		}
	})
}

func TestWeightsReportThePosterior(t *testing.T) {
	// Revenue per visitor: arm 0 mean 2, arm 1 mean 2.5, both with σ² ≈ 25.
	mean := func(n int64, m float64) stats.ArmStats {
		fn := float64(n)
		return stats.ArmStats{N: n, Sum: m * fn, SumSq: 25*(fn-1) + m*m*fn}
	}
	u, err := Weights(pooled(mean(400, 2), mean(400, 2.5)), stats.KindMean, experiment.HigherIsBetter, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	for a, want := range []float64{2, 2.5} {
		if arm := u.Arms[a]; !near(arm.Mean, want, 1e-12) || !near(arm.SD, 0.25, 1e-12) || arm.Units != 400 {
			t.Errorf("arm %d posterior = %+v, want mean %g, sd 0.25, 400 units", a, arm, want)
		}
	}
	// P(arm 1 best) = Φ(0.5/√(0.25²·2)) = Φ(1.41421) = 0.921350.
	if p := u.Arms[1].ProbBest; !near(p, 0.9213504, 1e-6) {
		t.Errorf("P(best) of arm 1 = %.7f, want 0.9213504", p)
	}
}

func TestWeightsAreDeterministic(t *testing.T) {
	arms := pooled(conv(400, 43), conv(790, 86), conv(1110, 140))
	first, err := Weights(arms, stats.KindBinomial, experiment.HigherIsBetter, 0.01)
	if err != nil {
		t.Fatal(err)
	}
	for range 20 {
		again, err := Weights(arms, stats.KindBinomial, experiment.HigherIsBetter, 0.01)
		if err != nil || !slices.Equal(again.Weights(), first.Weights()) {
			t.Fatalf("weights changed between identical calls: %v vs %v (%v)", again.Weights(), first.Weights(), err)
		}
	}
}

func TestWeightsRejectImpossibleInput(t *testing.T) {
	good := pooled(conv(200, 20), conv(200, 30))
	cases := []struct {
		name  string
		arms  []stats.ArmStats
		kind  stats.Kind
		dir   experiment.Direction
		floor float64
	}{
		{"a floor that leaves no room", good, stats.KindBinomial, experiment.HigherIsBetter, 0.5},
		{"a negative floor", good, stats.KindBinomial, experiment.HigherIsBetter, -0.01},
		{"a NaN floor", good, stats.KindBinomial, experiment.HigherIsBetter, math.NaN()},
		{"an unknown direction", good, stats.KindBinomial, "sideways", 0.01},
		{"an unknown kind", good, "median", experiment.HigherIsBetter, 0.01},
		{"more conversions than units", pooled(conv(200, 201), conv(200, 30)), stats.KindBinomial, experiment.HigherIsBetter, 0.01},
		{"no statistics at all", nil, stats.KindBinomial, experiment.HigherIsBetter, 0.01},
	}
	for _, tc := range cases {
		t.Run("rejects "+tc.name, func(t *testing.T) {
			_, err := Weights(tc.arms, tc.kind, tc.dir, tc.floor)
			if !errors.Is(err, stats.ErrInvalidInput) || errors.Is(err, ErrNotYet) {
				t.Errorf("err = %v, want ErrInvalidInput", err)
			}
		})
	}
}
