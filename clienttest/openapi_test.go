package clienttest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	"github.com/pb33f/libopenapi-validator/paths"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/openapi"
)

// exchange is one request of the scenario and the status it must get.
type exchange struct {
	scope        auth.Scope
	method, path string
	body         string
	headers      []string
	status       int
}

// TestResponsesMatchTheOpenAPIDocument drives every documented operation
// against a real server and validates each request and response against
// openapi/openapi.yaml with libopenapi-validator (JSON Schema 2020-12, as
// OpenAPI 3.1 uses it).
func TestResponsesMatchTheOpenAPIDocument(t *testing.T) {
	doc, err := libopenapi.NewDocument(openapi.YAML())
	if err != nil {
		t.Fatal(err)
	}
	v, errs := validator.NewValidator(doc)
	if len(errs) > 0 {
		t.Fatalf("the document does not load: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("document: %s: %s", e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("    at %s: %s", se.FieldPath, se.Reason)
			}
		}
		t.FailNow()
	}

	model, err := doc.BuildV3Model()
	if err != nil {
		t.Fatal(err)
	}

	s := start(t)
	const (
		admin = auth.ScopeAdmin
		read  = auth.ScopeRead
		sdk   = auth.ScopeSDK
	)
	experiment := `{"key":"one-page-checkout","name":"One-page checkout","stage":"checkout","touchpoint":"checkout",
	 "variants":[{"key":"control","weight":1},{"key":"one-page","weight":1,"payload":{"steps":1}}],
	 "control":"control","goal_metrics":["conversion"],"guardrail_metrics":["average_order_value"],"layer":"checkout-layer","layer_share":0.5,
	 "targeting":{"$or":[{"$persona":"sarah"},{"device":{"$ne":"mobile"}}]}}`
	steps := []exchange{
		{"", "GET", "/healthz", "", nil, 200},
		{"", "GET", "/readyz", "", nil, 200},
		{"", "GET", "/metrics", "", nil, 200},
		{"", "GET", "/openapi.json", "", nil, 200},
		{"", "GET", "/", "", nil, 200},
		{"", "GET", "/static/api.html", "", nil, 200},
		{"", "GET", "/static/no-such-file.js", "", nil, 404},
		{"", "GET", "/v1/whoami", "", nil, 401},
		{sdk, "GET", "/v1/whoami", "", nil, 200},
		{sdk, "GET", "/v1/stages", "", nil, 403},
		{read, "GET", "/v1/stages", "", nil, 200},
		{admin, "POST", "/v1/metrics", `{"key":"gift_wrap_rate","name":"Gift-wrap rate","stage":"checkout","kind":"binomial","direction":"up","event":"gift_wrap"}`, nil, 201},
		{admin, "POST", "/v1/metrics", `{"key":"gift_wrap_rate","name":"Gift-wrap rate","stage":"checkout","kind":"binomial","direction":"up","event":"gift_wrap"}`, nil, 409},
		{read, "GET", "/v1/metrics?stage=checkout", "", nil, 200},
		{read, "GET", "/v1/metrics/gift_wrap_rate", "", nil, 200},
		{read, "GET", "/v1/metrics/nope", "", nil, 404},
		{admin, "POST", "/v1/personas", `{"key":"sarah","name":"Sarah","condition":{"device":"mobile"}}`, nil, 201},
		{admin, "POST", "/v1/personas", `{"key":"sarah","name":"Sarah","condition":{"device":"mobile"}}`, nil, 409},
		{admin, "POST", "/v1/personas", `{"key":"tmp","name":"Temporary","condition":{"device":"tv"}}`, nil, 201},
		{admin, "PUT", "/v1/personas/tmp", `{"name":"Temporary","condition":{"device":"tv"},"version":1}`, nil, 200},
		{admin, "DELETE", "/v1/personas/tmp", "", nil, 204},
		{read, "GET", "/v1/personas", "", nil, 200},
		{read, "GET", "/v1/personas/sarah/audit", "", nil, 200},
		{read, "GET", "/v1/personas/nope", "", nil, 404},
		{admin, "PUT", "/v1/layers/checkout-layer", `{"name":"Checkout","holdout_share":0.05,"metrics":["conversion"]}`, nil, 200},
		{read, "GET", "/v1/layers", "", nil, 200},
		{read, "GET", "/v1/layers/checkout-layer", "", nil, 200},
		{admin, "POST", "/v1/experiments", experiment, nil, 201},
		{admin, "POST", "/v1/experiments", `{"key":"x"}`, nil, 400},
		{read, "GET", "/v1/experiments?status=draft", "", nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout", "", nil, 200},
		{admin, "PUT", "/v1/experiments/one-page-checkout", strings.Replace(experiment, `"goal_metrics"`, `"version":1,"goal_metrics"`, 1), nil, 200},
		{admin, "PUT", "/v1/experiments/one-page-checkout", strings.Replace(experiment, `"goal_metrics"`, `"version":1,"goal_metrics"`, 1), nil, 409},
		{admin, "POST", "/v1/experiments/one-page-checkout/launch", "", nil, 200},
		{admin, "POST", "/v1/experiments/one-page-checkout/launch", "", nil, 409},
		{read, "GET", "/v1/experiments/one-page-checkout/audit", "", nil, 200},
		{read, "GET", "/v1/personas/sarah", "", nil, 200},
		{read, "GET", "/v1/experiments/nope", "", nil, 404},
	}
	run := func(steps []exchange) {
		for _, st := range steps {
			validate(t, v, &model.Model, s, st)
		}
	}
	run(steps)
	if _, err := s.app.Serving.Refresh(t.Context()); err != nil {
		t.Fatal(err)
	}
	run([]exchange{
		{sdk, "POST", "/v1/assign", `{"unit_id":"visitor-42","touchpoint":"checkout","attributes":{"device":"mobile","visits":3}}`, nil, 200},
		{sdk, "POST", "/v1/assign", `{"unit_id":""}`, nil, 400},
		{sdk, "GET", "/v1/assign?unit_id=visitor-43&touchpoint=checkout&attr.device=mobile&expose=false", "", nil, 200},
		{sdk, "POST", "/v1/assign", `{"unit_id":"visitor-44","touchpoint":"checkout","expose":false}`, nil, 200},
		{sdk, "POST", "/v1/assign", `{"unit_id":"visitor-44","expose":true}`, nil, 400},
		{sdk, "POST", "/v1/exposures", `{"exposures":[{"experiment":"one-page-checkout","unit_id":"visitor-42","variant":"control"},{"experiment":"one-page-checkout","unit_id":"visitor-42","variant":"one-page"}]}`, nil, 207},
		{sdk, "POST", "/v1/exposures", `{"exposures":[]}`, nil, 200},
		{sdk, "POST", "/v1/exposures", `{}`, nil, 400},
		{sdk, "GET", "/v1/sdk/snapshot", "", nil, 200},
		{read, "GET", "/v1/sdk/snapshot", "", nil, 403},
		{sdk, "POST", "/v1/events", `{"events":[{"event_id":"e-1","unit_id":"visitor-42","event":"order","value":59.9},{"event_id":"e-2","unit_id":"visitor-42","event":"purchase"}]}`, nil, 200},
		{sdk, "POST", "/v1/events", `{"events":[{"event_id":"e-1","unit_id":"visitor-42","event":"order","value":59.9},{"event_id":"","unit_id":"visitor-42","event":"order"}]}`, nil, 207},
		{admin, "GET", "/v1/events/unknown", "", nil, 200},
		{admin, "GET", "/v1/events/unknown?limit=0", "", nil, 400},
		{read, "GET", "/v1/events/unknown", "", nil, 403},
		{sdk, "POST", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"visitor-42","device":"mobile"}}`, nil, 200},
		{sdk, "POST", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"device":"mobile"}}`, nil, 400},
		{sdk, "POST", "/ofrep/v1/evaluate/flags/no-such-flag", `{"context":{"targetingKey":"visitor-42"}}`, nil, 404},
		{sdk, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"visitor-42"}}`, nil, 200},
		{sdk, "POST", "/ofrep/v1/evaluate/flags", `{"context":`, nil, 400},
		{read, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"visitor-42"}}`, nil, 403},
		{read, "GET", "/v1/experiments/one-page-checkout/report", "", nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout/report?dimension=device", "", nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout/report?dimension=devise", "", nil, 200},
		{read, "GET", "/v1/experiments?touchpoint=chekout", "", nil, 200},
		{sdk, "GET", "/v1/assign?unit_id=visitor-42&touchpoint=chekout", "", nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout/report?format=csv", "", nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout/report?format=xml", "", nil, 400},
		{read, "GET", "/v1/experiments/one-page-checkout/report/timeseries", "", nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout/report/days?view=cumulative&days=7", "", nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout/report/days?days=0", "", nil, 400},
		{read, "GET", "/v1/experiments/one-page-checkout/report/funnel", "", nil, 200},
		{read, "GET", "/v1/layers/checkout-layer/report", "", nil, 200},
		{read, "GET", "/v1/power?baseline=0.1&mde=0.05&daily_units=2000", "", nil, 200},
		{read, "GET", "/v1/power?baseline=0.1&units_per_arm=5000&arms=3&correction=bonferroni&test=t", "", nil, 200},
		{read, "GET", "/v1/power?baseline=0.1&mde=0.05&method=sequential", "", nil, 200},
		{read, "GET", "/v1/power?baseline=x", "", nil, 400},
		{read, "GET", "/v1/journey", "", nil, 200},
		{read, "GET", "/v1/journey?from=2026-01-01&to=2026-01-31&dimension=device", "", nil, 200},
		{read, "GET", "/v1/journey?from=yesterday", "", nil, 400},
		{admin, "PUT", "/v1/experiments/one-page-checkout/health/settings", `{"planned_units":40000,"max_days":28}`, nil, 200},
		{read, "GET", "/v1/experiments/one-page-checkout/health", "", nil, 200},
		{admin, "POST", "/v1/experiments/one-page-checkout/health/check", "", nil, 200},
		{read, "GET", "/v1/health", "", nil, 200},
		{read, "GET", "/v1/alerts", "", nil, 200},
		{read, "GET", "/v1/alerts/no-such-alert", "", nil, 404},
		{admin, "POST", "/v1/alerts/no-such-alert/resolve", "", nil, 404},
		{admin, "GET", "/v1/deliveries", "", nil, 200},
		{admin, "GET", "/v1/keys", "", nil, 200},
		{admin, "POST", "/v1/keys", `{"name":"web-shop","scope":"sdk"}`, nil, 201},
		{admin, "POST", "/v1/experiments/one-page-checkout/pause", "", nil, 200},
		{admin, "DELETE", "/v1/units/visitor-44", "", nil, 200},
		{admin, "POST", "/v1/units/erase", `{"unit_ids":["visitor-43","visitor-44"]}`, nil, 200},
		{admin, "POST", "/v1/units/erase", `{"unit_ids":[]}`, nil, 400},
		{admin, "GET", "/v1/privacy", "", nil, 200},
		{read, "GET", "/v1/privacy", "", nil, 403},
	})
	// A browser's navigator.sendBeacon: the sdk key in the URL, the JSON
	// body as text/plain.
	beacon := "?key=" + s.keys[sdk]
	textPlain := []string{"Content-Type", "text/plain;charset=UTF-8"}
	run([]exchange{
		{"", "POST", "/v1/events" + beacon, `{"events":[{"event_id":"e-3","unit_id":"visitor-42","event":"add_to_cart"}]}`, textPlain, 200},
		{"", "POST", "/v1/exposures" + beacon, `{"exposures":[]}`, textPlain, 200},
		{"", "POST", "/v1/events?key=" + s.keys[admin], `{"events":[]}`, textPlain, 403},
	})

	// 304 with the ETag of the answer.
	resp, _ := s.call(t, sdk, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"visitor-42"}}`)
	run([]exchange{{sdk, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"visitor-42"}}`, []string{"If-None-Match", resp.Header.Get("ETag")}, 304}})

	// 304 with the ETag of the SDK snapshot.
	resp, _ = s.call(t, sdk, "GET", "/v1/sdk/snapshot", "")
	run([]exchange{{sdk, "GET", "/v1/sdk/snapshot", "", []string{"If-None-Match", resp.Header.Get("ETag")}, 304}})

	// A key to revoke (last: a revocation moves the config version, which
	// would change the ETags checked above).
	_, created := s.call(t, admin, "POST", "/v1/keys", `{"name":"to-revoke","scope":"read"}`)
	var key struct {
		Key struct{ ID string } `json:"key"`
	}
	if err := json.Unmarshal(created, &key); err != nil || key.Key.ID == "" {
		t.Fatalf("created key %s: %v", created, err)
	}
	run([]exchange{{admin, "POST", "/v1/keys/" + key.Key.ID + "/revoke", "", nil, 200}})

	// Every documented operation was exercised.
	ops, err := openapi.Operations()
	if err != nil {
		t.Fatal(err)
	}
	var unexercised []string
	for _, o := range ops {
		if !exercised[o.Method+" "+o.Path] {
			unexercised = append(unexercised, o.Method+" "+o.Path)
		}
	}
	sort.Strings(unexercised)
	if len(unexercised) > 0 {
		t.Errorf("operations the scenario never validated:\n  %s", strings.Join(unexercised, "\n  "))
	}
}

