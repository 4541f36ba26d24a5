package experiment

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ScheduleActor is the actor recorded in audit entries for scheduled launches and stops.
const ScheduleActor = "scheduler"

// ApplySchedule launches drafts whose start_at has come and stops live
// experiments whose stop_at has passed, as of now. It returns the keys it
// changed. A conflicting concurrent edit is left for the next call.
func (s *Service) ApplySchedule(ctx context.Context, now time.Time) ([]string, error) {
	list, err := s.store.ListExperiments(ctx, Filter{})
	if err != nil {
		return nil, fmt.Errorf("schedule: %w", err)
	}
	var changed []string
	var errs []error
	for _, e := range list {
		var a Action
		switch {
		case e.Status == StatusDraft && e.StartAt != nil && !e.StartAt.After(now) && (e.StopAt == nil || e.StopAt.After(now)):
			a = ActionLaunch
		case e.Status.Live() && e.StopAt != nil && !e.StopAt.After(now):
			a = ActionStop
		default:
			continue
		}
		if _, err := s.Transition(ctx, ScheduleActor, e.Key, a); err != nil {
			if errors.Is(err, ErrVersionConflict) || errors.Is(err, ErrIllegalTransition) {
				continue // someone else changed it first; look again next time
			}
			errs = append(errs, fmt.Errorf("scheduled %s of %s: %w", a, e.Key, err))
			continue
		}
		changed = append(changed, e.Key)
	}
	return changed, errors.Join(errs...)
}
