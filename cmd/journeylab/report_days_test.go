package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
)

func TestReportByDay(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	checkoutButton(t, st, svc, at, "u3", "u4")
	ctx := context.Background()
	if _, err := st.InsertExposures(ctx, []experiment.Exposure{{Experiment: "checkout-button", Unit: "u5", Variant: "control", At: at}}); err != nil {
		t.Fatal(err)
	}
	one, ts := 1.0, at.Add(25*time.Hour)
	if _, err := st.AppendEvents(ctx, at, []events.Event{{EventID: "e2", UnitID: "u5", Event: "order_completed", Value: &one, TS: &ts}}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	t.Run("the table has a row per day and treatment", func(t *testing.T) {
		out, _, err := run(t, "report", "checkout-button", "--by-day", "--days", "3", "--data-dir", dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"lift by days since exposure (events of day k only", "Day k = the 24 hours", "DAY", "REL. LIFT [95% CI]", "conversion: Checkout completion"} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q:\n%s", want, out)
			}
		}
		var days []string
		for _, line := range strings.Split(out, "\n") {
			if f := strings.Fields(strings.Trim(line, "│| ")); len(f) > 2 && f[2] == "green" {
				days = append(days, f[0])
			}
		}
		if strings.Join(days, ",") != "0,1,2" {
			t.Errorf("rows for days %v, want 0,1,2:\n%s", days, out)
		}
	})
	t.Run("--json prints what the API returns", func(t *testing.T) {
		out, _, err := run(t, "report", "checkout-button", "--by-day", "--view", "cumulative", "--days", "2", "--json", "--data-dir", dir)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			View    string
			Metrics []struct {
				Metric string
				Days   []struct {
					Day  int
					Arms []struct {
						Variant string
						Units   int64
						Value   float64
					}
				}
			}
		}
		if err := json.Unmarshal([]byte(out), &d); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if d.View != "cumulative" || len(d.Metrics) != 1 || len(d.Metrics[0].Days) != 2 {
			t.Fatalf("answer %+v", d)
		}
		// Control: u1 never bought, u5 on day 1; green: u2 on day 0 of three units.
		day1 := d.Metrics[0].Days[1].Arms
		if day1[0].Units != 2 || day1[0].Value != 0.5 || day1[1].Units != 3 || day1[1].Value != 1.0/3 {
			t.Errorf("cumulative day 1: %+v", day1)
		}
	})
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"an unknown view is refused", []string{"--by-day", "--view", "weekly"}, "--view"},
		{"too many days are refused", []string{"--by-day", "--days", "365"}, "--days"},
		{"an unknown metric is refused", []string{"--by-day", "--metric", "nope"}, "--metric"},
		{"--days needs --by-day", []string{"--days", "3"}, "--by-day"},
		{"--csv does not apply", []string{"--by-day", "--csv"}, "--csv"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := run(t, append([]string{"report", "checkout-button", "--data-dir", dir}, c.args...)...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want it to name %s", err, c.want)
			}
		})
	}
}
