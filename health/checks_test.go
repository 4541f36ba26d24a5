package health_test

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

func running(mode experiment.Mode) *experiment.Experiment {
	started := t0
	e := &experiment.Experiment{Key: "x", Name: "X", Stage: experiment.StageCheckout, Touchpoint: "checkout", Status: experiment.StatusRunning,
		Mode: mode, Variants: []experiment.Variant{{Key: "a", Weight: 1}, {Key: "b", Weight: 1}},
		GoalMetrics: []string{"conversion"}, StartedAt: &started}
	if mode == experiment.ModeOptimise {
		e.Optimise = &experiment.Optimise{Metric: "conversion"}
	}
	e.Normalize()
	return e
}

var limits = health.Limits{ExposureDelay: time.Hour, EventDelay: 6 * time.Hour, MaxDays: 30, SRMAlpha: stats.SRMAlertP}

func checks(fs []health.Finding) []health.Check {
	var out []health.Check
	for _, f := range fs {
		out = append(out, f.Check)
	}
	return out
}

func TestEvaluateEdges(t *testing.T) {
	cases := []struct {
		name string
		in   func() health.Input
		want []health.Check
	}{
		{"an uneven split of a bandit is not an SRM: its weights move on purpose", func() health.Input {
			return health.Input{Experiment: running(experiment.ModeOptimise), Now: t0, Units: []int64{9000, 1000}, LastExposure: t0, LastEvent: t0, Limits: limits}
		}, nil},
		{"an uneven split of an A/B test is an SRM", func() health.Input {
			return health.Input{Experiment: running(experiment.ModeAB), Now: t0, Units: []int64{9000, 1000}, LastExposure: t0, LastEvent: t0, Limits: limits}
		}, []health.Check{health.CheckSRM}},
		{"a launch younger than the delay limits raises no data-delay alert", func() health.Input {
			return health.Input{Experiment: running(experiment.ModeAB), Now: t0.Add(50 * time.Minute), Units: []int64{0, 0}, Limits: limits}
		}, nil},
		{"no exposure since a launch longer ago than the limit", func() health.Input {
			return health.Input{Experiment: running(experiment.ModeAB), Now: t0.Add(61 * time.Minute), Units: []int64{0, 0}, Limits: limits}
		}, []health.Check{health.CheckNoExposures}},
		{"no events are not checked while no unit is exposed", func() health.Input {
			return health.Input{Experiment: running(experiment.ModeAB), Now: t0.Add(7 * time.Hour), Units: []int64{0, 0}, Limits: limits}
		}, []health.Check{health.CheckNoExposures}},
		{"the underpowered check waits a day before projecting", func() health.Input {
			l := limits
			l.PlannedUnits = 1_000_000
			return health.Input{Experiment: running(experiment.ModeAB), Now: t0.Add(20 * time.Hour), Units: []int64{10, 10}, LastExposure: t0.Add(20 * time.Hour), LastEvent: t0.Add(20 * time.Hour), Limits: l}
		}, nil},
		{"a plan reached is not underpowered", func() health.Input {
			l := limits
			l.PlannedUnits = 2000
			now := t0.Add(72 * time.Hour)
			return health.Input{Experiment: running(experiment.ModeAB), Now: now, Units: []int64{1000, 1000}, LastExposure: now, LastEvent: now, Limits: l}
		}, nil},
		{"a plan met within the limit is not underpowered", func() health.Input {
			l := limits
			l.PlannedUnits = 20000 // 2000 a day for 2 days; 10 days in all
			now := t0.Add(48 * time.Hour)
			return health.Input{Experiment: running(experiment.ModeAB), Now: now, Units: []int64{2000, 2000}, LastExposure: now, LastEvent: now, Limits: l}
		}, nil},
		{"a plan that needs 50 days against a 30-day limit is underpowered", func() health.Input {
			l := limits
			l.PlannedUnits = 100000 // 2000 a day: 50 days
			now := t0.Add(48 * time.Hour)
			return health.Input{Experiment: running(experiment.ModeAB), Now: now, Units: []int64{2000, 2000}, LastExposure: now, LastEvent: now, Limits: l}
		}, []health.Check{health.CheckUnderpowered}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := checks(health.Evaluate(tc.in()))
			if len(got) != len(tc.want) {
				t.Fatalf("checks %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("checks %v, want %v", got, tc.want)
				}
			}
		})
	}
	t.Run("the underpowered detail projects the finish", func(t *testing.T) {
		l := limits
		l.PlannedUnits = 100000
		now := t0.Add(48 * time.Hour)
		fs := health.Evaluate(health.Input{Experiment: running(experiment.ModeAB), Now: now, Units: []int64{2000, 2000}, LastExposure: now, LastEvent: now, Limits: l})
		d := fs[0].Detail.(health.PowerDetail)
		if d.ProjectedDays != 50 || d.UnitsPerDay != 2000 || d.DaysRunning != 2 {
			t.Fatalf("detail %+v, want 50 projected days at 2000 a day", d)
		}
	})
}

func TestSummariseShowsTheWorstSeverity(t *testing.T) {
	got := health.Summarise([]health.Alert{
		{Experiment: "a", Check: health.CheckDecision, Severity: health.Info},
		{Experiment: "a", Check: health.CheckSRM, Severity: health.Critical},
		{Experiment: "a", Check: health.CheckGuardrail, Subject: "m/v1", Severity: health.Critical},
		{Experiment: "a", Check: health.CheckGuardrail, Subject: "m/v2", Severity: health.Critical},
		{Experiment: "b", Check: health.CheckNoEvents, Severity: health.Warning},
	})
	a, b := got["a"], got["b"]
	if a.Status != "critical" || a.Open != 4 || len(a.Checks) != 3 || a.Checks[0] != health.CheckSRM || a.Checks[2] != health.CheckDecision {
		t.Fatalf("a: %+v", a)
	}
	if b.Status != "warning" || b.Open != 1 {
		t.Fatalf("b: %+v", b)
	}
}

