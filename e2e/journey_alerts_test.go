package e2e

import (
	"context"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/internal/testserver"
)

func TestDashboardListsJourneyKPIAlerts(t *testing.T) {
	browser, node := requireBrowserTools(t)
	s := testserver.Start(t, func(v *viper.Viper) { v.Set("dev_mode", true) })
	at := time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)
	a := health.Alert{ID: "4685dc39d066050a", Check: health.CheckKPIAnomaly, Subject: "checkout/conversion", Severity: health.Critical,
		Status: health.Open, OpenedAt: at, LastSeenAt: at,
		Summary: "Checkout conversion on Sun 1 Nov was 1.2%, expected 3.8% (3.4–4.3%). That is 21.8 standard deviations below the expectation, on 25000 visitors."}
	ev := health.AlertEvent{AlertID: a.ID, At: at, Action: health.ActionOpened, Actor: health.ActorHealth, Severity: a.Severity, Message: a.Summary}
	if err := s.App.Store.CreateAlert(context.Background(), a, ev); err != nil {
		t.Fatal(err)
	}
	runScenario(t, node, "journeyalerts.test.mjs", "JOURNEYLAB_URL="+s.URL, "JOURNEYLAB_CHROMIUM="+browser)
}
