package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

func TestExposureDaysRoute(t *testing.T) {
	a := newApp(t)
	launch(t, a, &experiment.Experiment{Key: "gallery", Name: "Gallery", Touchpoint: "product_page",
		GoalMetrics: []string{"conversion"}, SecondaryMetrics: []string{"revenue_per_visitor"}})
	ctx := context.Background()
	// Units exposed 3 days and 12 hours ago: days 0, 1 and 2 have ended.
	at := time.Now().Add(-84 * time.Hour)
	var xs []experiment.Exposure
	var evs []events.Event
	for i := range 20 {
		u := fmt.Sprintf("u%02d", i)
		xs = append(xs, experiment.Exposure{Experiment: "gallery", Unit: u, Variant: []string{"control", "treatment"}[i%2], At: at})
		if i%3 == 0 {
			ts, v := at.Add(time.Duration(i%3+1)*time.Hour+time.Duration(i/3)*24*time.Hour), 20.0
			evs = append(evs, events.Event{EventID: "o" + u, UnitID: u, Event: "order_completed", Value: &v, TS: &ts})
		}
	}
	if _, err := a.Store.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.AppendEvents(ctx, time.Now(), evs); err != nil {
		t.Fatal(err)
	}

	t.Run("it answers per metric and day with each arm's units", func(t *testing.T) {
		code, body := do(t, a, "GET", "/v1/experiments/gallery/report/days?metric=conversion,revenue_per_visitor&days=7", "")
		if code != 200 {
			t.Fatalf("status %d: %s", code, body)
		}
		var d report.ExposureDays
		if err := json.Unmarshal([]byte(body), &d); err != nil {
			t.Fatal(err)
		}
		if d.View != "daily" || d.MaxDays != 7 || len(d.Metrics) != 2 || d.Metrics[0].Metric != "conversion" || len(d.Notes) == 0 {
			t.Fatalf("answer %.400s", body)
		}
		for _, m := range d.Metrics {
			if len(m.Days) != 3 {
				t.Errorf("%s: %d days, want 3 (the units' days 0-2 have ended)", m.Metric, len(m.Days))
			}
			for _, day := range m.Days {
				if day.Arms[0].EligibleUnits != 10 || day.Arms[1].EligibleUnits != 10 || len(day.Comparisons) != 1 {
					t.Errorf("%s day %d: arms %+v, %d comparisons", m.Metric, day.Day, day.Arms, len(day.Comparisons))
				}
			}
		}
		// Unit i (control when even) bought for 20 on day i/3 when i%3 == 0:
		// u00 (control) on day 0, u03 (treatment) on day 1, u06 (control) on day 2.
		for k, want := range [][2]float64{{2, 0}, {0, 2}, {2, 0}} {
			if got := d.Metrics[1].Days[k].Arms; got[0].Value != want[0] || got[1].Value != want[1] {
				t.Errorf("revenue per unit on day %d: %v, %v; want %v", k, got[0].Value, got[1].Value, want)
			}
		}
	})
	t.Run("the cumulative view adds the days up", func(t *testing.T) {
		code, body := do(t, a, "GET", "/v1/experiments/gallery/report/days?metric=revenue_per_visitor&view=cumulative", "")
		var d report.ExposureDays
		if code != 200 || json.Unmarshal([]byte(body), &d) != nil || len(d.Metrics) != 1 || len(d.Metrics[0].Days) != 3 {
			t.Fatalf("status %d: %.300s", code, body)
		}
		if got := d.Metrics[0].Days[2].Arms; got[0].Value != 4 || got[1].Value != 2 {
			t.Errorf("revenue per unit by day 2: %v, %v; want 4 and 2", got[0].Value, got[1].Value)
		}
	})
	t.Run("bad requests name the parameter", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			status int
			field  string
		}{
			{"/v1/experiments/nope/report/days", 404, ""},
			{"/v1/experiments/gallery/report/days?view=weekly", 400, "view"},
			{"/v1/experiments/gallery/report/days?days=0", 400, "days"},
			{"/v1/experiments/gallery/report/days?days=many", 400, "days"},
			{"/v1/experiments/gallery/report/days?metric=nps", 400, "metric"},
		} {
			code, body := do(t, a, "GET", tc.path, "")
			var e errorBody
			if json.Unmarshal([]byte(body), &e) != nil || code != tc.status || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%s: status %d, %s; want %d naming %q", tc.path, code, body, tc.status, tc.field)
			}
		}
	})
}
