// Package e2e holds the browser tests of the dashboard. The Go test starts a
// complete journeylab (app.New on a temporary store, a random port on
// 127.0.0.1, API keys of every scope) and runs dashboard.test.mjs with node:
// headless Debian Chromium driven by playwright-core, which uses the
// dashboard the way a product manager would and checks that what it shows
// matches the JSON API. Screenshots land in e2e/artifacts/.
//
// The test skips, saying what is missing, when Chromium, node or npm are not
// installed (.ci/run installs Chromium; `npm ci` runs here when
// node_modules is missing).
package e2e

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/spf13/viper"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/internal/testserver"
)

// chromiumPath is where Debian's chromium package puts the browser; the
// JOURNEYLAB_CHROMIUM environment variable overrides it.
const chromiumPath = "/usr/bin/chromium"

// scenarioTimeout bounds the whole browser run, so a hung browser fails the
// test instead of CI's job.
const scenarioTimeout = 4 * time.Minute

func TestDashboardInHeadlessChromium(t *testing.T) {
	browser, node := requireBrowserTools(t)
	srv := startJourneylab(t)
	runScenario(t, node, "dashboard.test.mjs",
		"JOURNEYLAB_URL="+srv.url,
		"JOURNEYLAB_ADMIN_KEY="+srv.keys[auth.ScopeAdmin],
		"JOURNEYLAB_READ_KEY="+srv.keys[auth.ScopeRead],
		"JOURNEYLAB_SDK_KEY="+srv.keys[auth.ScopeSDK],
		"JOURNEYLAB_CHROMIUM="+browser,
	)
}

// requireBrowserTools skips the test unless Chromium, node and the npm
// packages are there (installing the packages when npm can), and returns
// the paths of Chromium and node.
func requireBrowserTools(t *testing.T) (browser, node string) {
	t.Helper()
	if testing.Short() {
		t.Skip("browser tests skipped in -short mode")
	}
	browser = requireBrowser(t)
	node = requireTool(t, "node", "node (Debian package nodejs)")
	installPlaywright(t)
	return browser, node
}

// runScenario runs a node test script with env added to the environment
// and JOURNEYLAB_ARTIFACTS set to e2e/artifacts, bounded by
// scenarioTimeout, and fails the test when it fails.
func runScenario(t *testing.T, node, script string, env ...string) {
	t.Helper()
	artifacts, err := filepath.Abs("artifacts")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatalf("create artifacts dir: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), scenarioTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test-reporter=spec", script)
	cmd.Env = append(append(os.Environ(), env...), "JOURNEYLAB_ARTIFACTS="+artifacts)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("node %s:\n%s", script, out.String())
	if ctx.Err() != nil {
		t.Fatalf("the browser scenario did not finish within %s", scenarioTimeout)
	}
	if err != nil {
		t.Fatalf("the browser scenario failed (%v); screenshots are in %s", err, artifacts)
	}
	if testing.Verbose() {
		t.Logf("screenshots: %s", artifacts)
	}
}

func requireBrowser(t *testing.T) string {
	t.Helper()
	p := os.Getenv("JOURNEYLAB_CHROMIUM")
	if p == "" {
		p = chromiumPath
	}
	if _, err := os.Stat(p); err != nil {
		t.Skipf("browser tests skipped: Chromium not found at %s (install it: apt-get install -y chromium chromium-driver; .ci/run does)", p)
	}
	return p
}

func requireTool(t *testing.T, name, what string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Skipf("browser tests skipped: %s not found on PATH (install %s)", name, what)
	}
	return p
}

// installPlaywright runs `npm ci` (the versions pinned in package-lock.json)
// when node_modules lacks playwright-core or the OpenFeature packages.
// Browsers are never downloaded: the tests drive Debian's Chromium.
func installPlaywright(t *testing.T) {
	t.Helper()
	installed := true
	for _, pkg := range []string{"playwright-core", "@openfeature/ofrep-web-provider", "@openfeature/web-sdk"} {
		if _, err := os.Stat(filepath.Join("node_modules", pkg, "package.json")); err != nil {
			installed = false
		}
	}
	if installed {
		return
	}
	npm := requireTool(t, "npm", "npm (Debian package npm)")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Env = append(os.Environ(), "PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Skipf("browser tests skipped: playwright-core is not installed and `npm ci` in e2e/ failed: %v\n%s", err, out)
	}
}

type server struct {
	url  string
	keys map[auth.Scope]string
}

// startJourneylab runs the real app on a temporary store and a free
// loopback port, with one API key per scope; corsOrigins are the browser
// origins it allows. Refresh and flush intervals are short so the scenario
// does not wait for assignments to be recorded.
func startJourneylab(t *testing.T, corsOrigins ...string) server {
	t.Helper()
	return startJourneylabWith(t, func(v *viper.Viper) {
		if len(corsOrigins) > 0 {
			v.Set("http.cors_origins", corsOrigins)
		}
	})
}

// startJourneylabWith is startJourneylab with settings of the test's own,
// applied after the defaults.
func startJourneylabWith(t *testing.T, configure func(*viper.Viper)) server {
	t.Helper()
	s := testserver.Start(t, configure)
	return server{url: s.URL, keys: s.Keys}
}
