package experiment

import "math"

// Layer groups mutually exclusive experiments: a unit enters at most one
// experiment of a layer. HoldoutShare of the layer's units sees none of them
// and serves as the layer's baseline: with Metrics set, the holdout is
// compared with the rest of the layer on them (see HoldoutExperiment).
type Layer struct {
	Key          string   `json:"key"`
	Name         string   `json:"name,omitempty"`
	Salt         string   `json:"salt"`
	HoldoutShare float64  `json:"holdout_share"`
	Metrics      []string `json:"metrics,omitempty"`
	Version      int64    `json:"version"`
}

// Normalize fills defaults.
func (l *Layer) Normalize() {
	if l.Salt == "" {
		l.Salt = "layer:" + l.Key
	}
	if l.Name == "" {
		l.Name = l.Key
	}
}

// Validate checks the layer and reports every problem; errors name the field.
func (l *Layer) Validate() error {
	var p problems
	if !validKey(l.Key) {
		p.add("key", "%s", keyRule)
	}
	if math.IsNaN(l.HoldoutShare) || l.HoldoutShare < 0 || l.HoldoutShare >= 1 {
		p.add("holdout_share", "must be in [0, 1)")
	}
	if len(l.Salt) > 200 {
		p.add("salt", "at most 200 characters")
	}
	if len(l.Name) > 200 {
		p.add("name", "at most 200 characters")
	}
	validateMetricKeysInto(&p, "metrics", l.Metrics)
	if len(l.Metrics) > 0 && l.HoldoutShare == 0 {
		p.add("metrics", "a layer's metrics compare its holdout with the rest of the layer: set holdout_share too")
	}
	return p.err()
}
