package report

import (
	"net/url"
	"testing"

	"journeylab/experiment"
	"journeylab/stats"
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
		{"three arms need three times the per-arm units", PowerInput{Sigma: 1, Delta: 0.1, Arms: 3}, 1570, 4710, 0},
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
		{"both kinds at once", PowerInput{Baseline: 0.1, MDE: 0.1, Sigma: 1, Delta: 1}, "baseline"},
		{"a baseline above one", PowerInput{Baseline: 1.5, MDE: 0.1}, "baseline"},
		{"a zero MDE", PowerInput{Baseline: 0.1}, "mde"},
		{"an MDE pushing the rate past one", PowerInput{Baseline: 0.6, MDE: 1}, "mde"},
		{"an unknown MDE scale", PowerInput{Baseline: 0.1, MDE: 0.1, MDEScale: "percent"}, "mde_scale"},
		{"a negative sigma", PowerInput{Sigma: -1, Delta: 1}, "sigma"},
		{"a zero delta", PowerInput{Sigma: 1}, "delta"},
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

func TestParsePowerQuery(t *testing.T) {
	q := url.Values{"baseline": {"0.05"}, "mde": {"0.1"}, "arms": {"3"}, "daily_units": {"20000"}, "mde_scale": {"relative"}}
	in, err := ParsePowerQuery(q.Get)
	if err != nil || in.Baseline != 0.05 || in.MDE != 0.1 || in.Arms != 3 || in.DailyUnits != 20000 || in.MDEScale != stats.RelativeMDE {
		t.Fatalf("in = %+v, err %v", in, err)
	}
	for _, tc := range []struct{ name, param, value string }{
		{"a word for a number", "mde", "ten"},
		{"NaN", "sigma", "NaN"},
		{"infinity", "delta", "Inf"},
		{"an explicit zero alpha", "alpha", "0"},
		{"a fractional arm count", "arms", "2.5"},
		{"zero arms", "arms", "0"},
	} {
		t.Run(tc.name+" in "+tc.param+" is rejected naming it", func(t *testing.T) {
			_, err := ParsePowerQuery(url.Values{tc.param: {tc.value}}.Get)
			assertInvalid(t, err, tc.param, "")
		})
	}
}
