package stats

import (
	"math"
	"testing"
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
		if got := PercentileCap(xs, 0.99); got != 99 {
			t.Errorf("cap %g", got)
		}
		if xs[0] != 100 {
			t.Error("input was modified")
		}
	})
	t.Run("nan values are ignored and an empty input gives zero", func(t *testing.T) {
		if got := PercentileCap([]float64{math.NaN(), 3, 1, 2}, 1); got != 3 {
			t.Errorf("cap %g", got)
		}
		if got := PercentileCap(nil, 0.99); got != 0 {
			t.Errorf("cap %g", got)
		}
	})
}
