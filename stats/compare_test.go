package stats

import (
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

var (
	meanA = ArmStats{N: 3407, Sum: 1396.87, SumSq: 52377.9767}
	meanB = ArmStats{N: 3461, Sum: 2422.7, SumSq: 134698.29}
)

func TestDegenerateInput(t *testing.T) {
	ok := ArmStats{N: 100, Sum: 10}
	cases := []struct {
		name    string
		kind    Kind
		a, b    ArmStats
		opts    Options
		status  Status
		inWords string // part of the Reason
	}{
		{"an arm with one unit is not enough data", KindMean, ArmStats{N: 1, Sum: 3, SumSq: 9}, meanB, Options{}, StatusNotEnoughData, "at least 2 units"},
		{"an empty arm is not enough data", KindBinomial, ArmStats{}, ok, Options{}, StatusNotEnoughData, "no units"},
		{"zero variance in both arms is not enough data", KindMean, ArmStats{N: 10, Sum: 10, SumSq: 10}, ArmStats{N: 10, Sum: 20, SumSq: 40}, Options{}, StatusNotEnoughData, "zero variance"},
		{"no conversions anywhere is not enough data", KindBinomial, ArmStats{N: 100}, ArmStats{N: 100}, Options{}, StatusNotEnoughData, "zero variance"},
		{"a zero control mean leaves nothing for the Bayesian analysis, which is stated on the relative lift", KindBinomial, ArmStats{N: 100}, ArmStats{N: 100, Sum: 3}, Options{Method: Bayesian}, StatusNotEnoughData, "control mean is zero"},
		{"a ratio whose cross product exceeds the Cauchy–Schwarz bound is invalid input naming the arm", KindRatio,
			ArmStats{N: 10, Sum: 20, SumSq: 50, DenSum: 10, DenSumSq: 12, SumNumDen: 40}, ArmStats{N: 10, Sum: 20, SumSq: 50, DenSum: 10, DenSumSq: 12, SumNumDen: 22}, Options{}, StatusInvalidInput, "control: SumNumDen"},
		{"a CUPED cross product beyond the Cauchy–Schwarz bound is invalid input naming the arm", KindMean,
			ArmStats{N: 10, Sum: 20, SumSq: 50, PreSum: 10, PreSumSq: 12, SumPrePost: 40}, ArmStats{N: 10, Sum: 20, SumSq: 50, PreSum: 10, PreSumSq: 12, SumPrePost: 22}, Options{CUPED: true}, StatusInvalidInput, "control: SumPrePost"},
		{"a cross product without any pre-period data is invalid input", KindBinomial,
			ArmStats{N: 10, Sum: 5}, ArmStats{N: 10, Sum: 5, SumPrePost: 3}, Options{}, StatusInvalidInput, "treatment: SumPrePost"},
		{"a ratio with a cross product below the negative bound is invalid input naming the arm", KindRatio,
			ArmStats{N: 10, Sum: 20, SumSq: 50, DenSum: 10, DenSumSq: 12, SumNumDen: 22}, ArmStats{N: 10, Sum: 20, SumSq: 50, DenSum: 10, DenSumSq: 12, SumNumDen: 0}, Options{}, StatusInvalidInput, "treatment: SumNumDen"},
		{"a zero ratio denominator is not enough data", KindRatio, ArmStats{N: 10, Sum: 5, SumSq: 5}, ArmStats{N: 10, Sum: 5, SumSq: 5, DenSum: 3, DenSumSq: 3, SumNumDen: 2}, Options{}, StatusNotEnoughData, "denominator"},
		{"a perfectly proportional ratio has zero variance", KindRatio, ArmStats{N: 10, Sum: 20, SumSq: 80, DenSum: 10, DenSumSq: 20, SumNumDen: 40}, ArmStats{N: 10, Sum: 20, SumSq: 80, DenSum: 10, DenSumSq: 20, SumNumDen: 40}, Options{}, StatusNotEnoughData, "zero variance"},
		{"a NaN sum is invalid input", KindMean, ArmStats{N: 10, Sum: math.NaN()}, meanB, Options{}, StatusInvalidInput, "NaN"},
		{"an infinite sum of squares is invalid input", KindMean, meanA, ArmStats{N: 10, SumSq: math.Inf(1)}, Options{}, StatusInvalidInput, "Inf"},
		{"a NaN pre-period sum is invalid input even without CUPED", KindMean, ArmStats{N: 10, Sum: 1, SumSq: 1, PreSum: math.NaN()}, meanB, Options{}, StatusInvalidInput, "NaN"},
		{"a negative unit count is invalid input", KindMean, ArmStats{N: -5}, meanB, Options{}, StatusInvalidInput, "negative unit count"},
		{"more conversions than units is invalid input", KindBinomial, ArmStats{N: 10, Sum: 11}, ok, Options{}, StatusInvalidInput, "outside"},
		{"negative conversions are invalid input", KindBinomial, ok, ArmStats{N: 10, Sum: -1}, Options{}, StatusInvalidInput, "outside"},
		{"a negative sum of squares is invalid input", KindMean, ArmStats{N: 10, Sum: 1, SumSq: -1}, meanB, Options{}, StatusInvalidInput, "negative sum of squares"},
		{"a sum of squares below sum squared over n is invalid input", KindMean, ArmStats{N: 10, Sum: 100, SumSq: 1}, meanB, Options{}, StatusInvalidInput, "impossible"},
		{"NPS with more promoters than respondents is invalid input", KindNPS, NPSArm(10, -5, 0), NPSArm(5, 5, 5), Options{}, StatusInvalidInput, "NPS"},
		{"NPS with negative detractors is invalid input", KindNPS, NPSArm(10, 5, -3), NPSArm(5, 5, 5), Options{}, StatusInvalidInput, "NPS"},
		{"an unknown kind is invalid input", Kind("median"), meanA, meanB, Options{}, StatusInvalidInput, "unknown metric kind"},
		{"an unknown method is invalid input", KindMean, meanA, meanB, Options{Method: "magic"}, StatusInvalidInput, "unknown method"},
		{"unknown sides are invalid input", KindMean, meanA, meanB, Options{Sides: "up"}, StatusInvalidInput, "unknown sides"},
		{"alpha of one is invalid input", KindMean, meanA, meanB, Options{Alpha: 1}, StatusInvalidInput, "alpha"},
		{"a NaN alpha is invalid input", KindMean, meanA, meanB, Options{Alpha: math.NaN()}, StatusInvalidInput, "alpha"},
		{"a negative sequential tuning is invalid input", KindMean, meanA, meanB, Options{Method: Sequential, SequentialTuning: -1}, StatusInvalidInput, "tuning"},
		{"a proper prior without variance is invalid input", KindMean, meanA, meanB, Options{Method: Bayesian, Prior: Prior{Proper: true}}, StatusInvalidInput, "prior"},
		{"sums near the float limit overflow into not enough data", KindMean, ArmStats{N: 10, Sum: 1e154, SumSq: 1e308}, ArmStats{N: 10, Sum: -1e154, SumSq: 1e308}, Options{}, StatusNotEnoughData, "overflow"},
		{"a square sum that cannot hold its sum is invalid input", KindMean, ArmStats{N: 10, Sum: 1e300, SumSq: math.MaxFloat64}, meanB, Options{}, StatusInvalidInput, "impossible"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, m := range []Method{Frequentist, Sequential, Bayesian} {
				opts := c.opts
				if opts.Method == "" {
					opts.Method = m
				}
				r := Compare(c.kind, c.a, c.b, opts)
				if r.Status != c.status || !strings.Contains(r.Reason, c.inWords) {
					t.Errorf("%s: status %q reason %q, want %q containing %q", m, r.Status, r.Reason, c.status, c.inWords)
				}
				if p := resultProblems(r); len(p) > 0 {
					t.Errorf("%s: %v", m, p)
				}
				wantErr := ErrNotEnoughData
				if c.status == StatusInvalidInput {
					wantErr = ErrInvalidInput
				}
				if !errors.Is(r.Err(), wantErr) {
					t.Errorf("%s: Err() = %v, want it to wrap %v", m, r.Err(), wantErr)
				}
			}
		})
	}

	t.Run("arm means are still reported when there is not enough data", func(t *testing.T) {
		r := Compare(KindBinomial, ArmStats{N: 100}, ArmStats{N: 100, Sum: 3}, Options{Method: Bayesian})
		if r.ControlMean != 0 || r.TreatmentMean != 0.03 {
			t.Errorf("means %g %g", r.ControlMean, r.TreatmentMean)
		}
	})
}

