package privacy

import (
	"context"
	"slices"
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

type expiryStore struct {
	done    map[string]ExposureExpiry
	expired []string
}

func (s *expiryStore) ExpireExposures(_ context.Context, key string, at time.Time) (ExposureExpiry, error) {
	s.expired = append(s.expired, key)
	return ExposureExpiry{Experiment: key, At: at}, nil
}

func (s *expiryStore) ExposureExpiries(context.Context) (map[string]ExposureExpiry, error) {
	return s.done, nil
}

func TestExpireExposures(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	ago := func(d time.Duration) *time.Time { at := now.Add(-d); return &at }
	day := 24 * time.Hour
	list := []*experiment.Experiment{
		{Key: "running", Status: experiment.StatusRunning},
		{Key: "stopped-long-ago", Status: experiment.StatusStopped, StoppedAt: ago(40 * day)},
		{Key: "stopped-recently", Status: experiment.StatusStopped, StoppedAt: ago(10 * day)},
		{Key: "archived-after-running", Status: experiment.StatusArchived, StoppedAt: ago(40 * day)},
		{Key: "archived-never-ran", Status: experiment.StatusArchived},
		{Key: "expired-before", Status: experiment.StatusStopped, StoppedAt: ago(90 * day)},
	}
	st := &expiryStore{done: map[string]ExposureExpiry{"expired-before": {}}}
	got, err := ExpireExposures(context.Background(), st, list, 30*day, now)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"stopped-long-ago", "archived-after-running"}
	if len(got) != 2 || !slices.Equal(st.expired, want) {
		t.Errorf("expired %v, want %v", st.expired, want)
	}
	t.Run("a zero retention expires nothing", func(t *testing.T) {
		st := &expiryStore{}
		if got, err := ExpireExposures(context.Background(), st, list, 0, now); err != nil || len(got)+len(st.expired) != 0 {
			t.Errorf("expired %v, %v", st.expired, err)
		}
	})
}
