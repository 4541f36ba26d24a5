package app

import (
	"context"
	"strings"
	"testing"
	"time"
)

// assignedTo returns the experiments a unit with attrs is assigned to on
// the touchpoint.
func assignedTo(t *testing.T, a *App, unit, touchpoint, attrs string) []string {
	t.Helper()
	r := do(t, a, "POST", "/v1/assign", `{"unit_id":"`+unit+`","touchpoint":"`+touchpoint+`","attributes":`+attrs+`}`)
	if r.status != 200 {
		t.Fatalf("assign: %d %s", r.status, r.raw)
	}
	var out []string
	list, _ := r.body["assignments"].([]any)
	for _, x := range list {
		out = append(out, x.(map[string]any)["experiment"].(string))
	}
	return out
}

func TestPersonasOverHTTP(t *testing.T) {
	a := testApp(t, true)
	ctx := context.Background()
	sarah := `{"key":"sarah","name":"Sarah","description":"Worried about quality, sizes and returns",
	  "condition":{"returns_last_year":{"$gte":2},"segment":{"$in":["quality-seeker","size-unsure"]}}}`
	if r := do(t, a, "POST", "/v1/personas", sarah); r.status != 201 {
		t.Fatalf("create persona: %d %s", r.status, r.raw)
	}
	exp := `{"key":"fit-guide","name":"Fit guide for unsure shoppers","stage":"consideration","touchpoint":"pdp_size",
	  "variants":[{"key":"control","weight":1},{"key":"guide","weight":1}],"goal_metrics":["add_to_cart_rate"],
	  "targeting":{"country":"DE","$persona":"sarah"}}`
	if r := do(t, a, "POST", "/v1/experiments", exp); r.status != 201 {
		t.Fatalf("create experiment: %d %s", r.status, r.raw)
	}
	if r := do(t, a, "POST", "/v1/experiments/fit-guide/launch", ""); r.status != 200 {
		t.Fatalf("launch: %d %s", r.status, r.raw)
	}
	if _, err := a.Serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	matching := `{"country":"DE","returns_last_year":3,"segment":"size-unsure"}`
	other := `{"country":"DE","returns_last_year":0,"segment":"size-unsure"}`

	t.Run("a unit matching the persona and the rest of the condition is assigned", func(t *testing.T) {
		if got := assignedTo(t, a, "u-1", "pdp_size", matching); strings.Join(got, ",") != "fit-guide" {
			t.Fatalf("assigned to %v", got)
		}
		if got := assignedTo(t, a, "u-1", "pdp_size", other); len(got) != 0 {
			t.Fatalf("a unit outside the persona is assigned to %v", got)
		}
	})

	t.Run("the persona lists the experiments that use it", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/personas/sarah", "")
		if r.status != 200 || !strings.Contains(r.raw, `"used_by":["fit-guide"]`) || r.body["version"] != 1.0 {
			t.Fatalf("get: %d %s", r.status, r.raw)
		}
		if r := do(t, a, "GET", "/v1/personas", ""); !strings.Contains(r.raw, `"key":"sarah"`) {
			t.Fatalf("list: %s", r.raw)
		}
	})

	t.Run("a bad condition is refused with the path of the bad part", func(t *testing.T) {
		r := do(t, a, "PUT", "/v1/personas/sarah", `{"version":1,"condition":{"$or":[{"age":{"$gtx":30}}]}}`)
		if r.status != 400 || r.errField() != "condition.$or[0].age.$gtx" {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
		r = do(t, a, "POST", "/v1/personas", `{"key":"nested","condition":{"$persona":"sarah"}}`)
		if r.status != 400 || r.errField() != "condition.$persona" {
			t.Fatalf("a persona referencing a persona: %d %s", r.status, r.raw)
		}
	})

	t.Run("a referenced persona cannot be deleted", func(t *testing.T) {
		if r := do(t, a, "DELETE", "/v1/personas/sarah", ""); r.status != 409 {
			t.Fatalf("got %d %s", r.status, r.raw)
		}
	})

	t.Run("a persona change reaches the running experiment within the refresh interval", func(t *testing.T) {
		r := do(t, a, "PUT", "/v1/personas/sarah", `{"version":1,"name":"Sarah","condition":{"returns_last_year":{"$gte":0}}}`)
		if r.status != 200 || r.body["version"] != 2.0 {
			t.Fatalf("update: %d %s", r.status, r.raw)
		}
		// The app's poller refreshes every assign.refresh_interval (250 ms
		// by default); wait for it rather than calling Refresh.
		deadline := time.Now().Add(10 * time.Second)
		for len(assignedTo(t, a, "u-1", "pdp_size", other)) == 0 {
			if time.Now().After(deadline) {
				t.Fatal("the persona change did not reach assignment")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("every persona write is audited", func(t *testing.T) {
		r := do(t, a, "GET", "/v1/personas/sarah/audit", "")
		entries, _ := r.body["audit"].([]any)
		if r.status != 200 || len(entries) != 2 {
			t.Fatalf("audit: %d %s", r.status, r.raw)
		}
		second := entries[1].(map[string]any)
		if second["action"] != "update" || !strings.Contains(r.raw, `"field":"condition"`) {
			t.Fatalf("second entry %v", second)
		}
	})

	t.Run("an unused persona is deleted and its audit kept", func(t *testing.T) {
		if r := do(t, a, "POST", "/v1/personas", `{"key":"bargain-hunter","condition":{"coupon_user":true}}`); r.status != 201 {
			t.Fatalf("create: %d %s", r.status, r.raw)
		}
		if r := do(t, a, "DELETE", "/v1/personas/bargain-hunter", ""); r.status != 204 {
			t.Fatalf("delete: %d %s", r.status, r.raw)
		}
		if r := do(t, a, "GET", "/v1/personas/bargain-hunter", ""); r.status != 404 {
			t.Fatalf("get after delete: %d", r.status)
		}
		r := do(t, a, "GET", "/v1/personas/bargain-hunter/audit", "")
		if entries, _ := r.body["audit"].([]any); len(entries) != 2 {
			t.Fatalf("audit after delete: %s", r.raw)
		}
	})
}
