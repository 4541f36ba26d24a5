package api_test

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/config"
)

// assignVariant returns the variant /v1/assign gives unit for experiment,
// or "" when the unit is not in it.
func assignVariant(t *testing.T, r reply, experiment string) string {
	t.Helper()
	list, _ := r.body["assignments"].([]any)
	for _, x := range list {
		m := x.(map[string]any)
		if m["experiment"] == experiment {
			return m["variant"].(string)
		}
	}
	return ""
}

func TestOFREPSingleEvaluationGivesTheAssignVariant(t *testing.T) {
	a := newApp(t)
	launchJSON(t, a, checkoutExperiment)
	in, out := 0, 0
	for i := range 300 {
		unit := fmt.Sprintf("visitor-%d", i)
		ev := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"`+unit+`"}}`)
		as := must(t, a, 200, "POST", "/v1/assign", `{"unit_id":"`+unit+`","touchpoint":"checkout"}`)
		want := assignVariant(t, as, "one-page-checkout")
		got, _ := ev.body["variant"].(string)
		if got != want {
			t.Fatalf("%s: OFREP variant %q, /v1/assign %q", unit, got, want)
		}
		md, _ := ev.body["metadata"].(map[string]any)
		if md["experiment"] != "one-page-checkout" || md["stage"] != "checkout" || md["touchpoint"] != "checkout" {
			t.Fatalf("%s: metadata %v", unit, md)
		}
		if want == "" {
			out++
			if ev.body["reason"] != "DEFAULT" || ev.body["value"] != nil {
				t.Fatalf("%s outside the coverage: %s, want reason DEFAULT and no value", unit, ev.raw)
			}
			continue
		}
		in++
		if ev.body["reason"] != "SPLIT" {
			t.Fatalf("%s: reason %v, want SPLIT", unit, ev.body["reason"])
		}
		// The payload is the value; in this experiment, where another
		// variant has one, a variant without a payload has no value.
		wantValue := ""
		if want == "one-page" {
			wantValue = `{"steps":1}`
		}
		var got2 struct {
			Value json.RawMessage `json:"value"`
		}
		_ = json.Unmarshal(ev.raw, &got2)
		if string(got2.Value) != wantValue {
			t.Fatalf("%s: value %s, want %s", unit, got2.Value, wantValue)
		}
	}
	// 80% coverage: both branches must have been exercised.
	if in < 200 || out < 20 {
		t.Fatalf("in %d, out %d of 300 units: coverage 0.8 not applied", in, out)
	}
}

func TestOFREPReasons(t *testing.T) {
	a := newApp(t)
	launchJSON(t, a, checkoutExperiment)
	launchJSON(t, a, galleryExperiment)
	must(t, a, 201, "POST", "/v1/experiments", `{"key":"draft-banner","name":"Banner","stage":"awareness","touchpoint":"home",
	 "variants":[{"key":"control","weight":1},{"key":"big","weight":1}],"control":"control","goal_metrics":["landing_ctr"]}`)
	tests := []struct {
		name, key, context string
		reason, variant    string
	}{
		{"a QA override is a targeting match", "one-page-checkout", `{"targetingKey":"qa-tester"}`, "TARGETING_MATCH", "express"},
		{"a unit whose attributes match the targeting is split", "gallery", `{"targetingKey":"u-1","device":"mobile"}`, "SPLIT", ""},
		{"a unit the targeting leaves out gets the code default", "gallery", `{"targetingKey":"u-1","device":"desktop"}`, "DEFAULT", ""},
		{"an experiment that is not running is disabled", "draft-banner", `{"targetingKey":"u-1"}`, "DISABLED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags/"+tt.key, `{"context":`+tt.context+`}`)
			if r.body["reason"] != tt.reason {
				t.Fatalf("reason %v, want %s: %s", r.body["reason"], tt.reason, r.raw)
			}
			if tt.variant != "" && r.body["variant"] != tt.variant {
				t.Fatalf("variant %v, want %s", r.body["variant"], tt.variant)
			}
			if (tt.reason == "DEFAULT" || tt.reason == "DISABLED") && r.body["value"] != nil {
				t.Fatalf("%s carries a value: %s", tt.reason, r.raw)
			}
		})
	}
}

func TestOFREPErrorsAsTheProtocolNamesThem(t *testing.T) {
	a := newApp(t)
	launchJSON(t, a, checkoutExperiment)
	long := strings.Repeat("x", 201)
	tests := []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"a body that is not JSON is a parse error", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":`, 400, "PARSE_ERROR"},
		{"an empty body is a parse error", "/ofrep/v1/evaluate/flags/one-page-checkout", ``, 400, "PARSE_ERROR"},
		{"a missing context is invalid", "/ofrep/v1/evaluate/flags/one-page-checkout", `{}`, 400, "INVALID_CONTEXT"},
		{"a context that is not an object is invalid", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":"u-1"}`, 400, "INVALID_CONTEXT"},
		{"a context without targetingKey says so", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"device":"mobile"}}`, 400, "TARGETING_KEY_MISSING"},
		{"an empty targetingKey is missing", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":""}}`, 400, "TARGETING_KEY_MISSING"},
		{"a targetingKey that is not a string is invalid", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":42}}`, 400, "INVALID_CONTEXT"},
		{"a targetingKey over 200 bytes is invalid", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"` + long + `"}}`, 400, "INVALID_CONTEXT"},
		{"a nested object attribute is invalid", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"u","cart":{"items":2}}}`, 400, "INVALID_CONTEXT"},
		{"an unknown key is not found", "/ofrep/v1/evaluate/flags/no-such-flag", `{"context":{"targetingKey":"u"}}`, 404, "FLAG_NOT_FOUND"},
		{"bulk: a body that is not JSON is a parse error", "/ofrep/v1/evaluate/flags", `[`, 400, "PARSE_ERROR"},
		{"bulk: a context without targetingKey says so", "/ofrep/v1/evaluate/flags", `{"context":{}}`, 400, "TARGETING_KEY_MISSING"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := must(t, a, tt.status, "POST", tt.path, tt.body)
			if r.body["errorCode"] != tt.code {
				t.Fatalf("errorCode %v, want %s: %s", r.body["errorCode"], tt.code, r.raw)
			}
			if d, _ := r.body["errorDetails"].(string); d == "" {
				t.Fatalf("no errorDetails: %s", r.raw)
			}
			if strings.HasSuffix(tt.path, "one-page-checkout") && r.body["key"] != "one-page-checkout" {
				t.Fatalf("key %v, want the flag's key", r.body["key"])
			}
		})
	}
}

