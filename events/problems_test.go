package events_test

import (
	"fmt"
	"testing"

	"github.com/journeylab/journeylab/events"
)

func TestABadEventListsEveryProblemAndTheGoodOnesAreStored(t *testing.T) {
	a := newApp(t, true)
	cases := []struct {
		name   string
		batch  string
		status int
		want   []events.Result
	}{
		{"an event with four mistakes between two good ones", `{"events":[
			{"event_id":"ok-1","unit_id":"u1","event":"add_to_cart"},
			{"event_id":"","unit_id":"u1","event":"add to cart","value":1e16,"ts":"2031-01-01T00:00:00Z"},
			{"event_id":"ok-2","unit_id":"u2","event":"order_completed","value":20}]}`, 207, []events.Result{
			{Index: 0, EventID: "ok-1", Status: events.StatusAccepted},
			{Index: 1, Status: events.StatusRejected, Reason: "required, 1 to 200 characters", Field: "events[1].event_id", Errors: []events.Problem{
				{Field: "events[1].event_id", Message: "required, 1 to 200 characters"},
				{Field: "events[1].event", Message: "required; letters, digits, '_', ':' and '-', starting with a letter or digit, at most 100 characters"},
				{Field: "events[1].value", Message: "must be a finite number between -1e+15 and 1e+15"},
				{Field: "events[1].ts", Message: "2031-01-01T00:00:00Z is more than 5m0s ahead of the server clock (2026-11-23T12:00:00Z); check the sender's clock"},
			}},
			{Index: 2, EventID: "ok-2", Status: events.StatusAccepted},
		}},
		{"an unreadable ts and a missing unit, the ts first", `{"events":[
			{"event_id":"t-1","unit_id":"","event":"add_to_cart","ts":"yesterday"}]}`, 207, []events.Result{
			{Index: 0, EventID: "t-1", Status: events.StatusRejected, Reason: `must be an RFC 3339 time such as 2025-03-01T12:00:00Z, got "yesterday"`, Field: "events[0].ts", Errors: []events.Problem{
				{Field: "events[0].ts", Message: `must be an RFC 3339 time such as 2025-03-01T12:00:00Z, got "yesterday"`},
				{Field: "events[0].unit_id", Message: "required, 1 to 200 characters"},
			}},
		}},
		{"bad attributes, in name order", `{"events":[
			{"event_id":"a-1","unit_id":"u3","event":"add_to_cart","attributes":{"z":{"nested":true},"a":[1],"sku":"A-1"}}]}`, 207, []events.Result{
			{Index: 0, EventID: "a-1", Status: events.StatusRejected, Reason: "must be a string, number, boolean or null", Field: "events[0].attributes.a", Errors: []events.Problem{
				{Field: "events[0].attributes.a", Message: "must be a string, number, boolean or null"},
				{Field: "events[0].attributes.z", Message: "must be a string, number, boolean or null"},
			}},
		}},
	}
	for _, tc := range cases {
		t.Run("reports "+tc.name, func(t *testing.T) {
			status, resp, _ := post(t, a, tc.batch)
			if status != tc.status {
				t.Fatalf("status %d, want %d", status, tc.status)
			}
			if got, want := fmt.Sprintf("%+v", resp.Results), fmt.Sprintf("%+v", tc.want); got != want {
				t.Fatalf("results\n%s\nwant\n%s", got, want)
			}
		})
	}
}
