package api_test

import (
	"encoding/json"
	"testing"
)

func TestUnknownEventNamesAreAcceptedWithAWarningAndListed(t *testing.T) {
	a := newApp(t)
	batch := `{"events":[
		{"event_id":"e-1","unit_id":"visitor-42","event":"add_to_krat"},
		{"event_id":"e-2","unit_id":"visitor-42","event":"add_to_cart"},
		{"event_id":"e-3","unit_id":"visitor-43","event":"add_to_krat"},
		{"event_id":"e-4","unit_id":"visitor-44","event":"add_to_krat"}]}`
	r := must(t, a, 200, "POST", "/v1/events", batch)
	var resp struct {
		Accepted int
		Warnings []map[string]any
	}
	if err := json.Unmarshal(r.raw, &resp); err != nil {
		t.Fatal(err)
	}
	want := `[{"code":"unknown_event","count":3,"event":"add_to_krat","hint":"did you mean add_to_cart?","message":"no metric uses the event \"add_to_krat\"; it is stored, and a metric defined on it later will count it"}]`
	if got, _ := json.Marshal(resp.Warnings); resp.Accepted != 4 || string(got) != want {
		t.Fatalf("accepted %d, warnings %s; want 4 and %s", resp.Accepted, got, want)
	}
	t.Run("a retried batch warns again but is not counted twice", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/v1/events", batch)
		if err := json.Unmarshal(r.raw, &resp); err != nil || len(resp.Warnings) != 1 {
			t.Fatalf("retry: %s", r.raw)
		}
	})
	t.Run("the list has the name, its count and the suggestion", func(t *testing.T) {
		r := must(t, a, 200, "GET", "/v1/events/unknown", "")
		var list struct {
			UnknownEvents []struct {
				Name, Suggestion    string
				Count               int
				FirstSeen, LastSeen string `json:"-"`
			} `json:"unknown_events"`
		}
		if err := json.Unmarshal(r.raw, &list); err != nil {
			t.Fatal(err)
		}
		if len(list.UnknownEvents) != 1 || list.UnknownEvents[0].Name != "add_to_krat" || list.UnknownEvents[0].Count != 3 ||
			list.UnknownEvents[0].Suggestion != "add_to_cart" {
			t.Fatalf("list: %s", r.raw)
		}
	})
	t.Run("a batch of known names has no warnings member", func(t *testing.T) {
		r := must(t, a, 200, "POST", "/v1/events", `{"events":[{"event_id":"e-9","unit_id":"visitor-42","event":"order_completed","value":20}]}`)
		if _, ok := r.body["warnings"]; ok {
			t.Fatalf("warnings for known names: %s", r.raw)
		}
	})
	t.Run("a bad limit is refused", func(t *testing.T) {
		r := must(t, a, 400, "GET", "/v1/events/unknown?limit=5000", "")
		if r.body["error"].(map[string]any)["field"] != "limit" {
			t.Fatalf("%s", r.raw)
		}
	})
}