func TestResultMarshalsToJSON(t *testing.T) {
	for _, sides := range []Sides{TwoSided, Greater, Less} {
		for _, m := range []Method{Frequentist, Sequential, Bayesian} {
			t.Run(string(m)+" "+string(sides)+" results marshal and keep their numbers", func(t *testing.T) {
				r := Compare(KindMean, meanA, meanB, Options{Method: m, Sides: sides})
				b, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				var back Result
				if err := json.Unmarshal(b, &back); err != nil {
					t.Fatal(err)
				}
				if back != r {
					t.Errorf("round trip changed the result:\n%+v\n%+v", r, back)
				}
			})
		}
	}
}

func TestSides(t *testing.T) {
	two := Compare(KindMean, meanA, meanB, Options{})
	greater := Compare(KindMean, meanA, meanB, Options{Sides: Greater})
	less := Compare(KindMean, meanA, meanB, Options{Sides: Less})

	t.Run("a positive lift tested as greater has half the two-sided p-value", func(t *testing.T) {
		assertClose(t, "p greater", greater.Absolute.PValue, two.Absolute.PValue/2)
		assertClose(t, "p less", less.Absolute.PValue, 1-two.Absolute.PValue/2)
	})
	t.Run("one-sided intervals are open on the untested side", func(t *testing.T) {
		if greater.Absolute.CIHigh != Unbounded || less.Absolute.CILow != -Unbounded {
			t.Errorf("greater %+v less %+v", greater.Absolute, less.Absolute)
		}
		if !(greater.Absolute.CILow > two.Absolute.CILow) || !(less.Absolute.CIHigh < two.Absolute.CIHigh) {
			t.Error("one-sided bounds should be tighter than two-sided ones")
		}
	})
	t.Run("for a lower-is-better metric the chance to win is the chance of a decrease", func(t *testing.T) {
		up := Compare(KindBinomial, ArmStats{N: 100, Sum: 49}, ArmStats{N: 100, Sum: 51}, Options{Method: Bayesian, Sides: Greater})
		down := Compare(KindBinomial, ArmStats{N: 100, Sum: 49}, ArmStats{N: 100, Sum: 51}, Options{Method: Bayesian, Sides: Less})
		assertClose(t, "chance to win", down.ChanceToWin, 1-up.ChanceToWin)
		assertClose(t, "risk of control", down.Risk[0], up.Risk[1])
		assertClose(t, "risk of treatment", down.Risk[1], up.Risk[0])
	})
	t.Run("relative lift keeps the sign of absolute lift when the control mean is negative", func(t *testing.T) {
		a := ArmStats{N: 1000, Sum: -200, SumSq: 5000}
		b := ArmStats{N: 1000, Sum: -100, SumSq: 5000}
		r := Compare(KindMean, a, b, Options{})
		if !(r.Absolute.Estimate > 0 && r.Relative.Estimate > 0) {
			t.Errorf("absolute %g relative %g", r.Absolute.Estimate, r.Relative.Estimate)
		}
		assertClose(t, "relative", r.Relative.Estimate, 0.5)
	})
}