func TestOFREPBulkEvaluation(t *testing.T) {
	a := newApp(t)
	launchJSON(t, a, checkoutExperiment)
	launchJSON(t, a, galleryExperiment)
	ctx := `{"context":{"targetingKey":"visitor-7","device":"mobile"}}`

	t.Run("every running experiment is a flag, with the assign variant", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags", ctx)
		as := must(t, a, 200, "POST", "/v1/assign", `{"unit_id":"visitor-7","attributes":{"device":"mobile"}}`)
		flags := r.body["flags"].([]any)
		if len(flags) != 2 {
			t.Fatalf("%d flags, want 2: %s", len(flags), r.raw)
		}
		for _, f := range flags {
			m := f.(map[string]any)
			key := m["key"].(string)
			want := assignVariant(t, as, key)
			if got, _ := m["variant"].(string); got != want {
				t.Fatalf("%s: variant %q, /v1/assign %q", key, got, want)
			}
		}
	})
	t.Run("a touchpoint in the context narrows the flags", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"visitor-7","touchpoint":"product-page"}}`)
		flags := r.body["flags"].([]any)
		if len(flags) != 1 || flags[0].(map[string]any)["key"] != "gallery" {
			t.Fatalf("flags %s, want only gallery", r.raw)
		}
	})
	t.Run("If-None-Match with the ETag answers 304 until the answer changes", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags", ctx)
		etag := r.header.Get("ETag")
		if len(etag) < 3 || etag[0] != '"' {
			t.Fatalf("ETag %q, want a quoted strong tag", etag)
		}
		nm := must(t, a, 304, "POST", "/ofrep/v1/evaluate/flags", ctx, "If-None-Match", etag)
		if len(nm.raw) != 0 {
			t.Fatalf("304 with a body: %s", nm.raw)
		}
		// Another unit's answer differs: the tag is of the answer, not the config.
		other := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"visitor-8","device":"desktop"}}`, "If-None-Match", etag)
		if other.header.Get("ETag") == etag {
			t.Fatal("two different answers share an ETag")
		}
		// Pausing an experiment changes the answer.
		must(t, a, 200, "POST", "/v1/experiments/gallery/pause", "")
		refresh(t, a)
		after := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags", ctx, "If-None-Match", etag)
		if got := len(after.body["flags"].([]any)); got != 1 {
			t.Fatalf("%d flags after pausing gallery, want 1", got)
		}
	})
}

