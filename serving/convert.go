package serving

import (
	"bytes"
	"encoding/json"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

// AssignExperiment converts a stored experiment into the assignment view.
// It is the only place where the domain type meets the assign package, so a
// new field that matters for bucketing is added here once.
//
// Payloads are compacted (they are sent on every assignment); the salt
// falls back to the key as experiment.Normalize does; Sticky is left empty
// for the refresher to fill.
func AssignExperiment(e *experiment.Experiment) assign.Experiment {
	variants := make([]assign.Variant, len(e.Variants))
	for i, v := range e.Variants {
		variants[i] = assign.Variant{Key: v.Key, Payload: compactJSON(v.Payload)}
	}
	out := assign.Experiment{
		Key:        e.Key,
		Salt:       e.Salt,
		Touchpoint: e.Touchpoint,
		Stage:      string(e.Stage),
		Coverage:   e.Coverage,
		Variants:   variants,
		Allocation: e.Allocation,
		Targeting:  e.Targeting,
		Layer:      e.Layer,
		Overrides:  e.Overrides,
	}
	if e.LayerRange != nil {
		r := *e.LayerRange
		out.LayerRange = &r
	}
	return out
}

// AssignLayer converts a stored layer into the assignment view. A layer
// with a holdout baseline has its units' arms reported, to be recorded under
// experiment.HoldoutKey.
func AssignLayer(l experiment.Layer) assign.Layer {
	out := assign.Layer{Key: l.Key, Salt: l.Salt, HoldoutShare: l.HoldoutShare}
	if l.HasBaseline() {
		out.Baseline = &assign.Baseline{Experiment: experiment.HoldoutKey(l.Key), Variants: [2]string{experiment.HoldoutArm, experiment.LayerArm}}
	}
	return out
}

// compactJSON returns p without insignificant whitespace. Invalid JSON
// becomes nil (served as null): the Service validates payloads, and one bad
// row written around it must not corrupt every response of its touchpoint.
func compactJSON(p json.RawMessage) json.RawMessage {
	if len(p) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, p); err != nil {
		return nil
	}
	return buf.Bytes()
}