func TestRatioMetric(t *testing.T) {
	t.Run("a ratio whose denominator is one per unit equals the mean metric", func(t *testing.T) {
		asRatio := func(s ArmStats) ArmStats {
			n := float64(s.N)
			s.DenSum, s.DenSumSq, s.SumNumDen = n, n, s.Sum
			return s
		}
		m := Compare(KindMean, meanA, meanB, Options{})
		r := Compare(KindRatio, asRatio(meanA), asRatio(meanB), Options{})
		for _, p := range [][3]any{
			{"relative estimate", r.Relative.Estimate, m.Relative.Estimate},
			{"relative se", r.Relative.SE, m.Relative.SE},
			{"relative p", r.Relative.PValue, m.Relative.PValue},
			{"absolute se", r.Absolute.SE, m.Absolute.SE},
			{"df", r.Absolute.DF, m.Absolute.DF},
		} {
			assertClose(t, p[0].(string), p[1].(float64), p[2].(float64))
		}
	})
	t.Run("the delta-method variance equals the variance of the linearised per-unit values", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(7, 7))
		var s ArmStats
		xs, ys := make([]float64, 500), make([]float64, 500)
		for i := range xs {
			x := float64(1 + rng.IntN(4)) // orders
			y := x * (30 + 10*rng.NormFloat64())
			xs[i], ys[i] = x, y
			s.N++
			s.Sum += y
			s.SumSq += y * y
			s.DenSum += x
			s.DenSumSq += x * x
			s.SumNumDen += x * y
		}
		a, reason := armMoments(KindRatio, s, "arm")
		if reason != "" {
			t.Fatal(reason)
		}
		// Linearisation: (y − r·x)/x̄ has the ratio's per-unit variance.
		r, mx := s.Sum/s.DenSum, s.DenSum/float64(s.N)
		var sum, sumSq float64
		for i := range xs {
			l := (ys[i] - r*xs[i]) / mx
			sum += l
			sumSq += l * l
		}
		assertClose(t, "ratio", a.mean, r)
		assertClose(t, "per-unit variance", a.v, sampleVar(sum, sumSq, float64(s.N)))
	})
	t.Run("CUPED on a ratio metric is declined with a reason", func(t *testing.T) {
		s := ArmStats{N: 100, Sum: 300, SumSq: 1500, DenSum: 120, DenSumSq: 200, SumNumDen: 400, PreSum: 10, PreSumSq: 20, SumPrePost: 30}
		t2 := s
		t2.Sum = 350
		t2.SumNumDen = 450
		t2.SumSq = 1800
		r := Compare(KindRatio, s, t2, Options{CUPED: true})
		if !r.OK() || r.CUPEDApplied || r.CUPEDReason == "" {
			t.Errorf("%+v", r)
		}
	})
}