func TestOFREPRecordsExposuresOnlyWhenAsked(t *testing.T) {
	a := newApp(t)
	launchJSON(t, a, checkoutExperiment)
	launchJSON(t, a, `{"key":"checkout-copy","name":"Copy","stage":"checkout","touchpoint":"checkout",
	 "variants":[{"key":"control","weight":1},{"key":"short","weight":1}],"control":"control","goal_metrics":["conversion"]}`)
	for i := range 50 {
		body := `{"context":{"targetingKey":"bulk-` + strconv.Itoa(i) + `"}}`
		must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags", body)
		must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"single-`+strconv.Itoa(i)+`"}}`)
		must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"single-`+strconv.Itoa(i)+`"}}`, "X-Journeylab-Expose", "false")
	}
	if got := exposures(t, a, "one-page-checkout"); len(got) != 0 {
		t.Fatalf("evaluations without the expose header recorded %d exposures", len(got))
	}
	want := map[string]string{}
	for i := range 50 {
		unit := "shown-" + strconv.Itoa(i)
		r := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"`+unit+`"}}`, "X-Journeylab-Expose", "true")
		if v, _ := r.body["variant"].(string); v != "" {
			want[unit] = v
		}
	}
	must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags/one-page-checkout", `{"context":{"targetingKey":"qa-tester"}}`, "X-Journeylab-Expose", "true")
	got := exposures(t, a, "one-page-checkout")
	if len(got) != len(want) {
		t.Fatalf("%d exposures recorded, want %d (one per unit in the experiment; none for the QA override)", len(got), len(want))
	}
	for u, v := range want {
		if got[u] != v {
			t.Fatalf("%s recorded with %q, evaluated as %q", u, got[u], v)
		}
	}
	if other := exposures(t, a, "checkout-copy"); len(other) != 0 {
		t.Fatalf("evaluating one flag recorded %d exposures of another experiment on its touchpoint", len(other))
	}
}

func TestOFREPScopesAndRateLimit(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.DevMode, c.RateLimit = false, 1000 })
	launch := func() {
		admin := newKey(t, a, auth.ScopeAdmin)
		must(t, a, 201, "POST", "/v1/experiments", checkoutExperiment, "Authorization", "Bearer "+admin)
		must(t, a, 200, "POST", "/v1/experiments/one-page-checkout/launch", "", "Authorization", "Bearer "+admin)
		refresh(t, a)
	}
	launch()
	sdk, read := newKey(t, a, auth.ScopeSDK), newKey(t, a, auth.ScopeRead)
	body := `{"context":{"targetingKey":"u-1"}}`
	for _, path := range []string{"/ofrep/v1/evaluate/flags/one-page-checkout", "/ofrep/v1/evaluate/flags"} {
		t.Run(path+" needs a key", func(t *testing.T) {
			must(t, a, 401, "POST", path, body)
			must(t, a, 401, "POST", path, body, "Authorization", "Bearer jl_nope")
		})
		t.Run(path+" needs the sdk scope", func(t *testing.T) {
			must(t, a, 403, "POST", path, body, "X-API-Key", read)
			must(t, a, 200, "POST", path, body, "X-API-Key", sdk)
		})
	}
	t.Run("over the rate limit is 429 with Retry-After", func(t *testing.T) {
		var last reply
		for range 1100 {
			last = send(t, a, "POST", "/ofrep/v1/evaluate/flags", body, "X-API-Key", sdk)
			if last.status == 429 {
				break
			}
		}
		if last.status != 429 {
			t.Fatalf("1100 requests within a second were not limited (last status %d)", last.status)
		}
		if s, err := strconv.Atoi(last.header.Get("Retry-After")); err != nil || s < 0 || s > 1 {
			t.Fatalf("Retry-After %q, want 0 or 1 seconds", last.header.Get("Retry-After"))
		}
	})
}

func TestCORSPreflightIsCached(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.CORSOrigins = []string{"https://shop.example"} })
	r := must(t, a, 204, "OPTIONS", "/ofrep/v1/evaluate/flags", "",
		"Origin", "https://shop.example", "Access-Control-Request-Method", "POST",
		"Access-Control-Request-Headers", "content-type, authorization, if-none-match")
	if got := r.header.Get("Access-Control-Max-Age"); got != "7200" {
		t.Fatalf("Access-Control-Max-Age %q, want 7200", got)
	}
	if got := r.header.Get("Access-Control-Allow-Origin"); got != "https://shop.example" {
		t.Fatalf("Access-Control-Allow-Origin %q", got)
	}
	for _, h := range []string{"If-None-Match", "X-Journeylab-Expose", "Authorization"} {
		if !strings.Contains(strings.ToLower(r.header.Get("Access-Control-Allow-Headers")), strings.ToLower(h)) {
			t.Fatalf("Access-Control-Allow-Headers %q lacks %s", r.header.Get("Access-Control-Allow-Headers"), h)
		}
	}
	launchJSON(t, a, checkoutExperiment)
	got := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"u"}}`, "Origin", "https://shop.example")
	if !strings.Contains(got.header.Get("Access-Control-Expose-Headers"), "ETag") {
		t.Fatalf("Access-Control-Expose-Headers %q lacks ETag: browser code could not revalidate", got.header.Get("Access-Control-Expose-Headers"))
	}
}

