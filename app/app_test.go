package app

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/config"
)

// testApp starts a full app on a temporary store; devMode turns auth off.
func testApp(t *testing.T, devMode bool) *App {
	t.Helper()
	v := config.New("")
	v.Set("data_dir", t.TempDir())
	v.Set("dev_mode", devMode)
	cfg, err := config.Load(v)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a, err := New(context.Background(), cfg, log, func() time.Time { return time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC) })
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = a.Close(context.Background()) })
	return a
}

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func do(t *testing.T, a *App, method, path, body string, headers ...string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.Server.App().Test(req, 10000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func (r reply) errField() string {
	e, _ := r.body["error"].(map[string]any)
	f, _ := e["field"].(string)
	return f
}

const gallery = `{"key":"gallery","name":"Photo gallery","hypothesis":"A gallery helps people decide","owner":"pm@shop",
 "stage":"consideration","touchpoint":"product_page",
 "variants":[{"key":"control","weight":50},{"key":"gallery","weight":50,"payload":{"layout":"grid"}}],
 "control":"control","coverage":0.5,"goal_metrics":["add_to_cart_rate"],"guardrail_metrics":["return_rate"]}`

func TestExperimentLifecycleOverHTTP(t *testing.T) {
	a := testApp(t, true)
	steps := []struct {
		name, method, path, body string
		status                   int
		wantStatus               string
	}{
		{"creating an experiment returns it as a draft", "POST", "/v1/experiments", gallery, 201, "draft"},
		{"launching a draft starts it", "POST", "/v1/experiments/gallery/launch", "", 200, "running"},
		{"launching twice is refused", "POST", "/v1/experiments/gallery/launch", "", 409, ""},
		{"pausing a running experiment works", "POST", "/v1/experiments/gallery/pause", "", 200, "paused"},
		{"resuming a paused experiment works", "POST", "/v1/experiments/gallery/resume", "", 200, "running"},
		{"archiving a running experiment is refused", "POST", "/v1/experiments/gallery/archive", "", 409, ""},
		{"stopping a running experiment works", "POST", "/v1/experiments/gallery/stop", "", 200, "stopped"},
		{"resuming a stopped experiment is refused", "POST", "/v1/experiments/gallery/resume", "", 409, ""},
		{"archiving a stopped experiment works", "POST", "/v1/experiments/gallery/archive", "", 200, "archived"},
		{"an unknown action is not a route", "POST", "/v1/experiments/gallery/explode", "", 404, ""},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := do(t, a, s.method, s.path, s.body)
			if r.status != s.status {
				t.Fatalf("status %d, want %d: %s", r.status, s.status, r.raw)
			}
			if s.wantStatus != "" && r.body["status"] != s.wantStatus {
				t.Fatalf("experiment status %v, want %s", r.body["status"], s.wantStatus)
			}
			if r.status == 409 {
				if e, _ := r.body["error"].(map[string]any); e["code"] != "illegal_transition" || !strings.Contains(e["message"].(string), "cannot") {
					t.Fatalf("409 without a reason: %s", r.raw)
				}
			}
		})
	}
	t.Run("the audit trail lists every change in order", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/experiments/gallery/audit", "")
		entries := r.body["audit"].([]any)
		var actions []string
		for _, e := range entries {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		want := "create launch pause resume stop archive"
		if strings.Join(actions, " ") != want {
			t.Fatalf("actions %v, want %s", actions, want)
		}
		launch := entries[1].(map[string]any)
		if launch["actor"] != "dev-mode" || !strings.Contains(r.raw, `"field":"status","from":"draft","to":"running"`) {
			t.Fatalf("launch entry lacks who/what: %v", launch)
		}
	})
}

