package report

import (
	"math"
	"net/url"
	"strconv"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

func TestPlanSampleSizeMatchesTheReferenceValues(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     PowerInput
		perArm int64
		total  int64
		days   int64
	}{
		// stats-vectors.md: proportions 0.10 -> 0.11, power 0.8, unpooled 14749 per arm.
		{"a conversion rate of 10% to 11% needs 14,749 units per arm", PowerInput{Baseline: 0.1, MDE: 0.01, MDEScale: stats.AbsoluteMDE}, 14749, 29498, 0},
		{"the same change written as +10% relative needs the same", PowerInput{Baseline: 0.1, MDE: 0.1}, 14749, 29498, 0},
		// stats-vectors.md: means, sigma 1, delta 0.1: 1570 per arm.
		{"a mean with sigma 1 and delta 0.1 needs 1,570 units per arm", PowerInput{Sigma: 1, Delta: 0.1}, 1570, 3140, 0},
		// statsmodels NormalIndPower().solve_power(effect_size=0.1, alpha=0.025, power=0.8) = 1901.007.
		{"three arms with Bonferroni test each comparison at 2.5% and need 1,902 units per arm", PowerInput{Sigma: 1, Delta: 0.1, Arms: 3}, 1902, 5706, 0},
		{"three arms without correction need 1,570 per arm", PowerInput{Sigma: 1, Delta: 0.1, Arms: 3, Correction: stats.NoCorrection}, 1570, 4710, 0},
		// The values below are from stats/testdata/plan_golden.json (SciPy).
		{"a mean with exact t and delta of one sigma needs 17 units per arm", PowerInput{Sigma: 1, Delta: 1, Test: stats.TTest}, 17, 34, 0},
		{"a sequential plan needs 3,006 units per arm", PowerInput{Sigma: 1, Delta: 0.1, Method: stats.Sequential}, 3006, 6012, 0},
		{"a relative test of +10% from 10% needs 16,232 units per arm", PowerInput{Baseline: 0.1, MDE: 0.1, Contrast: stats.RelativeMDE}, 16232, 32464, 0},
		{"a relative effect of a mean with a baseline", PowerInput{Baseline: 10, Sigma: 4, MDE: 0.05}, 1005, 2010, 0},
		{"daily traffic and coverage give the duration", PowerInput{Baseline: 0.1, MDE: 0.1, DailyUnits: 5000, Coverage: 0.5}, 14749, 29498, 12},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PlanSampleSize(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if p.PerArm != tc.perArm || p.Total != tc.total || p.Days != tc.days {
				t.Fatalf("plan = %+v", p)
			}
		})
	}
	t.Run("a binomial plan states the treatment rate it aims for", func(t *testing.T) {
		p, _ := PlanSampleSize(PowerInput{Baseline: 0.04, MDE: 0.25})
		if p.Kind != experiment.KindBinomial || p.TreatmentRate != 0.05 || p.Input.Alpha != 0.05 || p.Input.Power != 0.8 || p.Input.Arms != 2 {
			t.Fatalf("plan = %+v", p)
		}
	})
}

