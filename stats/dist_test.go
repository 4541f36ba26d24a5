package stats

import (
	"math"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

func TestTQuantile(t *testing.T) {
	dfs := []float64{1, 2.5, 30, 30.5, 55.7, 100, 5841.742032, 1e5, 3e7}
	t.Run("the quantile inverts gonum's CDF in both tails", func(t *testing.T) {
		for _, df := range dfs {
			d := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}
			for _, p := range []float64{1e-12, 1e-6, 0.025, 0.3, 0.5, 0.8, 0.975, 1 - 1e-6} {
				x := tQuantile(p, df)
				got, want := d.CDF(x), p
				if p > 0.5 { // compare the small tail to keep relative precision
					got, want = d.Survival(x), 1-p
				}
				// gonum's own CDF is only good to ~1e-9 at df 3e7.
				if math.Abs(got-want) > 1e-8*want {
					t.Errorf("df %g p %g: x %.15g has tail %.15g, want %.15g", df, p, x, got, want)
				}
			}
		}
	})
	t.Run("the quantile agrees with gonum's quantile away from the extreme tails", func(t *testing.T) {
		for _, df := range dfs {
			for _, p := range []float64{0.001, 0.025, 0.05, 0.3, 0.8, 0.95, 0.975, 0.999} {
				got := tQuantile(p, df)
				want := distuv.StudentsT{Mu: 0, Sigma: 1, Nu: df}.Quantile(p)
				// Both sides inherit gonum's ~1e-9 CDF noise at df 3e7.
				if math.Abs(got-want) > 1e-8*math.Max(1, math.Abs(want)) {
					t.Errorf("df %g p %g: got %.15g, gonum %.15g", df, p, got, want)
				}
			}
		}
	})
	t.Run("beyond 1e8 degrees of freedom the normal quantile is used", func(t *testing.T) {
		if tQuantile(0.975, 1e9) != normQuantile(0.975) {
			t.Error("expected the normal quantile")
		}
	})
}
