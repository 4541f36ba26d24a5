package report_test

import (
	"context"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"database/sql"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/sqlite"
)

// newDaysFixture adds to the benchmark experiment 100k units exposed over
// 14 days and 1M raw events (10 a unit, over the 14 days after its
// exposure, named after the events the 12 KPIs read), written straight
// into the tables.
func newDaysFixture(b *testing.B) (*benchFixture, time.Time) {
	b.Helper()
	f := newBenchFixture(b, 0, true)
	var names []string
	for _, k := range f.e.AllMetrics() {
		m := f.metrics[k]
		names = append(names, m.Event)
		if m.DenominatorEvent != "" {
			names = append(names, m.DenominatorEvent)
		}
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(filepath.Dir(f.st.Path()), sqlite.FileName)+"?_pragma=busy_timeout(10000)&_txlock=immediate")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	rng := rand.New(rand.NewPCG(3, 4))
	var xRows, eRows []any
	seq := 0
	const day = int64(24 * time.Hour)
	for i := range 100_000 {
		unit := "u" + strconv.Itoa(i)
		at := start.UnixNano() + rng.Int64N(14*day)
		xRows = append(xRows, unit, f.e.Key, f.e.Variants[i%2].Key, at, nil)
		for j := range 10 {
			seq++
			v := math.Round(40*math.Exp(0.5*rng.NormFloat64())*100) / 100
			eRows = append(eRows, unit, "e"+strconv.Itoa(j), seq, names[rng.IntN(len(names))], v, at+rng.Int64N(14*day), at, nil)
		}
		if len(eRows) > 8*100_000 {
			bulkInsert(b, tx, "exposures (unit_id, experiment, variant, at, attributes)", 5, xRows)
			bulkInsert(b, tx, "events (unit_id, event_id, seq, event, value, ts, received, attributes)", 8, eRows)
			xRows, eRows = xRows[:0], eRows[:0]
		}
	}
	bulkInsert(b, tx, "exposures (unit_id, experiment, variant, at, attributes)", 5, xRows)
	bulkInsert(b, tx, "events (unit_id, event_id, seq, event, value, ts, received, attributes)", 8, eRows)
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
	return f, start.Add(29 * 24 * time.Hour)
}

// BenchmarkExposureDaysSQLite1MEvents is the days-since-exposure view over
// 100k exposed units and 1M raw events: the two goal KPIs (what the API
// and the dashboard ask for by default) and all 12 KPIs (every event read).
func BenchmarkExposureDaysSQLite1MEvents(b *testing.B) {
	f, now := newDaysFixture(b)
	ctx := context.Background()
	for _, c := range []struct {
		name string
		keys []string
	}{{"goal KPIs", f.e.GoalMetrics}, {"12 KPIs", f.e.AllMetrics()}} {
		var ms []experiment.Metric
		for _, k := range c.keys {
			ms = append(ms, f.metrics[k])
		}
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				d, err := report.BuildExposureDays(ctx, f.st, f.e, ms, report.ExposureDaysOptions{Now: now})
				if err != nil {
					b.Fatal(err)
				}
				if len(d.Metrics[0].Days) != 28 || d.Metrics[0].Days[0].Arms[0].EligibleUnits != 50_000 {
					b.Fatalf("%d days, %d units on day 0", len(d.Metrics[0].Days), d.Metrics[0].Days[0].Arms[0].EligibleUnits)
				}
			}
		})
	}
}
