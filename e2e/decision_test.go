package e2e

import (
	"strings"
	"testing"

	"github.com/journeylab/journeylab/auth"
)

func TestReportPageSaysWhatToDoInHeadlessChromium(t *testing.T) {
	runWithKeys(t, "decision.test.mjs", auth.ScopeAdmin, auth.ScopeSDK)
}

func TestMetricsAndLayersAreCreatedFromTheDashboardInHeadlessChromium(t *testing.T) {
	runWithKeys(t, "catalogue.test.mjs", auth.ScopeAdmin, auth.ScopeRead)
}

// runWithKeys runs a browser scenario against a fresh journeylab, with its
// address, Chromium and a key of each scope in JOURNEYLAB_<SCOPE>_KEY.
func runWithKeys(t *testing.T, script string, scopes ...auth.Scope) {
	t.Helper()
	browser, node := requireBrowserTools(t)
	srv := startJourneylab(t)
	env := []string{"JOURNEYLAB_URL=" + srv.url, "JOURNEYLAB_CHROMIUM=" + browser}
	for _, s := range scopes {
		env = append(env, "JOURNEYLAB_"+strings.ToUpper(string(s))+"_KEY="+srv.keys[s])
	}
	runScenario(t, node, script, env...)
}
