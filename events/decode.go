package events

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

// Item is one element of a decoded batch: the event, or why it could not be
// decoded (Err's field is relative to the event).
type Item struct {
	Event Event
	Err   *FieldError
}

// wireEvent is the JSON form of Event; ts stays a string so that a bad
// timestamp is that event's rejection with a clear reason, not a body error.
type wireEvent struct {
	EventID    string         `json:"event_id"`
	UnitID     string         `json:"unit_id"`
	Event      string         `json:"event"`
	Value      *float64       `json:"value"`
	TS         *string        `json:"ts"`
	Attributes map[string]any `json:"attributes"`
}

// DecodeBatch parses a request body {"events":[...]} of 1 to maxBatch events.
// A malformed body, a missing, empty or oversized list is an error for the
// whole batch (*jsonbody.Error or *experiment.ValidationError, both 400).
// Each element is decoded on its own, strictly, so that one bad element
// rejects only that event.
func DecodeBatch(body []byte, maxBatch int) ([]Item, error) {
	// Fast path: a batch whose every element is well-typed decodes in one
	// pass. Anything else takes the slow path, which finds out which
	// elements are wrong.
	var fast struct {
		Events []wireEvent `json:"events"`
	}
	if jsonbody.Decode(body, &fast) == nil && len(fast.Events) > 0 && len(fast.Events) <= maxBatch {
		items := make([]Item, len(fast.Events))
		for i := range fast.Events {
			items[i] = fromWire(&fast.Events[i])
		}
		return items, nil
	}
	var req struct {
		Events []json.RawMessage `json:"events"`
	}
	// Each element's names and text are checked when it is decoded, so that
	// a repeated field or an id that is not UTF-8 rejects only its event.
	if err := jsonbody.DecodeTop(body, &req); err != nil {
		if hint := singleEventError(body); hint != nil {
			return nil, hint
		}
		return nil, err
	}
	switch {
	case req.Events == nil:
		return nil, &experiment.ValidationError{Field: "events", Message: `required: send {"events":[...]}`}
	case len(req.Events) == 0:
		return nil, &experiment.ValidationError{Field: "events", Message: "the batch is empty"}
	case len(req.Events) > maxBatch:
		return nil, &experiment.ValidationError{Field: "events", Message: fmt.Sprintf("at most %d events per batch, got %d; split the batch", maxBatch, len(req.Events))}
	}
	items := make([]Item, len(req.Events))
	for i, raw := range req.Events {
		items[i] = decodeEvent(raw)
	}
	return items, nil
}

func decodeEvent(raw json.RawMessage) Item {
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return Item{Err: &FieldError{Reason: "each event must be a JSON object"}}
	}
	var w wireEvent
	if err := jsonbody.Decode(raw, &w); err != nil {
		var je *jsonbody.Error
		if errors.As(err, &je) {
			return Item{Event: Event{EventID: w.EventID}, Err: &FieldError{Field: je.Field, Reason: je.Message}}
		}
		return Item{Event: Event{EventID: w.EventID}, Err: &FieldError{Reason: err.Error()}}
	}
	return fromWire(&w)
}

func fromWire(w *wireEvent) Item {
	ev := Event{EventID: w.EventID, UnitID: w.UnitID, Event: w.Event, Value: w.Value, Attributes: w.Attributes}
	if w.TS != nil {
		t, err := time.Parse(time.RFC3339Nano, *w.TS)
		if err != nil {
			ferr := reject("ts", "must be an RFC 3339 time such as 2025-03-01T12:00:00Z, got %q", *w.TS)
			// The event's other problems too; without a ts there is no
			// clock rule to apply, and the event is rejected anyway.
			check := ev
			if more := Normalize(&check, time.Time{}, 0); more != nil {
				ferr.Also = append(append(ferr.Also, FieldError{Field: more.Field, Reason: more.Reason}), more.Also...)
			}
			return Item{Event: ev, Err: ferr}
		}
		ev.TS = &t
	}
	return Item{Event: ev}
}
