package app

import (
	"context"
	"time"

	"journeylab/events"
	"journeylab/experiment"
	"journeylab/privacy"
	"journeylab/serving"
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
