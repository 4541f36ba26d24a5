package stats

import (
	"math"
	"testing"
)

func TestMultipleComparisons(t *testing.T) {
	cases := []struct {
		name   string
		adjust func([]float64) []float64
		in     []float64
		want   []float64
	}{
		{"holm matches the reference vector in input order", Holm,
			[]float64{0.01, 0.04, 0.03, 0.005, 0.55, 0.6},
			[]float64{0.05, 0.12, 0.12, 0.03, 1, 1}},
		{"benjamini-hochberg matches the reference vector in input order", BenjaminiHochberg,
			[]float64{0.898, 0.138, 0.007, 0.964, 0.538, 0.006, 0.138},
			[]float64{0.964, 0.2415, 0.0245, 0.964, 0.7532, 0.0245, 0.2415}},
		{"holm of a single p-value is the p-value", Holm, []float64{0.03}, []float64{0.03}},
		{"benjamini-hochberg of a single p-value is the p-value", BenjaminiHochberg, []float64{0.03}, []float64{0.03}},
		{"holm treats nan as one", Holm, []float64{math.NaN(), 0.01}, []float64{1, 0.02}},
		{"benjamini-hochberg clamps out-of-range values", BenjaminiHochberg, []float64{-0.1, 2}, []float64{0, 1}},
		{"an empty family stays empty", Holm, []float64{}, []float64{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.adjust(c.in)
			if len(got) != len(c.want) {
				t.Fatalf("got %v, want %v", got, c.want)
			}
			for i := range got {
				if math.Abs(got[i]-c.want[i]) > 1e-6*math.Max(c.want[i], 1e-9) && math.Abs(got[i]-c.want[i]) > 1e-15 {
					t.Errorf("got %v, want %v", got, c.want)
					break
				}
			}
		})
	}
}
