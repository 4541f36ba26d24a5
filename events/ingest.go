package events

import (
	"context"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/warning"
)

// Store keeps events durably. AppendEvents stores evs (Value and TS already
// set) and their attribution in one commit and returns only after the commit
// is durable; stored[i] is false when evs[i].EventID was already stored,
// earlier or at a lower index of evs (a duplicate, which changes nothing).
type Store interface {
	AppendEvents(ctx context.Context, received time.Time, evs []Event) (stored []bool, err error)
}

// Status is the outcome of one event of a batch.
type Status string

// Per-event outcomes. Duplicates are a success: the event was stored before.
const (
	StatusAccepted  Status = "accepted"
	StatusDuplicate Status = "duplicate"
	StatusRejected  Status = "rejected"
)

// Result is the outcome of the event at Index of the batch.
type Result struct {
	Index   int    `json:"index"`
	EventID string `json:"event_id"`
	Status  Status `json:"status"`
	Reason  string `json:"reason,omitempty"`
	// Field is the JSON path of the offending field, e.g. "events[3].ts".
	Field string `json:"field,omitempty"`
	// Errors lists every problem of a rejected event (Reason and Field
	// repeat the first), so the sender can fix them all at once.
	Errors []Problem `json:"errors,omitempty"`
}

// Problem is one invalid field of a rejected event.
type Problem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Response summarises a batch; Results has one entry per event, in order.
type Response struct {
	Accepted   int      `json:"accepted"`
	Duplicates int      `json:"duplicates"`
	Rejected   int      `json:"rejected"`
	Results    []Result `json:"results"`
	// Warnings are about events that were stored but are probably not what
	// the sender meant (an event name no metric uses).
	Warnings []warning.Warning `json:"warnings,omitempty"`
}

// Names judges the event names of a batch (eventnames.Watcher).
type Names interface {
	// Check returns warnings about evs, the valid events of a batch;
	// stored[i] says whether evs[i] was stored now (not a duplicate).
	Check(evs []Event, stored []bool, now time.Time) []warning.Warning
}

// Options bound what the Ingestor accepts.
type Options struct {
	// MaxBatch is the most events in one batch; 0 means DefaultMaxBatch.
	MaxBatch int
	// MaxFutureSkew is how far ahead of the server clock an event's ts may be.
	MaxFutureSkew time.Duration
	// Names, when set, warns about event names no metric uses.
	Names Names
}

// DefaultMaxBatch is the batch limit when Options.MaxBatch is 0.
const DefaultMaxBatch = 1000

// Ingestor validates batches and hands the valid events to the Store.
type Ingestor struct {
	store Store
	now   func() time.Time
	opts  Options
}

// NewIngestor returns an Ingestor writing to st; now is the clock that
// defaults timestamps and judges clock skew (time.Now in production).
func NewIngestor(st Store, now func() time.Time, opts Options) *Ingestor {
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = DefaultMaxBatch
	}
	return &Ingestor{store: st, now: now, opts: opts}
}

// IngestBody decodes a request body and ingests it. Body-level errors are
// returned as errors (400); per-event problems are rejections in the Response.
func (in *Ingestor) IngestBody(ctx context.Context, body []byte) (Response, error) {
	items, err := DecodeBatch(body, in.opts.MaxBatch)
	if err != nil {
		return Response{}, err
	}
	return in.Ingest(ctx, items)
}

// Ingest validates items, stores the valid events in one durable commit and
// reports every event's outcome. An error means nothing was stored.
func (in *Ingestor) Ingest(ctx context.Context, items []Item) (Response, error) {
	now := in.now()
	resp := Response{Results: make([]Result, len(items))}
	valid := make([]Event, 0, len(items))
	at := make([]int, 0, len(items))
	for i := range items {
		it := &items[i]
		resp.Results[i] = Result{Index: i, EventID: it.Event.EventID}
		ferr := it.Err
		if ferr == nil {
			ferr = Normalize(&it.Event, now, in.opts.MaxFutureSkew)
		}
		if ferr != nil {
			resp.Results[i].Status, resp.Results[i].Reason, resp.Results[i].Field = StatusRejected, ferr.Reason, indexField(i, ferr.Field)
			resp.Results[i].Errors = make([]Problem, 0, 1+len(ferr.Also))
			resp.Results[i].Errors = append(resp.Results[i].Errors, Problem{Field: indexField(i, ferr.Field), Message: ferr.Reason})
			for _, more := range ferr.Also {
				resp.Results[i].Errors = append(resp.Results[i].Errors, Problem{Field: indexField(i, more.Field), Message: more.Reason})
			}
			resp.Rejected++
			continue
		}
		valid = append(valid, it.Event)
		at = append(at, i)
	}
	if len(valid) == 0 {
		return resp, nil
	}
	stored, err := in.store.AppendEvents(ctx, now, valid)
	if err != nil {
		return Response{}, fmt.Errorf("store %d events: %w", len(valid), err)
	}
	for j, i := range at {
		if stored[j] {
			resp.Results[i].Status = StatusAccepted
			resp.Accepted++
		} else {
			resp.Results[i].Status = StatusDuplicate
			resp.Duplicates++
		}
	}
	if in.opts.Names != nil {
		resp.Warnings = in.opts.Names.Check(valid, stored, now)
	}
	return resp, nil
}

// Key identifies a stored event: event ids are unique per unit.
type Key struct{ Unit, ID string }