func TestNPS(t *testing.T) {
	t.Run("NPSArm encodes promoters minus detractors and promoters plus detractors", func(t *testing.T) {
		got := NPSArm(50, 30, 20)
		if got != (ArmStats{N: 100, Sum: 30, SumSq: 70}) {
			t.Errorf("%+v", got)
		}
	})
	t.Run("NPS uses the multinomial variance p+d-(p-d)^2", func(t *testing.T) {
		r := Compare(KindNPS, NPSArm(50, 30, 20), NPSArm(60, 20, 20), Options{})
		if !r.OK() {
			t.Fatal(r.Reason)
		}
		assertClose(t, "control NPS", r.ControlMean, 0.3)
		assertClose(t, "treatment NPS", r.TreatmentMean, 0.4)
		va := 0.5 + 0.2 - 0.09
		vb := 0.6 + 0.2 - 0.16
		assertClose(t, "absolute se", r.Absolute.SE, math.Sqrt(va/100+vb/100))
		assertClose(t, "relative", r.Relative.Estimate, 0.4/0.3-1)
	})
}

func TestCUPEDFallback(t *testing.T) {
	t.Run("without pre-period data CUPED is not applied and the result equals the plain test", func(t *testing.T) {
		plain := Compare(KindMean, meanA, meanB, Options{})
		r := Compare(KindMean, meanA, meanB, Options{CUPED: true})
		if r.CUPEDApplied || r.CUPEDTheta != 0 || !strings.Contains(r.CUPEDReason, "no pre-period data") {
			t.Errorf("applied %v theta %g reason %q", r.CUPEDApplied, r.CUPEDTheta, r.CUPEDReason)
		}
		r.CUPEDReason = ""
		if r != plain {
			t.Errorf("fallback differs from the plain test:\n%+v\n%+v", r, plain)
		}
	})
	t.Run("pre-period data in only one arm is not used because it would bias the lift", func(t *testing.T) {
		a := meanA
		a.PreSum, a.PreSumSq, a.SumPrePost = 100, 400, 300
		r := Compare(KindMean, a, meanB, Options{CUPED: true})
		if r.CUPEDApplied || !strings.Contains(r.CUPEDReason, "treatment") {
			t.Errorf("applied %v reason %q", r.CUPEDApplied, r.CUPEDReason)
		}
	})
	t.Run("a constant pre-period value is not used", func(t *testing.T) {
		a, b := meanA, meanB
		a.PreSum, a.PreSumSq, a.SumPrePost = float64(a.N), float64(a.N), a.Sum
		b.PreSum, b.PreSumSq, b.SumPrePost = float64(b.N), float64(b.N), b.Sum
		r := Compare(KindMean, a, b, Options{CUPED: true})
		if r.CUPEDApplied || !strings.Contains(r.CUPEDReason, "no variance") {
			t.Errorf("applied %v reason %q", r.CUPEDApplied, r.CUPEDReason)
		}
	})
	t.Run("without the CUPED option the pre-period data is ignored", func(t *testing.T) {
		c := ArmStats{N: 3001, Sum: 300, SumSq: 600, PreSum: 210, PreSumSq: 415, SumPrePost: -20}
		tr := ArmStats{N: 3000, Sum: 222, SumSq: 555, PreSum: 120, PreSumSq: 405, SumPrePost: -10}
		r := Compare(KindMean, c, tr, Options{})
		if r.CUPEDApplied || r.CUPEDReason != "" {
			t.Errorf("%+v", r)
		}
	})
}

