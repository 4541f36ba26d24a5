package e2e

import (
	"testing"

	"github.com/journeylab/journeylab/auth"
)

func TestUnknownEventsPageInHeadlessChromium(t *testing.T) {
	browser, node := requireBrowserTools(t)
	srv := startJourneylab(t)
	runScenario(t, node, "unknown-events.test.mjs",
		"JOURNEYLAB_URL="+srv.url,
		"JOURNEYLAB_ADMIN_KEY="+srv.keys[auth.ScopeAdmin],
		"JOURNEYLAB_READ_KEY="+srv.keys[auth.ScopeRead],
		"JOURNEYLAB_SDK_KEY="+srv.keys[auth.ScopeSDK],
		"JOURNEYLAB_CHROMIUM="+browser,
	)
}
