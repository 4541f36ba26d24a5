package events

import (
	"math"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func TestNormalize(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	at := func(d time.Duration) *time.Time { t := now.Add(d); return &t }
	many := map[string]any{}
	for i := 0; i <= MaxAttributes; i++ {
		many[strings.Repeat("k", i+1)] = "v"
	}
	cases := []struct {
		name      string
		ev        Event
		wantField string
	}{
		{"a minimal event is valid", Event{EventID: "e", UnitID: "u", Event: "add_to_cart"}, ""},
		{"a timestamp inside the allowed skew is valid", Event{EventID: "e", UnitID: "u", Event: "x", TS: at(4 * time.Minute)}, ""},
		{"a timestamp beyond the allowed skew is rejected", Event{EventID: "e", UnitID: "u", Event: "x", TS: at(6 * time.Minute)}, "ts"},
		{"a timestamp before 2000 is rejected", Event{EventID: "e", UnitID: "u", Event: "x", TS: &time.Time{}}, "ts"},
		{"a late timestamp is valid", Event{EventID: "e", UnitID: "u", Event: "x", TS: at(-30 * 24 * time.Hour)}, ""},
		{"a missing event id is rejected", Event{UnitID: "u", Event: "x"}, "event_id"},
		{"an event id over 200 characters is rejected", Event{EventID: strings.Repeat("e", 201), UnitID: "u", Event: "x"}, "event_id"},
		{"a unit id over 200 characters is rejected", Event{EventID: "e", UnitID: strings.Repeat("u", 201), Event: "x"}, "unit_id"},
		{"an invalid event name is rejected", Event{EventID: "e", UnitID: "u", Event: "add to cart"}, "event"},
		{"NaN is rejected", Event{EventID: "e", UnitID: "u", Event: "x", Value: f(math.NaN())}, "value"},
		{"infinity is rejected", Event{EventID: "e", UnitID: "u", Event: "x", Value: f(math.Inf(-1))}, "value"},
		{"a value beyond 1e15 is rejected", Event{EventID: "e", UnitID: "u", Event: "x", Value: f(2e15)}, "value"},
		{"a negative value is valid (refunds)", Event{EventID: "e", UnitID: "u", Event: "x", Value: f(-19.99)}, ""},
		{"more than 50 attributes are rejected", Event{EventID: "e", UnitID: "u", Event: "x", Attributes: many}, "attributes"},
		{"a nested attribute is rejected naming it", Event{EventID: "e", UnitID: "u", Event: "x", Attributes: map[string]any{"cart": map[string]any{}}}, "attributes.cart"},
		{"scalar attributes are valid", Event{EventID: "e", UnitID: "u", Event: "x", Attributes: map[string]any{"sku": "A", "qty": 2.0, "gift": true, "coupon": nil}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev := tc.ev
			err := Normalize(&ev, now, 5*time.Minute)
			if tc.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected rejection: %v", err)
				}
				if ev.Value == nil || ev.TS == nil {
					t.Fatalf("defaults not filled: %+v", ev)
				}
				return
			}
			if err == nil || err.Field != tc.wantField || err.Reason == "" {
				t.Fatalf("err = %v, want a rejection of %q with a reason", err, tc.wantField)
			}
		})
	}
}

func TestNormalizeFillsDefaults(t *testing.T) {
	ev := Event{EventID: "e", UnitID: "u", Event: "x"}
	if err := Normalize(&ev, now, 0); err != nil {
		t.Fatal(err)
	}
	if *ev.Value != 1 || !ev.TS.Equal(now) {
		t.Errorf("value %v ts %v, want 1 and the receive time", *ev.Value, *ev.TS)
	}
}
