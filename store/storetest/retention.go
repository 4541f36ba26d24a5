package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
)

func testExpireEvents(t *testing.T, h Outcomes, open opener) {
	ctx := context.Background()
	st, _ := open(t)
	// u1 is exposed to "exp" (kept), u2 only to "gone" (not kept), u3 to
	// nothing; each has an old event (day -5) and a recent one (day +5).
	MustExpose(t, st, Exposure("u1", "control", 0, nil))
	x := Exposure("u2", "control", 0, nil)
	x.Experiment = "gone"
	MustExpose(t, st, x)
	for _, u := range []string{"u1", "u2", "u3"} {
		MustAppend(t, st, Event("old-"+u, u, "order_completed", 10, -5*24*time.Hour), Event("new-"+u, u, "order_completed", 10, 5*24*time.Hour))
	}
	before := h.Stored(t, st, "exp")
	n, err := st.ExpireEvents(ctx, T0, []string{"exp"})
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Errorf("expired %d events, want 2 (the old ones of u2 and u3)", n)
	}
	keys := []events.Key{{Unit: "u1", ID: "old-u1"}, {Unit: "u1", ID: "new-u1"}, {Unit: "u2", ID: "old-u2"}, {Unit: "u2", ID: "new-u2"}, {Unit: "u3", ID: "old-u3"}, {Unit: "u3", ID: "new-u3"}}
	sb, ok := st.(events.StagingBackend)
	if !ok {
		t.Fatal("the store cannot say which events it holds (events.StagingBackend)")
	}
	got, err := sb.StoredEvents(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, true, false, true, false, true}
	for i := range keys {
		if got[i] != want[i] {
			t.Errorf("%v stored = %v, want %v", keys[i], got[i], want[i])
		}
	}
	CompareStored(t, before, h.Stored(t, st, "exp"), 0)
	if n, err := st.ExpireEvents(ctx, T0, []string{"exp"}); err != nil || n != 0 {
		t.Errorf("expiring again: %d, %v; want nothing", n, err)
	}
}
