package events

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// memBackend is an in-memory StagingBackend that keeps the first event per key.
type memBackend struct {
	mu      sync.Mutex
	evs     map[Key]Event
	order   []Key
	failAll bool // every call fails
	block   chan struct{}
	appends int
}

func newMemBackend() *memBackend { return &memBackend{evs: map[Key]Event{}} }

func (m *memBackend) AppendEvents(ctx context.Context, received time.Time, evs []Event) ([]bool, error) {
	m.mu.Lock()
	block := m.block
	m.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAll {
		return nil, fmt.Errorf("disk on fire: %w", experiment.ErrUnavailable)
	}
	m.appends++
	out := make([]bool, len(evs))
	for i, ev := range evs {
		k := Key{ev.UnitID, ev.EventID}
		if _, ok := m.evs[k]; ok {
			continue
		}
		m.evs[k] = ev
		m.order = append(m.order, k)
		out[i] = true
	}
	return out, nil
}

func (m *memBackend) StoredEvents(_ context.Context, keys []Key) ([]bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.failAll {
		return nil, fmt.Errorf("disk on fire: %w", experiment.ErrUnavailable)
	}
	out := make([]bool, len(keys))
	for i, k := range keys {
		_, out[i] = m.evs[k]
	}
	return out, nil
}

func (m *memBackend) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.evs)
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func ev(unit, id string, value float64) Event {
	ts := t0
	return Event{UnitID: unit, EventID: id, Event: "order_completed", Value: &value, TS: &ts}
}

func openStaging(t *testing.T, dir string, st StagingBackend, o StagingOptions) *Staging {
	t.Helper()
	s, err := OpenStaging(dir, st, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close(context.Background()) })
	return s
}