func TestPlanSampleSizeNamesTheBadInput(t *testing.T) {
	for _, tc := range []struct {
		name  string
		in    PowerInput
		field string
	}{
		{"nothing to plan for", PowerInput{}, "baseline"},
		{"both delta and mde", PowerInput{Baseline: 0.1, MDE: 0.1, Sigma: 1, Delta: 1}, "delta"},
		{"a relative delta", PowerInput{Sigma: 1, Delta: 1, MDEScale: stats.RelativeMDE}, "delta"},
		{"a relative mde of a mean without its baseline", PowerInput{Sigma: 1, MDE: 0.05}, "baseline"},
		{"one unit per arm", PowerInput{Sigma: 1, Delta: 1, UnitsPerArm: 1}, "units_per_arm"},
		{"an unknown contrast", PowerInput{Sigma: 1, Delta: 1, Contrast: "ratio"}, "contrast"},
		{"an unknown test", PowerInput{Sigma: 1, Delta: 1, Test: "f"}, "test"},
		{"the Bayesian method", PowerInput{Sigma: 1, Delta: 1, Method: stats.Bayesian}, "method"},
		{"a sequential t test", PowerInput{Sigma: 1, Delta: 1, Method: stats.Sequential, Test: stats.TTest}, "test"},
		{"a negative sequential tuning", PowerInput{Sigma: 1, Delta: 1, Method: stats.Sequential, SequentialTuning: -5}, "sequential_tuning"},
		{"an unknown correction", PowerInput{Sigma: 1, Delta: 1, Arms: 3, Correction: "sidak"}, "correction"},
		{"a sample that cannot detect any increase", PowerInput{Baseline: 0.5, UnitsPerArm: 2, Power: 0.99, Alpha: 0.001}, "units_per_arm"},
		{"a baseline above one", PowerInput{Baseline: 1.5, MDE: 0.1}, "baseline"},
		{"a zero MDE", PowerInput{Baseline: 0.1}, "mde"},
		{"an MDE pushing the rate past one", PowerInput{Baseline: 0.6, MDE: 1}, "mde"},
		{"an unknown MDE scale", PowerInput{Baseline: 0.1, MDE: 0.1, MDEScale: "percent"}, "mde_scale"},
		{"a negative sigma", PowerInput{Sigma: -1, Delta: 1}, "sigma"},
		{"no effect and no sample", PowerInput{Sigma: 1}, "mde"},
		{"an alpha of one half", PowerInput{Sigma: 1, Delta: 1, Alpha: 0.5}, "alpha"},
		{"a power of one", PowerInput{Sigma: 1, Delta: 1, Power: 1}, "power"},
		{"a single arm", PowerInput{Sigma: 1, Delta: 1, Arms: 1}, "arms"},
		{"negative traffic", PowerInput{Sigma: 1, Delta: 1, DailyUnits: -5}, "daily_units"},
		{"coverage above one", PowerInput{Sigma: 1, Delta: 1, Coverage: 2}, "coverage"},
	} {
		t.Run(tc.name+" is rejected naming "+tc.field, func(t *testing.T) {
			_, err := PlanSampleSize(tc.in)
			assertInvalid(t, err, tc.field, "")
		})
	}
}

func TestPlanAnswersPowerAndMDEQuestions(t *testing.T) {
	// Expected values from stats/testdata/plan_golden.json (SciPy).
	t.Run("units per arm with an effect give the power of that sample", func(t *testing.T) {
		p, err := PlanSampleSize(PowerInput{Baseline: 0.05, MDE: 0.1, UnitsPerArm: 20000, DailyUnits: 10000})
		if err != nil {
			t.Fatal(err)
		}
		if p.Question != QuestionPower || math.Abs(p.PowerAchieved-0.6110402832752195) > 1e-9 || p.PerArm != 20000 || p.Total != 40000 || p.Days != 4 {
			t.Fatalf("plan = %+v", p)
		}
	})
	t.Run("units per arm alone give the MDE on both scales", func(t *testing.T) {
		p, err := PlanSampleSize(PowerInput{Baseline: 0.05, UnitsPerArm: 31231})
		if err != nil {
			t.Fatal(err)
		}
		if p.Question != QuestionMDE || p.Effect.Relative == nil || math.Abs(*p.Effect.Relative-0.09999937110417169) > 1e-9 ||
			math.Abs(p.Effect.Absolute-0.05*0.09999937110417169) > 1e-12 || math.Abs(p.TreatmentRate-0.05*(1+0.09999937110417169)) > 1e-12 {
			t.Fatalf("plan = %+v", p)
		}
	})
	t.Run("an absolute MDE of a mean without baseline has no relative value", func(t *testing.T) {
		p, err := PlanSampleSize(PowerInput{Sigma: 1, UnitsPerArm: 1570})
		if err != nil {
			t.Fatal(err)
		}
		if p.Effect.Relative != nil || math.Abs(p.Effect.Absolute-0.09999274183421425) > 1e-9 {
			t.Fatalf("plan = %+v", p)
		}
	})
	t.Run("a sequential plan states its tuning and what the fixed horizon would need", func(t *testing.T) {
		p, err := PlanSampleSize(PowerInput{Sigma: 1, Delta: 0.1, Method: stats.Sequential})
		if err != nil {
			t.Fatal(err)
		}
		if p.SequentialTuning != 6012 || p.FixedHorizonPerArm != 1570 || p.PowerAchieved < 0.8 {
			t.Fatalf("plan = %+v", p)
		}
	})
	t.Run("a k-arm plan states the correction and the level of each comparison", func(t *testing.T) {
		p, err := PlanSampleSize(PowerInput{Sigma: 1, Delta: 0.1, Arms: 5})
		if err != nil {
			t.Fatal(err)
		}
		if p.Input.Correction != stats.Bonferroni || p.Comparisons != 4 || p.ComparisonAlpha != 0.0125 {
			t.Fatalf("plan = %+v", p)
		}
	})
}