func TestUpdateUsesOptimisticConcurrency(t *testing.T) {
	a := testApp(t, true)
	if r := do(t, a, "POST", "/v1/experiments", gallery); r.status != 201 {
		t.Fatal(r.raw)
	}
	cur := do(t, a, "GET", "/v1/experiments/gallery", "").body
	cur["name"] = "Photo gallery v2"
	b, _ := json.Marshal(cur)
	if r := do(t, a, "PUT", "/v1/experiments/gallery", string(b)); r.status != 200 || r.body["version"] != 2.0 || r.body["name"] != "Photo gallery v2" {
		t.Fatalf("first update: %d %s", r.status, r.raw)
	}
	r := do(t, a, "PUT", "/v1/experiments/gallery", string(b)) // still version 1
	if r.status != 409 || !strings.Contains(r.raw, "version_conflict") {
		t.Fatalf("stale update: %d %s", r.status, r.raw)
	}
	cur["version"] = 2.0
	cur["variants"] = []any{map[string]any{"key": "control", "weight": 60}, map[string]any{"key": "gallery", "weight": 40}}
	b, _ = json.Marshal(cur)
	r = do(t, a, "PUT", "/v1/experiments/gallery", string(b))
	if r.status != 200 {
		t.Fatalf("weight update: %d %s", r.status, r.raw)
	}
	owned := map[float64]float64{}
	for _, rg := range r.body["allocation"].(map[string]any)["ranges"].([]any) {
		m := rg.(map[string]any)
		owned[m["variant"].(float64)] += m["end"].(float64) - m["start"].(float64)
	}
	if owned[0] != 6000 || owned[1] != 4000 {
		t.Fatalf("60/40 should own 6000/4000 buckets, got %v", owned)
	}
}

