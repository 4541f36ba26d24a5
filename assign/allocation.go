package assign

import (
	"errors"
	"fmt"
	"math"
	"sort"
)

// VariantRange gives the variant buckets [Start, End) to the variant with
// index Variant (an index into Experiment.Variants).
type VariantRange struct {
	// Start is the first variant bucket of the range.
	Start int `json:"start"`
	// End is one past the last variant bucket of the range.
	End int `json:"end"`
	// Variant is the index of the owning variant.
	Variant int `json:"variant"`
}

// Allocation maps the variant-bucket space 0..10000 to variant indexes.
//
// It is stored with the experiment rather than recomputed from weights
// because the mapping depends on history: Reallocate only moves the buckets
// it must, so two experiments with the same weights can own different bucket
// ranges. Ranges are sorted by Start, contiguous, cover exactly [0, 10000)
// and adjacent ranges of the same variant are merged (the canonical form that
// Allocate and Reallocate produce and Validate checks).
type Allocation struct {
	// Ranges are the variant-bucket ranges, sorted by Start.
	Ranges []VariantRange `json:"ranges"`
}

// ErrInvalidWeights is wrapped by Allocate and Reallocate when weights are
// empty, negative, NaN, infinite or sum to zero.
var ErrInvalidWeights = errors.New("invalid weights")

// Validate reports whether the allocation is in canonical form: at least one
// range, ranges sorted and contiguous from 0 to 10000 without overlap, every
// range non-empty and every variant index non-negative.
func (a Allocation) Validate() error {
	if len(a.Ranges) == 0 {
		return errors.New("allocation.ranges: must not be empty")
	}
	next := 0
	for i, r := range a.Ranges {
		switch {
		case r.Variant < 0:
			return fmt.Errorf("allocation.ranges[%d].variant: must not be negative, got %d", i, r.Variant)
		case r.Start < next:
			return fmt.Errorf("allocation.ranges[%d].start: %d overlaps the previous range ending at %d", i, r.Start, next)
		case r.Start > next:
			return fmt.Errorf("allocation.ranges[%d].start: %d leaves a gap after %d", i, r.Start, next)
		case r.End <= r.Start:
			return fmt.Errorf("allocation.ranges[%d].end: %d must be greater than start %d", i, r.End, r.Start)
		case r.End > Buckets:
			return fmt.Errorf("allocation.ranges[%d].end: %d exceeds %d", i, r.End, Buckets)
		}
		next = r.End
	}
	if next != Buckets {
		return fmt.Errorf("allocation.ranges: cover [0, %d), want [0, %d)", next, Buckets)
	}
	return nil
}

// Variant returns the index of the variant that owns variant bucket b, or -1
// when b is outside the allocation. It does not allocate.
func (a Allocation) Variant(b int) int {
	// Binary search: allocations fragment after repeated Reallocate calls.
	lo, hi := 0, len(a.Ranges)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		r := a.Ranges[m]
		switch {
		case b < r.Start:
			hi = m
		case b >= r.End:
			lo = m + 1
		default:
			return r.Variant
		}
	}
	return -1
}

// Counts returns the number of variant buckets owned by each variant index,
// up to the highest index present. Divide by 10000 for the traffic share.
func (a Allocation) Counts() []int {
	n := 0
	for _, r := range a.Ranges {
		if r.Variant+1 > n {
			n = r.Variant + 1
		}
	}
	c := make([]int, n)
	for _, r := range a.Ranges {
		c[r.Variant] += r.End - r.Start
	}
	return c
}

// Allocate returns a fresh allocation that gives each variant one contiguous
// range, in index order, sized in proportion to its weight. Weights need not
// sum to 1. Variants with weight 0 get no range.
//
// Use it for a new experiment; once units have been exposed use Reallocate,
// which moves as few units as possible.
func Allocate(weights []float64) (Allocation, error) {
	counts, err := bucketCounts(weights)
	if err != nil {
		return Allocation{}, err
	}
	var a Allocation
	start := 0
	for v, c := range counts {
		if c == 0 {
			continue
		}
		a.Ranges = append(a.Ranges, VariantRange{Start: start, End: start + c, Variant: v})
		start += c
	}
	return a, nil
}

