package storetest

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journey"
	"github.com/journeylab/journeylab/privacy"
)

// JourneyBackend is what the journey suite needs from a store.
type JourneyBackend interface {
	OutcomeBackend
	journey.Reader
}

// RunJourney checks the journey aggregates a store maintains with its
// event batches, read through journey.Service. open must return a fresh,
// empty store for each call.
func RunJourney(t *testing.T, open func(t *testing.T) JourneyBackend) {
	t.Run("visitors, distinct units, sums and NPS buckets per day", func(t *testing.T) { testJourneyDaily(t, open(t)) })
	t.Run("a retried event changes no aggregate", func(t *testing.T) { testJourneyRetry(t, open(t)) })
	t.Run("a late event counts on its own day, once per unit", func(t *testing.T) { testJourneyLate(t, open(t)) })
	t.Run("erasing a unit removes its own row and keeps the anonymous counts", func(t *testing.T) { testJourneyErase(t, open(t)) })
	t.Run("the cohort funnel follows units across days and batches", func(t *testing.T) { testJourneyFunnel(t, open(t)) })
}

// day0 is a Monday midnight, so fixture days read as dates.
var day0 = time.Date(2025, 3, 3, 0, 0, 0, 0, time.UTC)

func jev(id, unit, name string, value float64, day int, hour int) events.Event {
	ts := day0.AddDate(0, 0, day).Add(time.Duration(hour) * time.Hour)
	return events.Event{EventID: id, UnitID: unit, Event: name, Value: &value, TS: &ts}
}

func journeyService(t testing.TB, st JourneyBackend) *journey.Service {
	t.Helper()
	svc := experiment.NewService(st, func() time.Time { return day0 })
	if err := svc.SeedBuiltinMetrics(context.Background()); err != nil {
		t.Fatal(err)
	}
	return journey.NewService(st, st, st, func() time.Time { return day0 })
}

func seriesOf(t *testing.T, j *journey.Service, kpi string, days int) []float64 {
	t.Helper()
	all, err := j.StageKPISeries(context.Background(), day0, day0.AddDate(0, 0, days))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.KPI == kpi {
			if len(s.Points) != days {
				t.Fatalf("%s: %d points for %d days", kpi, len(s.Points), days)
			}
			out := make([]float64, days)
			for i, p := range s.Points {
				if !p.Day.Equal(day0.AddDate(0, 0, i)) {
					t.Fatalf("%s: point %d is %v", kpi, i, p.Day)
				}
				out[i] = p.Value
			}
			return out
		}
	}
	t.Fatalf("no series %s", kpi)
	return nil
}

func sameSeries(t *testing.T, name string, got, want []float64) {
	t.Helper()
	for i := range want {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) || (!math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > 1e-12) {
			t.Fatalf("%s = %v, want %v", name, got, want)
		}
	}
}

