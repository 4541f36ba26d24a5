package eventnames

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
)

// nopStore acknowledges every event as new, so the benchmark measures
// validation and the name check, not storage.
type nopStore struct{}

func (nopStore) AppendEvents(_ context.Context, _ time.Time, evs []events.Event) ([]bool, error) {
	stored := make([]bool, len(evs))
	for i := range stored {
		stored[i] = true
	}
	return stored, nil
}

// BenchmarkIngest is the event ingestion path in process (decoded batches
// of 500 of the shop's usual event names) without and with the name
// check; "typos" has 1% of events under an unknown name.
//
//	go test ./eventnames -run '^$' -bench Ingest -benchtime 2000x -count 6
func BenchmarkIngest(b *testing.B) {
	names := []string{"product_view", "add_to_cart", "page_time", "order_completed", "review_read"}
	mk := func(typos bool) []events.Item {
		items := make([]events.Item, 500)
		for i := range items {
			n := names[i%len(names)]
			if typos && i%100 == 0 {
				n = "add_to_krat"
			}
			items[i] = events.Item{Event: events.Event{EventID: fmt.Sprintf("e-%d", i), UnitID: fmt.Sprintf("u-%d", i%97), Event: n}}
		}
		return items
	}
	w := New(catalogue(nil), &memStore{}, Options{})
	w.metrics = catalogue(experiment.BuiltinMetrics())
	if err := w.Refresh(context.Background()); err != nil {
		b.Fatal(err)
	}
	now := func() time.Time { return time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC) }
	for _, tc := range []struct {
		name  string
		names events.Names
		typos bool
	}{{"check=off", nil, false}, {"check=on", w, false}, {"check=on/typos", w, true}} {
		b.Run(tc.name, func(b *testing.B) {
			in := events.NewIngestor(nopStore{}, now, events.Options{Names: tc.names})
			src := mk(tc.typos)
			items := make([]events.Item, len(src))
			b.ReportAllocs()
			for b.Loop() {
				copy(items, src) // Normalize fills value and ts in place
				if _, err := in.Ingest(context.Background(), items); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
