package report_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"gonum.org/v1/gonum/stat/distuv"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/storetest"
)

var (
	daysBought  = experiment.Metric{Key: "bought", Name: "Bought", Stage: experiment.StageCheckout, Kind: experiment.KindBinomial, Direction: experiment.HigherIsBetter, Event: "order"}
	daysRevenue = experiment.Metric{Key: "revenue", Name: "Revenue", Stage: experiment.StageCheckout, Kind: experiment.KindMean, Direction: experiment.HigherIsBetter, Event: "order", Aggregation: experiment.AggSum}
)

func daysExperiment() *experiment.Experiment {
	return &experiment.Experiment{Key: "novelty", Name: "novelty", Stage: experiment.StageCheckout, Control: "control",
		Variants:    []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}},
		GoalMetrics: []string{"bought", "revenue"}}
}

// readCSV returns the rows of a testdata/days file without its header.
func readCSV(t *testing.T, name string) [][]string {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "days", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows[1:]
}

func unixSeconds(t *testing.T, s string) time.Time {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return time.Unix(n, 0).UTC()
}

// goldenDays is testdata/days/golden.json: per view, metric and day since
// exposure, each arm's units, mean and per-unit variance, and the Welch
// contrasts' estimates, standard errors and degrees of freedom.
type goldenDays struct {
	Now     int64 `json:"now"`
	MaxDays int   `json:"max_days"`
	Rows    []struct {
		View, Metric       string
		Day                int
		Control, Treatment struct {
			N              int64
			Mean, Variance float64
		}
		Absolute, Relative struct{ Estimate, SE float64 }
		DF                 float64
	} `json:"rows"`
}

// The data set (testdata/days/exposures.csv and events.csv: 600 units
// exposed over 12 days, a 50% purchase lift on day 0 fading with a
// 1.5-day time constant, purchases before exposure and events no metric
// reads, in shuffled storage order) and golden.json were written by a
// Python script using only its standard library, which computes every
// unit's day-k value straight from the raw rows and the moments, Welch
// standard errors and degrees of freedom from those values. The t
// quantiles and p-values are checked here against gonum's Student's t at
// the golden degrees of freedom.
func TestExposureDaysMatchAnIndependentComputation(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("testdata", "days", "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var golden goldenDays
	if err := json.Unmarshal(raw, &golden); err != nil {
		t.Fatal(err)
	}
	var xs []experiment.Exposure
	for _, r := range readCSV(t, "exposures.csv") {
		xs = append(xs, experiment.Exposure{Experiment: "novelty", Unit: r[0], Variant: r[1], At: unixSeconds(t, r[2])})
	}
	var evs []events.Event
	for _, r := range readCSV(t, "events.csv") {
		v, err := strconv.ParseFloat(r[3], 64)
		if err != nil {
			t.Fatal(err)
		}
		ts := unixSeconds(t, r[4])
		evs = append(evs, events.Event{UnitID: r[0], EventID: r[1], Event: r[2], Value: &v, TS: &ts})
	}
	src := storetest.NewMemDays(xs, evs)
	got := map[string]report.DayResult{}
	for _, view := range []outcomes.DayView{outcomes.Daily, outcomes.Cumulative} {
		d, err := report.BuildExposureDays(context.Background(), src, daysExperiment(), []experiment.Metric{daysBought, daysRevenue},
			report.ExposureDaysOptions{View: view, Days: golden.MaxDays, Now: time.Unix(golden.Now, 0)})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range d.Metrics {
			for _, day := range m.Days {
				got[fmt.Sprintf("%s %s %d", view, m.Metric, day.Day)] = day
			}
		}
	}
	if len(got) != len(golden.Rows) {
		t.Errorf("%d (view, metric, day) rows, want %d", len(got), len(golden.Rows))
	}
	close := func(what string, got, want float64) {
		t.Helper()
		if math.Abs(got-want) > 1e-9*math.Max(1, math.Abs(want)) {
			t.Errorf("%s = %.15g, want %.15g", what, got, want)
		}
	}
	for _, w := range golden.Rows {
		name := fmt.Sprintf("%s %s %d", w.View, w.Metric, w.Day)
		day, ok := got[name]
		if !ok {
			t.Errorf("%s: missing", name)
			continue
		}
		ctl, trt, c := day.Arms[0], day.Arms[1], day.Comparisons[0]
		if ctl.Units != w.Control.N || trt.Units != w.Treatment.N || ctl.EligibleUnits != w.Control.N || trt.EligibleUnits != w.Treatment.N {
			t.Errorf("%s: units %d/%d (eligible %d/%d), want %d/%d", name, ctl.Units, trt.Units, ctl.EligibleUnits, trt.EligibleUnits, w.Control.N, w.Treatment.N)
		}
		if c.Status != "ok" || c.Relative == nil {
			t.Errorf("%s: status %s (%s)", name, c.Status, c.Reason)
			continue
		}
		close(name+" control mean", ctl.Value, w.Control.Mean)
		close(name+" treatment mean", trt.Value, w.Treatment.Mean)
		close(name+" control variance", c.Variance.Control, w.Control.Variance)
		close(name+" treatment variance", c.Variance.Variant, w.Treatment.Variance)
		q := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: w.DF}.Quantile(0.975)
		for _, l := range []struct {
			what string
			got  *report.Interval
			est  float64
			se   float64
		}{{"absolute", c.Absolute, w.Absolute.Estimate, w.Absolute.SE}, {"relative", c.Relative, w.Relative.Estimate, w.Relative.SE}} {
			close(name+" "+l.what+" lift", l.got.Estimate, l.est)
			close(name+" "+l.what+" ci_low", l.got.Low, l.est-q*l.se)
			close(name+" "+l.what+" ci_high", l.got.High, l.est+q*l.se)
		}
		p := 2 * distuv.StudentsT{Mu: 0, Sigma: 1, Nu: w.DF}.Survival(math.Abs(w.Absolute.Estimate/w.Absolute.SE))
		close(name+" p-value", *c.PValue, p)
	}
}

