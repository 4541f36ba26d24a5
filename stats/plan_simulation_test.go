package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestSimulatedPowerMatchesThePlan runs each plan of the difference test (the
// test the report's verdicts use) as simulated experiments analysed by
// Compare and checks that the share of experiments that find the effect is
// the power the plan promised, within 1.5 percentage points.
// With 10,000 experiments the binomial standard error of a rate near 0.8 is
// 0.4 points, so a correct plan fails this by chance less than once in
// 10,000 runs; the seeds are fixed, so the rates are reproducible.
func TestSimulatedPowerMatchesThePlan(t *testing.T) {
	const experiments = 10000
	cases := []struct {
		name   string
		design Design
		effect float64
		// n overrides the planned sample size (a power question).
		n int64
		// draw simulates one arm with n units and the given true mean.
		draw func(rng *rand.Rand, n int64, mean float64) ArmStats
	}{
		{
			name:   "a conversion rate of 10% planned for +10% relative",
			design: Design{Kind: KindBinomial, Baseline: 0.1, Scale: RelativeMDE},
			effect: 0.1,
			draw:   func(rng *rand.Rand, n int64, p float64) ArmStats { return binomialArm(rng, n, p) },
		},
		{
			name:   "a mean of 10 with sigma 4 planned for -5% relative",
			design: Design{Kind: KindMean, Baseline: 10, Sigma: 4, Scale: RelativeMDE},
			effect: -0.05,
			draw:   func(rng *rand.Rand, n int64, mu float64) ArmStats { return normalArm(rng, n, mu, 4) },
		},
		{
			name:   "a small-sample mean planned with the exact noncentral t (17 units per arm)",
			design: Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Test: TTest},
			effect: 1,
			draw:   func(rng *rand.Rand, n int64, mu float64) ArmStats { return normalArm(rng, n, mu, 1) },
		},
		{
			name:   "the power of 5% +10% relative with 20,000 units per arm (a power question)",
			design: Design{Kind: KindBinomial, Baseline: 0.05, Scale: RelativeMDE},
			effect: 0.1,
			n:      20000,
			draw:   func(rng *rand.Rand, n int64, p float64) ArmStats { return binomialArm(rng, n, p) },
		},
		{
			name:   "a sequential plan read at its planned end",
			design: Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Method: Sequential},
			effect: 0.1,
			draw:   func(rng *rand.Rand, n int64, mu float64) ArmStats { return normalArm(rng, n, mu, 1) },
		},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			n := c.n
			if n == 0 {
				s, err := c.design.SampleSize(c.effect)
				if err != nil {
					t.Fatal(err)
				}
				n = s.PerArm
			}
			planned, err := c.design.Power(c.effect, float64(n))
			if err != nil {
				t.Fatal(err)
			}
			opts := Options{Method: c.design.Method, SequentialTuning: c.design.TuningFor(float64(n))}
			rng := rand.New(rand.NewPCG(19, uint64(ci)))
			hits := 0
			for range experiments {
				a := c.draw(rng, n, c.design.Baseline)
				b := c.draw(rng, n, c.design.TreatmentMean(c.effect))
				r := Compare(c.design.Kind, a, b, opts)
				if !r.OK() {
					t.Fatalf("%s: %s", r.Status, r.Reason)
				}
				// The report's verdict: the Welch test of the difference.
				if r.Absolute.PValue < c.design.ComparisonAlpha() {
					hits++
				}
			}
			got := float64(hits) / experiments
			t.Logf("%d units per arm: planned power %.2f%%, simulated %.2f%% (%d experiments)", n, 100*planned, 100*got, experiments)
			if math.Abs(got-planned) > 0.015 {
				t.Errorf("simulated power %.2f%%, planned %.2f%%: more than 1.5 points apart", 100*got, 100*planned)
			}
		})
	}

	t.Run("four arms planned with Bonferroni: each comparison keeps the planned power at alpha/3", func(t *testing.T) {
		d := Design{Kind: KindBinomial, Baseline: 0.2, Scale: AbsoluteMDE, Arms: 4}
		s, err := d.SampleSize(0.02)
		if err != nil {
			t.Fatal(err)
		}
		planned, _ := d.Power(0.02, float64(s.PerArm))
		const rounds = experiments / 3
		rng := rand.New(rand.NewPCG(19, 99))
		hits, comparisons := 0, 0
		for range rounds {
			ctl := binomialArm(rng, s.PerArm, 0.2)
			for range d.Arms - 1 {
				r := Compare(KindBinomial, ctl, binomialArm(rng, s.PerArm, 0.22), Options{})
				comparisons++
				if r.Absolute.PValue < d.ComparisonAlpha() {
					hits++
				}
			}
		}
		got := float64(hits) / float64(comparisons)
		t.Logf("%d units per arm: planned power %.2f%%, simulated %.2f%% (%d comparisons)", s.PerArm, 100*planned, 100*got, comparisons)
		if math.Abs(got-planned) > 0.015 {
			t.Errorf("simulated power %.2f%%, planned %.2f%%", 100*got, 100*planned)
		}
	})
}

