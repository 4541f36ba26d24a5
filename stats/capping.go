package stats

import (
	"math"
	"slices"
)

// CapAt winsorises one value at an upper cap: min(value, cap). Capping a
// heavy-tailed metric (revenue, time on page) at e.g. its 99th percentile
// trades a little bias for a large variance reduction, because a handful of
// whales otherwise dominate the variance. A NaN cap means "no cap".
func CapAt(value, cap float64) float64 {
	if math.IsNaN(cap) || value <= cap {
		return value
	}
	return cap
}

// PercentileCap returns the q-quantile (q in [0, 1], e.g. 0.99) of values
// together with zeros further values equal to 0, to be used as the cap for
// CapAt. The zeros stand for the exposed units that have no outcome yet, so
// a store need not materialise them. The quantile is the empirical
// (inverse-CDF) one, gonum's stat.Quantile with stat.Empirical and unit
// weights, located by PercentileCapRank, so the cap is always one of the
// values (or 0). NaN values are ignored, values is not modified, q is
// clamped to [0, 1], and a negative zeros counts as none.
//
// Empty input (no values and no zeros) gives NaN, which CapAt reads as "no
// cap": with nobody exposed there is nothing to winsorise.
func PercentileCap(values []float64, zeros int64, q float64) float64 {
	xs := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	slices.Sort(xs)
	negative, _ := slices.BinarySearch(xs, 0)
	rank, zero, ok := PercentileCapRank(q, int64(len(xs)), int64(negative), zeros)
	switch {
	case !ok:
		return math.NaN()
	case zero:
		return 0
	}
	return xs[rank]
}

// PercentileCapRank locates PercentileCap's q-quantile without the values:
// among n values sorted ascending, negative of them below 0, padded with
// zeros further values equal to 0 (placed after the negative values). The
// cap is the value at rank (0-based, among the n values) or, when zero is
// true, 0. ok is false for empty input: no cap. A store that keeps the
// values in an ordered index finds the cap with three counts and one look-up
// at rank.
//
// The definition is a rank rather than a call of stat.Quantile because such
// a store never reads the values; with unit weights the empirical quantile
// is the value at the first position whose cumulative count reaches q·N, so
// both give the same number (a test checks this against gonum).
func PercentileCapRank(q float64, n, negative, zeros int64) (rank int64, zero, ok bool) {
	zeros = max(zeros, 0)
	total := n + zeros
	if total <= 0 {
		return 0, false, false
	}
	k := min(max(int64(math.Ceil(clamp01(q)*float64(total)))-1, 0), total-1)
	switch {
	case k < negative:
		return k, false, true
	case k < negative+zeros:
		return 0, true, true
	}
	return k - zeros, false, true
}
