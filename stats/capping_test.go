package stats

import (
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"gonum.org/v1/gonum/stat"
)

func TestCapping(t *testing.T) {
	t.Run("values above the cap are replaced by the cap", func(t *testing.T) {
		if CapAt(500, 120) != 120 || CapAt(80, 120) != 80 || CapAt(-5, 120) != -5 {
			t.Error("CapAt does not winsorise at the cap")
		}
	})
	t.Run("a nan cap leaves values alone", func(t *testing.T) {
		if CapAt(500, math.NaN()) != 500 {
			t.Error("NaN cap changed the value")
		}
	})
	t.Run("the 99th percentile of 1..100 is 99 and the input is not reordered", func(t *testing.T) {
		xs := make([]float64, 100)
		for i := range xs {
			xs[i] = float64(100 - i)
		}
		if got := PercentileCap(xs, 0, 0.99); got != 99 {
			t.Errorf("cap %g", got)
		}
		if xs[0] != 100 {
			t.Error("input was modified")
		}
	})
}

// The expected caps were worked out by hand from the definition: sort the
// values with the zeros, take the value at 0-based position ceil(q·N) − 1
// (at least 0).
func TestPercentileCap(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		name   string
		values []float64
		zeros  int64
		q      float64
		want   float64 // NaN: no cap
	}{
		{"no values and no zeros give no cap", nil, 0, 0.99, nan},
		{"an empty slice gives no cap", []float64{}, 0, 0.5, nan},
		{"only NaN values give no cap", []float64{nan, nan}, 0, 0.99, nan},
		{"a negative zero count is none", nil, -3, 0.99, nan},
		{"only zeros give a cap of zero", nil, 5, 0.99, 0},
		{"one value is its own cap", []float64{7}, 0, 0.99, 7},
		{"NaN values are ignored", []float64{nan, 3, 1, 2}, 0, 1, 3},
		{"the median of 1..4 is 2", []float64{4, 3, 2, 1}, 0, 0.5, 2},
		{"zeros pull the quantile down", []float64{10, 20}, 8, 0.8, 0},
		{"the 90th percentile of 8 zeros and 10, 20 is 10", []float64{10, 20}, 8, 0.9, 10},
		{"q of 1 is the maximum", []float64{10, 20}, 8, 1, 20},
		{"q of 0 is the minimum, a negative value", []float64{-5, 10}, 3, 0, -5},
		{"zeros sort after negative values", []float64{-5, -4, 10}, 2, 0.6, 0},
		{"q above 1 is clamped to the maximum", []float64{1, 2, 3}, 0, 1.5, 3},
		{"q below 0 is clamped to the minimum", []float64{1, 2, 3}, 0, -1, 1},
		{"ties are one value", []float64{5, 5, 5, 9}, 0, 0.75, 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := PercentileCap(tc.values, tc.zeros, tc.q)
			if math.IsNaN(tc.want) != math.IsNaN(got) || (!math.IsNaN(got) && got != tc.want) {
				t.Fatalf("PercentileCap(%v, %d, %v) = %v, want %v", tc.values, tc.zeros, tc.q, got, tc.want)
			}
		})
	}
}

func TestPercentileCapRankLocatesTheCapWithoutTheValues(t *testing.T) {
	cases := []struct {
		name               string
		q                  float64
		n, negative, zeros int64
		rank               int64
		zero, ok           bool
	}{
		{"nothing at all has no cap", 0.99, 0, 0, 0, 0, false, false},
		{"only zeros: the cap is a zero", 0.99, 0, 0, 4, 0, true, true},
		{"below the zeros: a negative value", 0.1, 3, 2, 5, 0, false, true},
		{"among the zeros", 0.5, 3, 2, 5, 0, true, true},
		{"above the zeros: the rank skips them", 1, 3, 2, 5, 2, false, true},
		{"no zeros: the plain empirical rank", 0.99, 100, 0, 0, 98, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rank, zero, ok := PercentileCapRank(tc.q, tc.n, tc.negative, tc.zeros)
			if rank != tc.rank || zero != tc.zero || ok != tc.ok {
				t.Fatalf("= (%d, %v, %v), want (%d, %v, %v)", rank, zero, ok, tc.rank, tc.zero, tc.ok)
			}
		})
	}
}

// TestPercentileCapIsGonumsEmpiricalQuantile checks the rank definition
// against gonum's stat.Quantile (stat.Empirical), with the zeros passed as
// one weighted value, on random inputs with negatives, zeros and ties.
func TestPercentileCapIsGonumsEmpiricalQuantile(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for trial := 0; trial < 2000; trial++ {
		n := rng.IntN(30)
		values := make([]float64, n)
		for i := range values {
			values[i] = float64(rng.IntN(11) - 3)
		}
		zeros := int64(rng.IntN(5))
		q := []float64{0, 0.01, 0.25, 0.5, 0.9, 0.99, 1, rng.Float64()}[rng.IntN(8)]
		if n == 0 && zeros == 0 {
			continue
		}
		xs := append([]float64(nil), values...)
		ws := make([]float64, n)
		for i := range ws {
			ws[i] = 1
		}
		if zeros > 0 {
			xs, ws = append(xs, 0), append(ws, float64(zeros))
		}
		idx := make([]int, len(xs))
		for i := range idx {
			idx[i] = i
		}
		sort.Slice(idx, func(a, b int) bool { return xs[idx[a]] < xs[idx[b]] })
		sx, sw := make([]float64, len(idx)), make([]float64, len(idx))
		for i, j := range idx {
			sx[i], sw[i] = xs[j], ws[j]
		}
		want := stat.Quantile(q, stat.Empirical, sx, sw)
		if got := PercentileCap(values, zeros, q); got != want {
			t.Fatalf("q=%v values %v zeros %d: got %v, want %v", q, values, zeros, got, want)
		}
	}
}