// TestSimulatedPowerOfTheRelativeTest measures how the delta-method plan of
// the relative lift (Contrast RelativeMDE, GrowthBook's model) fares against
// Compare's relative test. Its normal model is only approximate: the
// relative test's standard error grows with the estimate, which narrows the
// statistic's spread for an increase and widens it for a decrease, so the
// plan errs on the safe side for an increase and promises a little too
// much for a decrease.
func TestSimulatedPowerOfTheRelativeTest(t *testing.T) {
	const experiments = 10000
	for ci, c := range []struct {
		name     string
		design   Design
		effect   float64
		draw     func(rng *rand.Rand, n int64, mean float64) ArmStats
		min, max float64 // allowed simulated − planned, in points
	}{
		{"an increase of a conversion rate is found at least as often as planned",
			Design{Kind: KindBinomial, Baseline: 0.1, Scale: RelativeMDE, Contrast: RelativeMDE}, 0.1,
			func(rng *rand.Rand, n int64, p float64) ArmStats { return binomialArm(rng, n, p) }, -1, 4},
		{"an increase of a mean is found at least as often as planned",
			Design{Kind: KindMean, Baseline: 10, Sigma: 4, Scale: RelativeMDE, Contrast: RelativeMDE}, 0.05,
			func(rng *rand.Rand, n int64, mu float64) ArmStats { return normalArm(rng, n, mu, 4) }, -1, 4},
		{"a decrease of a mean is found a little less often than planned",
			Design{Kind: KindMean, Baseline: 10, Sigma: 4, Scale: RelativeMDE, Contrast: RelativeMDE}, -0.05,
			func(rng *rand.Rand, n int64, mu float64) ArmStats { return normalArm(rng, n, mu, 4) }, -3, 1},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, err := c.design.SampleSize(c.effect)
			if err != nil {
				t.Fatal(err)
			}
			planned, _ := c.design.Power(c.effect, float64(s.PerArm))
			rng := rand.New(rand.NewPCG(23, uint64(ci)))
			hits := 0
			for range experiments {
				r := Compare(c.design.Kind, c.draw(rng, s.PerArm, c.design.Baseline), c.draw(rng, s.PerArm, c.design.TreatmentMean(c.effect)), Options{})
				if r.Relative.PValue < 0.05 {
					hits++
				}
			}
			got := float64(hits) / experiments
			t.Logf("%d units per arm: planned power %.2f%%, simulated %.2f%% (%d experiments)", s.PerArm, 100*planned, 100*got, experiments)
			if d := 100 * (got - planned); d < c.min || d > c.max {
				t.Errorf("simulated − planned = %+.2f points, want within [%+g, %+g]", d, c.min, c.max)
			}
		})
	}
}