func TestBadInputIsRefusedWithTheField(t *testing.T) {
	a := testApp(t, true)
	if r := do(t, a, "POST", "/v1/experiments", gallery); r.status != 201 {
		t.Fatal(r.raw)
	}
	base := func(mut func(m map[string]any)) string {
		var m map[string]any
		_ = json.Unmarshal([]byte(gallery), &m)
		m["key"] = "fresh"
		mut(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	cases := []struct {
		name   string
		method string
		path   string
		body   string
		status int
		field  string
	}{
		{"malformed JSON", "POST", "/v1/experiments", `{"key":`, 400, ""},
		{"an unknown field", "POST", "/v1/experiments", base(func(m map[string]any) { m["colour"] = "red" }), 400, "colour"},
		{"a wrongly typed field", "POST", "/v1/experiments", base(func(m map[string]any) { m["coverage"] = "half" }), 400, "coverage"},
		{"weights summing to zero", "POST", "/v1/experiments", base(func(m map[string]any) {
			m["variants"] = []any{map[string]any{"key": "a", "weight": 0}, map[string]any{"key": "b", "weight": 0}}
			m["control"] = "a"
		}), 400, "variants"},
		{"a negative weight", "POST", "/v1/experiments", base(func(m map[string]any) {
			m["variants"] = []any{map[string]any{"key": "a", "weight": -1}, map[string]any{"key": "b", "weight": 2}}
			m["control"] = "a"
		}), 400, "variants[0].weight"},
		{"duplicate variant keys", "POST", "/v1/experiments", base(func(m map[string]any) {
			m["variants"] = []any{map[string]any{"key": "a", "weight": 1}, map[string]any{"key": "a", "weight": 1}}
			m["control"] = "a"
		}), 400, "variants[1].key"},
		{"a control that is not a variant", "POST", "/v1/experiments", base(func(m map[string]any) { m["control"] = "nobody" }), 400, "control"},
		{"a key with a dollar sign", "POST", "/v1/experiments", base(func(m map[string]any) { m["key"] = "$where" }), 400, "key"},
		{"a key with a dot", "POST", "/v1/experiments", base(func(m map[string]any) { m["key"] = "a.b" }), 400, "key"},
		{"a variant key with a dollar sign", "POST", "/v1/experiments", base(func(m map[string]any) {
			m["variants"] = []any{map[string]any{"key": "$ne", "weight": 1}, map[string]any{"key": "b", "weight": 1}}
			m["control"] = "b"
		}), 400, "variants[0].key"},
		{"an unknown stage", "POST", "/v1/experiments", base(func(m map[string]any) { m["stage"] = "nirvana" }), 400, "stage"},
		{"an unknown goal metric", "POST", "/v1/experiments", base(func(m map[string]any) { m["goal_metrics"] = []any{"happiness"} }), 400, "goal_metrics[0]"},
		{"coverage above one", "POST", "/v1/experiments", base(func(m map[string]any) { m["coverage"] = 1.5 }), 400, "coverage"},
		{"an invalid targeting rule", "POST", "/v1/experiments", base(func(m map[string]any) {
			m["targeting"] = map[string]any{"attr": "country", "op": "like", "value": "DE"}
		}), 400, "targeting.op"},
		{"a targeting condition with a bad operand deep inside", "POST", "/v1/experiments", base(func(m map[string]any) {
			m["targeting"] = map[string]any{"country": "DE", "$or": []any{map[string]any{"visits": map[string]any{"$gt": 3}}, map[string]any{"device": map[string]any{"$regex": "(unclosed"}}}}
		}), 400, "targeting.$or[1].device.$regex"},
		{"a targeting condition referencing an unknown persona", "POST", "/v1/experiments", base(func(m map[string]any) {
			m["targeting"] = map[string]any{"$persona": "nobody"}
		}), 400, "targeting.$persona"},
		{"an existing key", "POST", "/v1/experiments", gallery, 409, ""},
		{"an unknown experiment", "GET", "/v1/experiments/nope", "", 404, ""},
		{"an unknown stage filter", "GET", "/v1/experiments?stage=nirvana", "", 400, "stage"},
		{"an update without a version", "PUT", "/v1/experiments/gallery", base(func(m map[string]any) { m["key"] = "gallery" }), 400, "version"},
		{"an invalid custom metric", "POST", "/v1/metrics", `{"key":"m1","stage":"checkout","kind":"median","direction":"up","event":"x"}`, 400, "kind"},
		{"a layer with a full holdout", "PUT", "/v1/layers/pdp", `{"holdout_share":1}`, 400, "holdout_share"},
		{"a repeated experiment field", "POST", "/v1/experiments", strings.Replace(base(func(map[string]any) {}), `"key":"fresh"`, `"key":"fresh","key":"other"`, 1), 400, "key"},
		{"a repeated metric field", "POST", "/v1/metrics", `{"key":"m1","stage":"checkout","kind":"binomial","kind":"mean","direction":"up","event":"x"}`, 400, "kind"},
		{"a repeated layer field", "PUT", "/v1/layers/pdp", `{"holdout_share":0.1,"holdout_share":0.2}`, 400, "holdout_share"},
	}
	for _, tc := range cases {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			r := do(t, a, tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if r.errField() != tc.field {
				t.Fatalf("field %q, want %q: %s", r.errField(), tc.field, r.raw)
			}
		})
	}
	t.Run("refuses a body over the 1 MiB limit with 413", func(t *testing.T) {
		// fiber's in-process Test refuses big bodies itself, so go through a real loopback listener.
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		go func() { _ = a.Server.App().Listener(ln) }()
		defer func() { _ = a.Server.App().Shutdown() }()
		// Announce a 2 MiB body and send only the first 8 KiB and one byte, all the server
		// reads with the headers: it must answer 413 from the Content-Length
		// alone. (Streaming the whole body instead races the server closing
		// the connection: "connection reset" on some runs.)
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprintf(conn, "POST /v1/experiments HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n", 2<<20)
		if _, err := conn.Write(make([]byte, 8<<10+1)); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(string(raw), "body_too_large") {
			t.Fatalf("status %d: %.200s", resp.StatusCode, raw)
		}
	})
	t.Run("stores unicode names as given", func(t *testing.T) {
		body := base(func(m map[string]any) { m["key"] = "uni"; m["name"] = "Größe 🛒 — 一页结账" })
		r := do(t, a, "POST", "/v1/experiments", body)
		if r.status != 201 || r.body["name"] != "Größe 🛒 — 一页结账" {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	})
}

func TestMetricCatalogue(t *testing.T) {
	a := testApp(t, true)
	r := do(t, a, "GET", "/v1/metrics", "")
	metrics := r.body["metrics"].([]any)
	if len(metrics) != 20 {
		t.Fatalf("%d built-in metrics, want 20", len(metrics))
	}
	first := metrics[0].(map[string]any)
	if first["stage"] != "awareness" {
		t.Fatalf("catalogue not in journey order: first is %v", first)
	}
	custom := `{"key":"gift_wrap_rate","name":"Gift wrap rate","stage":"checkout","kind":"binomial","direction":"up","event":"gift_wrap","window_hours":72}`
	if r := do(t, a, "POST", "/v1/metrics", custom); r.status != 201 || r.body["built_in"] != false {
		t.Fatalf("custom metric: %d %s", r.status, r.raw)
	}
	r = do(t, a, "GET", "/v1/metrics?stage=checkout", "")
	if n := len(r.body["metrics"].([]any)); n != 5 {
		t.Fatalf("%d checkout metrics, want 4 built-in + 1 custom", n)
	}
}

func TestAPIKeysAndScopes(t *testing.T) {
	a := testApp(t, false)
	ctx := context.Background()
	token := map[auth.Scope]string{}
	for _, s := range []auth.Scope{auth.ScopeAdmin, auth.ScopeRead, auth.ScopeSDK} {
		k, tok, err := auth.Generate(string(s), s, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := a.Store.CreateKey(ctx, k); err != nil {
			t.Fatal(err)
		}
		token[s] = tok
	}
	cases := []struct {
		name, method, path, body, key string
		status                        int
	}{
		{"a request without a key is unauthenticated", "GET", "/v1/experiments", "", "", 401},
		{"a made-up key is unauthenticated", "GET", "/v1/experiments", "", "jl_000000000000_" + strings.Repeat("0", 64), 401},
		{"a read key can list", "GET", "/v1/experiments", "", token[auth.ScopeRead], 200},
		{"a read key cannot create", "POST", "/v1/experiments", gallery, token[auth.ScopeRead], 403},
		{"an sdk key cannot read management data", "GET", "/v1/experiments", "", token[auth.ScopeSDK], 403},
		{"an admin key can create", "POST", "/v1/experiments", gallery, token[auth.ScopeAdmin], 201},
		{"an admin key can also read", "GET", "/v1/experiments/gallery", "", token[auth.ScopeAdmin], 200},
		{"health needs no key", "GET", "/healthz", "", "", 200},
		{"whoami needs a key", "GET", "/v1/whoami", "", "", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, a, tc.method, tc.path, tc.body, "Authorization", "Bearer "+tc.key)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
		})
	}
	t.Run("whoami tells each key its scope", func(t *testing.T) {
		for _, scope := range []auth.Scope{auth.ScopeAdmin, auth.ScopeRead, auth.ScopeSDK} {
			r := do(t, a, "GET", "/v1/whoami", "", "X-API-Key", token[scope])
			if r.status != 200 || r.body["scope"] != string(scope) {
				t.Fatalf("%s key: %d %s", scope, r.status, r.raw)
			}
		}
	})
	t.Run("the audit names the key that made the change", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/experiments/gallery/audit", "", "X-API-Key", token[auth.ScopeRead])
		id, _, _ := auth.Split(token[auth.ScopeAdmin])
		if !strings.Contains(r.raw, `"actor":"key:`+id+`"`) {
			t.Fatalf("audit actor missing: %s", r.raw)
		}
	})
}

func TestHealthReadinessAndMetrics(t *testing.T) {
	a := testApp(t, true)
	if r := do(t, a, "GET", "/readyz", ""); r.status != 200 || r.body["status"] != "ready" {
		t.Fatalf("readyz: %d %s", r.status, r.raw)
	}
	do(t, a, "GET", "/v1/experiments", "")
	r := do(t, a, "GET", "/metrics", "")
	if r.status != 200 || !strings.Contains(r.raw, `journeylab_http_requests_total{method="GET",route="/v1/experiments",status="200"} 1`) {
		t.Fatalf("metrics: %d %.500s", r.status, r.raw)
	}
	_ = a.Store.Close()
	if r := do(t, a, "GET", "/readyz", ""); r.status != 503 {
		t.Fatalf("readyz with a closed store: %d %s", r.status, r.raw)
	}
}