// Reallocate changes prev to the shares given by weights while moving the
// minimum number of variant buckets.
//
// The target bucket count of each variant is computed exactly as in Allocate.
// A variant whose count shrinks gives up its highest-numbered buckets (the
// end of its last range first); the freed buckets are handed, in ascending
// bucket order, to the growing variants in index order. Buckets of a variant
// whose count is unchanged never move, and no unit moves between two
// variants that both keep or gain buckets, so the number of moved buckets is
// exactly ½·Σ|Δcount|, the least possible.
//
// weights may be longer than the variants in prev (a variant is added: it
// starts with no buckets and grows); to retire a variant set its weight to 0,
// because indexes are positions in Experiment.Variants and must not shift.
// A zero prev (no ranges) is the same as Allocate(weights).
func Reallocate(prev Allocation, weights []float64) (Allocation, error) {
	if len(prev.Ranges) == 0 {
		return Allocate(weights)
	}
	if err := prev.Validate(); err != nil {
		return Allocation{}, err
	}
	target, err := bucketCounts(weights)
	if err != nil {
		return Allocation{}, err
	}
	have := prev.Counts()
	if len(have) > len(weights) {
		return Allocation{}, fmt.Errorf("%w: allocation has variant %d but only %d weights; set a retired variant's weight to 0 instead of removing it",
			ErrInvalidWeights, len(have)-1, len(weights))
	}

	// Work on one owner per bucket: this is not a hot path and it makes the
	// "only move what must move" rule obvious.
	var owner [Buckets]int32
	for _, r := range prev.Ranges {
		for b := r.Start; b < r.End; b++ {
			owner[b] = int32(r.Variant)
		}
	}
	surplus := make([]int, len(weights)) // buckets each variant must give up
	for v := range have {
		if d := have[v] - target[v]; d > 0 {
			surplus[v] = d
		}
	}
	freed := make([]int, 0, Buckets)
	for b := Buckets - 1; b >= 0; b-- {
		if v := owner[b]; surplus[v] > 0 {
			surplus[v]--
			freed = append(freed, b)
		}
	}
	sort.Ints(freed)
	next := 0
	for v := range target {
		cur := 0
		if v < len(have) {
			cur = have[v]
		}
		for ; cur < target[v]; cur++ {
			owner[freed[next]] = int32(v)
			next++
		}
	}

	var a Allocation
	start := 0
	for b := 1; b <= Buckets; b++ {
		if b == Buckets || owner[b] != owner[start] {
			a.Ranges = append(a.Ranges, VariantRange{Start: start, End: b, Variant: int(owner[start])})
			start = b
		}
	}
	return a, nil
}

// bucketCounts turns weights into integer bucket counts summing to 10000 by
// largest-remainder rounding; ties go to the lower index so the result is
// deterministic.
func bucketCounts(weights []float64) ([]int, error) {
	if len(weights) == 0 {
		return nil, fmt.Errorf("%w: no weights", ErrInvalidWeights)
	}
	total := 0.0
	for i, w := range weights {
		if math.IsNaN(w) || math.IsInf(w, 0) || w < 0 {
			return nil, fmt.Errorf("%w: weights[%d] = %v, want a finite number >= 0", ErrInvalidWeights, i, w)
		}
		total += w
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return nil, fmt.Errorf("%w: weights sum to %v, want a finite number > 0", ErrInvalidWeights, total)
	}
	counts := make([]int, len(weights))
	rem := make([]float64, len(weights))
	sum := 0
	for i, w := range weights {
		q := w * Buckets / total
		f := math.Floor(q)
		counts[i] = int(f)
		rem[i] = q - f
		sum += counts[i]
	}
	// Only variants with a positive weight may receive a remainder bucket: a
	// weight of 0 must mean "no traffic" even under floating-point error.
	order := make([]int, 0, len(weights))
	for i, w := range weights {
		if w > 0 {
			order = append(order, i)
		}
	}
	sort.SliceStable(order, func(x, y int) bool { return rem[order[x]] > rem[order[y]] })
	for k := 0; sum < Buckets; k++ {
		counts[order[k%len(order)]]++
		sum++
	}
	return counts, nil
}
