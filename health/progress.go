package health

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// Progress is how far an experiment that has run is towards its planned
// sample (Settings.PlannedUnits, all variants), and how long the rest takes
// at the traffic so far.
type Progress struct {
	// Units are the exposed units of every variant.
	Units        int64 `json:"units"`
	PlannedUnits int64 `json:"planned_units"`
	// Share is Units / PlannedUnits (above 1 once the plan is exceeded).
	Share float64 `json:"share"`
	// Reached is true once Units >= PlannedUnits.
	Reached bool `json:"reached"`
	// DaysRunning counts from the launch to the stop, or to now.
	DaysRunning float64 `json:"days_running"`
	// UnitsPerDay is the traffic so far: Units / DaysRunning.
	UnitsPerDay float64 `json:"units_per_day"`
	// DaysRemaining is how many more days the plan needs at UnitsPerDay;
	// absent when it is reached, when no unit has come yet, and once the
	// experiment is stopped.
	DaysRemaining *float64 `json:"days_remaining,omitempty"`
	// Early is true before MinDaysForProjection: the first hours of a
	// launch are not a fair sample of a week, so the projection is rough.
	Early bool `json:"early,omitempty"`
}

// Project computes e's progress towards planned units given its exposed
// units so far; ok is false when there is no plan or e has not started.
func Project(e *experiment.Experiment, units, planned int64, now time.Time) (p Progress, ok bool) {
	if planned <= 0 || e.StartedAt == nil {
		return Progress{}, false
	}
	end := now
	if e.StoppedAt != nil {
		end = *e.StoppedAt
	}
	days := math.Max(0, end.Sub(*e.StartedAt).Hours()/24)
	p = Progress{Units: units, PlannedUnits: planned, Share: float64(units) / float64(planned),
		Reached: units >= planned, DaysRunning: days, Early: days < MinDaysForProjection}
	if days > 0 {
		p.UnitsPerDay = float64(units) / days
	}
	if !p.Reached && units > 0 && days > 0 && e.StoppedAt == nil {
		left := float64(planned-units) / p.UnitsPerDay
		p.DaysRemaining = &left
	}
	return p, true
}

// ExperimentProgress returns the progress of experiment key towards the
// planned sample of its settings; ok is false without a plan or before
// the launch.
func (m *Monitor) ExperimentProgress(ctx context.Context, key string, s Settings) (Progress, bool, error) {
	e, err := m.exps.Get(ctx, key)
	if err != nil {
		return Progress{}, false, err
	}
	if s.PlannedUnits <= 0 || e.StartedAt == nil {
		return Progress{}, false, nil
	}
	counts, err := m.src.ExposureCounts(ctx, key)
	if err != nil {
		return Progress{}, false, fmt.Errorf("exposed units of %s: %w", key, err)
	}
	// The configured variants' units, as the report and the checks count them.
	var units int64
	for _, v := range e.Variants {
		units += counts[v.Key]
	}
	p, ok := Project(e, units, s.PlannedUnits, m.opts.Now())
	return p, ok, nil
}
