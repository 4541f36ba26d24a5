package e2e

import (
	"testing"

	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/auth"
)

func TestPrivacyPageShowsWhatTheAPISays(t *testing.T) {
	browser, node := requireBrowserTools(t)
	srv := startJourneylabWith(t, func(v *viper.Viper) {
		v.Set("privacy.pseudonymise_units", true)
		v.Set("privacy.pseudonym_key", "a-pseudonym-key-16")
		v.Set("privacy.attributes", []string{"device", "channel"})
		v.Set("privacy.event_retention", "2160h")
		v.Set("privacy.exposure_retention", "4320h")
	})
	runScenario(t, node, "privacy.test.mjs",
		"JOURNEYLAB_URL="+srv.url,
		"JOURNEYLAB_ADMIN_KEY="+srv.keys[auth.ScopeAdmin],
		"JOURNEYLAB_READ_KEY="+srv.keys[auth.ScopeRead],
		"JOURNEYLAB_SDK_KEY="+srv.keys[auth.ScopeSDK],
		"JOURNEYLAB_CHROMIUM="+browser,
	)
}