// exercised records the operations validated, by "METHOD /template".
var exercised = map[string]bool{}

// validate sends one exchange and checks the status and, with the
// validator, the request and the response against the document.
func validate(t *testing.T, v validator.Validator, model *v3.Document, s *service, st exchange) {
	t.Helper()
	req, err := http.NewRequest(st.method, s.url+st.path, strings.NewReader(st.body))
	if err != nil {
		t.Fatal(err)
	}
	if st.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if st.scope != "" {
		req.Header.Set("Authorization", "Bearer "+s.keys[st.scope])
	}
	for i := 0; i+1 < len(st.headers); i += 2 {
		req.Header.Set(st.headers[i], st.headers[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if resp.StatusCode != st.status {
		t.Fatalf("%s %s: status %d, want %d: %s", st.method, st.path, resp.StatusCode, st.status, body)
	}
	// The validator reads both bodies again.
	vreq, _ := http.NewRequest(st.method, s.url+st.path, strings.NewReader(st.body))
	vreq.Header = req.Header.Clone()
	resp.Body = io.NopCloser(bytes.NewReader(body))
	if item, _, template := paths.FindPath(vreq, model, config.NewValidationOptions()); item != nil {
		exercised[st.method+" "+template] = true
	}
	// Requests that are meant to fail (errors, and the partly rejected
	// batch of a 207) are only checked for their answer.
	check := v.ValidateHttpResponse
	if st.status < 400 && st.status != 207 {
		check = v.ValidateHttpRequestResponse
	}
	if ok, verrs := check(vreq, resp); !ok {
		for _, e := range verrs {
			t.Errorf("%s %s -> %d: %s: %s", st.method, st.path, st.status, e.Message, e.Reason)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("    at %s: %s", se.FieldPath, se.Reason)
			}
		}
		t.Logf("body: %.400s", body)
	}
}
