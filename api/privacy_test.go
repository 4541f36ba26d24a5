package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/experiment"
)

func TestEraseRoutes(t *testing.T) {
	a := newApp(t)
	launch(t, a, &experiment.Experiment{Key: "erase-me", Name: "Erase", Touchpoint: "checkout_flow", GoalMetrics: []string{"conversion"}})
	for i := range 4 {
		if code, body := do(t, a, "POST", "/v1/assign", fmt.Sprintf(`{"unit_id":"cust/%d","touchpoint":"checkout_flow"}`, i)); code != 200 {
			t.Fatalf("assign: %d %s", code, body)
		}
		if code, body := do(t, a, "POST", "/v1/events", fmt.Sprintf(`{"events":[{"event_id":"o%d","unit_id":"cust/%d","event":"order_completed","value":5}]}`, i, i)); code != 200 {
			t.Fatalf("events: %d %s", code, body)
		}
	}
	erased := func(t *testing.T, r reply) map[string]any {
		t.Helper()
		e, ok := r.body["erased"].(map[string]any)
		if !ok {
			t.Fatalf("no erased object: %s", r.raw)
		}
		return e
	}
	t.Run("DELETE erases one unit, journaled records included, and says what it removed", func(t *testing.T) {
		e := erased(t, must(t, a, 200, "DELETE", "/v1/units/cust%2F0", ""))
		if e["units"] != 1.0 || e["exposures"] != 1.0 || e["events"] != 1.0 || e["rollups"] == 0.0 {
			t.Errorf("erased %v, want 1 unit, 1 exposure, 1 event, some rollups", e)
		}
	})
	t.Run("erasing again removes nothing and still succeeds", func(t *testing.T) {
		e := erased(t, must(t, a, 200, "DELETE", "/v1/units/cust%2F0", ""))
		if e["units"] != 1.0 || e["exposures"] != 0.0 || e["events"] != 0.0 || e["rollups"] != 0.0 {
			t.Errorf("erased %v, want nothing but the unit counted", e)
		}
	})
	t.Run("the batch form erases several units, duplicates once", func(t *testing.T) {
		e := erased(t, must(t, a, 200, "POST", "/v1/units/erase", `{"unit_ids":["cust/1","cust/2","cust/1","never-seen"]}`))
		if e["units"] != 3.0 || e["exposures"] != 2.0 || e["events"] != 2.0 {
			t.Errorf("erased %v, want 3 units, 2 exposures, 2 events", e)
		}
	})
	t.Run("records of an erased unit that arrive later are kept out", func(t *testing.T) {
		for _, unit := range []string{"cust/0", "cust/9"} {
			if code, body := do(t, a, "POST", "/v1/assign", fmt.Sprintf(`{"unit_id":%q,"touchpoint":"checkout_flow"}`, unit)); code != 200 {
				t.Fatalf("assign: %d %s", code, body)
			}
			if code, body := do(t, a, "POST", "/v1/events", fmt.Sprintf(`{"events":[{"event_id":"late","unit_id":%q,"event":"order_completed","value":5}]}`, unit)); code != 200 {
				t.Fatalf("events: %d %s", code, body)
			}
		}
		if err := a.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		if e := erased(t, must(t, a, 200, "DELETE", "/v1/units/cust%2F0", "")); e["exposures"] != 0.0 || e["events"] != 0.0 {
			t.Errorf("erased unit: %v stored after its erasure, want nothing", e)
		}
		if e := erased(t, must(t, a, 200, "DELETE", "/v1/units/cust%2F9", "")); e["exposures"] != 1.0 || e["events"] != 1.0 {
			t.Errorf("other unit: %v stored, want its exposure and event", e)
		}
	})
	t.Run("the report counts only the unit left", func(t *testing.T) {
		r := must(t, a, 200, "GET", "/v1/experiments/erase-me/report", "")
		if !strings.Contains(string(r.raw), `"df":0,"units":1,"arms"`) {
			t.Errorf("report does not show a single unit left: %.600s", r.raw)
		}
	})
	t.Run("bad requests name the field", func(t *testing.T) {
		many, _ := json.Marshal(map[string]any{"unit_ids": make([]string, 1001)})
		for _, tc := range []struct{ body, field string }{
			{`{"unit_ids":[]}`, "unit_ids"},
			{`{}`, "unit_ids"},
			{`{"unit_ids":[""]}`, "unit_ids[0]"},
			{`{"unit_ids":["` + strings.Repeat("x", 257) + `"]}`, "unit_ids[0]"},
			{string(many), "unit_ids"},
		} {
			code, body := do(t, a, "POST", "/v1/units/erase", tc.body)
			var e errorBody
			if json.Unmarshal([]byte(body), &e) != nil || code != 400 || e.Error.Field != tc.field {
				t.Errorf("%.60s: status %d, %s; want 400 naming %q", tc.body, code, body, tc.field)
			}
		}
	})
}

func TestAttributeAllowList(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.PrivacyAttributes = []string{"device"} })
	launch(t, a, &experiment.Experiment{Key: "minimal", Name: "Minimal", Touchpoint: "checkout_flow", GoalMetrics: []string{"conversion"},
		Targeting: assign.Condition(`{"email": {"$exists": true}}`)})
	for i := range 4 {
		body := fmt.Sprintf(`{"unit_id":"u%d","touchpoint":"checkout_flow","attributes":{"device":"mobile","email":"u%d@example.com"}}`, i, i)
		code, resp := do(t, a, "POST", "/v1/assign", body)
		if code != 200 || !strings.Contains(resp, `"minimal"`) {
			t.Fatalf("assign: %d %s (targeting must still see email)", code, resp)
		}
	}
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dim, want, not string }{
		{"device", `"segments":[{"value":"mobile"`, ""},
		{"email", `"segments":[{"value":"(none)"`, "example.com"},
	} {
		r := must(t, a, 200, "GET", "/v1/experiments/minimal/report?dimension="+tc.dim, "")
		if !strings.Contains(string(r.raw), tc.want) || (tc.not != "" && strings.Contains(string(r.raw), tc.not)) {
			t.Errorf("report by %s: want %s and no %q: %s", tc.dim, tc.want, tc.not, r.raw)
		}
	}
}
