package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/journeylab/journeylab/auth"
)

// TestOFREPWebProviderInHeadlessChromium serves shop/ and node_modules/ from
// a second loopback origin and runs ofrep.test.mjs: the OpenFeature web SDK
// with the OFREP web provider, as published on npm, against a journeylab
// that allows that origin by CORS.
func TestOFREPWebProviderInHeadlessChromium(t *testing.T) {
	browser, node := requireBrowserTools(t)
	shop := httptest.NewServer(http.FileServer(http.Dir(".")))
	t.Cleanup(shop.Close)
	srv := startJourneylab(t, shop.URL)
	runScenario(t, node, "ofrep.test.mjs",
		"JOURNEYLAB_URL="+srv.url,
		"JOURNEYLAB_ADMIN_KEY="+srv.keys[auth.ScopeAdmin],
		"JOURNEYLAB_SDK_KEY="+srv.keys[auth.ScopeSDK],
		"SHOP_URL="+shop.URL,
		"JOURNEYLAB_CHROMIUM="+browser,
	)
}
