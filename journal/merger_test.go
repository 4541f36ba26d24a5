package journal

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// listBatch collects records into a list; the first failures writes fail.
type listBatch struct {
	mu       sync.Mutex
	pending  []string
	stored   []string
	failures int
	size     int
}

func (b *listBatch) Add(rec []byte) (bool, error) {
	if string(rec) == "bad" {
		return true, errors.New("does not decode")
	}
	b.pending = append(b.pending, string(rec))
	return len(b.pending) < b.size, nil
}
func (b *listBatch) Len() int { return len(b.pending) }
func (b *listBatch) Reset()   { b.pending = b.pending[:0] }
func (b *listBatch) Write(context.Context) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.failures > 0 {
		b.failures--
		return errors.New("store down")
	}
	time.Sleep(time.Millisecond) // a write that takes time, so a paced merger rests
	b.stored = append(b.stored, b.pending...)
	return nil
}

func TestMerger(t *testing.T) {
	for _, share := range []float64{1, 0.05} {
		t.Run(fmt.Sprintf("with share %v every record is merged once, in order, skipping what does not decode", share), func(t *testing.T) {
			j := open(t, t.TempDir(), Options{})
			b := &listBatch{size: 3, failures: 2}
			skipped := 0
			m := NewMerger(j, b, MergerOptions{Interval: time.Millisecond, Share: share, OnSkip: func(n int) { skipped += n }})
			m.Start()
			defer m.Stop(context.Background())
			var want []string
			for i := range 20 {
				r := fmt.Sprintf("r%02d", i)
				if i == 7 {
					r = "bad"
				} else {
					want = append(want, r)
				}
				if _, err := j.Append([]byte(r)); err != nil {
					t.Fatal(err)
				}
			}
			if err := m.Flush(context.Background()); err != nil {
				t.Fatal(err)
			}
			b.mu.Lock()
			got := fmt.Sprint(b.stored)
			b.mu.Unlock()
			if got != fmt.Sprint(want) || skipped != 1 || j.Pending() != 0 {
				t.Fatalf("stored %s, skipped %d, pending %d; want %v, 1, 0", got, skipped, j.Pending(), want)
			}
		})
	}
	t.Run("a full batch wakes the merger before its interval", func(t *testing.T) {
		j := open(t, t.TempDir(), Options{})
		b := &listBatch{size: 100}
		m := NewMerger(j, b, MergerOptions{Interval: time.Hour, WakeEvery: 3})
		m.Start()
		defer m.Stop(context.Background())
		for i := range 3 {
			if _, err := j.Append([]byte(fmt.Sprintf("r%d", i))); err != nil {
				t.Fatal(err)
			}
			m.Appended(1)
		}
		for deadline := time.Now().Add(10 * time.Second); j.Pending() > 0; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatal("three appended records did not wake a merger that wakes every three")
			}
		}
	})
	t.Run("a stop at a deadline leaves the rest journaled", func(t *testing.T) {
		j := open(t, t.TempDir(), Options{})
		b := &listBatch{size: 3, failures: 1 << 30}
		m := NewMerger(j, b, MergerOptions{Interval: time.Hour})
		m.Start()
		if _, err := j.Append([]byte("x")); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if left := m.Stop(ctx); left != int64(headerSize+1) {
			t.Fatalf("left %d bytes, want the one record", left)
		}
		if err := m.Flush(context.Background()); !errors.Is(err, ErrStopped) {
			t.Errorf("Flush after Stop = %v", err)
		}
	})
}