func TestBayesianPrior(t *testing.T) {
	a, b := ArmStats{N: 100, Sum: 49}, ArmStats{N: 100, Sum: 51}
	flat := Compare(KindBinomial, a, b, Options{Method: Bayesian})
	t.Run("a proper prior shrinks the posterior towards its mean by precision weighting", func(t *testing.T) {
		r := Compare(KindBinomial, a, b, Options{Method: Bayesian, Prior: Prior{Proper: true, Mean: 0, Variance: 0.01}})
		v := flat.Relative.SE * flat.Relative.SE
		prec := 1/v + 1/0.01
		assertClose(t, "posterior mean", r.Relative.Estimate, flat.Relative.Estimate/v/prec)
		assertClose(t, "posterior sd", r.Relative.SE, math.Sqrt(1/prec))
		assertClose(t, "chance to win", r.ChanceToWin, normCDF(r.Relative.Estimate/r.Relative.SE))
	})
	t.Run("a very wide proper prior is almost the flat prior", func(t *testing.T) {
		r := Compare(KindBinomial, a, b, Options{Method: Bayesian, Prior: Prior{Proper: true, Variance: 1e12}})
		if math.Abs(r.ChanceToWin-flat.ChanceToWin) > 1e-9 {
			t.Errorf("chance %g vs flat %g", r.ChanceToWin, flat.ChanceToWin)
		}
	})
	t.Run("a bayesian result reports no p-value", func(t *testing.T) {
		if flat.Relative.PValue != 1 || flat.Absolute.PValue != 1 {
			t.Errorf("p-values %g %g", flat.Relative.PValue, flat.Absolute.PValue)
		}
	})
}

