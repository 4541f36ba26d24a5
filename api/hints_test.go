package api_test

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestASingleObjectSentWhereAListGoesIsToldToWrapIt(t *testing.T) {
	a := newApp(t)
	for _, tc := range []struct{ name, path, body, field, hint string }{
		{"one event posted to /v1/events", "/v1/events", `{"event_id":"o-1","unit_id":"visitor-42","event":"order_completed","value":59.9}`, "events", `{"events": [`},
		{"one exposure posted to /v1/exposures", "/v1/exposures", `{"experiment":"cta","unit_id":"u","variant":"control"}`, "exposures", `{"exposures": [`},
	} {
		t.Run(tc.name+" gets a 400 saying how to wrap it", func(t *testing.T) {
			code, body := do(t, a, "POST", tc.path, tc.body)
			var e errorBody
			if json.Unmarshal([]byte(body), &e) != nil || code != 400 || e.Error.Field != tc.field || !strings.Contains(e.Error.Message, tc.hint) {
				t.Fatalf("status %d, %s; want 400 on %q with the hint %s", code, body, tc.field, tc.hint)
			}
		})
	}
}
