package stats

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"testing"
)

// planCase is one entry of testdata/plan_golden.json, written by
// testdata/plan_golden.py with SciPy (normal and noncentral t, brentq) and
// cross-checked there against statsmodels' NormalIndPower and
// TTestIndPower where their model is the same.
type planCase struct {
	Name       string  `json:"name"`
	Kind       Kind    `json:"kind"`
	Baseline   float64 `json:"baseline"`
	Sigma      float64 `json:"sigma"`
	Scale      string  `json:"scale"`
	Contrast   string  `json:"contrast"`
	Effect     float64 `json:"effect"`
	N          float64 `json:"n"`
	Arms       int     `json:"arms"`
	Correction string  `json:"correction"`
	Test       string  `json:"test"`
	Method     string  `json:"method"`
	Tuning     float64 `json:"tuning"`
	Alpha      float64 `json:"alpha"`
	Power      float64 `json:"power"`
	Sides      string  `json:"sides"`
	Question   string  `json:"question"`
	Want       float64 `json:"want"`
}

func (c planCase) design() Design {
	return Design{
		Kind: c.Kind, Baseline: c.Baseline, Sigma: c.Sigma, Scale: MDEScale(c.Scale), Contrast: MDEScale(c.Contrast),
		Arms: c.Arms, Correction: Correction(c.Correction), Test: PlanTest(c.Test), Method: Method(c.Method),
		SequentialTuning: c.Tuning, Alpha: c.Alpha, TargetPower: c.Power, Sides: Sides(c.Sides),
	}
}

func TestPlanMatchesIndependentlyComputedValues(t *testing.T) {
	raw, err := os.ReadFile("testdata/plan_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []planCase
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	if len(cases) < 20 {
		t.Fatalf("only %d golden cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.Question+": "+c.Name, func(t *testing.T) {
			d := c.design()
			var got float64
			var err error
			switch c.Question {
			case "sample_size":
				var s SampleSize
				s, err = d.SampleSize(c.Effect)
				got = s.Exact
				if err == nil && s.PerArm != int64(math.Ceil(c.Want)) {
					t.Errorf("per arm %d, want %v rounded up", s.PerArm, c.Want)
				}
			case "power":
				got, err = d.Power(c.Effect, c.N)
			case "mde":
				got, err = d.MDE(c.N)
			default:
				t.Fatalf("unknown question %q", c.Question)
			}
			if err != nil {
				t.Fatal(err)
			}
			// 1e-7 relative: gonum's noncentral t (AS 243) and SciPy's
			// (Boost) agree to about 1e-9 in the tails used here.
			if math.Abs(got-c.Want) > 1e-7*math.Abs(c.Want) {
				t.Errorf("got %.12g, want %.12g (rel. error %.2g)", got, c.Want, math.Abs(got-c.Want)/math.Abs(c.Want))
			}
		})
	}
}

