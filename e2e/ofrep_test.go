package e2e

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"journeylab/auth"
)

// TestOFREPWebProviderInHeadlessChromium serves shop/ and node_modules/ from
// a second loopback origin and runs ofrep.test.mjs: the OpenFeature web SDK
// with the OFREP web provider, as published on npm, against a journeylab
// that allows that origin by CORS.
func TestOFREPWebProviderInHeadlessChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	browser := requireBrowser(t)
	node := requireTool(t, "node", "node (Debian package nodejs)")
	installPlaywright(t)

	shop := httptest.NewServer(http.FileServer(http.Dir(".")))
	t.Cleanup(shop.Close)
	srv := startJourneylab(t, shop.URL)
	artifacts, err := filepath.Abs("artifacts")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatalf("create artifacts dir: %v", err)
	}

	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test-reporter=spec", "ofrep.test.mjs")
	cmd.Env = append(os.Environ(),
		"JOURNEYLAB_URL="+srv.url,
		"JOURNEYLAB_ADMIN_KEY="+srv.keys[auth.ScopeAdmin],
		"JOURNEYLAB_SDK_KEY="+srv.keys[auth.ScopeSDK],
		"SHOP_URL="+shop.URL,
		"JOURNEYLAB_CHROMIUM="+browser,
		"JOURNEYLAB_ARTIFACTS="+artifacts,
	)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("node ofrep.test.mjs:\n%s", out.String())
	if ctx.Err() != nil {
		t.Fatalf("the browser scenario did not finish within %s", scenarioTimeout)
	}
	if err != nil {
		t.Fatalf("the browser scenario failed (%v); screenshots are in %s", err, artifacts)
	}
}
