package events

import (
	"encoding/json"

	"github.com/journeylab/journeylab/experiment"
)

// singleEventError recognises the most common first mistake, one event sent
// on its own instead of in a batch, and says how to wrap it. It returns nil
// for any other body.
func singleEventError(body []byte) error {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return nil
	}
	if _, ok := top["events"]; ok {
		return nil
	}
	_, hasUnit := top["unit_id"]
	_, hasEvent := top["event"]
	_, hasID := top["event_id"]
	if !hasUnit && !hasEvent && !hasID {
		return nil
	}
	return &experiment.ValidationError{Field: "events", Message: `this is one event on its own: send it in a batch, {"events": [{"event_id": ..., "unit_id": ..., "event": ...}]}`}
}
