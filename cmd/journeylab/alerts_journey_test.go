package main

import (
	"context"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/health"
)

func TestAlertsCommandListsJourneyKPIAlerts(t *testing.T) {
	dir, st, _, at := seededStore(t)
	a := health.Alert{ID: "9a1b2c3d4e5f6071", Check: health.CheckKPIAnomaly, Subject: "checkout/conversion", Severity: health.Critical,
		Status: health.Open, Summary: "Checkout conversion on Sat 1 Mar was 1.2%, expected 3.1% (2.6–3.6%).", OpenedAt: at, LastSeenAt: at}
	ev := health.AlertEvent{AlertID: a.ID, At: at, Action: health.ActionOpened, Actor: health.ActorHealth, Severity: a.Severity, Message: a.Summary}
	if err := st.CreateAlert(context.Background(), a, ev); err != nil {
		t.Fatal(err)
	}
	st.Close()
	t.Run("the list names the journey as its scope", func(t *testing.T) {
		out, _, err := run(t, "alerts", "--check", "kpi_anomaly", "--data-dir", dir)
		if err != nil || !strings.Contains(out, "(journey)") || !strings.Contains(out, "checkout/conversion") || !strings.Contains(out, "expected 3.1%") {
			t.Fatalf("%v\n%s", err, out)
		}
	})
	t.Run("resolving it by hand names the journey", func(t *testing.T) {
		out, _, err := run(t, "alerts", "resolve", a.ID, "--data-dir", dir)
		if err != nil || !strings.Contains(out, "resolved kpi_anomaly alert "+a.ID+" of (journey)") {
			t.Fatalf("%v %q", err, out)
		}
	})
	t.Run("check --journey checks the journey map's stage KPIs on demand", func(t *testing.T) {
		out, _, err := run(t, "alerts", "check", "--journey", "--data-dir", dir)
		if err != nil || out != "journey KPIs: healthy, no open alert.\n" {
			t.Fatalf("err %v, output %q", err, out)
		}
	})
	t.Run("check takes a KEY or --journey, not both", func(t *testing.T) {
		for _, args := range [][]string{{"alerts", "check", "x", "--journey"}, {"alerts", "check"}} {
			if _, _, err := run(t, append(args, "--data-dir", dir)...); err == nil || !strings.Contains(err.Error(), "--journey") {
				t.Fatalf("%v: err %v", args, err)
			}
		}
	})
}
