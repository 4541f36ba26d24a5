package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

// BenchAppendEvents measures the store side of ingestion without HTTP on
// st, set up by SetupOutcomes: batches of 500 events with random ids over
// 200k units, half of them exposed to "exp" (8 metrics). One op is one
// batch; it reports events/s.
func BenchAppendEvents(b *testing.B, st OutcomeBackend) {
	ctx := context.Background()
	exposeVisitors(b, st, 100_000)
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"product_view", "product_view", "add_to_cart", "order_completed", "nps_response", "page_time"}
	batch := func() []events.Event {
		evs := make([]events.Event, 500)
		for i := range evs {
			evs[i] = Event(fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()), fmt.Sprintf("visitor-%08d", rng.IntN(200_000)),
				names[rng.IntN(len(names))], float64(rng.IntN(1000))/10, time.Duration(rng.IntN(3600))*time.Second)
		}
		return evs
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		evs := batch()
		b.StartTimer()
		if _, err := st.AppendEvents(ctx, T0, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}

// BenchReportRead measures the report's reads of "exp" on st, which the
// caller has set up by SetupOutcomes and loaded: plain, daily and
// by-device cells of revenue_per_visitor, exposure counts, and the cells of
// the percentile-capped revenue_p50, one sub-benchmark each.
func BenchReportRead(b *testing.B, st OutcomeBackend) {
	ctx := context.Background()
	e := GetExperiment(b, st, "exp")
	revenue, p50 := GetMetric(b, st, "revenue_per_visitor"), GetMetric(b, st, "revenue_p50")
	cells := func(m experiment.Metric, q report.CellQuery) func(b *testing.B) {
		return func(b *testing.B) {
			for b.Loop() {
				if _, err := st.MetricCells(ctx, e, m, q); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("plain cells", cells(revenue, report.CellQuery{}))
	b.Run("daily cells", cells(revenue, report.CellQuery{Daily: true}))
	b.Run("exposure counts", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.ExposureCounts(ctx, "exp"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("cells by device", cells(revenue, report.CellQuery{Dimension: "device"}))
	b.Run("percentile-capped cells", cells(p50, report.CellQuery{}))
}

// BenchInsertExposures measures how fast st stores first exposures, the
// shape the exposure journal is merged in: batches of 5000 exposures of 500
// new visitors to 10 experiments each ("exp" of SetupOutcomes and nine
// without metrics), over 100k units already exposed. A tenth of the new
// visitors already sent events, which the exposure back-fills. One op is
// one batch; it reports exposures/s.
func BenchInsertExposures(b *testing.B, st OutcomeBackend) {
	ctx := context.Background()
	exposeVisitors(b, st, 100_000)
	next := 100_000
	batch := func() ([]experiment.Exposure, []events.Event) {
		xs := make([]experiment.Exposure, 0, 5000)
		var evs []events.Event
		for range 500 {
			unit := fmt.Sprintf("visitor-%08d", next)
			if next%10 == 0 {
				evs = append(evs, Event(fmt.Sprintf("e-%d", next), unit, "add_to_cart", 1, -time.Minute))
			}
			next++
			for e := range 10 {
				x := Exposure(unit, []string{"control", "treatment"}[next%2], 0, map[string]string{"device": "mobile"})
				if e > 0 {
					x.Experiment = fmt.Sprintf("other-%d", e)
				}
				xs = append(xs, x)
			}
		}
		return xs, evs
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		xs, evs := batch()
		if _, err := st.AppendEvents(ctx, T0, evs); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := st.InsertExposures(ctx, xs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*5000)/b.Elapsed().Seconds(), "exposures/s")
}

// exposeVisitors exposes visitor-00000000 … to "exp", alternating arms, an
// hour before T0, in batches of 5000.
func exposeVisitors(b *testing.B, st OutcomeBackend, n int) {
	var xs []experiment.Exposure
	for u := 0; u < n; u++ {
		xs = append(xs, Exposure(fmt.Sprintf("visitor-%08d", u), []string{"control", "treatment"}[u%2], -time.Hour, map[string]string{"device": "mobile"}))
		if len(xs) == 5000 {
			MustExpose(b, st, xs...)
			xs = xs[:0]
		}
	}
	MustExpose(b, st, xs...)
}
