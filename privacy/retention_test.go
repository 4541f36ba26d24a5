package privacy

import (
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

func TestExpired(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { at := now.Add(-d); return &at }
	day := 24 * time.Hour
	for _, tc := range []struct {
		name      string
		e         experiment.Experiment
		retention time.Duration
		want      bool
	}{
		{"a running experiment never expires", experiment.Experiment{Status: experiment.StatusRunning}, day, false},
		{"a stopped one expires once the retention has passed since it stopped", experiment.Experiment{Status: experiment.StatusStopped, StoppedAt: ago(2 * day)}, day, true},
		{"a stopped one within the retention is kept", experiment.Experiment{Status: experiment.StatusStopped, StoppedAt: ago(day / 2)}, day, false},
		{"an archived one that never ran has nothing to keep", experiment.Experiment{Status: experiment.StatusArchived}, day, true},
		{"a zero retention keeps everything", experiment.Experiment{Status: experiment.StatusStopped, StoppedAt: ago(400 * day)}, 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Expired(&tc.e, tc.retention, now); got != tc.want {
				t.Errorf("Expired = %v, want %v", got, tc.want)
			}
		})
	}
}