func TestStaging(t *testing.T) {
	ctx := context.Background()

	t.Run("each event id is accepted once whether it is staged, stored or repeated in the batch", func(t *testing.T) {
		be := newMemBackend()
		s := openStaging(t, t.TempDir(), be, StagingOptions{MergeInterval: time.Hour})
		got, err := s.AppendEvents(ctx, t0, []Event{ev("u1", "a", 1), ev("u1", "b", 2), ev("u1", "a", 3), ev("u2", "a", 4)})
		if err != nil {
			t.Fatal(err)
		}
		if want := []bool{true, true, false, true}; !reflect.DeepEqual(got, want) {
			t.Fatalf("stored %v, want %v", got, want)
		}
		// Still staged: a retry is a duplicate before any merge.
		got, _ = s.AppendEvents(ctx, t0, []Event{ev("u1", "b", 2), ev("u3", "c", 1)})
		if want := []bool{false, true}; !reflect.DeepEqual(got, want) {
			t.Fatalf("retry while staged: stored %v, want %v", got, want)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if be.count() != 4 || s.StagedEvents() != 0 {
			t.Fatalf("store holds %d events and %d are staged after the merge, want 4 and 0", be.count(), s.StagedEvents())
		}
		// Merged: the store answers, forever.
		got, _ = s.AppendEvents(ctx, t0, []Event{ev("u1", "a", 9), ev("u2", "a", 9), ev("u4", "d", 1)})
		if want := []bool{false, false, true}; !reflect.DeepEqual(got, want) {
			t.Fatalf("retry after the merge: stored %v, want %v", got, want)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if v := *be.evs[Key{"u1", "a"}].Value; v != 1 {
			t.Errorf("stored value of u1/a = %v, want the first one, 1", v)
		}
	})

	t.Run("merged events keep their value, time, attributes and received time", func(t *testing.T) {
		be := newMemBackend()
		s := openStaging(t, t.TempDir(), be, StagingOptions{})
		e := ev("u1", "a", 59.9)
		e.Attributes = map[string]any{"coupon": "XMAS", "items": []any{"a", "b"}}
		recv := t0.Add(3 * time.Second)
		if _, err := s.AppendEvents(ctx, recv, []Event{e}); err != nil {
			t.Fatal(err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		got := be.evs[Key{"u1", "a"}]
		if *got.Value != 59.9 || !got.TS.Equal(t0) || !got.Received.Equal(recv) || got.Event != "order_completed" ||
			fmt.Sprint(got.Attributes) != "map[coupon:XMAS items:[a b]]" {
			t.Errorf("merged %+v (value %v, ts %v, attributes %v)", got, *got.Value, got.TS, got.Attributes)
		}
	})

	t.Run("events left unmerged at shutdown are merged at the next start and stay duplicates meanwhile", func(t *testing.T) {
		dir := t.TempDir()
		be := newMemBackend()
		be.failAll = true
		s, err := OpenStaging(dir, be, StagingOptions{MergeInterval: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		// The lookup fails too: the store is down, so nothing is acknowledged.
		if _, err := s.AppendEvents(ctx, t0, []Event{ev("u1", "a", 1)}); !errors.Is(err, experiment.ErrUnavailable) {
			t.Fatalf("append with the store down = %v, want ErrUnavailable", err)
		}
		be.mu.Lock()
		be.failAll = false
		be.block = make(chan struct{}) // merges hang: the store is slow
		be.mu.Unlock()
		if _, err := s.AppendEvents(ctx, t0, []Event{ev("u1", "a", 1), ev("u2", "b", 1)}); err != nil {
			t.Fatal(err)
		}
		done, cancel := context.WithCancel(ctx)
		cancel()
		if err := s.Close(done); err != nil {
			t.Fatal(err)
		}
		be2 := newMemBackend()
		s2 := openStaging(t, dir, be2, StagingOptions{MergeInterval: time.Hour})
		if got, _ := s2.AppendEvents(ctx, t0, []Event{ev("u2", "b", 1)}); got[0] {
			t.Fatal("a retry of an event left in the journal was accepted again")
		}
		if err := s2.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if be2.count() != 2 {
			t.Errorf("store holds %d events after the restart, want the 2 left in the journal", be2.count())
		}
	})

	t.Run("a full journal answers unavailable and nothing of the batch is recorded", func(t *testing.T) {
		be := newMemBackend()
		be.block = make(chan struct{})
		s := openStaging(t, t.TempDir(), be, StagingOptions{MaxBytes: 1 << 20, MergeInterval: time.Hour})
		var batch []Event
		for i := range 1000 {
			batch = append(batch, ev(fmt.Sprintf("unit-%04d", i), fmt.Sprintf("event-%04d", i), 1))
		}
		var full error
		for b := 0; b < 100 && full == nil; b++ {
			for i := range batch {
				batch[i].EventID = fmt.Sprintf("event-%02d-%04d", b, i)
			}
			_, full = s.AppendEvents(ctx, t0, batch)
		}
		if !errors.Is(full, experiment.ErrUnavailable) {
			t.Fatalf("appending 100k events into a 1 MiB journal = %v, want ErrUnavailable", full)
		}
		staged := s.StagedEvents()
		close(be.block)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if be.count() != staged {
			t.Fatalf("merged %d events, want the %d acknowledged", be.count(), staged)
		}
		// The refused batch was not claimed: its retry is accepted.
		got, err := s.AppendEvents(ctx, t0, batch)
		if err != nil || !got[0] || !got[999] {
			t.Fatalf("retry of the refused batch: %v, %v", got[:1], err)
		}
	})
}

func TestEventRecordsRoundTrip(t *testing.T) {
	a, b := ev("u1", "e1", -3.5), ev("ü", "", 0)
	a.Received, b.Received = t0.Add(time.Second), t0
	a.Attributes = map[string]any{"n": 1}
	rec, err := appendEvents(nil, []Event{a, b})
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeEvents(nil, rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || *got[0].Value != -3.5 || got[1].UnitID != "ü" || !got[0].Received.Equal(a.Received) ||
		fmt.Sprint(got[0].Attributes) != "map[n:1]" || got[1].Attributes != nil {
		t.Fatalf("decoded %+v", got)
	}
	for cut := range len(rec) {
		if out, err := decodeEvents([]Event{a}, rec[:cut]); err == nil || len(out) != 1 {
			t.Fatalf("a record cut at %d bytes decoded (%d events, err %v)", cut, len(out), err)
		}
	}
}

func FuzzDecodeEvents(f *testing.F) {
	rec, _ := appendEvents(nil, []Event{ev("u1", "e1", 1)})
	f.Add(rec)
	f.Add([]byte{1, 255, 255, 255, 255, 15})
	f.Fuzz(func(t *testing.T, b []byte) {
		out, err := decodeEvents(nil, b)
		if err != nil && len(out) != 0 {
			t.Fatalf("error %v with %d events decoded", err, len(out))
		}
		if err == nil {
			again, err := appendEvents(nil, out)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := decodeEvents(nil, again); err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
		}
	})
}
