package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/store/storetest"
)

// BenchmarkReportRead1M measures reading sufficient statistics for an
// experiment with 1M exposed units (30% of them with rollups; see
// storetest.BenchReportRead). Target for the plain read (one metric, no
// dimension, not daily): < 50 ms, and the same for the by-device read,
// which reads the segment totals. The percentile-capped read scans the
// units.
//
//	go test ./store/sqlite -run '^$' -bench ReportRead1M -benchtime 5x
func BenchmarkReportRead1M(b *testing.B) {
	st := newOutcomeStore(b)
	start := time.Now()
	bulkLoad(b, st, "exp", 1_000_000, 0.3)
	b.Logf("generated 1M exposed units in %s", time.Since(start).Round(time.Millisecond))
	storetest.BenchReportRead(b, st)
}

// bulkLoad writes exposures and rollups straight into the tables, with
// totals and segment totals computed by the same Rule.Contribution as the
// incremental path: generating 1M units through ingestion would take minutes.
func bulkLoad(tb testing.TB, st *Store, exp string, units int, active float64) {
	tb.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(7, 7))
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	cfg, err := st.attribution(ctx, tx)
	if err != nil {
		tb.Fatal(err)
	}
	er := cfg.Experiments[exp]
	xb := newBulk(tx, `INSERT INTO exposures (experiment, unit_id, variant, at, attributes)`, 5, "")
	defer xb.close()
	rb := newBulk(tx, `INSERT INTO unit_metrics (experiment, unit_id, metric, variant, day, `+rollupColumns+`)`, 17, "")
	defer rb.close()
	counts := map[countKey]int64{}
	totals := map[totalsKey]events.Contribution{}
	var xargs, rargs []any
	devices := []string{`{"device":"mobile"}`, `{"device":"desktop"}`, `{"device":"tablet"}`}
	segs := newSegmentWrites()
	for i := 0; i < units; i++ {
		unit := fmt.Sprintf("unit-%08d", i)
		variant := []string{"control", "treatment"}[i%2]
		at := storetest.T0.Add(time.Duration(rng.IntN(14*24)) * time.Hour).UnixNano()
		xargs = append(xargs, exp, unit, variant, at, devices[i%3])
		counts[countKey{exp, variant, events.DayOf(at)}]++
		device := []string{"mobile", "desktop", "tablet"}[i%3]
		segs.addExposure(exp, variant, events.DayOf(at), []segment{{"device", device}}, nil)
		if rng.Float64() < active {
			n := 1 + rng.IntN(3)
			sum := float64(rng.IntN(50000)) / 100 * float64(n)
			u := events.Rollup{Count: int64(n), Sum: sum, DenCount: int64(n), DenSum: float64(n)}
			if rng.IntN(4) == 0 {
				u.PreCount, u.PreSum = 1, float64(rng.IntN(10000))/100
			}
			for r := range er.Rules {
				rule := &er.Rules[r]
				if rule.Metric.Event != "order_completed" {
					continue
				}
				rargs = append(rargs, exp, unit, rule.Metric.Key, variant, events.DayOf(at),
					u.Count, u.Sum, u.DenCount, u.DenSum, u.PreCount, u.PreSum, u.Last.TS, u.Last.ID, u.Last.Value, u.PreLast.TS, u.PreLast.ID, u.PreLast.Value)
				k := totalsKey{exp, rule.Metric.Key, variant, events.DayOf(at)}
				totals[k] = totals[k].Add(rule.Contribution(u, rule.FixedCap()))
				segs.addTotal(segTotalsKey{exp, "device", rule.Metric.Key, device, variant, events.DayOf(at)}, rule.Contribution(u, rule.FixedCap()))
			}
		}
		if len(xargs) >= 5*bulkRows*64 {
			if err := xb.exec(ctx, xargs); err != nil {
				tb.Fatal(err)
			}
			xargs = xargs[:0]
		}
		if len(rargs) >= 17*bulkRows*64 {
			if err := rb.exec(ctx, rargs); err != nil {
				tb.Fatal(err)
			}
			rargs = rargs[:0]
		}
	}
	if err := xb.exec(ctx, xargs); err != nil {
		tb.Fatal(err)
	}
	if err := rb.exec(ctx, rargs); err != nil {
		tb.Fatal(err)
	}
	var ckeys []countKey
	for k := range counts {
		ckeys = append(ckeys, k)
	}
	if err := addExposureCounts(ctx, tx, ckeys, counts); err != nil {
		tb.Fatal(err)
	}
	var tkeys []totalsKey
	for k := range totals {
		tkeys = append(tkeys, k)
	}
	if err := addTotals(ctx, tx, tkeys, totals); err != nil {
		tb.Fatal(err)
	}
	if err := segs.write(ctx, tx); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}
