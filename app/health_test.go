package app

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
)

// skewedGallery launches the gallery experiment and records 3000 units in
// control and 2500 in the treatment: a sample ratio mismatch.
func skewedGallery(t *testing.T, a *App) {
	t.Helper()
	if r := do(t, a, "POST", "/v1/experiments", gallery); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r := do(t, a, "POST", "/v1/experiments/gallery/launch", ""); r.status != 200 {
		t.Fatalf("launch: %d %s", r.status, r.raw)
	}
	var xs []experiment.Exposure
	at := time.Date(2026, 11, 23, 11, 30, 0, 0, time.UTC)
	for i := 0; i < 5500; i++ {
		v := "control"
		if i >= 3000 {
			v = "gallery"
		}
		xs = append(xs, experiment.Exposure{Experiment: "gallery", Unit: fmt.Sprintf("u%d", i), Variant: v, At: at})
	}
	if _, err := a.Store.InsertExposures(context.Background(), xs); err != nil {
		t.Fatal(err)
	}
}

func TestHealthOverHTTP(t *testing.T) {
	a := testApp(t, true)
	skewedGallery(t, a)
	r := do(t, a, "POST", "/v1/experiments/gallery/health/check", "")
	alerts, _ := r.body["alerts"].([]any)
	if r.status != 200 || len(alerts) != 1 {
		t.Fatalf("check: %d %s", r.status, r.raw)
	}
	id, _ := alerts[0].(map[string]any)["id"].(string)
	metricsHave(t, a, `journeylab_health_open_alerts{check="srm",severity="critical"} 1`,
		`journeylab_health_open_alerts{check="guardrail",severity="critical"} 0`)
	steps := []struct {
		name, method, path, body string
		status                   int
		field                    string
	}{
		{"the alert list shows the open SRM alert", "GET", "/v1/alerts?status=open", "", 200, ""},
		{"an unknown status is a 400 naming the parameter", "GET", "/v1/alerts?status=closed", "", 400, "status"},
		{"an unknown check is a 400 naming the parameter", "GET", "/v1/alerts?check=vibes", "", 400, "check"},
		{"a limit out of range is a 400 naming the parameter", "GET", "/v1/alerts?limit=0", "", 400, "limit"},
		{"one alert with its audit trail", "GET", "/v1/alerts/" + id, "", 200, ""},
		{"an unknown alert is a 404", "GET", "/v1/alerts/nope", "", 404, ""},
		{"the overview marks the experiment critical", "GET", "/v1/health", "", 200, ""},
		{"the experiment's health", "GET", "/v1/experiments/gallery/health", "", 200, ""},
		{"the health of an unknown experiment is a 404", "GET", "/v1/experiments/nope/health", "", 404, ""},
		{"a bad safeguard action is a 400 naming the field", "PUT", "/v1/experiments/gallery/health/settings", `{"safeguard":{"action":"explode","on":["srm"]}}`, 400, "safeguard.action"},
		{"a bad trigger is a 400 naming the field", "PUT", "/v1/experiments/gallery/health/settings", `{"safeguard":{"action":"pause","on":["decision"]}}`, 400, "safeguard.on[0]"},
		{"an unknown settings field is a 400", "PUT", "/v1/experiments/gallery/health/settings", `{"planned":1}`, 400, ""},
		{"settings of an unknown experiment are a 404", "PUT", "/v1/experiments/nope/health/settings", `{"planned_units":1000}`, 404, ""},
		{"good settings are stored", "PUT", "/v1/experiments/gallery/health/settings", `{"planned_units":20000,"max_days":28,"safeguard":{"action":"pause","on":["guardrail"]}}`, 200, ""},
		{"checking an unknown experiment is a 404", "POST", "/v1/experiments/nope/health/check", "", 404, ""},
		{"the delivery log is empty without webhooks", "GET", "/v1/deliveries", "", 200, ""},
		{"a resolve note that is not a string is a 400", "POST", "/v1/alerts/" + id + "/resolve", `{"note":5}`, 400, "note"},
		{"an open alert can be resolved by hand", "POST", "/v1/alerts/" + id + "/resolve", `{"note":"bot traffic, filtered"}`, 200, ""},
		{"resolving it again is a 409", "POST", "/v1/alerts/" + id + "/resolve", "", 409, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := do(t, a, s.method, s.path, s.body)
			if r.status != s.status || (s.field != "" && r.errField() != s.field) {
				t.Fatalf("%s %s: %d %s, want %d (field %q)", s.method, s.path, r.status, r.raw, s.status, s.field)
			}
			switch s.path {
			case "/v1/alerts?status=open":
				if list, _ := r.body["alerts"].([]any); len(list) != 1 || list[0].(map[string]any)["check"] != "srm" {
					t.Fatalf("alerts %s", r.raw)
				}
			case "/v1/alerts/" + id:
				if evs, _ := r.body["events"].([]any); len(evs) != 1 {
					t.Fatalf("events %s", r.raw)
				}
			case "/v1/health":
				exps, _ := r.body["experiments"].(map[string]any)
				g, _ := exps["gallery"].(map[string]any)
				if g["status"] != "critical" || g["open"] != float64(1) {
					t.Fatalf("overview %s", r.raw)
				}
			}
		})
	}
	t.Run("the manual resolution is in the alert's trail with the caller as actor", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/alerts/"+id, "")
		evs, _ := r.body["events"].([]any)
		last, _ := evs[len(evs)-1].(map[string]any)
		if last["action"] != "resolved" || last["actor"] != "dev-mode" {
			t.Fatalf("events %s", r.raw)
		}
	})
	t.Run("after the manual resolution the metrics count no open SRM alert", func(t *testing.T) {
		metricsHave(t, a, `journeylab_health_checks_total{result="ok"} 1`, `journeylab_health_open_alerts{check="srm",severity="critical"} 0`)
	})
	t.Run("settings changes record who made them", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/experiments/gallery/health", "")
		s, _ := r.body["settings"].(map[string]any)
		if s["updated_by"] != "dev-mode" || s["planned_units"] != float64(20000) {
			t.Fatalf("health %s", r.raw)
		}
	})
}

