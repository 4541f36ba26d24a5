package health

import (
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

// ActivityState is what the Monitor remembers about an experiment between
// checks, so that the no-events check needs no scan of raw events.
type ActivityState struct {
	// Outcomes fingerprints the outcome sums of every metric and variant at
	// the last check ("" when no outcome has been recorded).
	Outcomes string `json:"outcomes"`
	// OutcomesChangedAt is the first check that saw Outcomes.
	OutcomesChangedAt time.Time `json:"outcomes_changed_at"`
}

// outcomeSums is a report.Source that remembers the outcome sums of the
// cells it passes on, leaving out the unit counts and pre-exposure sums,
// which move with exposures alone.
type outcomeSums struct {
	report.Source
	mu   sync.Mutex
	sums map[string][4]float64
}

// MetricCells passes the cells on and adds their outcome sums.
func (o *outcomeSums) MetricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q report.CellQuery) ([]report.Cell, error) {
	cells, err := o.Source.MetricCells(ctx, e, m, q)
	if err != nil {
		return nil, err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.sums == nil {
		o.sums = map[string][4]float64{}
	}
	for _, c := range cells {
		k := m.Key + "|" + c.Variant + "|" + c.Segment
		s := o.sums[k]
		s[0] += c.Stats.Sum
		s[1] += c.Stats.SumSq
		s[2] += c.Stats.DenSum
		s[3] += c.Stats.DenSumSq
		o.sums[k] = s
	}
	return cells, nil
}

// fingerprint hashes the sums ("" when every sum is zero: no outcome yet).
func (o *outcomeSums) fingerprint() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	keys := make([]string, 0, len(o.sums))
	any := false
	for k, s := range o.sums {
		keys = append(keys, k)
		for _, x := range s {
			any = any || x != 0
		}
	}
	if !any {
		return ""
	}
	sort.Strings(keys)
	h := fnv.New64a()
	for _, k := range keys {
		h.Write([]byte(k))
		for _, x := range o.sums[k] {
			h.Write(strconv.AppendUint(nil, math.Float64bits(x), 16))
			h.Write([]byte{0})
		}
	}
	return strconv.FormatUint(h.Sum64(), 16)
}

// lastOutcome returns when the experiment's outcome sums last changed, as
// far as the checks saw (zero when there are no outcomes yet), and
// remembers the fingerprint. The first check of an experiment with
// outcomes counts as a change: it cannot know better, and an alert must
// not fire on data it has not watched.
func (m *Monitor) lastOutcome(ctx context.Context, key, fp string, now time.Time) (time.Time, error) {
	st, err := m.store.GetState(ctx, key)
	if err != nil {
		return time.Time{}, fmt.Errorf("activity state: %w", err)
	}
	if fp == "" {
		return time.Time{}, nil
	}
	if st.Outcomes == fp && !st.OutcomesChangedAt.IsZero() {
		return st.OutcomesChangedAt, nil
	}
	if err := m.store.PutState(ctx, key, ActivityState{Outcomes: fp, OutcomesChangedAt: now}); err != nil {
		return time.Time{}, fmt.Errorf("activity state: %w", err)
	}
	return now, nil
}
