package e2e

import (
	"testing"

	"github.com/spf13/viper"
)

func TestDashboardInDevModeOpensDeepLinksWithoutSignIn(t *testing.T) {
	browser, node := requireBrowserTools(t)
	srv := startJourneylabWith(t, func(v *viper.Viper) { v.Set("dev_mode", true) })
	runScenario(t, node, "devmode.test.mjs", "JOURNEYLAB_URL="+srv.url, "JOURNEYLAB_CHROMIUM="+browser)
}
