package stats

import "testing"

func TestSRM(t *testing.T) {
	cases := []struct {
		name     string
		observed []int64
		weights  []float64
		wantP    float64
		alert    bool
		df       int
	}{
		{"a 1000 vs 1200 split on a 50/50 design alerts", []int64{1000, 1200}, []float64{0.5, 0.5}, 0.000020079, true, 1},
		{"a 135 vs 115 split on a 50/50 design is fine", []int64{135, 115}, []float64{0.5, 0.5}, 0.205903211, false, 1},
		{"three arms on a 34/33/33 design alert below 0.001", []int64{500, 500, 600}, []float64{0.34, 0.33, 0.33}, 0.000592638, true, 2},
		{"an empty zero-weight arm is left out", []int64{135, 0, 115}, []float64{0.5, 0, 0.5}, 0.205903211, false, 1},
		{"weights need not sum to one", []int64{1000, 1200}, []float64{1, 1}, 0.000020079, true, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := SRM(c.observed, c.weights)
			if r.Status != StatusOK {
				t.Fatalf("status %s: %s", r.Status, r.Reason)
			}
			// The reference prints p to 9 decimal places (0.000020079), so
			// it is matched to half a unit in that last place.
			if d := r.PValue - c.wantP; d > 5e-10 || d < -5e-10 {
				t.Errorf("p = %.12g, want %.9g", r.PValue, c.wantP)
			}
			if r.Alert != c.alert || r.DF != c.df {
				t.Errorf("alert %v df %d, want %v %d", r.Alert, r.DF, c.alert, c.df)
			}
		})
	}

	bad := []struct {
		name     string
		observed []int64
		weights  []float64
		status   Status
	}{
		{"mismatched lengths are invalid input", []int64{1, 2}, []float64{1}, StatusInvalidInput},
		{"negative counts are invalid input", []int64{-1, 2}, []float64{1, 1}, StatusInvalidInput},
		{"negative weights are invalid input", []int64{1, 2}, []float64{-1, 1}, StatusInvalidInput},
		{"a single weighted arm is not enough data", []int64{10, 0}, []float64{1, 0}, StatusNotEnoughData},
		{"no units is not enough data", []int64{0, 0}, []float64{1, 1}, StatusNotEnoughData},
		{"one unit in one arm is not enough data", []int64{1, 0}, []float64{1, 1}, StatusNotEnoughData},
		{"nine units on a 50/50 split are not enough data (4.5 expected per arm)", []int64{9, 0}, []float64{1, 1}, StatusNotEnoughData},
		{"a 5% arm with 99 units in total is not enough data", []int64{95, 4}, []float64{0.95, 0.05}, StatusNotEnoughData},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			r := SRM(c.observed, c.weights)
			if r.Status != c.status || r.Alert || r.PValue != 1 {
				t.Errorf("got %+v, want status %s, no alert, p 1", r, c.status)
			}
		})
	}
}

func TestSRMFlagsUnitsTheSplitCannotProduce(t *testing.T) {
	for _, c := range []struct {
		name       string
		observed   []int64
		weights    []float64
		unexpected int64
	}{
		{"seven units in a zero-weight arm alert even when the rest is balanced", []int64{135, 7, 115}, []float64{0.5, 0, 0.5}, 7},
		{"a single unit in a zero-weight arm alerts", []int64{1000, 1, 1000}, []float64{1, 0, 1}, 1},
		{"units beside a single weighted arm alert", []int64{10, 20}, []float64{1, 0}, 20},
		{"a zero-weight arm alerts before there is enough data for the chi-square test", []int64{1, 3}, []float64{1, 0}, 3},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := SRM(c.observed, c.weights)
			if r.Status != StatusOK || !r.Alert || r.PValue != 0 || r.UnexpectedUnits != c.unexpected || r.Reason == "" {
				t.Errorf("got %+v", r)
			}
		})
	}
}