// A simulated novelty effect: the treatment's purchase rate is 30% higher
// on a unit's first day, the lift halving every day after. The daily view
// recovers the decay: each day's interval covers that day's true lift
// (allowing the few misses 95% intervals make), the first day's lift is
// clearly positive and the last days' are not.
func TestExposureDaysRecoverASimulatedNoveltyEffect(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 19))
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	now := start.Add(14 * 24 * time.Hour)
	const base = 0.2
	lift := func(k int) float64 { return 0.3 * math.Pow(0.5, float64(k)) }
	var xs []experiment.Exposure
	var evs []events.Event
	for i := range 40000 {
		u := fmt.Sprintf("u%05d", i)
		v := "control"
		if i%2 == 1 {
			v = "treatment"
		}
		at := start.Add(time.Duration(rng.Int64N(int64(10 * 24 * time.Hour))))
		xs = append(xs, experiment.Exposure{Experiment: "novelty", Unit: u, Variant: v, At: at})
		for k := range 10 {
			p := base
			if v == "treatment" {
				p *= 1 + lift(k)
			}
			if rng.Float64() < p {
				ts := at.Add(time.Duration(k)*24*time.Hour + time.Duration(rng.Int64N(int64(24*time.Hour))))
				evs = append(evs, events.Event{UnitID: u, EventID: fmt.Sprintf("%s-%d", u, k), Event: "order", TS: &ts})
			}
		}
	}
	d, err := report.BuildExposureDays(context.Background(), storetest.NewMemDays(xs, evs), daysExperiment(), []experiment.Metric{daysBought},
		report.ExposureDaysOptions{Days: 10, Now: now})
	if err != nil {
		t.Fatal(err)
	}
	days := d.Metrics[0].Days
	if len(days) != 10 {
		t.Fatalf("%d days, want 10", len(days))
	}
	misses := 0
	for _, day := range days {
		r := day.Comparisons[0].Relative
		if r.Low > lift(day.Day) || r.High < lift(day.Day) {
			misses++
			t.Logf("day %d: interval [%.3f, %.3f] misses the true lift %.3f", day.Day, r.Low, r.High, lift(day.Day))
		}
	}
	if misses > 2 {
		t.Errorf("%d of 10 intervals miss the true lift", misses)
	}
	first, late := days[0].Comparisons[0], days[8].Comparisons[0]
	if first.Verdict != report.Improves || first.Relative.Low < 0.15 {
		t.Errorf("day 0: %s, lift %+v; want a clear improvement near +30%%", first.Verdict, *first.Relative)
	}
	if late.Relative.Low > 0.02 || late.Relative.High < 0 {
		t.Errorf("day 8: lift %+v; want an interval around zero", *late.Relative)
	}
	if first.Relative.Low <= late.Relative.High {
		t.Errorf("the day-0 lift %+v does not stand clear of the day-8 lift %+v", *first.Relative, *late.Relative)
	}
	// Day k has fewer eligible units as k grows: exposures span 10 days.
	if days[9].Arms[0].EligibleUnits >= days[0].Arms[0].EligibleUnits/2 {
		t.Errorf("eligible units day 0 %d, day 9 %d: later days should hold only the earlier-exposed units",
			days[0].Arms[0].EligibleUnits, days[9].Arms[0].EligibleUnits)
	}
}