// metricsHave fails t unless /metrics has every line.
func metricsHave(t *testing.T, a *App, lines ...string) {
	t.Helper()
	r := do(t, a, "GET", "/metrics", "")
	for _, want := range lines {
		if !strings.Contains(r.raw, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

func TestHealthEndpointsNeedTheirScopes(t *testing.T) {
	a := testApp(t, false)
	for _, p := range []struct{ method, path string }{
		{"GET", "/v1/alerts"}, {"GET", "/v1/health"}, {"POST", "/v1/experiments/x/health/check"}, {"GET", "/v1/deliveries"},
	} {
		t.Run(p.method+" "+p.path+" without a key is a 401", func(t *testing.T) {
			if r := do(t, a, p.method, p.path, ""); r.status != 401 {
				t.Fatalf("%d %s", r.status, r.raw)
			}
		})
	}
}

// A configured JSON webhook receives the alert the check opens, signed
// with the configured secret, and the attempt lands in the delivery log.
func TestConfiguredWebhookReceivesSignedAlerts(t *testing.T) {
	var mu sync.Mutex
	var bodies [][]byte
	var sigs []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		bodies, sigs = append(bodies, b), append(sigs, r.Header.Get(health.SignatureHeader))
		mu.Unlock()
	}))
	defer rcv.Close()
	v := config.New("")
	v.Set("data_dir", t.TempDir())
	v.Set("dev_mode", true)
	v.Set("health.webhooks", []string{rcv.URL + "/journeylab"})
	v.Set("health.webhook_secret", "s3cr3t")
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatal(err)
	}
	a, err := New(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	skewedGallery(t, a)
	if r := do(t, a, "POST", "/v1/experiments/gallery/health/check", ""); r.status != 200 {
		t.Fatalf("check: %d %s", r.status, r.raw)
	}
	// Close drains the deliveries in flight before the store closes.
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	st := a.Store
	ds := func() []health.Delivery {
		list, err := st.ListDeliveries(ctx, "", 10)
		if err != nil {
			t.Fatal(err)
		}
		return list
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(ds()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	logged := ds()
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || len(logged) != 1 || !logged[0].OK {
		t.Fatalf("%d deliveries received, log %+v", len(bodies), logged)
	}
	if err := health.VerifySignature([]byte("s3cr3t"), sigs[0], bodies[0], time.Now(), time.Minute); err != nil {
		t.Fatal(err)
	}
}

func TestWebhooksWithoutASecretAreRefused(t *testing.T) {
	v := config.New("")
	v.Set("data_dir", t.TempDir())
	v.Set("health.webhooks", []string{"https://example.com/hook"})
	if _, err := config.Load(v); err == nil {
		t.Fatal("config without health.webhook_secret accepted")
	}
}
