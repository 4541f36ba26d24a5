package privacy

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// ExposureExpiry records that a stopped experiment's per-unit records were
// deleted under privacy.exposure_retention: when, and how many (counts,
// never unit ids).
type ExposureExpiry struct {
	Experiment string    `json:"experiment"`
	At         time.Time `json:"at"`
	Exposures  int64     `json:"exposures"`
	Rollups    int64     `json:"rollups"`
}

// ExposureExpiringStore deletes the per-unit records of experiments past
// the exposure retention.
type ExposureExpiringStore interface {
	// ExpireExposures deletes experiment key's exposures (with their
	// attributes), per-unit rollups, records of exposures in another
	// variant, and the totals and segment counts derived from them, and
	// records the ExposureExpiry (its counts) at time at. Raw events are
	// left to the event retention: other experiments may attribute them.
	ExpireExposures(ctx context.Context, key string, at time.Time) (ExposureExpiry, error)
	// ExposureExpiries lists the recorded expiries by experiment key.
	ExposureExpiries(ctx context.Context) (map[string]ExposureExpiry, error)
}

// ErrExposuresExpired is returned for a report or a rebuild of an
// experiment whose exposures were deleted under the exposure retention.
var ErrExposuresExpired = errors.New("the experiment's exposures and per-unit rollups were deleted under privacy.exposure_retention")

// ExpireExposures applies the exposure retention once: every experiment
// stopped (or archived after it ran) longer than retention ago whose
// exposures were not yet expired has them deleted. It returns the expiries
// it recorded. An experiment that never ran has none; keys of layer
// holdouts ("layer:KEY") are not experiments and are left.
func ExpireExposures(ctx context.Context, st ExposureExpiringStore, list []*experiment.Experiment, retention time.Duration, now time.Time) ([]ExposureExpiry, error) {
	if retention <= 0 {
		return nil, nil
	}
	done, err := st.ExposureExpiries(ctx)
	if err != nil {
		return nil, fmt.Errorf("read exposure expiries: %w", err)
	}
	var out []ExposureExpiry
	for _, e := range list {
		if _, ok := done[e.Key]; ok || e.StoppedAt == nil || strings.HasPrefix(e.Key, "layer:") || !Expired(e, retention, now) {
			continue
		}
		x, err := st.ExpireExposures(ctx, e.Key, now)
		if err != nil {
			return out, fmt.Errorf("expire exposures of %s: %w", e.Key, err)
		}
		out = append(out, x)
	}
	return out, nil
}

// StoredData is what a store holds about units, in counts and dates.
type StoredData struct {
	Events    int64 `json:"events"`
	Exposures int64 `json:"exposures"`
	Rollups   int64 `json:"rollups"`
	// ErasedUnits counts the units in the erasure audit.
	ErasedUnits int64 `json:"erased_units"`
	// OldestEvent and OldestExposure are the earliest times stored (nil
	// when there is none).
	OldestEvent    *time.Time `json:"oldest_event"`
	OldestExposure *time.Time `json:"oldest_exposure"`
}

// Inventory says what a store holds about units.
type Inventory interface {
	StoredData(ctx context.Context) (StoredData, error)
}
