package sqlite

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/journeylab/journeylab/anomaly"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/journey"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestJourney(t *testing.T) {
	storetest.RunJourney(t, func(t *testing.T) storetest.JourneyBackend { return openTemp(t) })
}

func TestOpenBackfillsTheJourneyOfEventsStoredBeforeIt(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "j.db")
	st, err := OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	storetest.SetupOutcomes(t, st)
	// Units over several days, some events sent late and in another batch.
	var batches [][]events.Event
	for b := range 3 {
		var evs []events.Event
		for i := range 40 {
			unit := fmt.Sprintf("u%02d", (i*7+b)%25)
			name := []string{"landing_click", "product_view", "add_to_cart", "order_completed", "nps_response"}[(i+b)%5]
			evs = append(evs, storetest.Event(fmt.Sprintf("%d-%d", b, i), unit, name, float64(1+i%10), time.Duration((i*13+b*31)%96)*time.Hour))
		}
		batches = append(batches, evs)
	}
	for _, evs := range batches {
		storetest.MustAppend(t, st, evs...)
	}
	from, to := storetest.T0.Add(-24*time.Hour), storetest.T0.Add(5*24*time.Hour)
	read := func(st *Store) ([]anomaly.Series, map[int64]int64) {
		j := journey.NewService(st, st, st, nil)
		series, err := j.StageKPISeries(ctx, from, to)
		if err != nil {
			t.Fatal(err)
		}
		cohorts, err := st.JourneyCohorts(ctx, journey.Day(from.UnixNano()), journey.Day(to.UnixNano()))
		if err != nil {
			t.Fatal(err)
		}
		return series, cohorts
	}
	wantSeries, wantCohorts := read(st)
	if len(wantCohorts) == 0 {
		t.Fatal("no cohorts recorded")
	}
	// What a database written before the journey map looks like.
	for _, table := range []string{"journey_bits", "journey_units", "journey_daily", "journey_cohorts"} {
		if _, err := st.w.ExecContext(ctx, "DELETE FROM "+table); err != nil {
			t.Fatal(err)
		}
	}
	st.Close()

	st, err = OpenFile(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	gotSeries, gotCohorts := read(st)
	if !reflect.DeepEqual(gotCohorts, wantCohorts) {
		t.Fatalf("cohorts after the backfill %v, want %v", gotCohorts, wantCohorts)
	}
	for i := range wantSeries {
		for k, p := range wantSeries[i].Points {
			g := gotSeries[i].Points[k]
			if g.N != p.N || (g.Value != p.Value && !(math.IsNaN(g.Value) && math.IsNaN(p.Value))) {
				t.Fatalf("%s on %s: %v (N %v) after the backfill, want %v (N %v)", wantSeries[i].KPI, p.Day, g.Value, g.N, p.Value, p.N)
			}
		}
	}
}
