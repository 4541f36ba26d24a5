package api_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/auth"
)

// newKey stores an API key with scope s and returns its token.
func newKey(t testing.TB, a *app.App, s auth.Scope) string {
	t.Helper()
	k, token, err := auth.Generate("test-"+string(s), s, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Store.CreateKey(context.Background(), k); err != nil {
		t.Fatal(err)
	}
	return token
}

type reply struct {
	status int
	header http.Header
	raw    []byte
	body   map[string]any
}

// send sends one request; headers are name, value pairs.
func send(t testing.TB, a *app.App, method, path, body string, headers ...string) reply {
	t.Helper()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := a.Server.App().Test(req, 10000)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: raw}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

// must sends a request that has to answer want.
func must(t testing.TB, a *app.App, want int, method, path, body string, headers ...string) reply {
	t.Helper()
	r := send(t, a, method, path, body, headers...)
	if r.status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, want, r.raw)
	}
	return r
}

// launchJSON creates and launches an experiment from its JSON and waits until
// serving has it.
func launchJSON(t testing.TB, a *app.App, experimentJSON string) {
	t.Helper()
	var e struct {
		Key string `json:"key"`
	}
	if err := json.Unmarshal([]byte(experimentJSON), &e); err != nil {
		t.Fatal(err)
	}
	must(t, a, 201, "POST", "/v1/experiments", experimentJSON)
	must(t, a, 200, "POST", "/v1/experiments/"+e.Key+"/launch", "")
	refresh(t, a)
	if _, ok := a.Serving.Flag(e.Key); !ok {
		t.Fatalf("serving does not have %s after launch", e.Key)
	}
}

// refresh makes serving pick up the latest configuration now.
func refresh(t testing.TB, a *app.App) {
	t.Helper()
	if _, err := a.Serving.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// exposures returns the stored exposures of an experiment: unit -> variant.
func exposures(t testing.TB, a *app.App, key string) map[string]string {
	t.Helper()
	ctx := context.Background()
	if err := a.Serving.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	err := a.Store.ExposureVariants(ctx, key, func(unit, variant string) error {
		out[unit] = variant
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

const checkoutExperiment = `{"key":"one-page-checkout","name":"One-page checkout","stage":"checkout","touchpoint":"checkout",
 "variants":[{"key":"control","weight":1},{"key":"one-page","weight":1,"payload":{"steps":1}},{"key":"express","weight":1}],
 "control":"control","coverage":0.8,"goal_metrics":["conversion"],"overrides":{"qa-tester":"express"}}`

const galleryExperiment = `{"key":"gallery","name":"Photo gallery","stage":"consideration","touchpoint":"product-page",
 "variants":[{"key":"control","weight":1},{"key":"grid","weight":1,"payload":"grid"}],
 "control":"control","goal_metrics":["add_to_cart_rate"],"targeting":{"attr":"device","op":"eq","value":"mobile"}}`
