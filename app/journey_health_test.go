package app

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/health"
)

func TestJourneyAlertsOverHTTP(t *testing.T) {
	a := testApp(t, true)
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	j := health.Alert{ID: "j1", Check: health.CheckKPIAnomaly, Subject: "checkout/conversion", Severity: health.Critical, Status: health.Open,
		Summary: "Checkout conversion on Sun 1 Nov was 1.2%, expected 3.8% (3.4–4.3%).", OpenedAt: at, LastSeenAt: at}
	if err := a.Store.CreateAlert(context.Background(), j, health.AlertEvent{AlertID: "j1", At: at, Action: health.ActionOpened, Actor: health.ActorHealth, Severity: j.Severity, Message: j.Summary}); err != nil {
		t.Fatal(err)
	}
	t.Run("the alert list filters journey alerts by their check", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/alerts?check=kpi_anomaly", "")
		alerts, _ := r.body["alerts"].([]any)
		if r.status != 200 || len(alerts) != 1 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		got := alerts[0].(map[string]any)
		if got["experiment"] != "" || got["subject"] != "checkout/conversion" || !strings.HasPrefix(got["summary"].(string), "Checkout conversion on Sun 1 Nov") {
			t.Fatalf("alert %v", got)
		}
	})
	t.Run("the experiments' overview leaves them out", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/health", "")
		if r.status != 200 || strings.Contains(string(r.raw), `""`) || strings.Contains(string(r.raw), "kpi_anomaly") {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
	t.Run("an admin resolves one by hand", func(t *testing.T) {
		r := do(t, a, "POST", "/v1/alerts/j1/resolve", `{"note":"planned checkout maintenance"}`)
		if r.status != 200 || r.body["status"] != "resolved" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
}

func TestTheJourneyCheckReadsTheJourneyMapsStageKPIs(t *testing.T) {
	a := testApp(t, true)
	// Off would answer ErrJourneyOff; on, an empty store has nothing out of band.
	if open, err := a.Health.CheckJourney(context.Background()); err != nil || len(open) != 0 {
		t.Fatalf("CheckJourney over the journey map of an empty store: %v, %v", open, err)
	}
}