func testJourneyDaily(t *testing.T, st JourneyBackend) {
	j := journeyService(t, st)
	// Day 0: a, b, c visit (3 visitors); a adds to cart twice, b once; a
	// orders 30 and 50 (two orders), c orders 20. Day 1: a comes back
	// (a visitor again) and adds to cart; d answers NPS 10, e 3, f 8.
	// Day 2: nobody.
	MustAppend(t, st,
		jev("1", "a", "product_view", 1, 0, 9), jev("2", "a", "add_to_cart", 1, 0, 9), jev("3", "a", "add_to_cart", 1, 0, 10),
		jev("4", "b", "add_to_cart", 1, 0, 11), jev("5", "a", "order_completed", 30, 0, 12), jev("6", "a", "order_completed", 50, 0, 13),
		jev("7", "c", "order_completed", 20, 0, 23),
	)
	MustAppend(t, st,
		jev("8", "a", "add_to_cart", 1, 1, 8), jev("9", "d", "nps_response", 10, 1, 9),
		jev("10", "e", "nps_response", 3, 1, 9), jev("11", "f", "nps_response", 8, 1, 9),
	)
	nan := math.NaN()
	sameSeries(t, "add_to_cart_rate", seriesOf(t, j, "add_to_cart_rate", 3), []float64{2.0 / 3, 1.0 / 4, nan})
	sameSeries(t, "conversion", seriesOf(t, j, "conversion", 3), []float64{2.0 / 3, 0, nan})
	sameSeries(t, "revenue_per_visitor", seriesOf(t, j, "revenue_per_visitor", 3), []float64{100.0 / 3, 0, nan})
	sameSeries(t, "average_order_value", seriesOf(t, j, "average_order_value", 3), []float64{100.0 / 3, nan, nan})
	sameSeries(t, "nps", seriesOf(t, j, "nps", 3), []float64{nan, 0, nan})
	sameSeries(t, "product_views_per_visitor", seriesOf(t, j, "product_views_per_visitor", 3), []float64{1.0 / 3, 0, nan})

	t.Run("StageKPISeries has one series per catalogue metric with its direction", func(t *testing.T) {
		all, err := j.StageKPISeries(context.Background(), day0, day0.AddDate(0, 0, 3))
		if err != nil {
			t.Fatal(err)
		}
		ms, err := st.ListMetrics(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != len(ms) {
			t.Fatalf("%d series for %d metrics", len(all), len(ms))
		}
		for _, sr := range all {
			switch sr.KPI {
			case "bounce_rate":
				if !sr.LowerIsBetter || sr.Stage != "awareness" {
					t.Errorf("bounce_rate: %+v, want awareness, lower is better", sr)
				}
			case "conversion":
				if sr.LowerIsBetter || sr.Stage != "checkout" || sr.Points[0].N != 3 || sr.Points[1].N != 4 {
					t.Errorf("conversion: stage %s, lower is better %v, N %v and %v; want checkout, higher is better, 3 visitors then 4",
						sr.Stage, sr.LowerIsBetter, sr.Points[0].N, sr.Points[1].N)
				}
			}
		}
	})
	m, err := j.Build(context.Background(), journey.Query{From: day0, To: day0.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Visitors != 7 || m.From != "2025-03-03" || m.To != "2025-03-05" {
		t.Fatalf("map of %s..%s has %d visitor-days, want 7 over 2025-03-03..2025-03-05", m.From, m.To, m.Visitors)
	}
	for _, sv := range m.Stages {
		for _, k := range sv.KPIs {
			if k.Metric == "add_to_cart_rate" && (k.Numerator != 3 || k.Denominator != 7 || len(k.Series) != 3) {
				t.Fatalf("add_to_cart_rate over the range = %v/%v with %d days, want 3/7 over 3 days", k.Numerator, k.Denominator, len(k.Series))
			}
		}
	}
}

func testJourneyRetry(t *testing.T, st JourneyBackend) {
	j := journeyService(t, st)
	MustAppend(t, st, jev("1", "a", "add_to_cart", 1, 0, 9), jev("2", "b", "product_view", 1, 0, 9))
	before := seriesOf(t, j, "add_to_cart_rate", 1)
	MustAppend(t, st, jev("1", "a", "add_to_cart", 1, 0, 9), jev("2", "b", "product_view", 1, 0, 9))
	sameSeries(t, "add_to_cart_rate after a retry", seriesOf(t, j, "add_to_cart_rate", 1), before)
	sameSeries(t, "add_to_cart_rate", before, []float64{0.5})
}

func testJourneyLate(t *testing.T, st JourneyBackend) {
	j := journeyService(t, st)
	MustAppend(t, st, jev("1", "a", "add_to_cart", 1, 0, 9), jev("2", "b", "product_view", 1, 0, 9))
	MustAppend(t, st, jev("3", "a", "product_view", 1, 2, 9), jev("4", "b", "product_view", 1, 2, 9), jev("5", "c", "product_view", 1, 2, 9))
	// Late: a again on day 0 (no new visitor, add_to_cart already seen),
	// b adds to cart on day 0 (a new add-to-cart unit), c shows up on day
	// 0 and day 1 (a new visitor on each), twice on day 1 in one batch.
	MustAppend(t, st, jev("6", "a", "add_to_cart", 1, 0, 10), jev("7", "b", "add_to_cart", 1, 0, 11),
		jev("8", "c", "add_to_cart", 1, 0, 12), jev("9", "c", "add_to_cart", 1, 1, 12), jev("10", "c", "add_to_cart", 1, 1, 13))
	sameSeries(t, "add_to_cart_rate", seriesOf(t, j, "add_to_cart_rate", 3), []float64{3.0 / 3, 1, 0})
	sameSeries(t, "product_views_per_visitor", seriesOf(t, j, "product_views_per_visitor", 3), []float64{1.0 / 3, 0, 1})
	m, err := j.Build(context.Background(), journey.Query{From: day0, To: day0.AddDate(0, 0, 2)})
	if err != nil {
		t.Fatal(err)
	}
	if m.Visitors != 7 || m.Funnel.Cohort != 3 {
		t.Fatalf("visitor-days %d and cohort %d, want 7 and 3", m.Visitors, m.Funnel.Cohort)
	}
}

func testJourneyErase(t *testing.T, st JourneyBackend) {
	j := journeyService(t, st)
	ctx := context.Background()
	MustAppend(t, st, jev("1", "a", "add_to_cart", 1, 0, 9), jev("2", "b", "product_view", 1, 0, 9))
	if _, err := st.EraseUnits(ctx, []privacy.Unit{{ID: "a", Hash: "hash-of-a"}}, day0.AddDate(0, 0, 1)); err != nil {
		t.Fatal(err)
	}
	segs, err := st.JourneyCohortSegments(ctx, journey.Day(day0.UnixNano()), journey.Day(day0.UnixNano())+1, "device")
	if err != nil {
		t.Fatal(err)
	}
	var units int64
	for _, byStages := range segs {
		for _, n := range byStages {
			units += n
		}
	}
	if units != 1 {
		t.Fatalf("%d unit rows after erasing a, want only b's", units)
	}
	sameSeries(t, "add_to_cart_rate", seriesOf(t, j, "add_to_cart_rate", 1), []float64{0.5})
}

func testJourneyFunnel(t *testing.T, st JourneyBackend) {
	j := journeyService(t, st)
	ctx := context.Background()
	if n, err := st.InsertExposures(ctx, []experiment.Exposure{
		{Experiment: "exp", Unit: "a", Variant: "control", At: day0, Attributes: map[string]string{"device": "mobile"}},
		{Experiment: "exp", Unit: "b", Variant: "control", At: day0, Attributes: map[string]string{"device": "desktop"}},
	}); err != nil || n != 2 {
		t.Fatalf("insert exposures: %d, %v", n, err)
	}
	// Five units land (awareness: three click through, two bounce),
	// three view products, two add to cart, one orders on the next day in
	// a later batch. Most are lost between awareness and consideration.
	MustAppend(t, st,
		jev("1", "a", "landing_click", 1, 0, 9), jev("2", "b", "landing_click", 1, 0, 9), jev("3", "c", "landing_click", 1, 0, 9),
		jev("4", "d", "bounce", 1, 0, 9), jev("5", "e", "bounce", 1, 0, 9),
		jev("6", "a", "product_view", 1, 0, 10), jev("7", "b", "product_view", 1, 0, 10), jev("8", "c", "product_view", 1, 0, 10),
		jev("9", "a", "add_to_cart", 1, 0, 11), jev("10", "b", "add_to_cart", 1, 0, 11),
	)
	MustAppend(t, st, jev("11", "a", "order_completed", 40, 1, 11))
	// A unit first seen after the range is not in the cohort.
	MustAppend(t, st, jev("12", "z", "landing_click", 1, 5, 9))
	m, err := j.Build(ctx, journey.Query{From: day0, To: day0.AddDate(0, 0, 1), Dimension: "device"})
	if err != nil {
		t.Fatal(err)
	}
	f := m.Funnel
	want := []int64{5, 3, 2, 1, 0, 0, 0, 0}
	if f.Cohort != 5 {
		t.Fatalf("cohort %d, want 5", f.Cohort)
	}
	for i, s := range f.Steps {
		if s.Units != want[i] {
			t.Fatalf("step %s reached by %d, want %d (steps %+v)", s.Stage, s.Units, want[i], f.Steps)
		}
	}
	if p := f.PainPoint; p == nil || p.From != experiment.StageAwareness || p.To != experiment.StageConsideration || p.Lost != 2 {
		t.Fatalf("pain point %+v, want awareness -> consideration losing 2", p)
	}
	segs := map[string]int64{}
	for _, sg := range f.Segments {
		segs[sg.Value] = sg.Cohort
	}
	if segs["mobile"] != 1 || segs["desktop"] != 1 || segs[journey.NotAssigned] != 3 || len(segs) != 3 {
		t.Fatalf("segments %v, want mobile 1, desktop 1, %s 3", segs, journey.NotAssigned)
	}
}
