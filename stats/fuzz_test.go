package stats

import (
	"math"
	"testing"
)

// FuzzCompare throws arbitrary sufficient statistics and options at Compare
// and checks the contract: no panic, no NaN/Inf in any float field, the
// Result always marshals to JSON, probabilities stay in [0, 1], and non-OK
// results carry a reason and no estimates.
//
// When build is true the fuzzer's numbers are read as (mean, spread) and
// turned into consistent sums, so that the fuzzer also explores the valid
// region instead of mostly producing rejected input.
func FuzzCompare(f *testing.F) {
	type seed struct {
		kind, method, sides   uint8
		cuped, proper, build  bool
		alpha, tuning, pm, pv float64
		na                    int64
		sa, qa, da, dqa, xa   float64
		pa, pqa, ppa          float64
		nb                    int64
		sb, qb, db, dqb, xb   float64
		pb, pqb, ppb          float64
	}
	seeds := []seed{
		{kind: 1, na: 3407, sa: 1396.87, qa: 52377.9767, nb: 3461, sb: 2422.7, qb: 134698.29},
		{kind: 0, method: 2, na: 100, sa: 49, nb: 100, sb: 51},
		{kind: 1, method: 1, tuning: 1000, na: 3000, sa: 1396.87, qa: 52377.9767, nb: 3461, sb: 2422.7, qb: 134698.29},
		{kind: 1, cuped: true, na: 3001, sa: 300, qa: 600, pa: 210, pqa: 415, ppa: -20, nb: 3000, sb: 222, qb: 555, pb: 120, pqb: 405, ppb: -10},
		{kind: 2, sides: 1, na: 50, sa: 300, qa: 2500, da: 60, dqa: 90, xa: 380, nb: 55, sb: 320, qb: 2600, db: 70, dqb: 100, xb: 420},
		{kind: 3, sides: 2, na: 100, sa: 30, qa: 70, nb: 100, sb: 40, qb: 80},
		{kind: 1, method: 2, proper: true, pv: 0.04, build: true, na: 20, sa: 1, qa: 2, nb: 30, sb: 1.2, qb: 2},
		{kind: 1, na: 2, sa: math.Inf(1), nb: -3, sb: math.NaN(), alpha: 7},
		{kind: 1, na: 10, sa: 1e154, qa: 1e308, nb: 10, sb: -1e154, qb: 1e308},
	}
	for _, s := range seeds {
		f.Add(s.kind, s.method, s.sides, s.cuped, s.proper, s.build, s.alpha, s.tuning, s.pm, s.pv,
			s.na, s.sa, s.qa, s.da, s.dqa, s.xa, s.pa, s.pqa, s.ppa,
			s.nb, s.sb, s.qb, s.db, s.dqb, s.xb, s.pb, s.pqb, s.ppb)
	}
	kinds := []Kind{KindBinomial, KindMean, KindRatio, KindNPS, "bogus"}
	methods := []Method{Frequentist, Sequential, Bayesian, "", "bogus"}
	sides := []Sides{TwoSided, Greater, Less, "", "bogus"}

	f.Fuzz(func(t *testing.T, kind, method, side uint8, cuped, proper, build bool, alpha, tuning, pm, pv float64,
		na int64, sa, qa, da, dqa, xa, pa, pqa, ppa float64,
		nb int64, sb, qb, db, dqb, xb, pb, pqb, ppb float64) {
		a := ArmStats{N: na, Sum: sa, SumSq: qa, DenSum: da, DenSumSq: dqa, SumNumDen: xa, PreSum: pa, PreSumSq: pqa, SumPrePost: ppa}
		b := ArmStats{N: nb, Sum: sb, SumSq: qb, DenSum: db, DenSumSq: dqb, SumNumDen: xb, PreSum: pb, PreSumSq: pqb, SumPrePost: ppb}
		k := kinds[int(kind)%len(kinds)]
		if build {
			a, b = buildArm(k, a), buildArm(k, b)
		}
		opts := Options{
			Method: methods[int(method)%len(methods)], Sides: sides[int(side)%len(sides)],
			Alpha: alpha, SequentialTuning: tuning, CUPED: cuped,
			Prior: Prior{Proper: proper, Mean: pm, Variance: pv},
		}
		r := Compare(k, a, b, opts)
		if p := resultProblems(r); len(p) > 0 {
			t.Fatalf("Compare(%q, %+v, %+v, %+v) = %+v: %v", k, a, b, opts, r, p)
		}
	})
}

// buildArm reads s.Sum as a mean and s.SumSq as a spread (and likewise for
// the denominator and pre-period fields) and returns sums that a real data
// set could have: Σy² ≥ (Σy)²/n, |corr| ≤ 1, 0 ≤ conversions ≤ n.
func buildArm(k Kind, s ArmStats) ArmStats {
	if s.N < 0 {
		s.N = -s.N
	}
	s.N %= 1 << 40
	n := float64(s.N)
	frac := func(x float64) float64 { // any float to [0, 1]
		if math.IsNaN(x) || math.IsInf(x, 0) {
			return 0.5
		}
		_, fr := math.Modf(math.Abs(x))
		return fr
	}
	out := ArmStats{N: s.N}
	switch k {
	case KindBinomial:
		out.Sum = math.Floor(frac(s.Sum) * n)
		out.SumSq = out.Sum
		return out
	case KindNPS:
		p := math.Floor(frac(s.Sum) * n)
		d := math.Floor(frac(s.SumSq) * (n - p))
		return NPSArm(int64(p), s.N-int64(p)-int64(d), int64(d))
	}
	moments := func(mean, spread float64) (sum, sumSq float64) {
		sum = n * mean
		return sum, n*spread*spread + sum*mean
	}
	out.Sum, out.SumSq = moments(s.Sum, s.SumSq)
	out.DenSum, out.DenSumSq = moments(s.DenSum, s.DenSumSq)
	out.PreSum, out.PreSumSq = moments(s.PreSum, s.PreSumSq)
	rho := 2*frac(s.SumNumDen) - 1
	out.SumNumDen = n*s.DenSum*s.Sum + rho*n*math.Abs(s.SumSq*s.DenSumSq)
	rho = 2*frac(s.SumPrePost) - 1
	out.SumPrePost = n*s.PreSum*s.Sum + rho*n*math.Abs(s.SumSq*s.PreSumSq)
	return out
}

// FuzzProbabilityBest checks that any three Gaussian posteriors give
// probabilities in [0, 1] that sum to 1, without panicking.
func FuzzProbabilityBest(f *testing.F) {
	f.Add(0.1, 0.11, 0.105, 0.01, 0.01, 0.02)
	f.Add(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
	f.Add(1e300, -1e300, 3.0, 1e300, 1e-300, 1.0)
	f.Add(math.NaN(), 1.0, 2.0, 1.0, -1.0, 1.0)
	f.Fuzz(func(t *testing.T, m1, m2, m3, s1, s2, s3 float64) {
		p := ProbabilityBest([]float64{m1, m2, m3}, []float64{s1, s2, s3})
		sum := 0.0
		for _, v := range p {
			if !(v >= 0 && v <= 1) {
				t.Fatalf("probability %v", p)
			}
			sum += v
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("sum %.15g for %v", sum, p)
		}
		w := BanditWeights(p, s1)
		sum = 0
		for _, v := range w {
			sum += v
		}
		if math.Abs(sum-1) > 1e-9 {
			t.Fatalf("weights %v", w)
		}
	})
}
