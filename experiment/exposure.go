package experiment

import "time"

// Exposure records that a unit first saw a variant of an experiment. Only the
// first exposure per (experiment, unit) counts; it fixes the unit's variant
// for good (sticky) and starts its metric windows.
type Exposure struct {
	Experiment string    `json:"experiment"`
	Unit       string    `json:"unit_id"`
	Variant    string    `json:"variant"`
	At         time.Time `json:"at"`
	// Attributes keeps the request attributes used for dimension breakdowns
	// (device, channel, segment, country, ...), flattened to strings.
	Attributes map[string]string `json:"attributes,omitempty"`
}
