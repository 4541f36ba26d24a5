// Package events records outcomes: POST /v1/events takes batches of events
// (an order, an add-to-cart, an NPS answer, ...), validates each one, and hands
// the valid ones to a Store that keeps them durably and attributes them to the
// experiments their unit was exposed to. The attribution rules themselves
// (windows, pre-exposure values, per-kind sufficient statistics) live in
// rollup.go so that every backend computes exactly the same numbers.
package events

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// Event is one outcome sent by a front-end or back-end.
type Event struct {
	// EventID makes retries idempotent: an id that is already stored is a duplicate.
	EventID string `json:"event_id"`
	// UnitID is the visitor (or customer) the event belongs to, as used in /v1/assign.
	UnitID string `json:"unit_id"`
	// Event names the outcome; metrics refer to it (see experiment.ValidEventName).
	Event string `json:"event"`
	// Value is the revenue, seconds, score, ...; nil means 1.
	Value *float64 `json:"value,omitempty"`
	// TS is when the event happened; nil means the time it was received.
	TS *time.Time `json:"ts,omitempty"`
	// Attributes are kept with the raw event for later analysis.
	Attributes map[string]any `json:"attributes,omitempty"`
	// Received is when journeylab acknowledged the event; stores use it
	// instead of AppendEvents' received time when it is set (events merged
	// from the staging journal keep the time they were acknowledged).
	Received time.Time `json:"-"`
}

// Limits on one event; they keep a single batch bounded in memory and storage.
const (
	MaxIDLength        = 200
	MaxAttributes      = 50
	MaxAttributeKey    = 100
	MaxAttributeString = 1000
	// MaxAbsValue bounds values so that per-unit sums of squares stay finite.
	MaxAbsValue = 1e15
)

// minTS rejects timestamps from clients whose clock is unset (the Unix epoch
// or year 1): no outcome of this service predates it.
var minTS = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// FieldError says why one event was rejected and which of its fields is wrong.
type FieldError struct {
	Field  string
	Reason string
	// Also are the event's further problems, so that the sender fixes all
	// of them at once.
	Also []FieldError
}

// eventProblems collects an event's problems; the first one carries the
// others in Also.
type eventProblems struct{ first *FieldError }

func (p *eventProblems) add(e *FieldError) {
	if p.first == nil {
		p.first = e
		return
	}
	p.first.Also = append(p.first.Also, *e)
}

// Error implements error.
func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

func reject(field, format string, args ...any) *FieldError {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// Normalize checks ev and fills its defaults (value 1, ts = now). Timestamps
// later than now+maxSkew are rejected: a client clock that runs ahead would
// otherwise place events outside every attribution window. The returned
// error names the field relative to the event ("ts", "value", ...); every
// further problem of the event is in its Also.
func Normalize(ev *Event, now time.Time, maxSkew time.Duration) *FieldError {
	var p eventProblems
	if ev.EventID == "" || len(ev.EventID) > MaxIDLength {
		p.add(reject("event_id", "required, 1 to %d characters", MaxIDLength))
	}
	if ev.UnitID == "" || len(ev.UnitID) > MaxIDLength {
		p.add(reject("unit_id", "required, 1 to %d characters", MaxIDLength))
	}
	if !experiment.ValidEventName(ev.Event) {
		p.add(reject("event", "required; letters, digits, '_', ':' and '-', starting with a letter or digit, at most 100 characters"))
	}
	if ev.Value != nil {
		if v := *ev.Value; math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > MaxAbsValue {
			p.add(reject("value", "must be a finite number between -%g and %g", MaxAbsValue, MaxAbsValue))
		}
	}
	if ev.TS != nil {
		if err := CheckTime(*ev.TS, now, maxSkew); err != nil {
			p.add(err)
		}
	}
	if len(ev.Attributes) > MaxAttributes {
		p.add(reject("attributes", "at most %d attributes, got %d", MaxAttributes, len(ev.Attributes)))
	} else if len(ev.Attributes) > 0 {
		checkAttributes(&p, ev.Attributes)
	}
	if p.first != nil {
		return p.first
	}
	if ev.Value == nil {
		one := 1.0
		ev.Value = &one
	}
	if ev.TS == nil {
		t := now
		ev.TS = &t
	}
	return nil
}

// checkAttributes notes each attribute that is not a scalar or too long,
// in name order.
func checkAttributes(p *eventProblems, attrs map[string]any) {
	var bad []*FieldError
	for k, v := range attrs {
		if k == "" || len(k) > MaxAttributeKey {
			bad = append(bad, reject("attributes", "attribute names need 1 to %d characters", MaxAttributeKey))
			continue
		}
		switch x := v.(type) {
		case nil, bool, float64:
		case string:
			if len(x) > MaxAttributeString {
				bad = append(bad, reject("attributes."+k, "at most %d characters", MaxAttributeString))
			}
		default:
			bad = append(bad, reject("attributes."+k, "must be a string, number, boolean or null"))
		}
	}
	slices.SortFunc(bad, func(a, b *FieldError) int { return strings.Compare(a.Field, b.Field) })
	for _, e := range bad {
		p.add(e)
	}
}

// CheckTime applies the clock rules of reported times (events, and
// exposures that clients report): not more than maxSkew ahead of now, and
// not before 2000. The error names the field "ts".
func CheckTime(ts, now time.Time, maxSkew time.Duration) *FieldError {
	if ts.After(now.Add(maxSkew)) {
		return reject("ts", "%s is more than %s ahead of the server clock (%s); check the sender's clock",
			ts.UTC().Format(time.RFC3339Nano), maxSkew, now.UTC().Format(time.RFC3339))
	}
	if ts.Before(minTS) {
		return reject("ts", "%s is before 2000-01-01; the sender's clock is probably unset", ts.UTC().Format(time.RFC3339Nano))
	}
	return nil
}

// indexField prefixes a per-event field with the event's position in the batch.
func indexField(i int, field string) string {
	p := "events[" + strconv.Itoa(i) + "]"
	if field == "" {
		return p
	}
	return p + "." + field
}
