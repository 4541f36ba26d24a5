package report

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var fixedNow = time.Date(2025, 3, 8, 12, 0, 0, 0, time.UTC)

func buildTestReport(t *testing.T, e *experiment.Experiment, src Source, opts Options) *Report {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = fixedNow
	}
	r, err := Build(context.Background(), src, e, metricsByKey(), opts)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	return r
}

func findKPI(t *testing.T, stages []StageReport, metric string) KPI {
	t.Helper()
	for _, s := range stages {
		for _, k := range s.KPIs {
			if k.Metric == metric {
				return k
			}
		}
	}
	t.Fatalf("KPI %s not in report", metric)
	return KPI{}
}

func TestBuildFindsTheTrueEffects(t *testing.T) {
	r := buildTestReport(t, testExperiment(), &fakeSource{units: simulateUnits(7, 4000)}, Options{})
	tests := []struct {
		metric string
		want   Verdict
		why    string
	}{
		{"add_to_cart_rate", Improves, "a +20% lift on a higher-is-better goal"},
		{"bounce_rate", Improves, "a −20% change on a lower-is-better metric"},
		{"cart_abandonment", Harms, "a +30% change on a lower-is-better guardrail"},
		{"conversion", Inconclusive, "no true effect"},
		{"nps", Inconclusive, "no true effect"},
	}
	for _, tc := range tests {
		t.Run(tc.metric+" is "+string(tc.want)+" because of "+tc.why, func(t *testing.T) {
			k := findKPI(t, r.Stages, tc.metric)
			if k.Verdict != tc.want || k.Comparisons[0].Verdict != tc.want {
				t.Fatalf("verdict %s (comparison %s), want %s; comparison %+v", k.Verdict, k.Comparisons[0].Verdict, tc.want, k.Comparisons[0])
			}
		})
	}
	t.Run("the harmed guardrail is flagged at the top and on its comparison", func(t *testing.T) {
		if len(r.GuardrailBreaches) != 1 || r.GuardrailBreaches[0].Metric != "cart_abandonment" || r.GuardrailBreaches[0].Variant != "one-page" {
			t.Fatalf("breaches = %+v", r.GuardrailBreaches)
		}
		if !findKPI(t, r.Stages, "cart_abandonment").Comparisons[0].GuardrailBreach {
			t.Fatal("comparison not flagged")
		}
	})
	t.Run("a balanced split passes the SRM check", func(t *testing.T) {
		if r.SRM.Status != SRMOK || r.SRM.Units != 8000 || r.SRM.Warning != "" {
			t.Fatalf("SRM = %+v", r.SRM)
		}
	})
}

func TestBuildGroupsKPIsByStageInJourneyOrder(t *testing.T) {
	r := buildTestReport(t, testExperiment(), &fakeSource{units: simulateUnits(7, 200)}, Options{})
	var got []string
	for _, s := range r.Stages {
		var keys []string
		for _, k := range s.KPIs {
			keys = append(keys, k.Metric)
		}
		got = append(got, string(s.Stage)+":"+strings.Join(keys, ","))
	}
	want := "awareness:bounce_rate decision:add_to_cart_rate checkout:conversion,revenue_per_visitor,average_order_value,cart_abandonment loyalty:nps"
	if strings.Join(got, " ") != want {
		t.Fatalf("stages = %s\nwant     %s", strings.Join(got, " "), want)
	}
	roles := map[string]Role{"conversion": RoleGoal, "add_to_cart_rate": RoleGoal, "bounce_rate": RoleSecondary, "cart_abandonment": RoleGuardrail}
	for m, want := range roles {
		if k := findKPI(t, r.Stages, m); k.Role != want {
			t.Errorf("%s role %s, want %s", m, k.Role, want)
		}
	}
}