// A/A experiments whose guardrail is checked by the scheduler at 30 looks
// (the report with the sequential method, as the Monitor builds it) open
// a guardrail alert in at most 5% of experiments; the same looks at the
// fixed-horizon test would alert far more often.
func TestGuardrailChecksOverThirtyLooksKeepFalseAlertsUnderFivePercent(t *testing.T) {
	const sims, looks, perLook = 400, 30, 400
	metrics := map[string]experiment.Metric{}
	for _, m := range experiment.BuiltinMetrics() {
		metrics[m.Key] = m
	}
	rate := func(method stats.Method, harm float64) float64 {
		rng := rand.New(rand.NewPCG(11, 17))
		e := running(experiment.ModeAB)
		e.GuardrailMetrics = []string{"return_rate"}
		e.Analysis.Method = string(method)
		e.Analysis.SequentialTuning = 2 * looks * perLook
		draw := func(n int64, p float64) stats.ArmStats {
			c := distuv.Binomial{N: float64(n), P: p, Src: rng}.Rand()
			return stats.ArmStats{N: n, Sum: c, SumSq: c}
		}
		add := func(a, b stats.ArmStats) stats.ArmStats {
			return stats.ArmStats{N: a.N + b.N, Sum: a.Sum + b.Sum, SumSq: a.SumSq + b.SumSq}
		}
		alerted := 0
		for s := 0; s < sims; s++ {
			data := &fakeData{cells: map[string][]stats.ArmStats{"conversion": {{}, {}}, "return_rate": {{}, {}}}}
			hit := false
			for look := 1; look <= looks && !hit; look++ {
				data.cells["conversion"][0] = add(data.cells["conversion"][0], draw(perLook, 0.08))
				data.cells["conversion"][1] = add(data.cells["conversion"][1], draw(perLook, 0.08))
				data.cells["return_rate"][0] = add(data.cells["return_rate"][0], draw(perLook, 0.08))
				data.cells["return_rate"][1] = add(data.cells["return_rate"][1], draw(perLook, 0.08*(1+harm)))
				data.units = map[string]int64{"a": data.cells["conversion"][0].N, "b": data.cells["conversion"][1].N}
				r, err := report.Build(context.Background(), data, e, metrics, report.Options{Now: t0})
				if err != nil {
					t.Fatal(err)
				}
				for _, f := range health.Evaluate(health.Input{Experiment: e, Now: t0, Units: []int64{r.Variants[0].Units, r.Variants[1].Units}, Report: r, LastExposure: t0, LastEvent: t0, Limits: limits}) {
					hit = hit || f.Check == health.CheckGuardrail
				}
			}
			if hit {
				alerted++
			}
		}
		return float64(alerted) / sims
	}
	seq, fixed := rate(stats.Sequential, 0), rate(stats.Frequentist, 0)
	power := rate(stats.Sequential, 0.25)
	t.Logf("guardrail alerts over %d looks of %d units per arm: A/A sequential %.4f, A/A fixed-horizon %.4f; +25%% return rate sequential %.4f",
		looks, perLook, seq, fixed, power)
	t.Run("the sequential guardrail check alerts in at most 5% of A/A experiments", func(t *testing.T) {
		if seq > 0.05 {
			t.Fatalf("false-alert rate %.4f", seq)
		}
	})
	t.Run("a fixed-horizon check at the same looks would alert in more than 10%", func(t *testing.T) {
		if fixed <= 0.10 {
			t.Fatalf("fixed-horizon false-alert rate %.4f", fixed)
		}
	})
	t.Run("a 25% rise in the return rate is caught in at least 80% of experiments", func(t *testing.T) {
		if power < 0.8 {
			t.Fatalf("power %.4f", power)
		}
	})
}

func TestDelaySummariesReadAsPlainDurations(t *testing.T) {
	cases := []struct {
		silent time.Duration
		want   string
	}{
		{61 * time.Minute, "No exposures for 1h01m (since launch; the limit is 1h00m)."},
		{7 * 24 * time.Hour, "No exposures for 7.0 days (since launch; the limit is 1h00m)."},
	}
	for _, tc := range cases {
		t.Run(tc.want, func(t *testing.T) {
			fs := health.Evaluate(health.Input{Experiment: running(experiment.ModeAB), Now: t0.Add(tc.silent), Units: []int64{0, 0}, Limits: limits})
			if len(fs) != 1 || !strings.HasPrefix(fs[0].Summary, tc.want) {
				t.Fatalf("%+v", fs)
			}
		})
	}
}

func FuzzSettingsValidate(f *testing.F) {
	f.Add(`{"safeguard":{"action":"pause","on":["srm"]},"planned_units":100,"max_days":10}`)
	f.Add(`{"exposure_delay_minutes":-1}`)
	f.Add(`{"safeguard":{"action":"control","on":[]}}`)
	f.Fuzz(func(t *testing.T, doc string) {
		var s health.Settings
		if json.Unmarshal([]byte(doc), &s) != nil {
			return
		}
		if err := s.Validate(); err != nil {
			var ve *experiment.ValidationError
			if !errors.As(err, &ve) || ve.Field == "" {
				t.Fatalf("error %v does not name a field", err)
			}
			return
		}
		if s.PlannedUnits < 0 || s.MaxDays < 0 || s.MaxDays > 3650 || (s.Safeguard != nil && len(s.Safeguard.On) == 0) {
			t.Fatalf("accepted %+v", s)
		}
	})
}
