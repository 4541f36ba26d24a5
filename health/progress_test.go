package health

import (
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

func TestProject(t *testing.T) {
	launch := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	stop := launch.Add(4 * 24 * time.Hour)
	running := &experiment.Experiment{StartedAt: &launch}
	stopped := &experiment.Experiment{StartedAt: &launch, StoppedAt: &stop}
	draft := &experiment.Experiment{}
	ptr := func(f float64) *float64 { return &f }
	tests := []struct {
		name    string
		e       *experiment.Experiment
		units   int64
		planned int64
		now     time.Time
		ok      bool
		want    Progress
	}{
		{name: "a draft has no progress", e: draft, units: 0, planned: 1000, now: launch, ok: false},
		{name: "an experiment without a plan has no progress", e: running, units: 10, planned: 0, now: launch.Add(time.Hour), ok: false},
		{
			name: "3 days at 1,000 a day with 7,000 left to plan needs 7 more days",
			e:    running, units: 3000, planned: 10000, now: launch.Add(72 * time.Hour), ok: true,
			want: Progress{Units: 3000, PlannedUnits: 10000, Share: 0.3, DaysRunning: 3, UnitsPerDay: 1000, DaysRemaining: ptr(7)},
		},
		{
			name: "six hours in, the projection is marked early",
			e:    running, units: 250, planned: 2000, now: launch.Add(6 * time.Hour), ok: true,
			want: Progress{Units: 250, PlannedUnits: 2000, Share: 0.125, DaysRunning: 0.25, UnitsPerDay: 1000, DaysRemaining: ptr(1.75), Early: true},
		},
		{
			name: "a reached plan has no days remaining",
			e:    running, units: 12000, planned: 10000, now: launch.Add(48 * time.Hour), ok: true,
			want: Progress{Units: 12000, PlannedUnits: 10000, Share: 1.2, Reached: true, DaysRunning: 2, UnitsPerDay: 6000},
		},
		{
			name: "no unit yet gives no projection",
			e:    running, units: 0, planned: 10000, now: launch.Add(48 * time.Hour), ok: true,
			want: Progress{Units: 0, PlannedUnits: 10000, Share: 0, DaysRunning: 2, UnitsPerDay: 0},
		},
		{
			name: "a stopped experiment counts days to its stop and projects nothing",
			e:    stopped, units: 2000, planned: 10000, now: launch.Add(30 * 24 * time.Hour), ok: true,
			want: Progress{Units: 2000, PlannedUnits: 10000, Share: 0.2, DaysRunning: 4, UnitsPerDay: 500},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := Project(tt.e, tt.units, tt.planned, tt.now)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			if (got.DaysRemaining == nil) != (tt.want.DaysRemaining == nil) ||
				(got.DaysRemaining != nil && *got.DaysRemaining != *tt.want.DaysRemaining) {
				t.Fatalf("days remaining = %v, want %v", deref(got.DaysRemaining), deref(tt.want.DaysRemaining))
			}
			got.DaysRemaining, tt.want.DaysRemaining = nil, nil
			if got != tt.want {
				t.Fatalf("progress = %+v, want %+v", got, tt.want)
			}
		})
	}
}

func deref(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}
