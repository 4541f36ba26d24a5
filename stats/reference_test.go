package stats

import (
	"math"
	"testing"
)

// The expected numbers in this file are copied from
// shared/reference/stats-vectors.md and must match to 1e-6 relative.

const refTol = 1e-6

func assertClose(t *testing.T, name string, got, want float64) {
	t.Helper()
	tol := refTol * math.Max(math.Abs(want), 1e-12)
	if want == 0 {
		tol = 1e-12
	}
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.12g, want %.12g (rel err %.3g)", name, got, want, math.Abs(got-want)/math.Abs(want))
	}
}

func TestReferenceVectors(t *testing.T) {
	welchA := ArmStats{N: 3407, Sum: 1396.87, SumSq: 52377.9767}
	welchB := ArmStats{N: 3461, Sum: 2422.7, SumSq: 134698.29}

	t.Run("welch on a mean metric reproduces means, df, absolute and relative lift", func(t *testing.T) {
		r := Compare(KindMean, welchA, welchB, Options{})
		if !r.OK() {
			t.Fatalf("status %s: %s", r.Status, r.Reason)
		}
		assertClose(t, "control mean", r.ControlMean, 0.41)
		assertClose(t, "treatment mean", r.TreatmentMean, 0.70)
		assertClose(t, "df", r.Absolute.DF, 5841.742032)
		assertClose(t, "relative df", r.Relative.DF, 5841.742032)
		assertClose(t, "abs lift", r.Absolute.Estimate, 0.29)
		assertClose(t, "abs se", r.Absolute.SE, 0.1247836316)
		assertClose(t, "abs ci low", r.Absolute.CILow, 0.04537789256)
		assertClose(t, "abs ci high", r.Absolute.CIHigh, 0.5346221074)
		assertClose(t, "abs p", r.Absolute.PValue, 0.02015840264)
		assertClose(t, "rel lift", r.Relative.Estimate, 0.7073170732)
		assertClose(t, "rel se", r.Relative.SE, 0.3787943617)
		assertClose(t, "rel ci low", r.Relative.CILow, -0.03526008907)
		assertClose(t, "rel ci high", r.Relative.CIHigh, 1.449894235)
		assertClose(t, "rel p", r.Relative.PValue, 0.06191182746)
		a, _ := armMoments(KindMean, welchA, "a")
		b, _ := armMoments(KindMean, welchB, "b")
		assertClose(t, "control per-unit variance", a.v, 15.21)
		assertClose(t, "treatment per-unit variance", b.v, 38.44)
	})

	t.Run("binomial uses welch on unpooled p(1-p)", func(t *testing.T) {
		r := Compare(KindBinomial, ArmStats{N: 28, Sum: 14}, ArmStats{N: 30, Sum: 16}, Options{})
		if !r.OK() {
			t.Fatalf("status %s: %s", r.Status, r.Reason)
		}
		assertClose(t, "df", r.Relative.DF, 55.70744915)
		assertClose(t, "rel lift", r.Relative.Estimate, 0.06666666667)
		assertClose(t, "rel se", r.Relative.SE, 0.2716985569)
		assertClose(t, "rel ci low", r.Relative.CILow, -0.4776740279)
		assertClose(t, "rel ci high", r.Relative.CIHigh, 0.6110073612)
		assertClose(t, "rel p", r.Relative.PValue, 0.8070716832)
		assertClose(t, "abs lift", r.Absolute.Estimate, 0.03333333333)
		assertClose(t, "abs se", r.Absolute.SE, 0.1312435436)
		assertClose(t, "abs p", r.Absolute.PValue, 0.8004455444)
	})

	t.Run("classic two-proportion z with pooled and unpooled standard errors", func(t *testing.T) {
		pooled, err := TwoProportionZ(200, 2000, 250, 2000, true, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "pooled z", pooled.Z, 2.501955417)
		assertClose(t, "pooled p", pooled.PValue, 0.01235094771)
		unpooled, err := TwoProportionZ(200, 2000, 250, 2000, false, 0.05)
		if err != nil {
			t.Fatal(err)
		}
		assertClose(t, "unpooled z", unpooled.Z, 2.503915429)
		assertClose(t, "unpooled p", unpooled.PValue, 0.01228273897)
		assertClose(t, "wald ci low", unpooled.CILow, 0.005431008555)
		assertClose(t, "wald ci high", unpooled.CIHigh, 0.04456899145)
		assertClose(t, "pooled test keeps the wald ci low", pooled.CILow, 0.005431008555)
	})

	t.Run("sequential confidence sequence with N* 1000", func(t *testing.T) {
		a := ArmStats{N: 3000, Sum: 1396.87, SumSq: 52377.9767}
		r := Compare(KindMean, a, welchB, Options{Method: Sequential, SequentialTuning: 1000})
		if !r.OK() {
			t.Fatalf("status %s: %s", r.Status, r.Reason)
		}
		assertClose(t, "rho", sequentialRho(0.05, 1000), 0.08908509753)
		assertClose(t, "rel lift", r.Relative.Estimate, 0.5033610859)
		assertClose(t, "rel se", r.Relative.SE, 0.3334122146)
		assertClose(t, "cs low", r.Relative.CILow, -0.5584405051)
		assertClose(t, "cs high", r.Relative.CIHigh, 1.565162677)
		assertClose(t, "p", r.Relative.PValue, 1)
	})

	t.Run("bayesian flat prior on relative lift gives posterior, chance to win and risk", func(t *testing.T) {
		r := Compare(KindBinomial, ArmStats{N: 100, Sum: 49}, ArmStats{N: 100, Sum: 51}, Options{Method: Bayesian})
		if !r.OK() {
			t.Fatalf("status %s: %s", r.Status, r.Reason)
		}
		assertClose(t, "posterior mean", r.Relative.Estimate, 0.04081632653)
		assertClose(t, "posterior sd", r.Relative.SE, 0.1472525457)
		assertClose(t, "credible low", r.Credible[0], -0.2477933597)
		assertClose(t, "credible high", r.Credible[1], 0.3294260128)
		assertClose(t, "ci low", r.Relative.CILow, -0.2477933597)
		assertClose(t, "chance to win", r.ChanceToWin, 0.6091813096)
		assertClose(t, "risk control", r.Risk[0], 0.08139584916)
		assertClose(t, "risk treatment", r.Risk[1], 0.04057952262)
	})

	t.Run("cuped pools theta over both arms", func(t *testing.T) {
		c := ArmStats{N: 3001, Sum: 300, SumSq: 600, PreSum: 210, PreSumSq: 415, SumPrePost: -20}
		tr := ArmStats{N: 3000, Sum: 222, SumSq: 555, PreSum: 120, PreSumSq: 405, SumPrePost: -10}
		r := Compare(KindMean, c, tr, Options{CUPED: true})
		if !r.OK() || !r.CUPEDApplied {
			t.Fatalf("status %s (%s), applied %v (%s)", r.Status, r.Reason, r.CUPEDApplied, r.CUPEDReason)
		}
		assertClose(t, "theta", r.CUPEDTheta, -0.07321194035)
		assertClose(t, "rel lift", r.Relative.Estimate, -0.2817071538)
		assertClose(t, "rel se", r.Relative.SE, 0.09710487645)
		assertClose(t, "df", r.Relative.DF, 5995.240423)
		assertClose(t, "rel ci low", r.Relative.CILow, -0.4720676457)
		assertClose(t, "rel ci high", r.Relative.CIHigh, -0.091346662)
		assertClose(t, "rel p", r.Relative.PValue, 0.003732548615)
		assertClose(t, "abs lift", r.Absolute.Estimate, -0.02816132828)
		assertClose(t, "abs p", r.Absolute.PValue, 0.01102936865)
	})
}
