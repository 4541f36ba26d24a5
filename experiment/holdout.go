package experiment

import (
	"context"
	"fmt"
	"strings"
)

// A layer with a holdout and metrics has a baseline: the units its holdout
// kept out of the layer's experiments, compared with the units it did not.
// The comparison is recorded and reported as an experiment of its own with a
// key no user experiment can have (keys cannot contain ':'), so exposures,
// attribution, rollups and the report need nothing new.

// Arms of a layer's holdout baseline. The holdout is the control: the lift
// of the layer arm is what the layer's experiments together did.
const (
	HoldoutArm = "holdout"
	LayerArm   = "layer"
)

const holdoutKeyPrefix = "layer:"

// HoldoutKey is the experiment key under which the holdout baseline of the
// layer is recorded and reported.
func HoldoutKey(layer string) string { return holdoutKeyPrefix + layer }

// HoldoutLayer returns the layer of a holdout baseline key and whether key is one.
func HoldoutLayer(key string) (string, bool) {
	return strings.CutPrefix(key, holdoutKeyPrefix)
}

// HasBaseline reports whether the layer records a holdout baseline: it needs
// a holdout to compare with and metrics to compare.
func (l *Layer) HasBaseline() bool { return l.HoldoutShare > 0 && len(l.Metrics) > 0 }

// HoldoutExperiment returns the experiment that records and reports the
// layer's holdout baseline, or nil when the layer has none. members are the
// layer's experiments: the baseline runs while any of them is live, from
// the first start, and has their stage and touchpoint when they share them.
func HoldoutExperiment(l Layer, members []*Experiment) *Experiment {
	if !l.HasBaseline() {
		return nil
	}
	l.Normalize()
	e := &Experiment{
		Key:  HoldoutKey(l.Key),
		Name: "Holdout baseline of layer " + l.Name,
		Mode: ModeAB,
		Variants: []Variant{
			{Key: HoldoutArm, Name: "Held out of every experiment of the layer", Weight: l.HoldoutShare},
			{Key: LayerArm, Name: "Eligible for the layer's experiments", Weight: 1 - l.HoldoutShare},
		},
		Control:     HoldoutArm,
		Coverage:    1,
		Layer:       l.Key,
		Salt:        l.Salt,
		GoalMetrics: append([]string(nil), l.Metrics...),
		Status:      StatusDraft,
	}
	first := true
	for _, m := range members {
		if m.Layer != l.Key {
			continue
		}
		if m.Status.Live() {
			e.Status = StatusRunning
		} else if e.Status == StatusDraft && m.Status == StatusStopped {
			e.Status = StatusStopped
		}
		if m.StartedAt != nil && (e.StartedAt == nil || m.StartedAt.Before(*e.StartedAt)) {
			t := *m.StartedAt
			e.StartedAt = &t
		}
		if first {
			e.Stage, e.Touchpoint, first = m.Stage, m.Touchpoint, false
			continue
		}
		if e.Stage != m.Stage {
			e.Stage = ""
		}
		if e.Touchpoint != m.Touchpoint {
			e.Touchpoint = ""
		}
	}
	return e
}

// definitions reads what Baseline and Recorded need; Store implementations have it.
type definitions interface {
	GetExperiment(ctx context.Context, key string) (*Experiment, error)
	ListExperiments(ctx context.Context, f Filter) ([]*Experiment, error)
	GetLayer(ctx context.Context, key string) (Layer, error)
}

// Baseline loads the layer and its experiments and returns its holdout
// baseline (HoldoutExperiment). A layer without one is ErrNotFound.
func Baseline(ctx context.Context, defs definitions, layer string) (*Experiment, error) {
	l, err := defs.GetLayer(ctx, layer)
	if err != nil {
		return nil, err
	}
	members, err := defs.ListExperiments(ctx, Filter{Layer: layer})
	if err != nil {
		return nil, fmt.Errorf("experiments of layer %s: %w", layer, err)
	}
	e := HoldoutExperiment(l, members)
	if e == nil {
		return nil, fmt.Errorf("layer %q has no holdout baseline (it needs a holdout_share and metrics): %w", layer, ErrNotFound)
	}
	return e, nil
}

// Recorded checks that key names something whose exposures and rollups a
// store keeps: an experiment, or the holdout baseline of a layer that has
// one. Anything else is ErrNotFound.
func Recorded(ctx context.Context, defs definitions, key string) error {
	var err error
	if layer, ok := HoldoutLayer(key); ok {
		_, err = Baseline(ctx, defs, layer)
	} else {
		_, err = defs.GetExperiment(ctx, key)
	}
	return err
}
