package sqlite

import (
	"context"
	"fmt"
	"testing"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/store/storetest"
)

// outcomeHarness runs storetest's outcome suite on a temporary SQLite file,
// looking at the tables where an assertion needs to.
var outcomeHarness = storetest.Outcomes{
	Open: func(t testing.TB) storetest.OutcomeBackend { return openTemp(t) },
	RawEvents: func(t testing.TB, st storetest.OutcomeBackend) int64 {
		return countRows(t, st.(*Store), `SELECT COUNT(*) FROM events`)
	},
	Stored: func(t testing.TB, st storetest.OutcomeBackend, exp string) storetest.Stored {
		return stored(t, st.(*Store), exp)
	},
	WipeRollups: func(t testing.TB, st storetest.OutcomeBackend, exp string) { wipeRollups(t, st.(*Store), exp) },
}

// newOutcomeStore opens a temporary store set up by storetest.SetupOutcomes.
func newOutcomeStore(t testing.TB) *Store {
	t.Helper()
	st := openTemp(t)
	storetest.SetupOutcomes(t, st)
	return st
}

func countRows(t testing.TB, st *Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.r.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// rollupRow is a stored per-unit rollup, for comparisons.
type rollupRow struct {
	Unit, Metric, Variant string
	Day                   int64
	events.Rollup
}

// stored reads everything the incremental path maintains for one
// experiment: unit_metrics, metric_totals, exposure_counts and their
// segment counterparts.
func stored(t testing.TB, st *Store, exp string) storetest.Stored {
	t.Helper()
	ctx := context.Background()
	var s storetest.Stored
	rows, err := st.r.QueryContext(ctx, `SELECT unit_id, metric, variant, day, `+rollupColumns+` FROM unit_metrics WHERE experiment = ? ORDER BY unit_id, metric`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var r rollupRow
		if r.Rollup, err = scanRollup(rows.Scan, &r.Unit, &r.Metric, &r.Variant, &r.Day); err != nil {
			t.Fatal(err)
		}
		s.Rollups = append(s.Rollups, r)
	}
	rows.Close()
	rows, err = st.r.QueryContext(ctx, `SELECT metric, variant, day, n, sum, sum_sq, den_sum, den_sum_sq, sum_num_den, pre_sum, pre_sum_sq, sum_pre_post
		FROM metric_totals WHERE experiment = ? ORDER BY metric, variant, day`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var metric, variant string
		var day int64
		var c events.Contribution
		if err := rows.Scan(&metric, &variant, &day, &c.N, &c.Sum, &c.SumSq, &c.DenSum, &c.DenSumSq, &c.SumNumDen, &c.PreSum, &c.PreSumSq, &c.SumPrePost); err != nil {
			t.Fatal(err)
		}
		s.Sums = append(s.Sums, storetest.SumOf(fmt.Sprintf("%s %s %d", metric, variant, day), c))
	}
	rows.Close()
	rows, err = st.r.QueryContext(ctx, `SELECT variant, day, n FROM exposure_counts WHERE experiment = ? ORDER BY variant, day`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var v string
		var day, n int64
		if err := rows.Scan(&v, &day, &n); err != nil {
			t.Fatal(err)
		}
		s.Counts = append(s.Counts, fmt.Sprintf("%s/%d=%d", v, day, n))
	}
	rows.Close()
	rows, err = st.r.QueryContext(ctx, `SELECT dimension, metric, segment, variant, day, n, sum, sum_sq, den_sum, den_sum_sq, sum_num_den, pre_sum, pre_sum_sq, sum_pre_post
		FROM segment_totals WHERE experiment = ? ORDER BY dimension, metric, segment, variant, day`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var dim, metric, seg, variant string
		var day int64
		var c events.Contribution
		if err := rows.Scan(&dim, &metric, &seg, &variant, &day, &c.N, &c.Sum, &c.SumSq, &c.DenSum, &c.DenSumSq, &c.SumNumDen, &c.PreSum, &c.PreSumSq, &c.SumPrePost); err != nil {
			t.Fatal(err)
		}
		s.Sums = append(s.Sums, storetest.SumOf(fmt.Sprintf("%s=%s %s %s %d", dim, seg, metric, variant, day), c))
	}
	rows.Close()
	rows, err = st.r.QueryContext(ctx, `SELECT dimension, segment, variant, day, n FROM segment_counts WHERE experiment = ? ORDER BY dimension, segment, variant, day`, exp)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var dim, seg, v string
		var day, n int64
		if err := rows.Scan(&dim, &seg, &v, &day, &n); err != nil {
			t.Fatal(err)
		}
		s.Counts = append(s.Counts, fmt.Sprintf("%s=%s %s/%d=%d", dim, seg, v, day, n))
	}
	rows.Close()
	return s
}

// wipeRollups deletes what the incremental path maintains, as if the
// experiment's metrics had never been attributed; its segment totals are
// left pending, as the migration leaves data from before they existed.
func wipeRollups(t testing.TB, st *Store, exp string) {
	t.Helper()
	for _, q := range []string{`DELETE FROM unit_metrics WHERE experiment = ?`, `DELETE FROM metric_totals WHERE experiment = ?`, `DELETE FROM exposure_counts WHERE experiment = ?`,
		`DELETE FROM segment_totals WHERE experiment = ?`, `DELETE FROM segment_counts WHERE experiment = ?`, `DELETE FROM segment_overflow WHERE experiment = ?`,
		`INSERT INTO segment_pending (experiment, done_through) VALUES (?, '')`} {
		if _, err := st.w.ExecContext(context.Background(), q, exp); err != nil {
			t.Fatal(err)
		}
	}
}
