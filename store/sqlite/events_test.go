package sqlite

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"journeylab/events"
	"journeylab/report"
	"journeylab/stats"
)

func countRows(t *testing.T, st *Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := st.r.QueryRowContext(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func revenueCells(t *testing.T, st *Store) []report.Cell {
	t.Helper()
	cells, err := st.MetricCells(context.Background(), getExperiment(t, st, "exp"), getMetric(t, st, "revenue_per_visitor"), report.CellQuery{})
	if err != nil {
		t.Fatal(err)
	}
	return cells
}

func orderBatch(n int) []events.Event {
	evs := make([]events.Event, n)
	for i := range evs {
		evs[i] = ev(fmt.Sprintf("order-%d", i), fmt.Sprintf("u%d", i%10), "order_completed", 10, time.Duration(i)*time.Minute)
	}
	return evs
}

func TestAppendEventsIsIdempotent(t *testing.T) {
	want := []report.Cell{
		{Variant: "control", Stats: stats.ArmStats{N: 5, Sum: 100, SumSq: 5 * 400}},
		{Variant: "treatment", Stats: stats.ArmStats{N: 5, Sum: 100, SumSq: 5 * 400}},
	}
	exposeTen := func(t *testing.T, st *Store) {
		for u := 0; u < 10; u++ {
			mustExpose(t, st, expose(fmt.Sprintf("u%d", u), []string{"control", "treatment"}[u%2], -time.Hour, nil))
		}
	}
	t.Run("the same batch sent twice is stored and counted once", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		exposeTen(t, st)
		first := mustAppend(t, st, orderBatch(20)...)
		second := mustAppend(t, st, orderBatch(20)...)
		for i := range first {
			if !first[i] || second[i] {
				t.Fatalf("event %d: stored first %v, second %v; want true then false", i, first[i], second[i])
			}
		}
		if n := countRows(t, st, `SELECT COUNT(*) FROM events`); n != 20 {
			t.Errorf("%d raw events, want 20", n)
		}
		if got := revenueCells(t, st); !reflect.DeepEqual(got, want) {
			t.Errorf("cells %+v, want %+v", got, want)
		}
	})
	t.Run("the same batch from 8 goroutines at once is counted once", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		exposeTen(t, st)
		var wg sync.WaitGroup
		results := make([][]bool, 8)
		for g := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				stored, err := st.AppendEvents(context.Background(), t0, orderBatch(20))
				if err != nil {
					t.Error(err)
				}
				results[g] = stored
			}()
		}
		wg.Wait()
		for i := 0; i < 20; i++ {
			owners := 0
			for g := range results {
				if results[g][i] {
					owners++
				}
			}
			if owners != 1 {
				t.Errorf("event %d was stored by %d callers, want exactly 1", i, owners)
			}
		}
		if n := countRows(t, st, `SELECT COUNT(*) FROM events`); n != 20 {
			t.Errorf("%d raw events, want 20", n)
		}
		if got := revenueCells(t, st); !reflect.DeepEqual(got, want) {
			t.Errorf("cells %+v, want %+v", got, want)
		}
	})
	t.Run("a repeated id inside one batch keeps the first event", func(t *testing.T) {
		st, _ := newOutcomeStore(t)
		exposeTen(t, st)
		stored := mustAppend(t, st, ev("dup", "u0", "order_completed", 10, 0), ev("dup", "u0", "order_completed", 99, time.Minute))
		if !reflect.DeepEqual(stored, []bool{true, false}) {
			t.Errorf("stored %v, want [true false]", stored)
		}
		if got := revenueCells(t, st)[0].Stats.Sum; got != 10 {
			t.Errorf("control revenue %v, want 10 (the first event's value)", got)
		}
	})
}

func TestEventsOfUnexposedUnitsStayRaw(t *testing.T) {
	st, _ := newOutcomeStore(t)
	mustExpose(t, st, expose("u1", "control", 0, nil))
	mustAppend(t, st, ev("e1", "stranger", "order_completed", 10, time.Hour), ev("e2", "u1", "landing_click", 1, time.Hour))
	if n := countRows(t, st, `SELECT COUNT(*) FROM events`); n != 2 {
		t.Errorf("%d raw events, want 2", n)
	}
	if n := countRows(t, st, `SELECT COUNT(*) FROM unit_metrics`); n != 0 {
		t.Errorf("%d rollups, want 0: neither event feeds an exposed unit's metric", n)
	}
}

func TestAppendEventsKeepsAttributesRaw(t *testing.T) {
	st, _ := newOutcomeStore(t)
	e := ev("e1", "u1", "order_completed", 10, 0)
	e.Attributes = map[string]any{"sku": "A-1", "qty": 2.0}
	mustAppend(t, st, e)
	var attrs string
	if err := st.r.QueryRow(`SELECT attributes FROM events WHERE event_id = 'e1'`).Scan(&attrs); err != nil {
		t.Fatal(err)
	}
	if attrs != `{"qty":2,"sku":"A-1"}` {
		t.Errorf("attributes %s", attrs)
	}
}
