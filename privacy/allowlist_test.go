package privacy

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
)

type eventSink struct{ got []events.Event }

func (s *eventSink) AppendEvents(_ context.Context, _ time.Time, evs []events.Event) ([]bool, error) {
	s.got = append(s.got, evs...)
	return make([]bool, len(evs)), nil
}

func TestAllowList(t *testing.T) {
	for _, tc := range []struct {
		name  string
		names []string
		want  map[string]any
	}{
		{"* keeps every attribute", []string{"*"}, map[string]any{"device": "mobile", "email": "a@example.com"}},
		{"a list keeps only the names on it", []string{"device", "channel"}, map[string]any{"device": "mobile"}},
		{"an empty list keeps none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sink := &eventSink{}
			m := Events{Next: sink, Allow: NewAllowList(tc.names)}
			evs := []events.Event{{EventID: "e1", UnitID: "u1", Event: "order_completed", Attributes: map[string]any{"device": "mobile", "email": "a@example.com"}}}
			if _, err := m.AppendEvents(context.Background(), time.Time{}, evs); err != nil {
				t.Fatal(err)
			}
			if got := sink.got[0].Attributes; !reflect.DeepEqual(got, tc.want) {
				t.Errorf("stored attributes %v, want %v", got, tc.want)
			}
			for _, n := range []string{"device", "email"} {
				if NewAllowList(tc.names).Allows(n) != (tc.want[n] != nil) {
					t.Errorf("Allows(%q) = %v", n, !(tc.want[n] != nil))
				}
			}
		})
	}
}