func TestSequentialPValue(t *testing.T) {
	t.Run("the always-valid p-value is below alpha exactly when the sequence excludes zero", func(t *testing.T) {
		rng := rand.New(rand.NewPCG(11, 12))
		for range 2000 {
			n := int64(50 + rng.IntN(5000))
			pa, pb := 0.1, 0.1*(1+0.3*rng.NormFloat64())
			pb = math.Min(math.Max(pb, 0.01), 0.99)
			a := ArmStats{N: n, Sum: math.Round(pa * float64(n) * (1 + 0.1*rng.NormFloat64()))}
			b := ArmStats{N: n, Sum: math.Round(pb * float64(n))}
			for _, sides := range []Sides{TwoSided, Greater, Less} {
				r := Compare(KindBinomial, a, b, Options{Method: Sequential, Sides: sides, SequentialTuning: 2000})
				if !r.OK() {
					continue
				}
				excludes := r.Relative.CILow > 0 || r.Relative.CIHigh < 0
				if excludes != (r.Relative.PValue < r.Alpha) {
					t.Fatalf("%s: CS (%g, %g) but p = %g", sides, r.Relative.CILow, r.Relative.CIHigh, r.Relative.PValue)
				}
			}
		}
	})
	t.Run("the confidence sequence is wider than the fixed-horizon interval", func(t *testing.T) {
		f := Compare(KindMean, meanA, meanB, Options{})
		s := Compare(KindMean, meanA, meanB, Options{Method: Sequential})
		if !(s.Relative.CIHigh-s.Relative.CILow > f.Relative.CIHigh-f.Relative.CILow) {
			t.Errorf("sequential %+v fixed %+v", s.Relative, f.Relative)
		}
		if !(s.Relative.PValue >= f.Relative.PValue) {
			t.Errorf("sequential p %g < fixed p %g", s.Relative.PValue, f.Relative.PValue)
		}
	})
}

func TestOptionDefaults(t *testing.T) {
	t.Run("zero options mean a two-sided frequentist test at alpha 5%", func(t *testing.T) {
		r := Compare(KindMean, meanA, meanB, Options{})
		if r.Method != Frequentist || r.Sides != TwoSided || r.Alpha != 0.05 || r.CUPEDApplied {
			t.Errorf("echoed %q %q %g cuped %v", r.Method, r.Sides, r.Alpha, r.CUPEDApplied)
		}
	})
	t.Run("a tiny alpha still gives finite intervals", func(t *testing.T) {
		for _, m := range []Method{Frequentist, Sequential, Bayesian} {
			r := Compare(KindMean, meanA, meanB, Options{Method: m, Alpha: 1e-40})
			if !r.OK() || len(resultProblems(r)) > 0 || !(r.Relative.CIHigh-r.Relative.CILow > 0) {
				t.Errorf("%s: %+v %v", m, r, resultProblems(r))
			}
		}
	})
	t.Run("the default sequential tuning is 5000", func(t *testing.T) {
		a := Compare(KindMean, meanA, meanB, Options{Method: Sequential})
		b := Compare(KindMean, meanA, meanB, Options{Method: Sequential, SequentialTuning: 5000})
		if a != b {
			t.Errorf("%+v\n%+v", a, b)
		}
	})
}

