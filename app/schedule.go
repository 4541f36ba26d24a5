package app

import (
	"context"
	"time"
)

// scheduleTick is how often scheduled starts and stops are applied: an
// experiment starts or stops at most this long after its start_at/stop_at.
const scheduleTick = 15 * time.Second

// runSchedule applies experiments' start_at/stop_at until ctx ends; the
// returned channel closes when it has stopped.
func (a *App) runSchedule(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(scheduleTick)
		defer t.Stop()
		for {
			if changed, err := a.Experiment.ApplySchedule(ctx, a.now()); err != nil {
				a.Log.Error("applying experiment schedules", "error", err)
			} else if len(changed) > 0 {
				a.Log.Info("scheduled lifecycle changes applied", "experiments", changed)
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}
