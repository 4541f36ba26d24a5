package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/report"
)

func testUnitIDMode(t *testing.T, open opener) {
	ctx := context.Background()
	st, _ := open(t)
	mode, err := st.UnitIDMode(ctx)
	if err != nil || mode != "" {
		t.Fatalf("a new store's mode %q, %v; want none recorded", mode, err)
	}
	if holds, err := st.HoldsUnits(ctx); err != nil || holds {
		t.Fatalf("a new store holds units = %v, %v", holds, err)
	}
	p := privacy.NewPseudonymiser([]byte("a-pseudonym-key-16"))
	if err := privacy.CheckUnitIDs(ctx, st, p); err != nil {
		t.Fatalf("an empty store refused pseudonyms: %v", err)
	}
	if mode, err := st.UnitIDMode(ctx); err != nil || mode != p.Mode() {
		t.Errorf("recorded mode %q, %v; want %q", mode, err, p.Mode())
	}
	MustExpose(t, st, Exposure(p.Unit("u1"), "control", 0, nil))
	if holds, err := st.HoldsUnits(ctx); err != nil || !holds {
		t.Errorf("after an exposure: holds units = %v, %v", holds, err)
	}
	t.Run("a store holding pseudonyms refuses raw ids and another key", func(t *testing.T) {
		for _, q := range []*privacy.Pseudonymiser{nil, privacy.NewPseudonymiser([]byte("another-key-of-16-chars"))} {
			if err := privacy.CheckUnitIDs(ctx, st, q); !errors.Is(err, privacy.ErrUnitIDMode) {
				t.Errorf("mode %s: err %v, want ErrUnitIDMode", q.Mode(), err)
			}
		}
		if err := privacy.CheckUnitIDs(ctx, st, p); err != nil {
			t.Errorf("the same key: %v", err)
		}
	})
	t.Run("a store holding raw ids refuses pseudonyms", func(t *testing.T) {
		raw, _ := open(t)
		MustAppend(t, raw, Event("e1", "u1", "order_completed", 10, 0))
		if err := privacy.CheckUnitIDs(ctx, raw, p); !errors.Is(err, privacy.ErrUnitIDMode) {
			t.Errorf("err %v, want ErrUnitIDMode", err)
		}
		if err := privacy.CheckUnitIDs(ctx, raw, nil); err != nil {
			t.Errorf("raw ids on a raw store: %v", err)
		}
	})
}

func testExpireExposures(t *testing.T, h Outcomes, open opener) {
	ctx := context.Background()
	at := T0.Add(400 * 24 * time.Hour)
	st, _ := open(t)
	Apply(t, st, Workload(8, true))
	other := Exposure("u001", "control", 0, nil)
	other.Experiment = "other"
	MustExpose(t, st, other)
	counts, err := st.ExposureCounts(ctx, "exp")
	if err != nil {
		t.Fatal(err)
	}
	var exposed int64
	for _, n := range counts {
		exposed += n
	}
	before := h.Stored(t, st, "exp")
	events := h.RawEvents(t, st)
	got, err := st.ExpireExposures(ctx, "exp", at)
	if err != nil {
		t.Fatal(err)
	}
	if want := (privacy.ExposureExpiry{Experiment: "exp", At: at, Exposures: exposed, Rollups: int64(len(before.Rollups))}); got != want || exposed == 0 {
		t.Errorf("expired %+v, want %+v", got, want)
	}
	if s := h.Stored(t, st, "exp"); len(s.Rollups)+len(s.Counts)+len(s.Sums) != 0 {
		t.Errorf("left %d rollups, %d counts, %d totals", len(s.Rollups), len(s.Counts), len(s.Sums))
	}
	for _, c := range Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{Dimension: "device"}) {
		if c.Stats.N != 0 {
			t.Errorf("cell %+v after the expiry", c)
		}
	}
	if n := h.RawEvents(t, st); n != events {
		t.Errorf("%d raw events left, want all %d (the event retention owns them)", n, events)
	}
	var others []string
	if err := st.ExposureVariants(ctx, "other", func(unit, _ string) error { others = append(others, unit); return nil }); err != nil || len(others) != 1 {
		t.Errorf("exposures of another experiment: %v, %v; want u001 kept", others, err)
	}
	xs, err := st.ExposureExpiries(ctx)
	if err != nil || len(xs) != 1 || xs["exp"] != got {
		t.Errorf("expiries %+v, %v; want %+v", xs, err, got)
	}
	t.Run("expiring again removes nothing more", func(t *testing.T) {
		again, err := st.ExpireExposures(ctx, "exp", at.Add(time.Hour))
		if err != nil || again.Exposures != 0 || again.Rollups != 0 {
			t.Errorf("again: %+v, %v", again, err)
		}
	})
}

func testStoredData(t *testing.T, open opener) {
	ctx := context.Background()
	st, _ := open(t)
	got, err := st.StoredData(ctx)
	if err != nil || got != (privacy.StoredData{}) {
		t.Fatalf("an empty store: %+v, %v", got, err)
	}
	MustExpose(t, st, Exposure("u1", "control", time.Hour, nil))
	MustExpose(t, st, Exposure("u2", "treatment", 2*time.Hour, nil))
	// One batch each: a backend may take the first one stored as the oldest.
	MustAppend(t, st, Event("e1", "u1", "order_completed", 10, -time.Hour))
	MustAppend(t, st, Event("e2", "u2", "order_completed", 10, 3*time.Hour))
	if _, err := st.EraseUnits(ctx, []privacy.Unit{{ID: "gone", Hash: "h-gone"}}, T0); err != nil {
		t.Fatal(err)
	}
	got, err = st.StoredData(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got.Events != 2 || got.Exposures != 2 || got.ErasedUnits != 1 || got.Rollups == 0 {
		t.Errorf("counts %+v", got)
	}
	if got.OldestEvent == nil || !got.OldestEvent.Equal(T0.Add(-time.Hour)) || got.OldestExposure == nil || !got.OldestExposure.Equal(T0.Add(time.Hour)) {
		t.Errorf("oldest event %v, exposure %v; want %v and %v", got.OldestEvent, got.OldestExposure, T0.Add(-time.Hour), T0.Add(time.Hour))
	}
}
