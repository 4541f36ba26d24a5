package mongo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/events"
	engine "github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/store/storetest"
)

// The benchmarks need a MongoDB replica set (see TestingURI) and skip
// without one. They mirror store/sqlite's, so the two backends can be compared.

// BenchmarkAppendEvents measures the store side of ingestion without HTTP
// (see storetest.BenchAppendEvents).
//
//	JOURNEYLAB_TEST_MONGODB_URI=... go test ./store/mongo -run '^$' -bench AppendEvents -benchtime 200x
func BenchmarkAppendEvents(b *testing.B) {
	st, _ := newOutcomeStore(b)
	storetest.BenchAppendEvents(b, st)
}

// BenchmarkReportRead200k measures reading the sufficient statistics of an
// experiment with 200k exposed units, 30% of them with rollups (see
// storetest.BenchReportRead): every read is an aggregation on the server.
//
//	JOURNEYLAB_TEST_MONGODB_URI=... go test ./store/mongo -run '^$' -bench ReportRead200k -benchtime 5x
func BenchmarkReportRead200k(b *testing.B) {
	st, _ := newOutcomeStore(b)
	start := time.Now()
	bulkLoad(b, st, 200_000, 0.3)
	b.Logf("loaded 200k exposed units in %s", time.Since(start).Round(time.Millisecond))
	storetest.BenchReportRead(b, st)
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
		rules[k] = events.NewRule(storetest.GetMetric(tb, st, k), 14)
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
		at := storetest.T0.Add(time.Duration(rng.IntN(14*24)) * time.Hour).UnixNano()
		x := exposureDoc{Unit: unit, Experiment: "exp", Variant: []string{"control", "treatment"}[u%2], At: at, Day: events.DayOf(at),
			Attrs: toAttrs(map[string]string{"device": []string{"mobile", "desktop", "tablet"}[rng.IntN(3)]})}
		xs = append(xs, x)
		if rng.Float64() < active {
			n := int64(1 + rng.IntN(3))
			roll := events.Rollup{Count: n, Sum: float64(n) * float64(rng.IntN(20000)) / 100}
			for k, r := range rules {
				c := &engine.Change{Key: engine.Key{Experiment: "exp", Unit: unit, Metric: k}, Rule: &r,
					Exposure: &engine.Exposure{Unit: unit, Experiment: "exp", Variant: x.Variant, At: x.At, Attrs: x.Attrs}, New: roll, Seq: 1}
				rs = append(rs, newRollupDoc(c))
			}
		}
		if len(xs) == 5000 {
			flush()
		}
	}
	flush()
}
