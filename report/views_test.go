package report

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

func TestDefaultFunnelUsesTheExperimentsUpwardBinomialMetricsInStageOrder(t *testing.T) {
	var keys []string
	for _, m := range DefaultFunnelSteps(testExperiment(), metricsByKey()) {
		keys = append(keys, m.Key)
	}
	// bounce_rate and cart_abandonment are binomial but lower-is-better.
	if got := strings.Join(keys, ","); got != "add_to_cart_rate,conversion" {
		t.Fatalf("steps = %s", got)
	}
}

func TestFunnelCountsStepsAndComparesStepConversion(t *testing.T) {
	units := []fakeUnit{}
	add := func(variant string, n int, steps ...string) {
		for range n {
			u := fakeUnit{variant: variant, values: map[string]float64{}}
			for _, s := range steps {
				u.values[s] = 1
			}
			units = append(units, u)
		}
	}
	// control: 1000 exposed, 300 add to cart, 100 of them order.
	add("control", 700)
	add("control", 200, "add_to_cart_rate")
	add("control", 100, "add_to_cart_rate", "conversion")
	// one-page: 1000 exposed, 300 add to cart, 150 of them order; 50 order
	// without a cart event and must not count at the second step.
	add("one-page", 650)
	add("one-page", 50, "conversion")
	add("one-page", 150, "add_to_cart_rate")
	add("one-page", 150, "add_to_cart_rate", "conversion")

	m := metricsByKey()
	f, err := BuildFunnel(context.Background(), &fakeSource{units: units}, testExperiment(),
		[]experiment.Metric{m["add_to_cart_rate"], m["conversion"]}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Steps) != 2 || f.Exposed[0].Units != 1000 || f.Exposed[1].Units != 1000 {
		t.Fatalf("funnel = %+v", f)
	}
	cart, order := f.Steps[0], f.Steps[1]
	t.Run("the first step is entered by every exposed unit", func(t *testing.T) {
		a := cart.Arms[0]
		if a.Entered != 1000 || a.Reached != 300 || a.Conversion != 0.3 || a.ReachRate != 0.3 {
			t.Fatalf("control at cart = %+v", a)
		}
	})
	t.Run("a later step is entered by the units of the previous step", func(t *testing.T) {
		a := order.Arms[1]
		if a.Entered != 300 || a.Reached != 150 || a.Conversion != 0.5 || a.ReachRate != 0.15 {
			t.Fatalf("one-page at order = %+v", a)
		}
	})
	t.Run("the step conversion lift comes from stats on entered and reached units", func(t *testing.T) {
		want := stats.Compare(stats.KindBinomial, stats.ArmStats{N: 300, Sum: 100}, stats.ArmStats{N: 300, Sum: 150}, stats.Options{})
		c := order.Comparisons[0]
		if c.Relative.Estimate != want.Relative.Estimate || *c.PValue != want.Absolute.PValue || c.Verdict != Improves {
			t.Fatalf("order lift = %+v, want relative %g p %g", c, want.Relative.Estimate, want.Absolute.PValue)
		}
		if cart.Comparisons[0].Verdict != Inconclusive {
			t.Fatalf("equal cart rates gave %s", cart.Comparisons[0].Verdict)
		}
	})
}

func TestParseFunnelRejectsWhatCannotBeAStep(t *testing.T) {
	e, m := testExperiment(), metricsByKey()
	for _, tc := range []struct{ name, in, wantMsg string }{
		{"an unknown metric", "conversion,nope", "unknown metric"},
		{"a mean metric", "revenue_per_visitor", "binomial"},
		{"an empty item", "conversion,,add_to_cart_rate", "empty"},
		{"a repeated step", "conversion,conversion", "twice"},
		{"too many steps", strings.Repeat("conversion,", MaxFunnelSteps) + "x", "at most"},
	} {
		t.Run(tc.name+" is a 400 naming funnel", func(t *testing.T) {
			_, err := ParseFunnel(tc.in, e, m)
			assertInvalid(t, err, "funnel", tc.wantMsg)
		})
	}
	t.Run("a list of any binomial metrics is accepted in the given order", func(t *testing.T) {
		steps, err := ParseFunnel(" landing_ctr, add_to_cart_rate ,return_rate", e, m)
		if err != nil || len(steps) != 3 || steps[0].Key != "landing_ctr" || steps[2].Key != "return_rate" {
			t.Fatalf("steps %v, err %v", steps, err)
		}
	})
}