// The expected values are from SciPy: stats.ttest_ind_from_stats(...,
// equal_var=False) for the statistic and p-value (for the binomial with the
// unpooled sd sqrt(p(1−p)), no Bessel correction, as Compare uses) and
// stats.t.ppf(0.975, df) for the interval.
func TestZeroControlMeanStillReportsTheDifference(t *testing.T) {
	for _, c := range []struct {
		name           string
		kind           Kind
		a, b           ArmStats
		est, lo, hi, p float64
		significant    bool
	}{
		{"no conversions in control against 3 of 100", KindBinomial, ArmStats{N: 100}, ArmStats{N: 100, Sum: 3},
			0.03, -0.003848205580214044, 0.06384820558021403, 0.08173024055569465, false},
		{"a mean metric whose control values sum to zero (-2, -1, 1, 2 against 0, 1, 1, 2)", KindMean,
			ArmStats{N: 4, Sum: 0, SumSq: 10}, ArmStats{N: 4, Sum: 4, SumSq: 6},
			1, -1.7363569181339518, 3.7363569181339518, 0.3719465988988284, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, opts := range []Options{{}, {CUPED: true}} {
				r := Compare(c.kind, c.a, c.b, opts)
				if !r.OK() || !strings.Contains(r.RelativeReason, "control mean is zero") {
					t.Fatalf("status %s %q, relative reason %q", r.Status, r.Reason, r.RelativeReason)
				}
				l := r.Absolute
				if !near(l.Estimate, c.est, 1e-12) || !near(l.CILow, c.lo, 1e-9) || !near(l.CIHigh, c.hi, 1e-9) || !near(l.PValue, c.p, 1e-9) {
					t.Errorf("absolute %+v, want %v [%v, %v] p %v", l, c.est, c.lo, c.hi, c.p)
				}
				if r.Relative != (Lift{}) || r.Significant != c.significant {
					t.Errorf("relative %+v, significant %v", r.Relative, r.Significant)
				}
				if p := resultProblems(r); len(p) > 0 {
					t.Error(p)
				}
			}
		})
	}
	t.Run("the sequential method reports the difference's confidence sequence too", func(t *testing.T) {
		r := Compare(KindBinomial, ArmStats{N: 1000}, ArmStats{N: 1000, Sum: 30}, Options{Method: Sequential})
		if !r.OK() || r.Absolute.CILow <= 0 || r.Absolute.PValue >= 0.05 || !r.Significant || r.Relative != (Lift{}) {
			t.Fatalf("%+v", r)
		}
	})
}

func TestResultsCarryWhatReproducesThem(t *testing.T) {
	t.Run("each arm's per-unit variance is reported", func(t *testing.T) {
		r := Compare(KindMean, meanA, meanB, Options{})
		// stats-vectors.md: per-unit variance 15.21 / 38.44.
		if !near(r.ControlVariance, 15.21, 1e-9) || !near(r.TreatmentVariance, 38.44, 1e-9) {
			t.Fatalf("variances %v / %v", r.ControlVariance, r.TreatmentVariance)
		}
		se := math.Sqrt(r.ControlVariance/float64(meanA.N) + r.TreatmentVariance/float64(meanB.N))
		if !near(se, r.Absolute.SE, 1e-12) {
			t.Fatalf("se from the variances %v, reported %v", se, r.Absolute.SE)
		}
	})
	t.Run("the sequential method reports the tuning it used, default included", func(t *testing.T) {
		if r := Compare(KindMean, meanA, meanB, Options{Method: Sequential}); r.SequentialTuning != DefaultSequentialTuning {
			t.Fatalf("tuning %v", r.SequentialTuning)
		}
		if r := Compare(KindMean, meanA, meanB, Options{Method: Sequential, SequentialTuning: 1000}); r.SequentialTuning != 1000 {
			t.Fatalf("tuning %v", r.SequentialTuning)
		}
		if r := Compare(KindMean, meanA, meanB, Options{}); r.SequentialTuning != 0 {
			t.Fatalf("a fixed-horizon result reports tuning %v", r.SequentialTuning)
		}
	})
	t.Run("a ratio at the Cauchy–Schwarz bound (perfect correlation) is still accepted", func(t *testing.T) {
		// x = 1, 2, 3 and y = 2x: Σxy = 28 = sqrt(Σ(x−x̄)²·Σ(y−ȳ)²) + x̄ȳn.
		a := ArmStats{N: 3, Sum: 12, SumSq: 56, DenSum: 6, DenSumSq: 14, SumNumDen: 28}
		if r := Compare(KindRatio, a, a, Options{}); r.Status == StatusInvalidInput {
			t.Fatalf("%s: %s", r.Status, r.Reason)
		}
	})
}
