package privacy

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// MinRetention is the shortest event retention accepted: shorter ones
// would also cut into the pre-exposure window CUPED reads.
const MinRetention = 24 * time.Hour

// ExpiringStore deletes raw events past their retention.
type ExpiringStore interface {
	// ExpireEvents deletes the raw events with a time before `before` of
	// every unit exposed to none of the experiments in keep, and returns
	// how many it deleted. Exposures, rollups and totals stay: reports
	// read them, not raw events.
	ExpireEvents(ctx context.Context, before time.Time, keep []string) (int64, error)
}

// Expired reports whether e's raw events are past retention at now: it was
// stopped (or archived) more than retention ago, or archived without ever
// running. A zero retention keeps everything.
func Expired(e *experiment.Experiment, retention time.Duration, now time.Time) bool {
	if retention <= 0 {
		return false
	}
	switch e.Status {
	case experiment.StatusStopped, experiment.StatusArchived:
		if e.StoppedAt == nil {
			return e.Status == experiment.StatusArchived
		}
		return e.StoppedAt.Add(retention).Before(now)
	}
	return false
}

// ErrExpired is returned for a rebuild of an experiment whose raw events
// are past their retention.
var ErrExpired = errors.New("the experiment's raw events are past privacy.event_retention, so a rebuild would lose data; its rollups and report are kept")

// ExpireEvents applies the event retention once: it deletes the raw events
// older than retention of units exposed to no experiment whose events are
// still kept (running, paused, draft, or stopped less than retention ago).
func ExpireEvents(ctx context.Context, st ExpiringStore, list []*experiment.Experiment, retention time.Duration, now time.Time) (int64, error) {
	if retention <= 0 {
		return 0, nil
	}
	keep := make([]string, 0, len(list))
	for _, e := range list {
		if !Expired(e, retention, now) {
			keep = append(keep, e.Key)
		}
	}
	n, err := st.ExpireEvents(ctx, now.Add(-retention), keep)
	if err != nil {
		return n, fmt.Errorf("expire raw events: %w", err)
	}
	return n, nil
}

// CheckRebuild returns ErrExpired when experiment key's raw events are past
// retention at now, so that a rebuild would recompute its rollups from
// partial data. Keys that name no experiment (a layer's holdout,
// "layer:KEY") and unknown keys are left to the rebuild to judge.
func CheckRebuild(ctx context.Context, st experiment.Store, key string, retention time.Duration, now time.Time) error {
	if retention <= 0 {
		return nil
	}
	e, err := st.GetExperiment(ctx, key)
	if err != nil {
		return nil
	}
	if Expired(e, retention, now) {
		return fmt.Errorf("rebuild %s: %w", key, ErrExpired)
	}
	return nil
}
