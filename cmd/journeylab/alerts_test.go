package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/experiment"
)

func TestAlertsCommand(t *testing.T) {
	dir, st, svc, at := seededStore(t)
	ctx := context.Background()
	e := &experiment.Experiment{Key: "checkout-button", Name: "Checkout button", Stage: experiment.StageCheckout, Touchpoint: "checkout",
		Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "green", Weight: 1}}, GoalMetrics: []string{"conversion"}}
	if _, err := svc.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Transition(ctx, "test", "checkout-button", experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
	var xs []experiment.Exposure
	for i := 0; i < 5500; i++ {
		v := "control"
		if i >= 3000 {
			v = "green"
		}
		xs = append(xs, experiment.Exposure{Experiment: "checkout-button", Unit: fmt.Sprintf("u%d", i), Variant: v, At: at})
	}
	if _, err := st.InsertExposures(ctx, xs); err != nil {
		t.Fatal(err)
	}
	st.Close()

	t.Run("with no alert yet the list says so", func(t *testing.T) {
		out, _, err := run(t, "alerts", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "No open alerts.") {
			t.Fatalf("%v %q", err, out)
		}
	})
	var id string
	t.Run("check runs the checks now and prints the open alerts", func(t *testing.T) {
		out, _, err := run(t, "alerts", "check", "checkout-button", "--json", "--data-dir", dir)
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Alerts []struct{ ID, Check, Severity string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		for _, a := range got.Alerts {
			if a.Check == "srm" && a.Severity == "critical" {
				id = a.ID
			}
		}
		if id == "" {
			t.Fatalf("no critical srm alert in %s", out)
		}
	})
	t.Run("the list shows it in a table", func(t *testing.T) {
		out, _, err := run(t, "alerts", "--experiment", "checkout-button", "--check", "srm", "--data-dir", dir)
		if err != nil || !strings.Contains(out, id) || !strings.Contains(out, "Sample ratio mismatch") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("show prints the alert with its trail", func(t *testing.T) {
		out, _, err := run(t, "alerts", "show", id, "--data-dir", dir)
		if err != nil || !strings.Contains(out, `"action": "opened"`) {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("resolve closes it by hand", func(t *testing.T) {
		out, _, err := run(t, "alerts", "resolve", id, "--note", "known bot", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "resolved srm alert "+id) {
			t.Fatalf("%v %q", err, out)
		}
		out, _, err = run(t, "alerts", "--status", "resolved", "--data-dir", dir)
		if err != nil || !strings.Contains(out, id) {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown status names the flag", []string{"alerts", "--status", "closed"}, "--status"},
		{"an unknown check names the flag", []string{"alerts", "--check", "vibes"}, "--check"},
		{"--all and --status exclude each other", []string{"alerts", "--all", "--status", "open"}, "exclude"},
		{"an unknown experiment is named", []string{"alerts", "check", "nope"}, `no experiment "nope"`},
		{"an unknown alert is named", []string{"alerts", "show", "nope"}, `no alert "nope"`},
		{"resolving an unknown alert is named", []string{"alerts", "resolve", "nope"}, `no alert "nope"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := run(t, append(tc.args, "--data-dir", dir)...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want it to mention %q", err, tc.want)
			}
		})
	}
}
