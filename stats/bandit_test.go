package stats

import (
	"math"
	"math/rand/v2"
	"testing"
)

func TestProbabilityBest(t *testing.T) {
	t.Run("two arms match the analytic value Φ((μ1−μ2)/sqrt(σ1²+σ2²))", func(t *testing.T) {
		cases := []struct{ m1, s1, m2, s2 float64 }{
			{0.10, 0.01, 0.11, 0.01},
			{1, 1, 0, 1},
			{0, 1, 0, 1},
			{0.05, 0.002, 0.049, 0.0001},  // very unequal sds
			{3, 1e-6, 2.999999, 1},        // nearly a point mass
			{-5, 0.3, 5, 30},              // wide second arm
			{100, 1, 103, 2},              // far apart
			{0.2, 0.05, 0.2, 0.0000001},   // point mass at the other's mean
			{1e6, 10, 1e6 + 5, 20},        // large location
			{0.031, 0.0042, 0.029, 0.003}, // typical conversion posteriors
		}
		for _, c := range cases {
			got := probabilityBestRaw([]float64{c.m1, c.m2}, []float64{c.s1, c.s2})
			want := normCDF((c.m1 - c.m2) / math.Hypot(c.s1, c.s2))
			if math.Abs(got[0]-want) > 1e-9 || math.Abs(got[0]+got[1]-1) > 1e-9 {
				t.Errorf("%+v: P(arm 1 best) = %.15g, want %.15g; sum %.15g", c, got[0], want, got[0]+got[1])
			}
		}
	})

	t.Run("random two-arm cases including extreme sd ratios stay within 1e-9", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(1, 2))
		for range 2000 {
			m := []float64{rng.NormFloat64(), rng.NormFloat64()}
			s := []float64{math.Exp(rng.NormFloat64() * 4), math.Exp(rng.NormFloat64() * 4)}
			got := probabilityBestRaw(m, s)
			want := normCDF((m[0] - m[1]) / math.Hypot(s[0], s[1]))
			if math.Abs(got[0]-want) > 1e-9 || math.Abs(got[0]+got[1]-1) > 1e-9 {
				t.Fatalf("means %v sds %v: got %.15g want %.15g (sum %.15g)", m, s, got[0], want, got[0]+got[1])
			}
		}
	})

	t.Run("three identical arms each have probability one third", func(t *testing.T) {
		for _, sd := range []float64{1, 0.01, 0} {
			p := ProbabilityBest([]float64{0.3, 0.3, 0.3}, []float64{sd, sd, sd})
			for i, v := range p {
				if math.Abs(v-1.0/3) > 1e-9 {
					t.Errorf("sd %g: arm %d = %.15g, want 1/3", sd, i, v)
				}
			}
		}
	})

	t.Run("two symmetric arms around a better one split the remainder evenly", func(t *testing.T) {
		p := ProbabilityBest([]float64{1, 0, 1}, []float64{0.5, 0.5, 0.5})
		if math.Abs(p[0]-p[2]) > 1e-12 || p[1] >= p[0] {
			t.Errorf("p = %v", p)
		}
	})

	t.Run("raw probabilities of many unequal arms sum to one within 1e-9", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(3, 4))
		for range 300 {
			k := 2 + rng.IntN(9)
			m, s := make([]float64, k), make([]float64, k)
			for i := range k {
				m[i] = rng.NormFloat64()
				s[i] = math.Exp(rng.NormFloat64() * 3)
			}
			sum := 0.0
			for _, v := range probabilityBestRaw(m, s) {
				if v < -1e-15 {
					t.Fatalf("negative probability %g", v)
				}
				sum += v
			}
			if math.Abs(sum-1) > 1e-9 {
				t.Fatalf("means %v sds %v: sum %.15g", m, s, sum)
			}
		}
	})

	t.Run("invalid input falls back to an even split", func(t *testing.T) {
		for _, c := range []struct{ m, s []float64 }{
			{[]float64{1, 2}, []float64{1}},
			{[]float64{1, math.NaN()}, []float64{1, 1}},
			{[]float64{1, 2}, []float64{-1, 1}},
			{[]float64{0, 0}, []float64{0, 0}},
		} {
			p := ProbabilityBest(c.m, c.s)
			if len(p) != len(c.m) || p[0] != 0.5 || p[1] != 0.5 {
				t.Errorf("%v %v: %v", c.m, c.s, p)
			}
		}
		if p := ProbabilityBest(nil, nil); len(p) != 0 {
			t.Errorf("empty input gave %v", p)
		}
	})
}

func TestBanditWeights(t *testing.T) {
	cases := []struct {
		name  string
		prob  []float64
		floor float64
		want  []float64
	}{
		{"a floor is given to every arm and the rest follows the probabilities", []float64{0.7, 0.2, 0.1}, 0.05, []float64{0.05 + 0.85*0.7, 0.05 + 0.85*0.2, 0.05 + 0.85*0.1}},
		{"a zero floor is pure Thompson sampling", []float64{0.6, 0.4}, 0, []float64{0.6, 0.4}},
		{"a floor above one over k is an even split", []float64{0.9, 0.1}, 0.8, []float64{0.5, 0.5}},
		{"unnormalised probabilities are normalised first", []float64{2, 2}, 0.1, []float64{0.5, 0.5}},
		{"nan and negative entries count as zero", []float64{math.NaN(), -1, 1}, 0.1, []float64{0.1, 0.1, 0.8}},
		{"all-zero probabilities give an even split", []float64{0, 0}, 0.1, []float64{0.5, 0.5}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := BanditWeights(c.prob, c.floor)
			sum := 0.0
			for i := range got {
				sum += got[i]
				if math.Abs(got[i]-c.want[i]) > 1e-12 {
					t.Errorf("weights %v, want %v", got, c.want)
					break
				}
			}
			if math.Abs(sum-1) > 1e-12 {
				t.Errorf("weights sum to %g", sum)
			}
		})
	}
}