func TestPlanProperties(t *testing.T) {
	t.Run("the reference closed forms 1569.78 and 14748.05 are the one-tail plans at alpha/2", func(t *testing.T) {
		// stats-vectors.md: n = (z(1−α/2) + z(1−β))²·V/δ² ignores the far
		// tail, which is exactly a one-sided plan at α/2.
		m, err := Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Sides: Greater, Alpha: 0.025}.SampleSize(0.1)
		if err != nil || math.Abs(m.Exact-1569.78) > 0.005 || m.PerArm != 1570 {
			t.Fatalf("means: %+v, %v", m, err)
		}
		p, err := Design{Kind: KindBinomial, Baseline: 0.1, Scale: AbsoluteMDE, Sides: Greater, Alpha: 0.025}.SampleSize(0.01)
		if err != nil || math.Abs(p.Exact-14748.05) > 0.005 || p.PerArm != 14749 {
			t.Fatalf("proportions: %+v, %v", p, err)
		}
	})
	t.Run("the closed-form reference 14748.05 differs from the two-tailed root only by the far tail", func(t *testing.T) {
		s, err := Design{Kind: KindBinomial, Baseline: 0.1, Scale: AbsoluteMDE}.SampleSize(0.01)
		if err != nil || math.Abs(s.Exact-14748.05) > 0.05 || s.PerArm != 14749 {
			t.Fatalf("got %+v, %v", s, err)
		}
	})
	t.Run("the relative test needs more units than the difference test for the same increase", func(t *testing.T) {
		rel, _ := Design{Kind: KindMean, Baseline: 10, Sigma: 4, Scale: RelativeMDE, Contrast: RelativeMDE}.SampleSize(0.05)
		abs, _ := Design{Kind: KindMean, Baseline: 10, Sigma: 4, Scale: RelativeMDE}.SampleSize(0.05)
		// (1 + 1.05²)/2 = 1.05125: the delta-method variance of the relative lift.
		if r := rel.Exact / abs.Exact; math.Abs(r-1.05125) > 1e-9 {
			t.Fatalf("ratio %v", r)
		}
	})
	t.Run("power at the planned size is the target power", func(t *testing.T) {
		for _, d := range []Design{
			{Kind: KindBinomial, Baseline: 0.05, Scale: RelativeMDE, Contrast: RelativeMDE},
			{Kind: KindMean, Sigma: 3, Scale: AbsoluteMDE, Test: TTest},
			{Kind: KindMean, Sigma: 3, Scale: AbsoluteMDE, Method: Sequential, Arms: 3},
		} {
			s, err := d.SampleSize(0.2)
			if err != nil {
				t.Fatal(err)
			}
			p, err := d.Power(0.2, s.Exact)
			if err != nil || math.Abs(p-0.8) > 1e-9 {
				t.Errorf("%+v: power %v, %v", d, p, err)
			}
		}
	})
	t.Run("the MDE at the planned size is the planned effect", func(t *testing.T) {
		d := Design{Kind: KindBinomial, Baseline: 0.2, Scale: RelativeMDE, Test: TTest, Arms: 3}
		s, _ := d.SampleSize(0.15)
		m, err := d.MDE(s.Exact)
		if err != nil || math.Abs(m-0.15) > 1e-9 {
			t.Fatalf("mde %v, %v", m, err)
		}
	})
	t.Run("the sequential plan with default tuning needs about 1.91 times the fixed-horizon sample", func(t *testing.T) {
		fixed, _ := Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE}.SampleSize(0.1)
		seq, _ := Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Method: Sequential}.SampleSize(0.1)
		if r := seq.Exact / fixed.Exact; r < 1.9 || r > 1.92 {
			t.Fatalf("ratio %v", r)
		}
	})
	t.Run("Bonferroni divides alpha by the number of treatments", func(t *testing.T) {
		if a := (Design{Arms: 5}).ComparisonAlpha(); a != 0.0125 {
			t.Fatalf("alpha %v", a)
		}
		if a := (Design{Arms: 5, Correction: NoCorrection}).ComparisonAlpha(); a != 0.05 {
			t.Fatalf("alpha %v", a)
		}
	})
	t.Run("a tiny sample cannot detect any increase of a rate and says not enough data", func(t *testing.T) {
		_, err := Design{Kind: KindBinomial, Baseline: 0.5, Scale: AbsoluteMDE, TargetPower: 0.99, Alpha: 0.001}.MDE(2)
		if !errors.Is(err, ErrNotEnoughData) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPlanRejectsImpossibleDesigns(t *testing.T) {
	ok := Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE}
	for _, c := range []struct {
		name string
		d    Design
	}{
		{"a ratio metric", Design{Kind: KindRatio, Sigma: 1, Scale: AbsoluteMDE}},
		{"a binomial baseline of 1", Design{Kind: KindBinomial, Baseline: 1, Scale: AbsoluteMDE}},
		{"a zero sigma", Design{Kind: KindMean, Scale: AbsoluteMDE}},
		{"a relative effect on a zero baseline", Design{Kind: KindMean, Sigma: 1, Scale: RelativeMDE}},
		{"a relative test on a zero baseline", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Contrast: RelativeMDE}},
		{"an unknown contrast", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Contrast: "ratio"}},
		{"an unknown scale", Design{Kind: KindMean, Sigma: 1, Scale: "percent"}},
		{"a single arm", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Arms: 1}},
		{"an unknown correction", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Correction: "sidak"}},
		{"an unknown test", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Test: "f"}},
		{"the Bayesian method", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Method: Bayesian}},
		{"a sequential t test", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Method: Sequential, Test: TTest}},
		{"an alpha of 1", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, Alpha: 1}},
		{"a negative tuning", Design{Kind: KindMean, Sigma: 1, Scale: AbsoluteMDE, SequentialTuning: -1}},
	} {
		t.Run(c.name+" is invalid input", func(t *testing.T) {
			_, err := c.d.SampleSize(0.1)
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("SampleSize err = %v", err)
			}
			if _, err := c.d.Power(0.1, 100); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("Power err = %v", err)
			}
			if _, err := c.d.MDE(100); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("MDE err = %v", err)
			}
		})
	}
	for _, c := range []struct {
		name string
		f    func() error
	}{
		{"a zero effect has no sample size", func() error { _, err := ok.SampleSize(0); return err }},
		{"a NaN effect", func() error { _, err := ok.SampleSize(math.NaN()); return err }},
		{"an effect pushing the rate past 1", func() error {
			_, err := Design{Kind: KindBinomial, Baseline: 0.6, Scale: AbsoluteMDE}.SampleSize(0.5)
			return err
		}},
		{"one unit per arm", func() error { _, err := ok.Power(0.1, 1); return err }},
		{"an infinite sample", func() error { _, err := ok.MDE(math.Inf(1)); return err }},
		{"an undetectably small effect", func() error { _, err := ok.SampleSize(1e-300); return err }},
	} {
		t.Run(c.name+" is invalid input", func(t *testing.T) {
			if err := c.f(); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("err = %v", err)
			}
		})
	}
}
