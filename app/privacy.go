package app

import (
	"context"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/serving"
)

// keptOut is the store as the journals' merges see it: events and
// exposures of erased units are dropped instead of stored, so that a unit
// stays erased whatever arrives for it later (late retries, a front-end
// that keeps sending the id).
type keptOut struct {
	Backend
	eraser *privacy.Eraser
}

// AppendEvents stores the events of units that were never erased; the
// others are reported as not stored.
func (k keptOut) AppendEvents(ctx context.Context, received time.Time, evs []events.Event) ([]bool, error) {
	units := make([]string, len(evs))
	for i := range evs {
		units[i] = evs[i].UnitID
	}
	erased, err := k.eraser.ErasedUnits(ctx, units)
	if err != nil {
		return nil, err
	}
	if len(erased) == 0 {
		return k.Backend.AppendEvents(ctx, received, evs)
	}
	keep := make([]events.Event, 0, len(evs))
	at := make([]int, 0, len(evs))
	for i := range evs {
		if !erased[evs[i].UnitID] {
			keep = append(keep, evs[i])
			at = append(at, i)
		}
	}
	out := make([]bool, len(evs))
	if len(keep) == 0 {
		return out, nil
	}
	stored, err := k.Backend.AppendEvents(ctx, received, keep)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = stored[j]
	}
	return out, nil
}

// InsertExposures stores the exposures of units that were never erased.
func (k keptOut) InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error) {
	units := make([]string, len(xs))
	for i := range xs {
		units[i] = xs[i].Unit
	}
	erased, err := k.eraser.ErasedUnits(ctx, units)
	if err != nil {
		return 0, err
	}
	if len(erased) == 0 {
		return k.Backend.InsertExposures(ctx, xs)
	}
	keep := make([]experiment.Exposure, 0, len(xs))
	for _, x := range xs {
		if !erased[x.Unit] {
			keep = append(keep, x)
		}
	}
	if len(keep) == 0 {
		return 0, nil
	}
	return k.Backend.InsertExposures(ctx, keep)
}

// keptOut must keep every optional interface serving looks for.
var _ serving.PersonaReader = keptOut{}

// storedAttributes is serving's filter for the allow-list (nil: keep all).
func storedAttributes(a *privacy.AllowList) func(string) bool {
	if a == nil {
		return nil
	}
	return a.Allows
}

// retentionTick is how often privacy.event_retention is applied.
const retentionTick = time.Hour

// ExpireEvents applies privacy.event_retention once and returns how many
// raw events it deleted (none when the retention is 0).
func (a *App) ExpireEvents(ctx context.Context) (int64, error) {
	if a.Config.PrivacyEventRetention <= 0 {
		return 0, nil
	}
	list, err := a.Experiment.List(ctx, experiment.Filter{})
	if err != nil {
		return 0, err
	}
	return privacy.ExpireEvents(ctx, a.Store, list, a.Config.PrivacyEventRetention, a.now())
}

// runRetention applies the event retention at start and every
// retentionTick until ctx ends; the returned channel closes when it has
// stopped.
func (a *App) runRetention(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if a.Config.PrivacyEventRetention <= 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(retentionTick)
		defer t.Stop()
		for {
			start := time.Now()
			if n, err := a.ExpireEvents(ctx); err != nil {
				a.Log.Error("applying the event retention", "error", err)
			} else {
				a.Log.Info("event retention applied", "deleted_events", n, "retention", a.Config.PrivacyEventRetention, "took", time.Since(start).Round(time.Millisecond))
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

// rebuild is the store's Rebuild, refused for an experiment whose raw
// events are past the retention.
func (a *App) rebuild(ctx context.Context, key string, progress func(done, total int64)) error {
	if err := privacy.CheckRebuild(ctx, a.Store, key, a.Config.PrivacyEventRetention, a.now()); err != nil {
		return err
	}
	return a.Store.Rebuild(ctx, key, progress)
}
