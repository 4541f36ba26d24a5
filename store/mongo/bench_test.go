package mongo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo/options"

	"journeylab/events"
	"journeylab/experiment"
	"journeylab/report"
)

// The benchmarks need a MongoDB replica set (see TestingURI) and skip
// without one. They mirror store/sqlite's, so the two backends can be compared.

// BenchmarkAppendEvents measures the store side of ingestion without HTTP:
// batches of 500 events with random ids over 200k units, half of them
// exposed to an experiment with 8 metrics. One op is one batch.
//
//	JOURNEYLAB_TEST_MONGODB_URI=... go test ./store/mongo -run '^$' -bench AppendEvents -benchtime 200x
func BenchmarkAppendEvents(b *testing.B) {
	st, _ := newOutcomeStore(b)
	ctx := context.Background()
	var xs []experiment.Exposure
	for u := 0; u < 100_000; u++ {
		xs = append(xs, expose(fmt.Sprintf("visitor-%08d", u), []string{"control", "treatment"}[u%2], -time.Hour, map[string]string{"device": "mobile"}))
		if len(xs) == 5000 {
			mustExpose(b, st, xs...)
			xs = xs[:0]
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"product_view", "product_view", "add_to_cart", "order_completed", "nps_response", "page_time"}
	batch := func() []events.Event {
		evs := make([]events.Event, 500)
		for i := range evs {
			evs[i] = ev(fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()), fmt.Sprintf("visitor-%08d", rng.IntN(200_000)),
				names[rng.IntN(len(names))], float64(rng.IntN(1000))/10, time.Duration(rng.IntN(3600))*time.Second)
		}
		return evs
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		evs := batch()
		b.StartTimer()
		if _, err := st.AppendEvents(ctx, t0, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkReportRead200k measures reading the sufficient statistics of an
// experiment with 200k exposed units, 30% of them with rollups: every read
// is an aggregation on the server.
//
//	JOURNEYLAB_TEST_MONGODB_URI=... go test ./store/mongo -run '^$' -bench ReportRead200k -benchtime 5x
func BenchmarkReportRead200k(b *testing.B) {
	st, _ := newOutcomeStore(b)
	ctx := context.Background()
	start := time.Now()
	bulkLoad(b, st, 200_000, 0.3)
	b.Logf("loaded 200k exposed units in %s", time.Since(start).Round(time.Millisecond))
	e := getExperiment(b, st, "exp")
	revenue, p50 := getMetric(b, st, "revenue_per_visitor"), getMetric(b, st, "revenue_p50")
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

// bulkLoad inserts exposures and revenue rollups straight into the
// collections (ingesting 200k units would take minutes), with documents
// built by the same mapping as the incremental path.
func bulkLoad(tb testing.TB, st *Store, units int, active float64) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	rules := map[string]events.Rule{}
	for _, k := range []string{"revenue_per_visitor", "revenue_p50"} {
		rules[k] = events.NewRule(getMetric(tb, st, k), 14)
	}
	var xs, rs []any
	flush := func() {
		if len(xs) > 0 {
			if _, err := st.c.exposures.InsertMany(ctx, xs, options.InsertMany().SetOrdered(false)); err != nil {
				tb.Fatal(err)
			}
		}
		if len(rs) > 0 {
			if _, err := st.c.unitMetrics.InsertMany(ctx, rs, options.InsertMany().SetOrdered(false)); err != nil {
				tb.Fatal(err)
			}
		}
		xs, rs = xs[:0], rs[:0]
	}
	for u := 0; u < units; u++ {
		unit := fmt.Sprintf("visitor-%08d", u)
		at := t0.Add(time.Duration(rng.IntN(14*24)) * time.Hour).UnixNano()
		x := exposureDoc{Unit: unit, Experiment: "exp", Variant: []string{"control", "treatment"}[u%2], At: at, Day: dayOf(at),
			Attrs: toAttrs(map[string]string{"device": []string{"mobile", "desktop", "tablet"}[rng.IntN(3)]})}
		xs = append(xs, x)
		if rng.Float64() < active {
			n := int64(1 + rng.IntN(3))
			roll := events.Rollup{Count: n, Sum: float64(n) * float64(rng.IntN(20000)) / 100}
			for k, r := range rules {
				p := &pendingRollup{rule: &r, variant: x.Variant, day: x.Day, attrs: x.Attrs, cur: roll, seq: 1}
				rs = append(rs, newRollupDoc(rollupKey{"exp", unit, k}, p))
			}
		}
		if len(xs) == 5000 {
			flush()
		}
	}
	flush()
}
