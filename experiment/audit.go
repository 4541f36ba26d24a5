package experiment

import (
	"bytes"
	"encoding/json"
	"sort"
	"time"
)

// Change is one field that differs between two versions of an experiment.
type Change struct {
	Field string          `json:"field"`
	From  json.RawMessage `json:"from,omitempty"`
	To    json.RawMessage `json:"to,omitempty"`
}

// AuditEntry records who changed what, and when. Every write to an
// experiment stores one in the same transaction.
type AuditEntry struct {
	ID            int64     `json:"id"`
	ExperimentKey string    `json:"experiment_key"`
	Actor         string    `json:"actor"`
	Action        string    `json:"action"`
	At            time.Time `json:"at"`
	Version       int64     `json:"version"`
	Changes       []Change  `json:"changes"`
	// Note carries extra context, e.g. the inputs of a bandit re-weighting.
	Note json.RawMessage `json:"note,omitempty"`
}

// bookkeeping fields change on every write and would only add noise to a diff.
var bookkeeping = map[string]bool{"version": true, "updated_at": true, "created_at": true}

// Diff lists the top-level fields that differ between before and after
// (before may be nil for a creation), sorted by field name.
func Diff(before, after *Experiment) []Change { return diffOf(before, after) }

// diffOf lists the top-level JSON fields that differ between two versions
// of a record; nil stands for "none" (before a creation, after a deletion).
func diffOf[T any](before, after *T) []Change {
	var b, a any
	if before != nil {
		b = before
	}
	if after != nil {
		a = after
	}
	return diffFields(fields(b), fields(a))
}

// diffFields lists the top-level fields that differ between two JSON
// objects, bookkeeping fields excepted, sorted by name.
func diffFields(old, cur map[string]json.RawMessage) []Change {
	names := map[string]bool{}
	for k := range old {
		names[k] = true
	}
	for k := range cur {
		names[k] = true
	}
	var out []Change
	for k := range names {
		if bookkeeping[k] || bytes.Equal(old[k], cur[k]) {
			continue
		}
		out = append(out, Change{Field: k, From: old[k], To: cur[k]})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Field < out[j].Field })
	return out
}

func fields(v any) map[string]json.RawMessage {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("experiment: diff marshal: " + err.Error()) // plain data: cannot fail
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		panic("experiment: diff unmarshal: " + err.Error())
	}
	return m
}
