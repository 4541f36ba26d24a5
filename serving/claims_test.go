package serving

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestExposureTiming(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "cta", overrides: map[string]string{"qa-anna": "v1"}})
	e.launch(t, spec{key: "gallery", touchpoint: "pdp_gallery"})
	s := e.start(t, Options{})
	srv := newHTTP(t, s)
	flush := func() {
		t.Helper()
		if err := s.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	variantOf := func(body []byte, exp string) string {
		t.Helper()
		var r assignResponse
		if err := json.Unmarshal(body, &r); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		for _, a := range r.Assignments {
			if a.Experiment == exp {
				return a.Variant
			}
		}
		t.Fatalf("no assignment of %s in %s", exp, body)
		return ""
	}
	// claim records the exposures of a POST /v1/exposures body.
	claim := func(body string) (int, ClaimsResponse) {
		t.Helper()
		var in struct{ Exposures []Claim }
		if err := json.Unmarshal([]byte(body), &in); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		a, err := s.RecordExposures(in.Exposures, 5*time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		code := 200
		if a.Rejected > 0 {
			code = 207
		}
		return code, a
	}

	t.Run("expose false answers the same variants and records nothing", func(t *testing.T) {
		_, quiet := post(t, srv, `{"unit_id":"quiet-1","touchpoint":"checkout_cta","expose":false}`)
		_, g := get(t, srv, "unit_id=quiet-2&touchpoint=checkout_cta&expose=false")
		_, loud := post(t, srv, `{"unit_id":"quiet-1","touchpoint":"checkout_cta","expose":false}`)
		flush()
		if _, ok := e.mem.get("cta", "quiet-1"); ok {
			t.Error("expose:false recorded an exposure")
		}
		if _, ok := e.mem.get("cta", "quiet-2"); ok {
			t.Error("GET expose=false recorded an exposure")
		}
		if string(quiet) != string(loud) || variantOf(g, "cta") == "" {
			t.Errorf("answers differ: %s / %s", quiet, loud)
		}
	})
	t.Run("a call without a touchpoint answers every experiment and exposes the visitor to none", func(t *testing.T) {
		code, body := post(t, srv, `{"unit_id":"spa-1"}`)
		var r assignResponse
		if err := json.Unmarshal(body, &r); err != nil || code != 200 || len(r.Assignments) != 2 {
			t.Fatalf("status %d, response %s", code, body)
		}
		flush()
		if _, ok := e.mem.get("cta", "spa-1"); ok {
			t.Error("a call without a touchpoint recorded an exposure to cta")
		}
		if _, ok := e.mem.get("gallery", "spa-1"); ok {
			t.Error("a call without a touchpoint recorded an exposure to gallery")
		}
	})
	t.Run("asking to record without a touchpoint is refused naming the field", func(t *testing.T) {
		code, body := post(t, srv, `{"unit_id":"spa-1","expose":true}`)
		var er errorResponse
		if json.Unmarshal(body, &er) != nil || code != 400 || er.Error.Field != "expose" || !strings.Contains(er.Error.Message, "/v1/exposures") {
			t.Fatalf("status %d, response %s", code, body)
		}
		for _, bad := range []string{`{"unit_id":"u","touchpoint":"x","expose":"yes"}`, `{"unit_id":"u","expose":1}`} {
			if code, body := post(t, srv, bad); code != 400 || !strings.Contains(string(body), `"field":"expose"`) {
				t.Errorf("%s: status %d, response %s", bad, code, body)
			}
		}
	})
	t.Run("a reported exposure of the unit's own variant is recorded once, at its time", func(t *testing.T) {
		_, body := post(t, srv, `{"unit_id":"spa-2","attributes":{"device":"mobile"}}`)
		v := variantOf(body, "gallery")
		ts := time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond)
		item := fmt.Sprintf(`{"experiment":"gallery","unit_id":"spa-2","variant":%q,"ts":%q,"attributes":{"device":"mobile"}}`, v, ts.Format(time.RFC3339Nano))
		code, a := claim(`{"exposures":[` + item + `,` + item + `]}`)
		if code != 200 || a.Accepted != 1 || a.Duplicates != 1 || a.Results[0].Status != "accepted" || a.Results[1].Status != "duplicate" {
			t.Fatalf("status %d, answer %+v", code, a)
		}
		flush()
		x, ok := e.mem.get("gallery", "spa-2")
		if !ok || x.Variant != v || !x.At.Equal(ts) || x.Attributes["device"] != "mobile" {
			t.Fatalf("stored %+v (found %v), want variant %s at %s with the attributes", x, ok, v, ts)
		}
		if code, a := claim(`{"exposures":[` + item + `]}`); code != 200 || a.Duplicates != 1 {
			t.Errorf("a later repeat: status %d, answer %+v", code, a)
		}
	})
	t.Run("claims the server would not make are rejected one by one with the reason", func(t *testing.T) {
		_, body := post(t, srv, `{"unit_id":"spa-3","expose":false}`)
		other := map[string]string{"v0": "v1", "v1": "v0"}[variantOf(body, "cta")]
		future := time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
		code, a := claim(`{"exposures":[
			{"experiment":"cta","unit_id":"spa-3","variant":"` + other + `"},
			{"experiment":"nope","unit_id":"spa-3","variant":"v0"},
			{"experiment":"cta","unit_id":"qa-anna","variant":"v1"},
			{"experiment":"cta","unit_id":"spa-3","variant":"v0","ts":"` + future + `"},
			{"experiment":"cta","unit_id":"","variant":"v0"}]}`)
		if code != 207 || a.Rejected != 5 || a.Accepted != 0 {
			t.Fatalf("status %d, answer %+v", code, a)
		}
		want := []struct{ field, reason string }{
			{"exposures[0].variant", "is assigned variant"},
			{"exposures[1].experiment", "no running experiment"},
			{"exposures[2].unit_id", "QA override"},
			{"exposures[3].ts", "ahead of the server clock"},
			{"exposures[4].unit_id", "required"},
		}
		for i, w := range want {
			if r := a.Results[i]; r.Status != "rejected" || r.Field != w.field || !strings.Contains(r.Reason, w.reason) {
				t.Errorf("result %d = %+v, want %s rejected for %q", i, r, w.field, w.reason)
			}
		}
		flush()
		if _, ok := e.mem.get("cta", "spa-3"); ok {
			t.Error("a rejected claim was recorded")
		}
		if _, ok := e.mem.get("cta", "qa-anna"); ok {
			t.Error("a QA override was recorded")
		}
	})
}
