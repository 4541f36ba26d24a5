package stats

import (
	"math"
	"sort"
)

// Holm adjusts p-values for multiple comparisons with Holm's step-down
// method, which controls the family-wise error rate (the chance of any false
// positive in the family) and is uniformly more powerful than Bonferroni:
//
//	sorted ascending p(1) ≤ … ≤ p(m):  adj(i) = max_{j≤i} min(1, (m−j+1)·p(j))
//
// The adjusted values are returned in input order; compare them with alpha
// directly. NaN is treated as 1 and values are clamped to [0, 1].
func Holm(p []float64) []float64 {
	m := len(p)
	ps, idx := sortedP(p)
	out := make([]float64, m)
	running := 0.0
	for rank, i := range idx {
		v := math.Min(1, float64(m-rank)*ps[i])
		running = math.Max(running, v)
		out[i] = running
	}
	return out
}

// BenjaminiHochberg adjusts p-values with the Benjamini–Hochberg step-up
// procedure, which controls the false discovery rate (expected share of
// false positives among the findings) — the right error rate when many goal
// metrics are scanned for leads:
//
//	sorted ascending:  adj(i) = min_{j≥i} min(1, m·p(j)/j)
//
// The adjusted values (q-values) are returned in input order. NaN is
// treated as 1 and values are clamped to [0, 1].
func BenjaminiHochberg(p []float64) []float64 {
	m := len(p)
	ps, idx := sortedP(p)
	out := make([]float64, m)
	running := 1.0
	for rank := m - 1; rank >= 0; rank-- {
		i := idx[rank]
		v := math.Min(1, float64(m)*ps[i]/float64(rank+1))
		running = math.Min(running, v)
		out[i] = running
	}
	return out
}

// sortedP returns the cleaned p-values and the indices that sort them
// ascending (stable, so ties keep input order).
func sortedP(p []float64) ([]float64, []int) {
	ps := make([]float64, len(p))
	idx := make([]int, len(p))
	for i, v := range p {
		ps[i] = clamp01(v)
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return ps[idx[a]] < ps[idx[b]] })
	return ps, idx
}
