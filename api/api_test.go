package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/experiment"
)

// newApp is a dev-mode journeylab on a fresh embedded store that refreshes
// its served experiments every 10 ms; opts change the config before start.
func newApp(t testing.TB, opts ...func(*config.Config)) *app.App {
	t.Helper()
	cfg, err := config.Load(config.New(""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.DevMode, cfg.RefreshInterval, cfg.FlushInterval = t.TempDir(), true, 10*time.Millisecond, 10*time.Millisecond
	for _, o := range opts {
		o(&cfg)
	}
	a, err := app.New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

// launch creates and launches an experiment and waits until it is served.
func launch(t testing.TB, a *app.App, e *experiment.Experiment) {
	t.Helper()
	ctx := context.Background()
	if e.Stage == "" {
		e.Stage = experiment.StageCheckout
	}
	if len(e.Variants) == 0 {
		e.Variants = []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}}
	}
	if _, err := a.Experiment.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Experiment.Transition(ctx, "test", e.Key, experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
	v, err := a.Store.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); a.Serving.Version() < v; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the launch did not reach serving within 5 s")
		}
	}
}

func do(t testing.TB, a *app.App, method, path, body string) (int, string) {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := a.Server.App().Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

// exposed returns the stored variant of unit in experiment exp ("" for none).
func exposed(t testing.TB, a *app.App, exp, unit string) string {
	t.Helper()
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got string
	if err := a.Store.ExposureVariants(context.Background(), exp, func(u, v string) error {
		if u == unit {
			got = v
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

type errorBody struct {
	Error struct{ Code, Message, Field string }
}

func TestAssignAndExposureRoutes(t *testing.T) {
	a := newApp(t)
	launch(t, a, &experiment.Experiment{Key: "cta", Name: "CTA", Touchpoint: "checkout_cta", GoalMetrics: []string{"conversion"}})

	var answer struct {
		Assignments []struct{ Experiment, Variant string }
	}
	t.Run("POST and GET answer alike and a touchpoint records the exposure", func(t *testing.T) {
		code, post := do(t, a, "POST", "/v1/assign", `{"unit_id":"v1","touchpoint":"checkout_cta"}`)
		gcode, get := do(t, a, "GET", "/v1/assign?unit_id=v1&touchpoint=checkout_cta", "")
		if code != 200 || gcode != 200 || post != get || json.Unmarshal([]byte(post), &answer) != nil || len(answer.Assignments) != 1 {
			t.Fatalf("POST %d %s, GET %d %s", code, post, gcode, get)
		}
		if got := exposed(t, a, "cta", "v1"); got != answer.Assignments[0].Variant {
			t.Errorf("stored variant %q, answered %q", got, answer.Assignments[0].Variant)
		}
	})
	t.Run("without a touchpoint or with expose false nothing is recorded", func(t *testing.T) {
		do(t, a, "POST", "/v1/assign", `{"unit_id":"v2"}`)
		do(t, a, "POST", "/v1/assign", `{"unit_id":"v3","touchpoint":"checkout_cta","expose":false}`)
		do(t, a, "GET", "/v1/assign?unit_id=v4&touchpoint=checkout_cta&expose=false", "")
		for _, u := range []string{"v2", "v3", "v4"} {
			if got := exposed(t, a, "cta", u); got != "" {
				t.Errorf("%s was recorded (%s)", u, got)
			}
		}
	})
	t.Run("a reported exposure is recorded and a wrong one rejected with 207", func(t *testing.T) {
		_, body := do(t, a, "POST", "/v1/assign", `{"unit_id":"v5","expose":false}`)
		if err := json.Unmarshal([]byte(body), &answer); err != nil || len(answer.Assignments) != 1 {
			t.Fatalf("%s", body)
		}
		v := answer.Assignments[0].Variant
		wrong := map[string]string{"control": "treatment", "treatment": "control"}[v]
		code, body := do(t, a, "POST", "/v1/exposures", fmt.Sprintf(`{"exposures":[
			{"experiment":"cta","unit_id":"v5","variant":%q},{"experiment":"cta","unit_id":"v6","variant":%q}]}`, v, wrong))
		if code != 207 || !strings.Contains(body, `"accepted":1`) || !strings.Contains(body, `"field":"exposures[1].variant"`) {
			// v6 may get the "wrong" variant by chance; it is then accepted.
			if code != 200 {
				t.Fatalf("status %d: %s", code, body)
			}
		}
		if got := exposed(t, a, "cta", "v5"); got != v {
			t.Errorf("stored %q, want the reported %q", got, v)
		}
	})
	t.Run("bad requests are 400 naming the field", func(t *testing.T) {
		var many []string
		for i := range 1001 {
			many = append(many, fmt.Sprintf(`{"experiment":"cta","unit_id":"u-%d","variant":"control"}`, i))
		}
		for _, tc := range []struct{ method, path, body, field string }{
			{"POST", "/v1/assign", `{"touchpoint":"checkout_cta"}`, "unit_id"},
			{"POST", "/v1/assign", `{"unit_id":"u","expose":true}`, "expose"},
			{"GET", "/v1/assign?unit_id=u&expose=maybe", "", "expose"},
			{"POST", "/v1/exposures", `{}`, "exposures"},
			{"POST", "/v1/exposures", `{"exposures":{}}`, "exposures"},
			{"POST", "/v1/exposures", `{"exposures":[],"extra":1}`, "extra"},
			{"POST", "/v1/exposures", `{"exposures":[` + strings.Join(many, ",") + `]}`, "exposures"},
		} {
			code, body := do(t, a, tc.method, tc.path, tc.body)
			var e errorBody
			if json.Unmarshal([]byte(body), &e) != nil || code != 400 || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%s %s %.60s: status %d, %s; want 400 naming %q", tc.method, tc.path, tc.body, code, body, tc.field)
			}
		}
	})
}

func TestReportRoutes(t *testing.T) {
	a := newApp(t)
	launch(t, a, &experiment.Experiment{Key: "one-page-checkout", Name: "One page", Touchpoint: "checkout_flow",
		GoalMetrics: []string{"conversion"}, SecondaryMetrics: []string{"add_to_cart_rate", "nps"}})
	var evs []string
	for i := range 40 {
		device := []string{"mobile", "desktop"}[i%2]
		if code, body := do(t, a, "POST", "/v1/assign", fmt.Sprintf(`{"unit_id":"u%d","touchpoint":"checkout_flow","attributes":{"device":%q}}`, i, device)); code != 200 {
			t.Fatalf("assign: %d %s", code, body)
		}
		if i%3 == 0 {
			evs = append(evs, fmt.Sprintf(`{"event_id":"o%d","unit_id":"u%d","event":"order_completed","value":20}`, i, i))
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, body := do(t, a, "POST", "/v1/events", `{"events":[`+strings.Join(evs, ",")+`]}`); code != 200 {
		t.Fatalf("events: %d %s", code, body)
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Run("the report views answer", func(t *testing.T) {
		for _, tc := range []struct{ path, contentType, contains string }{
			{"/v1/experiments/one-page-checkout/report", "application/json", `"stages":[{"stage":"decision"`},
			{"/v1/experiments/one-page-checkout/report?dimension=device", "application/json", `"dimension":"device"`},
			{"/v1/experiments/one-page-checkout/report?format=csv", "text/csv", "segment,stage,metric,"},
			{"/v1/experiments/one-page-checkout/report/timeseries", "application/json", `"series":[{"metric":"conversion"`},
			{"/v1/experiments/one-page-checkout/report/timeseries?metric=nps", "application/json", `"series":[{"metric":"nps"`},
			{"/v1/experiments/one-page-checkout/report/funnel", "application/json", `"steps":[{"metric":"add_to_cart_rate"`},
			{"/v1/experiments/one-page-checkout/report/funnel?funnel=conversion", "application/json", `"steps":[{"metric":"conversion"`},
			{"/v1/power?baseline=0.1&mde=0.01&mde_scale=absolute", "application/json", `"per_arm":14749`},
			{"/v1/power?baseline=0.05&units_per_arm=31231", "application/json", `"question":"mde"`},
		} {
			req := httptest.NewRequest(http.MethodGet, tc.path, nil)
			resp, err := a.Server.App().Test(req, -1)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), tc.contentType) || !strings.Contains(string(b), tc.contains) {
				t.Errorf("%s: status %d, content type %q, body %.300s", tc.path, resp.StatusCode, resp.Header.Get("Content-Type"), b)
			}
		}
	})
	t.Run("bad report requests name the parameter", func(t *testing.T) {
		for _, tc := range []struct {
			path   string
			status int
			field  string
		}{
			{"/v1/experiments/nope/report", 404, ""},
			{"/v1/experiments/one-page-checkout/report?format=xml", 400, "format"},
			{"/v1/experiments/one-page-checkout/report?dimension=%24where", 400, "dimension"},
			{"/v1/experiments/one-page-checkout/report/funnel?funnel=nps", 400, "funnel"},
			{"/v1/experiments/one-page-checkout/report/timeseries?metric=wishlist_rate", 400, "metric"},
			{"/v1/power?baseline=abc&mde=0.1", 400, "baseline"},
		} {
			code, body := do(t, a, "GET", tc.path, "")
			var e errorBody
			if json.Unmarshal([]byte(body), &e) != nil || code != tc.status || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Errorf("%s: status %d, %s; want %d naming %q", tc.path, code, body, tc.status, tc.field)
			}
		}
	})
}

// TestOnlyTheHTTPLayerImportsFiber keeps HTTP out of the domain: no
// package but api, server and web (and the commands, benchmarks and test
// servers above them) may depend on Fiber or fasthttp.
func TestOnlyTheHTTPLayerImportsFiber(t *testing.T) {
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	out, err := exec.Command(gobin, "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "github.com/journeylab/journeylab/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{"github.com/journeylab/journeylab/api": true, "github.com/journeylab/journeylab/server": true, "github.com/journeylab/journeylab/web": true}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, " ")
		if allowed[pkg] || strings.HasPrefix(pkg, "github.com/journeylab/journeylab/cmd/") || strings.HasPrefix(pkg, "github.com/journeylab/journeylab/bench/") ||
			pkg == "github.com/journeylab/journeylab/app" || pkg == "github.com/journeylab/journeylab/e2e" || pkg == "github.com/journeylab/journeylab/faults" ||
			pkg == "github.com/journeylab/journeylab/internal/testserver" {
			continue
		}
		checked++
		for _, d := range strings.Fields(deps) {
			if strings.HasPrefix(d, "github.com/gofiber/") || strings.HasPrefix(d, "github.com/valyala/fasthttp") {
				t.Errorf("%s depends on %s", pkg, d)
				break
			}
		}
	}
	if checked < 10 {
		t.Fatalf("only %d packages checked: go list answered %q", checked, out)
	}
}
