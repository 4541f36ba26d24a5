package stats

import (
	"math"
	"slices"

	"gonum.org/v1/gonum/integrate/quad"
)

// Quadrature set-up for ProbabilityBest. The Gauss–Legendre nodes are
// computed once by gonum and never modified.
const (
	// bestHalfRange is L in z ∈ [−L, L]; the standard normal mass outside
	// is 2Φ(−9) ≈ 2e-19, far below the 1e-9 accuracy target.
	bestHalfRange = 9.0
	// bestBasePanels splits [−L, L] into panels of width 2.25 on which a
	// smooth integrand is integrated to ~1e-15 by bestNodes-point rules.
	bestBasePanels = 8
	bestNodes      = 16
	// bestSteepWidth: factors whose transition width (in units of the
	// integrating arm's sd) is below this get extra panel breakpoints.
	bestSteepWidth = 0.5
)

var glNodes, glWeights = legendreRule(bestNodes)

// legendreRule returns the n-point Gauss–Legendre rule on [−1, 1].
func legendreRule(n int) (x, w []float64) {
	x, w = make([]float64, n), make([]float64, n)
	quad.Legendre{}.FixedLocations(x, w, -1, 1)
	return x, w
}

// steepOffsets are where extra breakpoints go around a steep factor's
// centre, in multiples of its width: dense near the centre, where
// Φ changes fastest.
var steepOffsets = [...]float64{-9, -5, -3, -2, -1, -0.5, 0, 0.5, 1, 2, 3, 5, 9}

// ProbabilityBest returns, for independent Gaussian posteriors
// N(means[i], sds[i]²), the probability that arm i has the largest value:
//
//	P_i = ∫ φ(z) Π_{j≠i} Φ((μi + σi·z − μj)/σj) dz
//
// The integral for each arm is taken in that arm's own standard units, so
// its density is always well resolved, by composite Gauss–Legendre
// quadrature on [−9, 9] (gonum integrate/quad nodes). Extra panel
// breakpoints are placed where another arm's Φ factor switches from 0 to 1
// faster than the panel width, so very unequal sds stay accurate. This is
// deterministic (no Monte Carlo); the raw probabilities sum to 1 within
// ~1e-12 and are renormalised to remove that residue.
//
// Zero sds are treated as a tiny sd (1e-9 of the problem's scale), so tied
// point masses share equally. With mismatched lengths, NaN/Inf or negative
// sds the result is uniform (1/k each): the safe allocation for a bandit.
// An empty input gives an empty result.
func ProbabilityBest(means, sds []float64) []float64 {
	k := len(means)
	if k == 0 {
		return []float64{}
	}
	if len(sds) != k {
		return uniform(k)
	}
	scale := 0.0
	for i := range k {
		if !finite(means[i], sds[i]) || sds[i] < 0 {
			return uniform(k)
		}
		scale = math.Max(scale, math.Max(math.Abs(means[i]), sds[i]))
	}
	if scale == 0 {
		return uniform(k)
	}
	sd := make([]float64, k)
	for i, s := range sds {
		sd[i] = math.Max(s, 1e-9*scale)
	}
	p := probabilityBestRaw(means, sd)
	total := 0.0
	for _, v := range p {
		total += v
	}
	if !(total > 0) || !finite(total) {
		return uniform(k)
	}
	for i := range p {
		p[i] /= total
	}
	return p
}

// probabilityBestRaw is the quadrature without renormalisation; sds must be
// positive.
func probabilityBestRaw(means, sds []float64) []float64 {
	k := len(means)
	p := make([]float64, k)
	breaks := make([]float64, 0, bestBasePanels+1+len(steepOffsets)*k)
	for i := range k {
		mi, si := means[i], sds[i]
		breaks = breaks[:0]
		for b := range bestBasePanels + 1 {
			breaks = append(breaks, -bestHalfRange+2*bestHalfRange*float64(b)/bestBasePanels)
		}
		for j := range k {
			if j == i {
				continue
			}
			w := sds[j] / si
			if w >= bestSteepWidth {
				continue
			}
			c := (means[j] - mi) / si
			for _, o := range steepOffsets {
				if z := c + o*w; z > -bestHalfRange && z < bestHalfRange {
					breaks = append(breaks, z)
				}
			}
		}
		slices.Sort(breaks)
		breaks = slices.Compact(breaks)
		sum := 0.0
		for b := 0; b+1 < len(breaks); b++ {
			lo, hi := breaks[b], breaks[b+1]
			half, mid := (hi-lo)/2, (hi+lo)/2
			for n, x := range glNodes {
				z := mid + half*x
				f := normPDF(z)
				v := mi + si*z
				for j := 0; j < k && f != 0; j++ {
					// Φ(a) rounds to exactly 1 for a > 8.3, so skipping the
					// call there changes nothing but saves most of them.
					if a := (v - means[j]) / sds[j]; j != i && a < 8.3 {
						f *= normCDF(a)
					}
				}
				sum += glWeights[n] * half * f
			}
		}
		p[i] = sum
	}
	return p
}

func uniform(k int) []float64 {
	p := make([]float64, k)
	for i := range p {
		p[i] = 1 / float64(k)
	}
	return p
}

// BanditWeights turns probabilities of being best (Thompson sampling) into
// traffic weights with a floor, so that no arm is starved of the data that
// could prove the posterior wrong:
//
//	p_i = f + (1 − k·f)·w_i,   w = probBest normalised to sum 1
//
// f is clamped to [0, 1/k] (f = 1/k is an even split). NaN or negative
// entries of probBest count as 0; if nothing positive remains the split is
// even. The weights sum to 1.
func BanditWeights(probBest []float64, floor float64) []float64 {
	k := len(probBest)
	if k == 0 {
		return []float64{}
	}
	f := floor
	if !(f > 0) {
		f = 0
	}
	f = math.Min(f, 1/float64(k))
	w := make([]float64, k)
	total := 0.0
	for i, v := range probBest {
		if v > 0 && !math.IsInf(v, 0) {
			w[i] = v
			total += v
		}
	}
	if !(total > 0) || math.IsInf(total, 0) {
		return uniform(k)
	}
	rest := 1 - float64(k)*f
	for i := range w {
		w[i] = f + rest*w[i]/total
	}
	return w
}
