package stats

import (
	"math"
	"math/rand/v2"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// The simulations draw sufficient statistics directly from their exact
// sampling distributions instead of simulating every unit, so thousands of
// experiments with thousands of units run in milliseconds:
//
//   - binomial: the conversion count is Binomial(n, p);
//   - normal metric: ȳ ~ N(μ, σ²/n) independent of (n−1)s² ~ σ²χ²(n−1);
//   - normal pair (pre, post): means ~ N(μ, Σ/n) independent of the scatter
//     matrix ~ Wishart(n−1, Σ), drawn with Bartlett's decomposition.
//
// Seeds are fixed so the asserted rates are reproducible.

func binomialArm(rng *rand.Rand, n int64, p float64) ArmStats {
	c := distuv.Binomial{N: float64(n), P: p, Src: rng}.Rand()
	return ArmStats{N: n, Sum: c, SumSq: c}
}

func normalArm(rng *rand.Rand, n int64, mu, sigma float64) ArmStats {
	fn := float64(n)
	mean := mu + sigma/math.Sqrt(fn)*rng.NormFloat64()
	ss := sigma * sigma * distuv.ChiSquared{K: fn - 1, Src: rng}.Rand()
	sum := fn * mean
	return ArmStats{N: n, Sum: sum, SumSq: ss + sum*mean}
}

// add merges the sufficient statistics of two disjoint batches of units.
func add(a, b ArmStats) ArmStats {
	return ArmStats{
		N: a.N + b.N, Sum: a.Sum + b.Sum, SumSq: a.SumSq + b.SumSq,
		DenSum: a.DenSum + b.DenSum, DenSumSq: a.DenSumSq + b.DenSumSq, SumNumDen: a.SumNumDen + b.SumNumDen,
		PreSum: a.PreSum + b.PreSum, PreSumSq: a.PreSumSq + b.PreSumSq, SumPrePost: a.SumPrePost + b.SumPrePost,
	}
}

// correlatedArm draws n units of (pre, post) from a bivariate normal with
// means (muPre, muPost), sds (sPre, sPost) and correlation rho.
func correlatedArm(rng *rand.Rand, n int64, muPre, muPost, sPre, sPost, rho float64) ArmStats {
	fn := float64(n)
	// Cholesky factor of Σ: [[l11, 0], [l21, l22]].
	l11, l21, l22 := sPre, rho*sPost, sPost*math.Sqrt(1-rho*rho)
	z1, z2 := rng.NormFloat64(), rng.NormFloat64()
	mx := muPre + (l11*z1)/math.Sqrt(fn)
	my := muPost + (l21*z1+l22*z2)/math.Sqrt(fn)
	// Bartlett: W = L·B·Bᵀ·Lᵀ with B = [[c1, 0], [b21, c2]].
	k := fn - 1
	c1 := math.Sqrt(distuv.ChiSquared{K: k, Src: rng}.Rand())
	c2 := math.Sqrt(distuv.ChiSquared{K: k - 1, Src: rng}.Rand())
	b21 := rng.NormFloat64()
	// M = L·B
	m11 := l11 * c1
	m21, m22 := l21*c1+l22*b21, l22*c2
	sxx := m11 * m11
	sxy := m11 * m21
	syy := m21*m21 + m22*m22
	return ArmStats{
		N: n, Sum: fn * my, SumSq: syy + fn*my*my,
		PreSum: fn * mx, PreSumSq: sxx + fn*mx*mx, SumPrePost: sxy + fn*mx*my,
	}
}

func TestSimulatedFalsePositiveRate(t *testing.T) {
	const experiments = 4000
	cases := []struct {
		name string
		draw func(rng *rand.Rand) (ArmStats, ArmStats)
		kind Kind
	}{
		{"A/A binomial experiments at alpha 5% are significant about 5% of the time", func(rng *rand.Rand) (ArmStats, ArmStats) {
			return binomialArm(rng, 2000, 0.1), binomialArm(rng, 2000, 0.1)
		}, KindBinomial},
		{"A/A mean experiments at alpha 5% are significant about 5% of the time", func(rng *rand.Rand) (ArmStats, ArmStats) {
			return normalArm(rng, 500, 20, 30), normalArm(rng, 800, 20, 30)
		}, KindMean},
		{"A/A experiments with CUPED at alpha 5% are significant about 5% of the time", func(rng *rand.Rand) (ArmStats, ArmStats) {
			return correlatedArm(rng, 1000, 5, 10, 3, 4, 0.7), correlatedArm(rng, 1000, 5, 10, 3, 4, 0.7)
		}, KindMean},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(42, uint64(ci)))
			significant := 0
			for range experiments {
				a, b := c.draw(rng)
				r := Compare(c.kind, a, b, Options{CUPED: true})
				if !r.OK() {
					t.Fatalf("%s: %s", r.Status, r.Reason)
				}
				if r.Relative.PValue < 0.05 {
					significant++
				}
			}
			fpr := float64(significant) / experiments
			t.Logf("false positive rate %.2f%% over %d A/A experiments", 100*fpr, experiments)
			if fpr < 0.035 || fpr > 0.065 {
				t.Errorf("false positive rate %.2f%%, want within [3.5%%, 6.5%%]", 100*fpr)
			}
		})
	}
}