func TestOFREPValueIsThePayloadOrTheVariantKey(t *testing.T) {
	a := newApp(t)
	launchJSON(t, a, `{"key":"copy","name":"Copy","stage":"checkout","touchpoint":"checkout",
	 "variants":[{"key":"control","weight":1},{"key":"short","weight":1}],"control":"control","goal_metrics":["conversion"]}`)
	launchJSON(t, a, checkoutExperiment)
	tests := []struct {
		name, flag, unit, wantVariant, wantValue string
	}{
		{"without payloads, the value is the variant key", "copy", "u-1", "", "key"},
		{"a variant with a payload has it as its value", "one-page-checkout", "", "one-page", `{"steps":1}`},
		{"beside variants with payloads, one without has no value", "one-page-checkout", "", "control", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for i := range 200 {
				unit := tt.unit
				if unit == "" {
					unit = "v-" + strconv.Itoa(i)
				}
				r := must(t, a, 200, "POST", "/ofrep/v1/evaluate/flags/"+tt.flag, `{"context":{"targetingKey":"`+unit+`"}}`)
				var ev struct {
					Variant string          `json:"variant"`
					Value   json.RawMessage `json:"value"`
					Reason  string          `json:"reason"`
				}
				if err := json.Unmarshal(r.raw, &ev); err != nil {
					t.Fatal(err)
				}
				if ev.Reason != "SPLIT" || (tt.wantVariant != "" && ev.Variant != tt.wantVariant) {
					continue
				}
				want := tt.wantValue
				if want == "key" {
					want = `"` + ev.Variant + `"`
				}
				if string(ev.Value) != want {
					t.Fatalf("%s got %s: value %s, want %s", unit, ev.Variant, ev.Value, want)
				}
				return
			}
			t.Fatal("no unit got the variant")
		})
	}
}