func TestParseAmountAcceptsPercentages(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
	}{{"5%", 0.05}, {"0.5%", 0.005}, {" 12.5 % ", 0.125}, {"0.05", 0.05}, {"-3%", -0.03}, {"1e-3", 0.001}} {
		t.Run(c.in+" reads as "+strconv.FormatFloat(c.want, 'g', -1, 64), func(t *testing.T) {
			got, err := ParseAmount(c.in)
			if err != nil || math.Abs(got-c.want) > 1e-15 {
				t.Fatalf("got %v, %v", got, err)
			}
		})
	}
	for _, bad := range []string{"", "%", "five%", "5%%", "NaN", "Inf%"} {
		t.Run(strconv.Quote(bad)+" is refused", func(t *testing.T) {
			if _, err := ParseAmount(bad); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}

func TestParsePowerQuery(t *testing.T) {
	q := url.Values{"baseline": {"5%"}, "mde": {"0.1"}, "arms": {"3"}, "daily_units": {"20000"}, "mde_scale": {"relative"},
		"units_per_arm": {"1000"}, "contrast": {"relative"}, "test": {"t"}, "method": {"sequential"}, "sequential_tuning": {"9000"}, "correction": {"none"}}
	in, err := ParsePowerQuery(q.Get)
	if err != nil || in.Baseline != 0.05 || in.MDE != 0.1 || in.Arms != 3 || in.DailyUnits != 20000 || in.MDEScale != stats.RelativeMDE ||
		in.UnitsPerArm != 1000 || in.Contrast != stats.RelativeMDE || in.Test != stats.TTest || in.Method != stats.Sequential ||
		in.SequentialTuning != 9000 || in.Correction != stats.NoCorrection {
		t.Fatalf("in = %+v, err %v", in, err)
	}
	for _, tc := range []struct{ name, param, value string }{
		{"a word for a number", "mde", "ten"},
		{"NaN", "sigma", "NaN"},
		{"infinity", "delta", "Inf"},
		{"an explicit zero alpha", "alpha", "0"},
		{"a fractional arm count", "arms", "2.5"},
		{"zero arms", "arms", "0"},
		{"one unit per arm", "units_per_arm", "1"},
		{"a fractional sample", "units_per_arm", "10.5"},
		{"a percentage of a word", "baseline", "x%"},
	} {
		t.Run(tc.name+" in "+tc.param+" is rejected naming it", func(t *testing.T) {
			_, err := ParsePowerQuery(url.Values{tc.param: {tc.value}}.Get)
			assertInvalid(t, err, tc.param, "")
		})
	}
}
