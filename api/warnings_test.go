package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/journeylab/journeylab/experiment"
)

// warningsOf returns the "warnings" member of a JSON body, re-encoded.
func warningsOf(t *testing.T, raw []byte) string {
	t.Helper()
	var body struct {
		Warnings json.RawMessage `json:"warnings"`
	}
	if err := json.Unmarshal(raw, &body); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	return string(body.Warnings)
}

func TestTyposInTouchpointsAndDimensionsAreAnsweredWithAWarning(t *testing.T) {
	a := newApp(t)
	launch(t, a, &experiment.Experiment{Key: "one-page-checkout", Name: "One page", Touchpoint: "checkout_flow", GoalMetrics: []string{"conversion"}})
	for i := range 10 {
		must(t, a, 200, "POST", "/v1/assign", fmt.Sprintf(`{"unit_id":"u%d","touchpoint":"checkout_flow","attributes":{"device":"mobile"}}`, i))
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	const touchpointWarning = `[{"code":"unknown_touchpoint","touchpoint":"chekout_flow","message":"no experiment uses the touchpoint \"chekout_flow\"","hint":"did you mean checkout_flow?"}]`
	const dimensionWarning = `[{"code":"unknown_dimension","dimension":"devise","message":"no exposed unit has the attribute \"devise\", so every unit is under \"(none)\"","hint":"attributes are recorded at a unit's first exposure, from those sent to /v1/assign and kept by privacy.attributes; check the name's spelling and case"}]`
	cases := []struct {
		name, method, path, body string
		warnings                 string
	}{
		{"assign on a misspelt touchpoint", "POST", "/v1/assign", `{"unit_id":"u1","touchpoint":"chekout_flow"}`, touchpointWarning},
		{"assign over GET on a misspelt touchpoint", "GET", "/v1/assign?unit_id=u1&touchpoint=chekout_flow", "", touchpointWarning},
		{"assign on the right touchpoint", "POST", "/v1/assign", `{"unit_id":"u1","touchpoint":"checkout_flow"}`, ""},
		{"assign on every touchpoint", "POST", "/v1/assign", `{"unit_id":"u1","expose":false}`, ""},
		{"listing experiments of a misspelt touchpoint", "GET", "/v1/experiments?touchpoint=chekout_flow", "", touchpointWarning},
		{"listing experiments of a known touchpoint with none in that status", "GET", "/v1/experiments?touchpoint=checkout_flow&status=paused", "", ""},
		{"a breakdown by an attribute no unit has", "GET", "/v1/experiments/one-page-checkout/report?dimension=devise", "", dimensionWarning},
		{"a breakdown by a recorded attribute", "GET", "/v1/experiments/one-page-checkout/report?dimension=device", "", ""},
	}
	for _, tc := range cases {
		t.Run("answers "+tc.name+" as usual", func(t *testing.T) {
			r := must(t, a, 200, tc.method, tc.path, tc.body)
			if got := warningsOf(t, r.raw); got != tc.warnings {
				t.Fatalf("warnings %s\nwant %s", got, tc.warnings)
			}
		})
	}
	t.Run("the CSV report carries the warning in a header", func(t *testing.T) {
		r := must(t, a, 200, "GET", "/v1/experiments/one-page-checkout/report?dimension=devise&format=csv", "")
		want := `unknown_dimension: no exposed unit has the attribute "devise", so every unit is under "(none)"`
		if got := r.header.Get("X-Journeylab-Warning"); got != want {
			t.Fatalf("header %q, want %q", got, want)
		}
	})
	t.Run("the assignment itself is unchanged by a warning", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/v1/assign", `{"unit_id":"u1","touchpoint":"chekout_flow"}`)
		if r.body["unit_id"] != "u1" || len(r.body["assignments"].([]any)) != 0 {
			t.Fatalf("%s", r.raw)
		}
	})
}
