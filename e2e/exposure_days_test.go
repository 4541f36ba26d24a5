package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/internal/testserver"
)

func TestExposureDaysSectionShowsTheAPIsNumbers(t *testing.T) {
	browser, node := requireBrowserTools(t)
	s := testserver.Start(t, func(v *viper.Viper) { v.Set("dev_mode", true) })
	seedNovelty(t, s.App)
	runScenario(t, node, "exposure-days.test.mjs", "JOURNEYLAB_URL="+s.URL, "JOURNEYLAB_CHROMIUM="+browser)
}

// seedNovelty stores the running experiment "e2e-novelty" with 800 units
// exposed over the last ten days and orders whose lift fades with the days
// since exposure, written straight to the store: exposures through the API
// are stamped now, and no day since exposure would have ended.
func seedNovelty(t *testing.T, a *app.App) {
	t.Helper()
	ctx := context.Background()
	e := &experiment.Experiment{Key: "e2e-novelty", Name: "Novelty", Stage: experiment.StageCheckout, Touchpoint: "checkout_flow",
		Variants:    []experiment.Variant{{Key: "control", Weight: 1}, {Key: "badge", Weight: 1}},
		GoalMetrics: []string{"conversion"}, SecondaryMetrics: []string{"revenue_per_visitor"}}
	if _, err := a.Experiment.Create(ctx, "e2e", e); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Experiment.Transition(ctx, "e2e", "e2e-novelty", experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	var xs []experiment.Exposure
	var evs []events.Event
	for i := range 800 {
		u := fmt.Sprintf("n%03d", i)
		v := []string{"control", "badge"}[(i/10)%2]
		at := now.Add(-time.Duration(i%10)*24*time.Hour - time.Duration(i%7+1)*time.Hour)
		xs = append(xs, experiment.Exposure{Experiment: "e2e-novelty", Unit: u, Variant: v, At: at})
		for k := range 10 {
			// Control buys on every fifth day; the badge on every second
			// day at first, then like control.
			every := 5
			if v == "badge" && k < 3 {
				every = 2
			}
			if (i/2+k)%every == 0 {
				ts, value := at.Add(time.Duration(k)*24*time.Hour+time.Hour), float64(10+i%40)
				evs = append(evs, events.Event{EventID: fmt.Sprintf("%s-%d", u, k), UnitID: u, Event: "order_completed", Value: &value, TS: &ts})
			}
		}
	}
	if _, err := a.Store.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.AppendEvents(ctx, now, evs); err != nil {
		t.Fatal(err)
	}
}