func TestExposureDaysStopAtTheMetricsWindow(t *testing.T) {
	at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
	m := daysBought
	m.WindowHours = 36
	src := storetest.NewMemDays([]experiment.Exposure{{Experiment: "novelty", Unit: "u1", Variant: "control", At: at}}, nil)
	d, err := report.BuildExposureDays(context.Background(), src, daysExperiment(), []experiment.Metric{m, daysRevenue},
		report.ExposureDaysOptions{Days: 28, Now: at.Add(10 * 24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	if n, r := len(d.Metrics[0].Days), len(d.Metrics[1].Days); n != 2 || r != 10 {
		t.Errorf("a 36-hour window shows %d days, a metric without one %d; want 2 and 10", n, r)
	}
	if got := d.Metrics[0].Days[0].Comparisons[0].Status; got != "not_enough_data" {
		t.Errorf("one unit: status %s, want not_enough_data", got)
	}
	if len(d.Notes) != 1 || d.Notes[0] != report.ExposureDaysCaveat {
		t.Errorf("notes %q, want the caveat", d.Notes)
	}
}

func TestParseExposureDaysOptions(t *testing.T) {
	for _, c := range []struct {
		name, view, days string
		field            string
		want             report.ExposureDaysOptions
	}{
		{name: "nothing asked means daily over 28 days", want: report.ExposureDaysOptions{View: outcomes.Daily, Days: 28}},
		{name: "cumulative over 7 days", view: "cumulative", days: "7", want: report.ExposureDaysOptions{View: outcomes.Cumulative, Days: 7}},
		{name: "90 days is the most", days: "90", want: report.ExposureDaysOptions{View: outcomes.Daily, Days: 90}},
		{name: "an unknown view names view", view: "weekly", field: "view"},
		{name: "zero days names days", days: "0", field: "days"},
		{name: "too many days names days", days: "91", field: "days"},
		{name: "a fraction of a day names days", days: "1.5", field: "days"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := report.ParseExposureDaysOptions(c.view, c.days)
			var ve *experiment.ValidationError
			switch {
			case c.field == "" && err != nil:
				t.Fatalf("error %v", err)
			case c.field == "" && got != c.want:
				t.Errorf("got %+v, want %+v", got, c.want)
			case c.field != "" && (!errors.As(err, &ve) || ve.Field != c.field):
				t.Errorf("error %v, want a validation error on %s", err, c.field)
			}
		})
	}
}