func TestGoalMetricsAreAdjustedAcrossTheFamily(t *testing.T) {
	src := &fakeSource{units: simulateUnits(7, 4000)}
	for _, tc := range []struct {
		correction string
		adjust     func([]float64) []float64
	}{
		{"holm", stats.Holm},
		{"bh", stats.BenjaminiHochberg},
		{"none", func(p []float64) []float64 { return p }},
	} {
		t.Run("with correction "+tc.correction+" the goal p-values are adjusted together and others are not", func(t *testing.T) {
			e := testExperiment()
			e.Analysis.Correction = tc.correction
			r := buildTestReport(t, e, src, Options{})
			conv := findKPI(t, r.Stages, "conversion").Comparisons[0]
			atc := findKPI(t, r.Stages, "add_to_cart_rate").Comparisons[0]
			want := tc.adjust([]float64{*conv.PValue, *atc.PValue})
			if *conv.AdjustedPValue != want[0] || *atc.AdjustedPValue != want[1] {
				t.Fatalf("adjusted = %g, %g; want %v", *conv.AdjustedPValue, *atc.AdjustedPValue, want)
			}
			if findKPI(t, r.Stages, "bounce_rate").Comparisons[0].AdjustedPValue != nil {
				t.Fatal("a secondary metric got an adjusted p-value")
			}
		})
	}
}

func TestGoalVerdictUsesTheAdjustedPValue(t *testing.T) {
	// Two goal metrics, each with raw p just under alpha: Holm doubles the
	// smaller one, so neither stays significant.
	c := Comparison{Status: stats.StatusOK, Absolute: &Interval{Estimate: 0.005}, Relative: &Interval{Estimate: 0.05}, PValue: ptr(0.03), AdjustedPValue: ptr(0.06)}
	if v := verdict(c, experiment.HigherIsBetter, 0.05, c.AdjustedPValue); v != Inconclusive {
		t.Fatalf("verdict on adjusted = %s, want inconclusive", v)
	}
	if v := verdict(c, experiment.HigherIsBetter, 0.05, nil); v != Improves {
		t.Fatalf("verdict on raw = %s, want improves", v)
	}
}