func TestSimulatedPeeking(t *testing.T) {
	const (
		experiments = 2000
		looks       = 20
		perLook     = 500 // units per arm added between looks
		p           = 0.1
	)
	rng := rand.New(rand.NewPCG(7, 2024))
	everFixed, everSeq := 0, 0
	for range experiments {
		var a, b ArmStats
		fixedHit, seqHit := false, false
		for range looks {
			a = add(a, binomialArm(rng, perLook, p))
			b = add(b, binomialArm(rng, perLook, p))
			f := Compare(KindBinomial, a, b, Options{})
			s := Compare(KindBinomial, a, b, Options{Method: Sequential, SequentialTuning: 2 * looks * perLook})
			fixedHit = fixedHit || f.Significant
			seqHit = seqHit || s.Significant
		}
		if fixedHit {
			everFixed++
		}
		if seqHit {
			everSeq++
		}
	}
	fixedRate := float64(everFixed) / experiments
	seqRate := float64(everSeq) / experiments
	t.Logf("A/A experiments ever significant over %d looks: sequential %.2f%%, fixed-horizon peeked %.2f%% (%d experiments)",
		looks, 100*seqRate, 100*fixedRate, experiments)

	t.Run("the confidence sequence keeps the chance of ever being significant under 5%", func(t *testing.T) {
		if seqRate > 0.05 {
			t.Errorf("sequential ever-significant rate %.2f%%", 100*seqRate)
		}
	})
	t.Run("peeking at the fixed-horizon test inflates false positives well beyond 5%", func(t *testing.T) {
		if fixedRate <= 0.05 || fixedRate <= seqRate {
			t.Errorf("fixed-horizon peeking rate %.2f%% (sequential %.2f%%)", 100*fixedRate, 100*seqRate)
		}
	})
}

func TestSimulatedCoverage(t *testing.T) {
	const experiments = 4000
	cases := []struct {
		name         string
		draw         func(rng *rand.Rand) (ArmStats, ArmStats)
		kind         Kind
		opts         Options
		trueAbs      float64
		trueRelative float64
	}{
		{"confidence intervals of a mean metric with a 5% true lift cover it 95% of the time", func(rng *rand.Rand) (ArmStats, ArmStats) {
			return normalArm(rng, 2000, 10, 8), normalArm(rng, 2000, 10.5, 8)
		}, KindMean, Options{}, 0.5, 0.05},
		{"confidence intervals of a conversion rate with a 10% true lift cover it 95% of the time", func(rng *rand.Rand) (ArmStats, ArmStats) {
			return binomialArm(rng, 5000, 0.10), binomialArm(rng, 5000, 0.11)
		}, KindBinomial, Options{}, 0.01, 0.10},
		{"CUPED-adjusted intervals with a 5% true lift cover it 95% of the time", func(rng *rand.Rand) (ArmStats, ArmStats) {
			return correlatedArm(rng, 2000, 10, 10, 8, 8, 0.7), correlatedArm(rng, 2000, 10, 10.5, 8, 8, 0.7)
		}, KindMean, Options{CUPED: true}, 0.5, 0.05},
	}
	for ci, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(99, uint64(ci)))
			coveredAbs, coveredRel := 0, 0
			for range experiments {
				a, b := c.draw(rng)
				r := Compare(c.kind, a, b, c.opts)
				if !r.OK() {
					t.Fatalf("%s: %s", r.Status, r.Reason)
				}
				if r.Absolute.CILow <= c.trueAbs && c.trueAbs <= r.Absolute.CIHigh {
					coveredAbs++
				}
				if r.Relative.CILow <= c.trueRelative && c.trueRelative <= r.Relative.CIHigh {
					coveredRel++
				}
			}
			abs, rel := float64(coveredAbs)/experiments, float64(coveredRel)/experiments
			t.Logf("coverage over %d experiments: absolute %.2f%%, relative %.2f%%", experiments, 100*abs, 100*rel)
			for _, cov := range []float64{abs, rel} {
				if cov < 0.93 || cov > 0.97 {
					t.Errorf("coverage %.2f%%, want within [93%%, 97%%]", 100*cov)
				}
			}
		})
	}
}

func TestSimulatedCUPEDWidth(t *testing.T) {
	t.Run("with pre/post correlation 0.7 CUPED narrows intervals to about sqrt(1-0.49) = 0.71", func(t *testing.T) {
		const experiments = 1000
		rng := rand.New(rand.NewPCG(5, 5))
		sumRatio := 0.0
		for range experiments {
			a := correlatedArm(rng, 2000, 10, 10, 8, 8, 0.7)
			b := correlatedArm(rng, 2000, 10, 10.5, 8, 8, 0.7)
			plain := Compare(KindMean, a, b, Options{})
			adj := Compare(KindMean, a, b, Options{CUPED: true})
			if !adj.CUPEDApplied {
				t.Fatalf("CUPED not applied: %s", adj.CUPEDReason)
			}
			sumRatio += (adj.Relative.CIHigh - adj.Relative.CILow) / (plain.Relative.CIHigh - plain.Relative.CILow)
		}
		ratio := sumRatio / experiments
		t.Logf("mean CI width ratio CUPED/unadjusted = %.4f (theory %.4f)", ratio, math.Sqrt(1-0.49))
		if ratio < 0.65 || ratio > 0.78 {
			t.Errorf("width ratio %.4f, want within [0.65, 0.78]", ratio)
		}
	})
}
