package sqlite

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"journeylab/events"
	"journeylab/experiment"
)

// BenchmarkAppendEvents measures the store side of ingestion without HTTP:
// batches of 500 events with random ids over 200k units, half of them exposed
// to an experiment with 8 metrics. One op is one batch.
//
//	go test ./store/sqlite -run '^$' -bench AppendEvents -benchtime 400x
func BenchmarkAppendEvents(b *testing.B) {
	st, _ := newOutcomeStore(b)
	ctx := context.Background()
	var xs []experiment.Exposure
	for u := 0; u < 100_000; u++ {
		xs = append(xs, expose(fmt.Sprintf("visitor-%08d", u), []string{"control", "treatment"}[u%2], -time.Hour, map[string]string{"device": "mobile"}))
		if len(xs) == 5000 {
			mustExpose(b, st, xs...)
			xs = xs[:0]
		}
	}
	rng := rand.New(rand.NewPCG(3, 4))
	names := []string{"product_view", "product_view", "add_to_cart", "order_completed", "nps_response", "page_time"}
	batch := func() []events.Event {
		evs := make([]events.Event, 500)
		for i := range evs {
			evs[i] = ev(fmt.Sprintf("%016x%016x", rng.Uint64(), rng.Uint64()), fmt.Sprintf("visitor-%08d", rng.IntN(200_000)),
				names[rng.IntN(len(names))], float64(rng.IntN(1000))/10, time.Duration(rng.IntN(3600))*time.Second)
		}
		return evs
	}
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		evs := batch()
		b.StartTimer()
		if _, err := st.AppendEvents(ctx, t0, evs); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*500)/b.Elapsed().Seconds(), "events/s")
}
