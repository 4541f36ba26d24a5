package serving

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestWithTheSQLiteStore runs the whole cycle against the real store:
// concurrent first exposures end up stored once each, Close writes them, and
// a new instance keeps them sticky across a reweight.
func TestWithTheSQLiteStore(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "a"})
	e.launch(t, spec{key: "b", weights: []float64{1, 1, 1}})
	ctx := context.Background()
	o := Options{RefreshInterval: time.Hour, FlushInterval: 5 * time.Millisecond, BatchSize: 500, Logger: quietLogger()}
	s, err := New(ctx, e.sql, o)
	if err != nil {
		t.Fatal(err)
	}
	us := units("u", 1000)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range us {
				s.Assign(us[(i+g*97)%len(us)], "", map[string]any{"device": "mobile"}, nil)
			}
		}()
	}
	wg.Wait()
	before := map[string]string{}
	for _, u := range us {
		before[u] = variantOf(s, "b", u)
	}
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	stored := map[string]map[string]string{"a": {}, "b": {}}
	for key, m := range stored {
		if err := e.sql.ExposureVariants(ctx, key, func(unit, variant string) error {
			if _, dup := m[unit]; dup {
				t.Errorf("%s/%s stored twice", key, unit)
			}
			m[unit] = variant
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if len(m) != len(us) {
			t.Errorf("experiment %s: %d stored exposures, want %d", key, len(m), len(us))
		}
	}
	for u, v := range before {
		if stored["b"][u] != v {
			t.Fatalf("unit %s: stored %q, served %q", u, stored["b"][u], v)
		}
	}

	if _, err := e.exps.Reweight(ctx, "bandit", "b", []float64{0.1, 0.1, 0.8}, nil); err != nil {
		t.Fatal(err)
	}
	s2, err := New(ctx, e.sql, o)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close(ctx)
	for u, v := range before {
		if got := variantOf(s2, "b", u); got != v {
			t.Fatalf("unit %s flipped from %s to %s after the reweight", u, v, got)
		}
	}
}