func TestTimeSeriesAccumulatesDayByDay(t *testing.T) {
	src := &fakeSource{units: simulateUnits(7, 2000)}
	e := testExperiment()
	m := metricsByKey()
	ts, err := BuildTimeSeries(context.Background(), src, e, []experiment.Metric{m["add_to_cart_rate"]}, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	if len(ts.Series) != 1 || ts.Series[0].Variant != "one-page" || len(ts.Series[0].Points) != 7 {
		t.Fatalf("series = %+v", ts.Series)
	}
	pts := ts.Series[0].Points
	t.Run("points are in date order with growing unit counts", func(t *testing.T) {
		for i := 1; i < len(pts); i++ {
			if pts[i].Date <= pts[i-1].Date || pts[i].ControlUnits <= pts[i-1].ControlUnits {
				t.Fatalf("point %d = %+v after %+v", i, pts[i], pts[i-1])
			}
		}
		if pts[0].Date != "2025-03-01" {
			t.Fatalf("first date %s", pts[0].Date)
		}
	})
	t.Run("the last point equals the whole-experiment comparison", func(t *testing.T) {
		r := buildTestReport(t, e, src, Options{})
		want := findKPI(t, r.Stages, "add_to_cart_rate").Comparisons[0]
		last := pts[len(pts)-1]
		if last.ControlUnits != 2000 || last.Relative.Estimate != want.Relative.Estimate || *last.PValue != *want.PValue {
			t.Fatalf("last = %+v, want %+v", last, want)
		}
	})
}

func TestParseSeriesMetricsDefaultsToGoalsAndRejectsForeignMetrics(t *testing.T) {
	e, m := testExperiment(), metricsByKey()
	got, err := ParseSeriesMetrics("", e, m)
	if err != nil || len(got) != 2 || got[0].Key != "conversion" || got[1].Key != "add_to_cart_rate" {
		t.Fatalf("default = %v, %v", got, err)
	}
	_, err = ParseSeriesMetrics("nps,wishlist_rate", e, m)
	assertInvalid(t, err, "metric", "not a metric of experiment")
}

func TestCSVHasOneRowPerKPIAndVariantInStageOrder(t *testing.T) {
	units := simulateUnits(7, 4000)
	units[0].attrs = map[string]string{"device": "=HYPERLINK(\"http://evil\")"}
	r := buildTestReport(t, testExperiment(), &fakeSource{units: units}, Options{Dimension: "device"})
	var buf bytes.Buffer
	if err := WriteCSV(&buf, r); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(rows[0], ",") != strings.Join(CSVHeader, ",") {
		t.Fatalf("header = %v", rows[0])
	}
	var overall []string
	col := func(name string) int {
		for i, h := range CSVHeader {
			if h == name {
				return i
			}
		}
		t.Fatalf("no column %s", name)
		return -1
	}
	segments := map[string]bool{}
	for _, row := range rows[1:] {
		if len(row) != len(CSVHeader) {
			t.Fatalf("row has %d cells: %v", len(row), row)
		}
		if row[col("segment")] == "" {
			overall = append(overall, row[col("stage")]+"/"+row[col("metric")])
		} else {
			segments[row[col("segment")]] = true
		}
	}
	want := "awareness/bounce_rate decision/add_to_cart_rate checkout/conversion checkout/revenue_per_visitor checkout/average_order_value checkout/cart_abandonment loyalty/nps"
	if strings.Join(overall, " ") != want {
		t.Fatalf("overall rows = %v", overall)
	}
	t.Run("a segment value that looks like a formula is defused", func(t *testing.T) {
		if !segments[`'=HYPERLINK("http://evil")`] {
			t.Fatalf("segments = %v", segments)
		}
	})
	t.Run("a breached guardrail row says so", func(t *testing.T) {
		for _, row := range rows[1:] {
			if row[col("segment")] == "" && row[col("metric")] == "cart_abandonment" && row[col("guardrail_breach")] != "true" {
				t.Fatalf("row = %v", row)
			}
		}
	})
}

func TestTextReportIsStageGroupedAndColoursVerdictsOnlyWhenAsked(t *testing.T) {
	r := buildTestReport(t, testExperiment(), &fakeSource{units: simulateUnits(7, 4000)}, Options{})
	var plain, coloured bytes.Buffer
	if err := WriteText(&plain, r, TextOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := WriteText(&coloured, r, TextOptions{Colour: true}); err != nil {
		t.Fatal(err)
	}
	out := plain.String()
	last := -1
	for _, h := range []string{"AWARENESS", "DECISION", "CHECKOUT", "LOYALTY"} {
		i := strings.Index(out, "\n"+h+"\n")
		if i <= last {
			t.Fatalf("stage %s missing or out of order in:\n%s", h, out)
		}
		last = i
	}
	for _, want := range []string{"SRM: ok", "GUARDRAIL BREACHED: Cart abandonment harmed by one-page", "improves", "harms", "inconclusive"} {
		if !strings.Contains(out, want) {
			t.Errorf("text lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("plain text contains ANSI escapes")
	}
	if !strings.Contains(coloured.String(), ansiGreen+"improves"+ansiReset) {
		t.Error("coloured text does not colour the verdicts")
	}
}

func assertInvalid(t *testing.T, err error, field, msg string) {
	t.Helper()
	ve, ok := err.(*experiment.ValidationError)
	if !ok {
		t.Fatalf("err = %v (%T), want *experiment.ValidationError", err, err)
	}
	if ve.Field != field || !strings.Contains(ve.Message, msg) {
		t.Fatalf("err = %v, want field %s and a message containing %q", ve, field, msg)
	}
}
