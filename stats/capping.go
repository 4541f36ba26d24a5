package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/stat"
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

// PercentileCap returns the q-quantile (q in [0, 1], e.g. 0.99) of values,
// to be used as the cap for CapAt. It uses the empirical (inverse-CDF)
// quantile, so the cap is always one of the observed values. NaN values are
// ignored, values is not modified, q is clamped to [0, 1], and an empty
// input gives 0.
func PercentileCap(values []float64, q float64) float64 {
	xs := make([]float64, 0, len(values))
	for _, v := range values {
		if !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	return stat.Quantile(clamp01(q), stat.Empirical, xs, nil)
}
