package events

import (
	"errors"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/experiment"
)

func TestASingleEventSentAloneIsToldToWrapItInABatch(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		hint       bool
	}{
		{"an event object on its own gets the hint", `{"event_id":"o-1","unit_id":"visitor-42","event":"order_completed","value":59.9}`, true},
		{"an event without an id gets the hint too", `{"unit_id":"visitor-42","event":"order_completed"}`, true},
		{"an unrelated object gets the plain unknown-field error", `{"evnts":[]}`, false},
		{"a top-level array gets no hint", `[{"unit_id":"u"}]`, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeBatch([]byte(tc.body), 10)
			if err == nil {
				t.Fatal("want a batch error")
			}
			var ve *experiment.ValidationError
			gotHint := errors.As(err, &ve) && ve.Field == "events" && strings.Contains(ve.Message, `{"events": [`)
			if gotHint != tc.hint {
				t.Fatalf("err = %v, want the wrap-it hint: %v", err, tc.hint)
			}
		})
	}
}
