package sqlite

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestErasureAuditKeepsOnlyTheHash(t *testing.T) {
	st := newOutcomeStore(t)
	ctx := context.Background()
	storetest.MustExpose(t, st, storetest.Exposure("customer-4711@example.com", "control", 0, map[string]string{"device": "mobile"}))
	// Reported later in the other variant: recorded as a conflict.
	if _, err := st.InsertExposures(ctx, []experiment.Exposure{storetest.Exposure("customer-4711@example.com", "treatment", time.Hour, nil)}); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, st, `SELECT COUNT(*) FROM exposure_conflicts`); n != 1 {
		t.Fatalf("%d exposure conflicts recorded, want 1", n)
	}
	storetest.MustAppend(t, st, storetest.Event("order-1", "customer-4711@example.com", "order_completed", 20, time.Hour))
	units := []privacy.Unit{{ID: "customer-4711@example.com", Hash: "5f1d"}}
	for i, at := range []time.Time{storetest.T0, storetest.T0.Add(time.Hour)} {
		if _, err := st.EraseUnits(ctx, units, at); err != nil {
			t.Fatal(err)
		}
		var first, last, requests int64
		if err := st.r.QueryRowContext(ctx, `SELECT first_at, last_at, requests FROM erasures WHERE hash = '5f1d'`).Scan(&first, &last, &requests); err != nil {
			t.Fatal(err)
		}
		if first != storetest.T0.UnixNano() || last != at.UnixNano() || requests != int64(i+1) {
			t.Errorf("erasure %d: audit first %d, last %d, requests %d", i+1, first, last, requests)
		}
	}
	t.Run("the id is in no table and, once checkpointed, nowhere in the file", func(t *testing.T) {
		if n := countRows(t, st, `SELECT COUNT(*) FROM exposure_conflicts`); n != 0 {
			t.Errorf("%d exposure conflicts left", n)
		}
		if _, err := st.w.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		for _, path := range []string{st.Path(), st.Path() + "-wal"} {
			b, err := os.ReadFile(path)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte("customer-4711")) {
				t.Errorf("%s still holds the erased id", path)
			}
		}
	})
}

// BenchmarkErase10kUnitsAt1MEvents erases 10,000 units (one request of the
// batch form split into the store's chunks) from a store holding 100,000
// exposed units with rollups of every order metric and 1M raw events (ten
// per unit). Each iteration erases 10,000 other units.
//
//	go test ./store/sqlite -run '^$' -bench Erase10k -benchtime 3x -count 3
func BenchmarkErase10kUnitsAt1MEvents(b *testing.B) {
	const units, perUnit, erase = 100_000, 10, 10_000
	if b.N*erase > units {
		b.Skipf("at most %d iterations: run with -benchtime %dx or less", units/erase, units/erase)
	}
	st := newOutcomeStore(b)
	start := time.Now()
	bulkLoad(b, st, "exp", units, 1)
	loadEvents(b, st, units, perUnit)
	b.Logf("loaded %d units, %d events in %s", units, units*perUnit, time.Since(start).Round(time.Millisecond))
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		batch := make([]privacy.Unit, erase)
		for j := range batch {
			// Spread over the key space: every tenth unit, offset by i.
			id := fmt.Sprintf("unit-%08d", j*(units/erase)+i)
			batch[j] = privacy.Unit{ID: id, Hash: "h" + id}
		}
		got, err := st.EraseUnits(ctx, batch, storetest.T0)
		if err != nil {
			b.Fatal(err)
		}
		if got.Events != erase*perUnit || got.Exposures != erase {
			b.Fatalf("erased %+v", got)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*erase), "ns/unit")
}

// loadEvents writes perUnit raw events for each of the bulk-loaded units.
func loadEvents(tb testing.TB, st *Store, units, perUnit int) {
	tb.Helper()
	ctx := context.Background()
	tx, err := st.w.BeginTx(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	defer tx.Rollback()
	eb := newBulk(tx, `INSERT INTO events (unit_id, event_id, seq, event, value, ts, received, attributes)`, 8, "")
	defer eb.close()
	var args []any
	seq := int64(0)
	ts := storetest.T0.UnixNano()
	for u := 0; u < units; u++ {
		unit := fmt.Sprintf("unit-%08d", u)
		for e := 0; e < perUnit; e++ {
			seq++
			args = append(args, unit, fmt.Sprintf("ev-%d", e), seq, "order_completed", 12.5, ts, ts, nil)
			if len(args) >= 8*bulkRows*64 {
				if err := eb.exec(ctx, args); err != nil {
					tb.Fatal(err)
				}
				args = args[:0]
			}
		}
	}
	if err := eb.exec(ctx, args); err != nil {
		tb.Fatal(err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE event_seq SET last = ?`, seq); err != nil {
		tb.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		tb.Fatal(err)
	}
}
