package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journey"
)

// memJourney is journey.Store in memory: it holds what the journey tables
// would hold after the events folded into it.
type memJourney struct {
	bits    map[string]uint
	units   map[string]journey.UnitState
	daily   map[journey.DailyKey]journey.Daily
	cohorts map[journey.CohortKey]int64
}

func (m *memJourney) JourneyBits(context.Context) (map[string]uint, error) {
	out := make(map[string]uint, len(m.bits))
	for k, v := range m.bits {
		out[k] = v
	}
	return out, nil
}

func (m *memJourney) AddJourneyBits(_ context.Context, bits map[string]uint) error {
	for k, v := range bits {
		m.bits[k] = v
	}
	return nil
}

func (m *memJourney) JourneyUnits(_ context.Context, units []string) (map[string]journey.UnitState, error) {
	out := make(map[string]journey.UnitState, len(units))
	for _, u := range units {
		if st, ok := m.units[u]; ok {
			out[u] = st
		}
	}
	return out, nil
}

// JourneyEventCounts is never asked: the generated events arrive in time order.
func (m *memJourney) JourneyEventCounts(context.Context, []journey.DayUnit) (map[journey.DayUnit]map[string]int64, error) {
	return nil, nil
}

func (m *memJourney) WriteJourney(_ context.Context, c journey.Changes) error {
	for u, st := range c.Units {
		m.units[u] = st
	}
	for k, d := range c.Daily {
		m.daily[k] = m.daily[k].Add(d)
	}
	for k, n := range c.Cohorts {
		m.cohorts[k] += n
	}
	return nil
}

// journeyAfter returns a store whose journey tables hold what ingesting
// events events over days days (75k a day for 10M over 132) leaves: a
// shop's traffic from 400k returning units, each visit a landing, product
// views and, for some, the later stages, folded with journey.Record in
// chunks of 5,000 (as event batches are). The raw events are not stored:
// the map never reads them.
func journeyAfter(b *testing.B, events, days int, end time.Time) *Store {
	st := openTemp(b)
	ctx := context.Background()
	svc := experiment.NewService(st, func() time.Time { return end })
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		b.Fatal(err)
	}
	ms, err := st.ListMetrics(ctx)
	if err != nil {
		b.Fatal(err)
	}
	stages := experiment.StageBits(ms)
	mem := &memJourney{bits: map[string]uint{}, units: map[string]journey.UnitState{}, daily: map[journey.DailyKey]journey.Daily{}, cohorts: map[journey.CohortKey]int64{}}
	rng := rand.New(rand.NewPCG(11, 12))
	later := []string{"add_to_cart", "wishlist_add", "review_read", "page_time", "order_completed", "cart_abandoned", "delivery_csat",
		"wismo_contact", "product_rating", "support_contact", "repeat_purchase", "nps_response", "ces_response", "order_returned", "net_revenue"}
	first := end.Truncate(24*time.Hour).AddDate(0, 0, -days)
	perDay := events / days
	chunk := make([]journey.Event, 0, 5000)
	flush := func() {
		if err := journey.Record(ctx, mem, chunk, stages); err != nil {
			b.Fatal(err)
		}
		chunk = chunk[:0]
	}
	for d := range days {
		day := first.AddDate(0, 0, d).UnixNano()
		for n := 0; n < perDay; {
			unit := fmt.Sprintf("u%07d", rng.IntN(400_000))
			ts := day + rng.Int64N(int64(20*time.Hour))
			visit := []string{"landing_click", "product_view", "product_view"}
			if rng.IntN(4) == 0 {
				visit[0] = "bounce"
			}
			for range rng.IntN(4) {
				visit = append(visit, later[rng.IntN(len(later))])
			}
			for i, name := range visit {
				chunk = append(chunk, journey.Event{Unit: unit, Name: name, TS: ts + int64(i)*int64(time.Second), Value: float64(1 + rng.IntN(10))})
				if len(chunk) == cap(chunk) {
					flush()
				}
			}
			n += len(visit)
		}
	}
	flush()
	err = st.inTx(ctx, func(tx *sql.Tx) error {
		j := journeyTx{tx}
		if err := j.AddJourneyBits(ctx, mem.bits); err != nil {
			return err
		}
		return j.WriteJourney(ctx, journey.Changes{Units: mem.units, Daily: mem.daily, Cohorts: mem.cohorts})
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("%d events over %d days: %d units, %d daily rows, %d cohort rows", perDay*days, days, len(mem.units), len(mem.daily), len(mem.cohorts))
	return st
}

// BenchmarkJourneyMap reads the journey map of 90 days (8 stages, the 20
// catalogue KPIs with their bands, the funnel) from the aggregates that 10M
// events over 132 days leave (90 shown, 42 before them for the bands).
// Building them takes a minute; run it alone:
//
//	go test ./store/sqlite -run '^$' -bench 'JourneyMap/map' -benchtime 20x -count 3
func BenchmarkJourneyMap(b *testing.B) {
	end := time.Date(2026, 3, 31, 12, 0, 0, 0, time.UTC)
	st := journeyAfter(b, 10_000_000, 90+journey.BandHistoryDays, end)
	svc := journey.NewService(st, st, st, func() time.Time { return end })
	q := journey.Query{From: end.Truncate(24*time.Hour).AddDate(0, 0, -89), To: end}
	ctx := context.Background()
	m, err := svc.Build(ctx, q)
	if err != nil {
		b.Fatal(err)
	}
	kpis := 0
	for _, sv := range m.Stages {
		kpis += len(sv.KPIs)
	}
	if len(m.Stages) != 8 || kpis != 20 || len(m.Stages[0].KPIs[0].Series) != 90 || m.Funnel.Cohort == 0 {
		b.Fatalf("map of %d stages, %d KPIs, %d days, cohort %d", len(m.Stages), kpis, len(m.Stages[0].KPIs[0].Series), m.Funnel.Cohort)
	}
	b.Run("map", func(b *testing.B) {
		for b.Loop() {
			if _, err := svc.Build(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
	// The funnel split by a unit attribute reads the cohort's unit rows
	// (here about 400k, none of them exposed).
	b.Run("funnel by device", func(b *testing.B) {
		q := q
		q.Dimension = "device"
		for b.Loop() {
			if _, err := svc.Build(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
	})
}
