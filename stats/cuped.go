package stats

import "math"

// cupedArm holds the per-arm moments CUPED needs on top of arm.
type cupedArm struct {
	arm
	preMean float64 // x̄, mean of the pre-exposure covariate
	preVar  float64 // sample variance of x
	cov     float64 // sample covariance of x and y
}

// cupedTheta is θ = Cov(x, y)/Var(x) over the two arms pooled as one sample
// (sums added, arm labels ignored). Pooling keeps θ the same for both arms,
// which is what keeps the adjusted difference unbiased: θ·(x̄b − x̄a) has
// expectation zero because x is measured before exposure.
func cupedTheta(ctrl, trt ArmStats, kind Kind) (theta float64, ok bool) {
	n := float64(ctrl.N + trt.N)
	sx := ctrl.PreSum + trt.PreSum
	sxx := ctrl.PreSumSq + trt.PreSumSq
	sy := ctrl.Sum + trt.Sum
	sxy := ctrl.SumPrePost + trt.SumPrePost
	vx := sampleVar(sx, sxx, n)
	if !(vx > 0) {
		return 0, false
	}
	theta = sampleCov(sx, sy, sxy, n) / vx
	return theta, finite(theta)
}

func newCupedArm(a arm, s ArmStats) cupedArm {
	n := float64(s.N)
	return cupedArm{
		arm:     a,
		preMean: s.PreSum / n,
		preVar:  sampleVar(s.PreSum, s.PreSumSq, n),
		cov:     sampleCov(s.PreSum, s.Sum, s.SumPrePost, n),
	}
}

// adjVar is the per-unit variance of y − θx: v + θ²·Var(x) − 2θ·Cov(x, y).
func (c cupedArm) adjVar(theta float64) float64 {
	v := c.v + theta*theta*c.preVar - 2*theta*c.cov
	if v < 0 {
		return 0
	}
	return v
}

// cupedContrasts returns the CUPED-adjusted absolute and relative contrasts
//
//	Δ = (ȳb − θx̄b) − (ȳa − θx̄a),  relative = Δ/|ȳa|
//
// with the relative variance from the delta method in the form used by
// GrowthBook's gbstats (frequentist_variance_relative_cuped), which the
// reference vectors reproduce. The df is Welch–Satterthwaite on the adjusted
// per-unit variances.
func cupedContrasts(a, b cupedArm, theta float64) (abs, rel contrast) {
	va, vb := a.adjVar(theta), b.adjVar(theta)
	df := welchDF(arm{n: a.n, v: va}, arm{n: b.n, v: vb})
	d := (b.mean - theta*b.preMean) - (a.mean - theta*a.preMean)
	abs = contrast{est: d, variance: vb/b.n + va/a.n, df: df}

	ma := a.mean
	ma2 := ma * ma
	vTrt := vb / (b.n * ma2)
	ctrlNum := a.v*b.mean*b.mean/ma2 - 2*theta*a.cov*b.mean/ma + theta*theta*a.preVar
	vCtrl := ctrlNum / (a.n * ma2)
	v := vTrt + vCtrl
	if v < 0 {
		v = 0
	}
	rel = contrast{est: d / math.Abs(ma), variance: v, df: df}
	return abs, rel
}