func TestVerdictHonoursTheMetricDirection(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    Comparison
		dir  experiment.Direction
		want Verdict
	}{
		{"a significant rise of a higher-is-better metric improves", okComparison(0.1, 0.001), experiment.HigherIsBetter, Improves},
		{"a significant fall of a higher-is-better metric harms", okComparison(-0.1, 0.001), experiment.HigherIsBetter, Harms},
		{"a significant fall of a lower-is-better metric improves", okComparison(-0.1, 0.001), experiment.LowerIsBetter, Improves},
		{"a significant rise of a lower-is-better metric harms", okComparison(0.1, 0.001), experiment.LowerIsBetter, Harms},
		{"a non-significant change is inconclusive", okComparison(0.1, 0.2), experiment.HigherIsBetter, Inconclusive},
		{"a significant rise from a zero control (no relative lift) improves", Comparison{Status: stats.StatusOK, Absolute: &Interval{Estimate: 0.03}, PValue: ptr(0.001)}, experiment.HigherIsBetter, Improves},
		{"not enough data is inconclusive", Comparison{Status: stats.StatusNotEnoughData}, experiment.HigherIsBetter, Inconclusive},
		{"a high chance to win improves", bayesComparison(0.99), experiment.LowerIsBetter, Improves},
		{"a low chance to win harms", bayesComparison(0.01), experiment.HigherIsBetter, Harms},
		{"a middling chance to win is inconclusive", bayesComparison(0.9), experiment.HigherIsBetter, Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := verdict(tc.c, tc.dir, 0.05, nil); got != tc.want {
				t.Fatalf("verdict = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestKPIVerdictSummarisesSeveralTreatments(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []Verdict
		want Verdict
	}{
		{"one improving and one inconclusive treatment improve", []Verdict{Improves, Inconclusive}, Improves},
		{"one harming and one inconclusive treatment harm", []Verdict{Inconclusive, Harms}, Harms},
		{"an improving and a harming treatment are mixed", []Verdict{Improves, Harms}, Mixed},
		{"no conclusive treatment is inconclusive", []Verdict{Inconclusive, Inconclusive}, Inconclusive},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cs []Comparison
			for _, v := range tc.in {
				cs = append(cs, Comparison{Verdict: v})
			}
			if got := summarise(cs); got != tc.want {
				t.Fatalf("summarise = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestBayesianReportsChanceToWinInsteadOfPValues(t *testing.T) {
	e := testExperiment()
	e.Analysis.Method = "bayesian"
	r := buildTestReport(t, e, &fakeSource{units: simulateUnits(7, 4000)}, Options{})
	for _, tc := range []struct {
		metric string
		want   Verdict
	}{{"add_to_cart_rate", Improves}, {"bounce_rate", Improves}, {"cart_abandonment", Harms}} {
		t.Run(tc.metric+" "+string(tc.want)+" with chance-to-win oriented by its direction", func(t *testing.T) {
			c := findKPI(t, r.Stages, tc.metric).Comparisons[0]
			if c.PValue != nil || c.AdjustedPValue != nil || c.ChanceToWin == nil || c.Risk == nil {
				t.Fatalf("fields: %+v", c)
			}
			if c.Verdict != tc.want {
				t.Fatalf("verdict %s (chance to win %g), want %s", c.Verdict, *c.ChanceToWin, tc.want)
			}
		})
	}
}

func TestSequentialReportsAlwaysValidPValues(t *testing.T) {
	e := testExperiment()
	e.Analysis.Method = "sequential"
	src := &fakeSource{units: simulateUnits(7, 4000)}
	seq := buildTestReport(t, e, src, Options{})
	fixed := buildTestReport(t, testExperiment(), src, Options{})
	s := findKPI(t, seq.Stages, "add_to_cart_rate").Comparisons[0]
	f := findKPI(t, fixed.Stages, "add_to_cart_rate").Comparisons[0]
	if !(*s.PValue > *f.PValue) || !(s.Relative.High-s.Relative.Low > f.Relative.High-f.Relative.Low) {
		t.Fatalf("sequential p %g / CI width %g should exceed fixed-horizon %g / %g",
			*s.PValue, s.Relative.High-s.Relative.Low, *f.PValue, f.Relative.High-f.Relative.Low)
	}
}

func TestCUPEDIsAppliedWherePrePeriodDataExists(t *testing.T) {
	e := testExperiment()
	e.Analysis.CUPED = true
	src := &fakeSource{units: simulateUnits(7, 4000)}
	with := buildTestReport(t, e, src, Options{})
	without := buildTestReport(t, testExperiment(), src, Options{})
	rpv := findKPI(t, with.Stages, "revenue_per_visitor").Comparisons[0]
	plain := findKPI(t, without.Stages, "revenue_per_visitor").Comparisons[0]
	if !rpv.CUPEDApplied || !(rpv.Absolute.High-rpv.Absolute.Low < plain.Absolute.High-plain.Absolute.Low) {
		t.Fatalf("CUPED applied %v, CI width %g vs %g without", rpv.CUPEDApplied,
			rpv.Absolute.High-rpv.Absolute.Low, plain.Absolute.High-plain.Absolute.Low)
	}
	conv := findKPI(t, with.Stages, "conversion").Comparisons[0]
	if conv.CUPEDApplied || conv.CUPEDReason == "" {
		t.Fatalf("conversion has no pre-period data but CUPED applied=%v reason=%q", conv.CUPEDApplied, conv.CUPEDReason)
	}
}

func TestNotEnoughDataIsATypedStatusNeverNaN(t *testing.T) {
	for _, tc := range []struct {
		name  string
		units []fakeUnit
		srm   SRMStatus
	}{
		{"an experiment without units", nil, SRMNotEnoughData},
		{"an experiment with units in control only", simulateUnits(3, 50)[:50], SRMMismatch},
		{"an experiment with a single unit per arm", []fakeUnit{
			{variant: "control", values: map[string]float64{"conversion": 1}},
			{variant: "one-page", values: map[string]float64{"conversion": 0}},
		}, SRMNotEnoughData},
	} {
		t.Run(tc.name+" reports not_enough_data and marshals to JSON", func(t *testing.T) {
			r := buildTestReport(t, testExperiment(), &fakeSource{units: tc.units}, Options{Dimension: "device"})
			b, err := json.Marshal(r)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if bytes.Contains(b, []byte("NaN")) || bytes.Contains(b, []byte("Inf")) {
				t.Fatalf("JSON contains NaN/Inf: %s", b)
			}
			c := findKPI(t, r.Stages, "conversion").Comparisons[0]
			if c.Status != stats.StatusNotEnoughData || c.Reason == "" || c.Relative != nil || c.PValue != nil || c.Verdict != Inconclusive {
				t.Fatalf("comparison = %+v", c)
			}
			if r.SRM.Status != tc.srm {
				t.Fatalf("SRM = %+v", r.SRM)
			}
			var text strings.Builder
			if err := WriteText(&text, r, TextOptions{}); err != nil {
				t.Fatal(err)
			}
			if regexp.MustCompile(`control [\d,]+ \(control\)`).MatchString(text.String()) {
				t.Fatalf("a control keyed control is labelled twice:\n%s", text.String())
			}
			if strings.Contains(text.String(), "not_enough_data") || !strings.Contains(text.String(), "not enough data: ") {
				t.Fatalf("the table shows the status code instead of words:\n%s", text.String())
			}
		})
	}
}

func TestSRMMismatchGivesAPlainWordsWarning(t *testing.T) {
	units := simulateUnits(7, 1000)
	// Drop a fifth of the treatment's units, as a variant that crashes
	// before logging its exposure would.
	var kept []fakeUnit
	dropped := 0
	for _, u := range units {
		if u.variant == "one-page" && dropped < 200 {
			dropped++
			continue
		}
		kept = append(kept, u)
	}
	r := buildTestReport(t, testExperiment(), &fakeSource{units: kept}, Options{})
	if r.SRM.Status != SRMMismatch || !(r.SRM.PValue < 0.001) {
		t.Fatalf("SRM = %+v", r.SRM)
	}
	for _, want := range []string{"Sample ratio mismatch", "control 55.6%", "one-page 44.4%", "50.0% / 50.0%", "1800 units"} {
		if !strings.Contains(r.SRM.Warning, want) {
			t.Errorf("warning %q lacks %q", r.SRM.Warning, want)
		}
	}
}

func TestSRMFlagsUnitsOutsideTheSplit(t *testing.T) {
	t.Run("units in a variant that is not configured are counted and raise a mismatch", func(t *testing.T) {
		units := simulateUnits(7, 1000)
		for i := range 3 {
			units[i].variant = "old-design"
		}
		r := buildTestReport(t, testExperiment(), &fakeSource{units: units}, Options{})
		last := r.SRM.Arms[len(r.SRM.Arms)-1]
		if r.SRM.Status != SRMMismatch || r.SRM.PValue != 0 || r.SRM.UnexpectedUnits != 3 || r.SRM.Units != 2000 ||
			last.Variant != "old-design" || !last.Unconfigured || last.Units != 3 || last.ExpectedShare != 0 {
			t.Fatalf("SRM = %+v", r.SRM)
		}
		for _, want := range []string{"3 of the 2000 units", `3 in "old-design", which is not configured`} {
			if !strings.Contains(r.SRM.Warning, want) {
				t.Errorf("warning %q lacks %q", r.SRM.Warning, want)
			}
		}
	})
	t.Run("units in a variant with weight zero raise a mismatch", func(t *testing.T) {
		e := testExperiment()
		e.Variants = append(e.Variants, experiment.Variant{Key: "paused", Weight: 0})
		units := simulateUnits(7, 1000)
		units[0].variant = "paused"
		r := buildTestReport(t, e, &fakeSource{units: units}, Options{})
		if r.SRM.Status != SRMMismatch || r.SRM.UnexpectedUnits != 1 || !strings.Contains(r.SRM.Warning, `1 in "paused", which has weight 0`) {
			t.Fatalf("SRM = %+v", r.SRM)
		}
	})
	t.Run("even a bandit's split cannot produce units in an unconfigured variant", func(t *testing.T) {
		e := testExperiment()
		e.Mode = experiment.ModeOptimise
		units := simulateUnits(7, 100)
		units[0].variant = "ghost"
		r := buildTestReport(t, e, &fakeSource{units: units}, Options{})
		if r.SRM.Status != SRMMismatch || r.SRM.UnexpectedUnits != 1 {
			t.Fatalf("SRM = %+v", r.SRM)
		}
	})
}

func TestZeroControlValueReportsTheDifference(t *testing.T) {
	// Nobody in control converts, 30 of 200 in the treatment do.
	var units []fakeUnit
	for i := range 400 {
		u := fakeUnit{variant: "control", values: map[string]float64{}}
		if i%2 == 1 {
			u.variant = "one-page"
			if i < 60 {
				u.values["conversion"] = 1
			}
		}
		units = append(units, u)
	}
	r := buildTestReport(t, testExperiment(), &fakeSource{units: units}, Options{})
	c := findKPI(t, r.Stages, "conversion").Comparisons[0]
	if c.Status != stats.StatusOK || c.Relative != nil || !strings.Contains(c.RelativeReason, "control mean is zero") ||
		c.Absolute == nil || math.Abs(c.Absolute.Estimate-0.15) > 1e-12 || c.PValue == nil || !(*c.PValue < 0.001) || c.Verdict != Improves {
		t.Fatalf("comparison = %+v", c)
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "undefined (control is 0)") {
		t.Fatalf("text report lacks the undefined relative lift:\n%s", buf.String())
	}
}

func TestSRMDoesNotApplyToBandits(t *testing.T) {
	e := testExperiment()
	e.Mode = experiment.ModeOptimise
	r := buildTestReport(t, e, &fakeSource{units: simulateUnits(7, 100)}, Options{})
	if r.SRM.Status != SRMNotApplicable || r.SRM.Reason == "" {
		t.Fatalf("SRM = %+v", r.SRM)
	}
}

func TestDimensionBreakdownRepeatsTheStatisticsPerSegment(t *testing.T) {
	units := simulateUnits(7, 2000)
	units[0].attrs = nil // a unit without the attribute
	r := buildTestReport(t, testExperiment(), &fakeSource{units: units}, Options{Dimension: "device"})
	var values []string
	var total int64
	for _, s := range r.Segments {
		values = append(values, s.Value)
		for _, u := range s.Units {
			total += u.Units
		}
		if len(s.Stages) != len(r.Stages) {
			t.Errorf("segment %s has %d stages, want %d", s.Value, len(s.Stages), len(r.Stages))
		}
	}
	if strings.Join(values, ",") != "mobile,desktop,tablet,(none)" {
		t.Fatalf("segments ordered by size = %v", values)
	}
	if total != 4000 {
		t.Fatalf("segment units add up to %d, want 4000", total)
	}
	mobile := findKPI(t, r.Segments[0].Stages, "add_to_cart_rate")
	if mobile.Comparisons[0].Status != stats.StatusOK || mobile.Comparisons[0].AdjustedPValue == nil {
		t.Fatalf("mobile add-to-cart = %+v", mobile.Comparisons[0])
	}
}

func TestSegmentsBeyondTheLimitAreCountedNotShown(t *testing.T) {
	units := simulateUnits(7, 200)
	for i := range units {
		units[i].attrs = map[string]string{"campaign": string(rune('a'+i%26)) + string(rune('a'+i/26%26))}
	}
	r := buildTestReport(t, testExperiment(), &fakeSource{units: units}, Options{Dimension: "campaign"})
	if len(r.Segments) != MaxSegments || r.SegmentsOmitted == 0 {
		t.Fatalf("segments %d, omitted %d", len(r.Segments), r.SegmentsOmitted)
	}
}

func TestBuildReportsSourceErrorsWithContext(t *testing.T) {
	boom := errors.New("disk on fire")
	_, err := Build(context.Background(), &fakeSource{err: boom}, testExperiment(), metricsByKey(), Options{})
	if !errors.Is(err, boom) || !strings.Contains(err.Error(), "one-page-checkout") {
		t.Fatalf("err = %v", err)
	}
	_, err = Build(context.Background(), &fakeSource{}, testExperiment(), map[string]experiment.Metric{}, Options{})
	if err == nil || !strings.Contains(err.Error(), "conversion") {
		t.Fatalf("missing metric definition: err = %v", err)
	}
}

func TestReportMatchesGoldenJSON(t *testing.T) {
	r := buildTestReport(t, testExperiment(), &fakeSource{units: simulateUnits(11, 1500)}, Options{Dimension: "device"})
	checkGolden(t, "report.golden.json", r)
}

func checkGolden(t *testing.T, name string, v any) {
	t.Helper()
	got, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, append(got, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test ./report -run Golden -update): %v", err)
	}
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("golden %s: %v", name, err)
	}
	if diff := jsonDiff("", g, w); diff != "" {
		t.Fatalf("%s differs from the golden file at %s; if the change is intended run go test ./report -update and review the diff", name, diff)
	}
}

// jsonDiff returns the path of the first difference between two decoded
// JSON values, comparing numbers to 1e-9 relative: compilers may fuse
// multiply-adds differently per architecture, so the last bits can differ.
func jsonDiff(path string, got, want any) string {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok || len(g) != len(w) {
			return path
		}
		for k := range w {
			if d := jsonDiff(path+"."+k, g[k], w[k]); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return path
		}
		for i := range w {
			if d := jsonDiff(path+"["+strconv.Itoa(i)+"]", g[i], w[i]); d != "" {
				return d
			}
		}
	case float64:
		g, ok := got.(float64)
		if !ok || math.Abs(g-w) > 1e-9*math.Max(1, math.Abs(w)) {
			return path
		}
	default:
		if got != want {
			return path
		}
	}
	return ""
}

func okComparison(rel, p float64) Comparison {
	return Comparison{Status: stats.StatusOK, Absolute: &Interval{Estimate: rel / 10}, Relative: &Interval{Estimate: rel}, PValue: &p}
}

func bayesComparison(ctw float64) Comparison {
	d := math.Copysign(0.1, ctw-0.5)
	return Comparison{Status: stats.StatusOK, Absolute: &Interval{Estimate: d / 10}, Relative: &Interval{Estimate: d}, ChanceToWin: &ctw}
}

func ptr(v float64) *float64 { return &v }

func TestComparisonsCarryWhatReproducesThem(t *testing.T) {
	e := testExperiment()
	e.Analysis.Method = "sequential"
	e.Analysis.SequentialTuning = 1234
	r := buildTestReport(t, e, &fakeSource{units: simulateUnits(7, 1000)}, Options{})
	c := findKPI(t, r.Stages, "conversion").Comparisons[0]
	ctl, arm := armOf(findKPI(t, r.Stages, "conversion").Arms, "control"), armOf(findKPI(t, r.Stages, "conversion").Arms, "one-page")
	if c.SequentialTuning != 1234 || c.Variance == nil {
		t.Fatalf("comparison = %+v", c)
	}
	// A binomial arm's per-unit variance is p(1 − p).
	if math.Abs(c.Variance.Control-ctl.Value*(1-ctl.Value)) > 1e-12 || math.Abs(c.Variance.Variant-arm.Value*(1-arm.Value)) > 1e-12 {
		t.Fatalf("variance %+v for rates %v / %v", c.Variance, ctl.Value, arm.Value)
	}
}
