package e2e

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/journeylab/journeylab/auth"
)

// TestBrowserSDKInHeadlessChromium serves shop/ and the browser SDK
// (../sdk/js, as published) from a second loopback origin and runs
// sdk.test.mjs against a journeylab that allows that origin by CORS.
func TestBrowserSDKInHeadlessChromium(t *testing.T) {
	browser, node := requireBrowserTools(t)
	mux := http.NewServeMux()
	mux.Handle("/", http.FileServer(http.Dir(".")))
	mux.Handle("/sdk/js/", http.StripPrefix("/sdk/js/", http.FileServer(http.Dir("../sdk/js"))))
	shop := httptest.NewServer(mux)
	t.Cleanup(shop.Close)
	srv := startJourneylab(t, shop.URL)
	runScenario(t, node, "sdk.test.mjs",
		"JOURNEYLAB_URL="+srv.url,
		"JOURNEYLAB_ADMIN_KEY="+srv.keys[auth.ScopeAdmin],
		"JOURNEYLAB_SDK_KEY="+srv.keys[auth.ScopeSDK],
		"SHOP_URL="+shop.URL,
		"JOURNEYLAB_CHROMIUM="+browser,
	)
}
