package assign

import (
	"errors"
	"fmt"
	"sort"
)

// Range is a half-open interval [Start, End) of buckets.
type Range struct {
	// Start is the first bucket of the range.
	Start int `json:"start"`
	// End is one past the last bucket of the range.
	End int `json:"end"`
}

// Contains reports whether bucket b lies in [Start, End).
func (r Range) Contains(b int) bool { return b >= r.Start && b < r.End }

// Len returns the number of buckets in the range.
func (r Range) Len() int { return r.End - r.Start }

// Overlaps reports whether r and o share at least one bucket.
func (r Range) Overlaps(o Range) bool { return r.Start < o.End && o.Start < r.End }

// Validate reports whether 0 <= Start < End <= 10000.
func (r Range) Validate() error {
	switch {
	case r.Start < 0:
		return fmt.Errorf("start: %d must not be negative", r.Start)
	case r.End > Buckets:
		return fmt.Errorf("end: %d exceeds %d", r.End, Buckets)
	case r.End <= r.Start:
		return fmt.Errorf("end: %d must be greater than start %d", r.End, r.Start)
	}
	return nil
}

// Layer groups mutually exclusive experiments.
//
// Every unit has one layer bucket per layer (from the layer's own salt, so it
// is independent of every experiment's buckets). The first HoldoutShare of
// the layer buckets is the holdout: those units see no experiment of the
// layer and are reported as the layer's baseline. The remaining buckets are
// split into the experiments' LayerRanges, which do not overlap, so a unit
// enters at most one experiment of the layer.
type Layer struct {
	// Key identifies the layer; Experiment.Layer refers to it.
	Key string `json:"key"`
	// Salt is hashed with the unit id; empty means Key. Changing it
	// reshuffles every unit of the layer, so it is fixed once traffic flows.
	Salt string `json:"salt,omitempty"`
	// HoldoutShare in [0, 1] is the share of units that sees no experiment
	// of the layer; round(HoldoutShare*10000) buckets starting at 0.
	HoldoutShare float64 `json:"holdoutShare"`
	// Baseline, when set, makes Snapshot.Assign report every unit that the
	// layer's experiments on the touchpoint could take (the audience its
	// holdout hides them from) as an entry of the baseline's experiment:
	// variant 0 for a unit in the holdout, 1 for any other. Recorded, those
	// entries compare the holdout with the rest of the layer.
	Baseline *Baseline `json:"baseline,omitempty"`
}

// Baseline names the experiment under which a layer's holdout is compared
// with the rest of the layer, and its two variants: the holdout's first.
type Baseline struct {
	Experiment string    `json:"experiment"`
	Variants   [2]string `json:"variants"`
}

// EffectiveSalt returns Salt, or Key when Salt is empty.
func (l Layer) EffectiveSalt() string {
	if l.Salt == "" {
		return l.Key
	}
	return l.Salt
}

// HoldoutBuckets returns round(HoldoutShare*10000): layer buckets
// [0, HoldoutBuckets) are the holdout.
func (l Layer) HoldoutBuckets() int { return ShareToBuckets(l.HoldoutShare) }

// Bucket returns the unit's layer bucket in 0..9999.
func (l Layer) Bucket(unitID string) int { return LayerBucket(l.EffectiveSalt(), unitID) }

// ErrLayerFull is returned by AllocateLayerRange when no free block of the
// requested size is left in the layer.
var ErrLayerFull = errors.New("layer full")

// AllocateLayerRange returns the first free block of size layer buckets
// (first fit, lowest start) for a new experiment of a layer, given the
// ranges the layer's other experiments already own and the layer's holdout
// bucket count. Buckets below holdoutBuckets are never handed out.
//
// First fit keeps the free space of a layer in as few blocks as possible, so
// large experiments still fit after small ones end. It wraps ErrLayerFull
// when no block is large enough.
func AllocateLayerRange(taken []Range, holdoutBuckets int, size int) (Range, error) {
	if holdoutBuckets < 0 || holdoutBuckets > Buckets {
		return Range{}, fmt.Errorf("holdout buckets: %d outside 0..%d", holdoutBuckets, Buckets)
	}
	if size <= 0 || size > Buckets {
		return Range{}, fmt.Errorf("size: %d outside 1..%d", size, Buckets)
	}
	sorted := make([]Range, len(taken))
	copy(sorted, taken)
	for i, r := range sorted {
		if err := r.Validate(); err != nil {
			return Range{}, fmt.Errorf("taken[%d].%w", i, err)
		}
	}
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Start < sorted[j].Start })
	start := holdoutBuckets
	for _, r := range sorted {
		if r.Start-start >= size {
			break
		}
		if r.End > start {
			start = r.End
		}
	}
	if Buckets-start < size {
		return Range{}, fmt.Errorf("%w: no free block of %d buckets (holdout %d, %d ranges taken)", ErrLayerFull, size, holdoutBuckets, len(taken))
	}
	return Range{Start: start, End: start + size}, nil
}
