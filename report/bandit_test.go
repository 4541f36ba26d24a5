package report

import (
	"context"
	"encoding/json"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/bandit"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// driftingBanditUnits simulates an optimise-mode experiment over 10 days in
// which conversion rises from 5% to 15% while the bandit moves treatment
// from 10% to 90% of traffic; treatment is truly 2 points better every day.
func driftingBanditUnits(seed uint64) []fakeUnit {
	rng := rand.New(rand.NewPCG(seed, 3))
	start := time.Date(2025, 6, 2, 0, 0, 0, 0, time.UTC)
	var units []fakeUnit
	for d := range 10 {
		base := 0.05 + 0.10*float64(d)/9
		share := 0.1 + 0.8*float64(d)/9
		for range 2000 {
			u := fakeUnit{variant: "control", day: start.AddDate(0, 0, d), values: map[string]float64{}}
			p := base
			if rng.Float64() < share {
				u.variant, p = "treatment", base+0.02
			}
			if rng.Float64() < p {
				u.values["conversion"] = 1
			}
			units = append(units, u)
		}
	}
	return units
}

func banditExperiment(mode experiment.Mode) *experiment.Experiment {
	e := &experiment.Experiment{
		Key: "cta", Name: "CTA colour", Stage: experiment.StageCheckout, Touchpoint: "checkout", Status: experiment.StatusRunning,
		Mode:        mode,
		Variants:    []experiment.Variant{{Key: "control", Weight: 0.1}, {Key: "treatment", Weight: 0.9}},
		Control:     "control",
		GoalMetrics: []string{"conversion"},
	}
	if mode == experiment.ModeOptimise {
		e.Optimise = &experiment.Optimise{Metric: "conversion"}
	}
	return e
}

func TestOptimiseReportIsPeriodWeighted(t *testing.T) {
	src := &fakeSource{units: driftingBanditUnits(5)}
	ctx := context.Background()
	opt, err := Build(ctx, src, banditExperiment(experiment.ModeOptimise), metricsByKey(), Options{Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	ab, err := Build(ctx, src, banditExperiment(experiment.ModeAB), metricsByKey(), Options{Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	kpi := func(r *Report) KPI { return r.Stages[0].KPIs[0] }
	cells, err := src.MetricCells(ctx, banditExperiment(experiment.ModeOptimise), metricsByKey()["conversion"], CellQuery{Daily: true})
	if err != nil {
		t.Fatal(err)
	}
	want, err := bandit.PeriodWeighted(stats.KindBinomial, byDay(banditExperiment(experiment.ModeOptimise), cells))
	if err != nil {
		t.Fatal(err)
	}

	t.Run("the report says how it was computed", func(t *testing.T) {
		o := opt.Optimise
		if o == nil {
			t.Fatal("optimise-mode report has no optimise section")
		}
		if o.Metric != "conversion" || o.Days != 10 || o.DroppedDays != 0 || !strings.Contains(o.Note, "period-weighted because traffic weights changed over time") {
			t.Errorf("optimise section = %+v", o)
		}
		b, err := json.Marshal(opt)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), `"optimise":{"metric":"conversion","note":"Optimise mode: estimates are period-weighted`) {
			t.Errorf("JSON lacks the optimise note: %.300s…", b)
		}
		if ab.Optimise != nil {
			t.Errorf("A/B report has an optimise section %+v", ab.Optimise)
		}
	})
	t.Run("arm values are the period-weighted estimates and units are real", func(t *testing.T) {
		for i, a := range kpi(opt).Arms {
			if math.Abs(a.Value-want.Arms[i].Mean) > 1e-12 {
				t.Errorf("%s value %.6f, want period-weighted %.6f", a.Variant, a.Value, want.Arms[i].Mean)
			}
			if a.Units != kpi(ab).Arms[i].Units || a.Units != want.Arms[i].Units {
				t.Errorf("%s units %d, want the real %d", a.Variant, a.Units, kpi(ab).Arms[i].Units)
			}
		}
	})
	t.Run("the lift is close to the truth where pooling is biased", func(t *testing.T) {
		pw := *kpi(opt).Comparisons[0].Absolute
		pooled := *kpi(ab).Comparisons[0].Absolute
		t.Logf("true lift 0.0200; period-weighted %.4f [%.4f, %.4f]; pooled %.4f", pw.Estimate, pw.Low, pw.High, pooled.Estimate)
		if pw.Low > 0.02 || pw.High < 0.02 {
			t.Errorf("period-weighted interval [%.4f, %.4f] misses the true lift 0.02", pw.Low, pw.High)
		}
		if pooled.Estimate < 0.035 {
			t.Errorf("pooled lift %.4f; this scenario should bias it well above 0.02", pooled.Estimate)
		}
		se := math.Hypot(want.Arms[0].SE, want.Arms[1].SE)
		if got := (pw.High - pw.Low) / 2 / 1.96; math.Abs(got/se-1) > 0.01 {
			t.Errorf("interval half-width implies SE %.5f, period-weighted SE is %.5f", got, se)
		}
	})
	t.Run("SRM is not tested against weights that moved", func(t *testing.T) {
		if opt.SRM.Status != SRMNotApplicable {
			t.Errorf("SRM status %q, want %q", opt.SRM.Status, SRMNotApplicable)
		}
	})
}

func TestOptimiseReportWithoutData(t *testing.T) {
	r, err := Build(context.Background(), &fakeSource{}, banditExperiment(experiment.ModeOptimise), metricsByKey(), Options{Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	k := r.Stages[0].KPIs[0]
	for _, a := range k.Arms {
		if a.Units != 0 || a.Status != stats.StatusNotEnoughData {
			t.Errorf("arm %+v, want no units and not enough data", a)
		}
	}
	if r.Optimise == nil || r.Optimise.Days != 0 {
		t.Errorf("optimise section %+v, want present with no days", r.Optimise)
	}
}

func TestBanditSourcePoolsAllUnits(t *testing.T) {
	src := &fakeSource{units: driftingBanditUnits(6)}
	e := banditExperiment(experiment.ModeOptimise)
	got, err := BanditSource{Source: src}.ArmStats(context.Background(), e, metricsByKey()["conversion"])
	if err != nil {
		t.Fatal(err)
	}
	var want [2]stats.ArmStats
	for _, u := range src.units {
		i := e.VariantIndex(u.variant)
		want[i].N++
		want[i].Sum += u.values["conversion"]
		want[i].SumSq += u.values["conversion"]
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("bandit statistics %+v, want %+v", got, want)
	}
}

func TestTheTerminalReportSaysWhenEstimatesArePeriodWeighted(t *testing.T) {
	src := &fakeSource{units: driftingBanditUnits(5)}
	for _, mode := range []experiment.Mode{experiment.ModeOptimise, experiment.ModeAB} {
		r, err := Build(context.Background(), src, banditExperiment(mode), metricsByKey(), Options{Now: time.Unix(0, 0)})
		if err != nil {
			t.Fatal(err)
		}
		var out strings.Builder
		if err := WriteText(&out, r, TextOptions{}); err != nil {
			t.Fatal(err)
		}
		if got, want := strings.Contains(out.String(), OptimiseNote), mode == experiment.ModeOptimise; got != want {
			t.Errorf("%s mode: note printed = %v, want %v", mode, got, want)
		}
	}
}
