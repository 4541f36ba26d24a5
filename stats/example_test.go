package stats_test

import (
	"fmt"

	"github.com/journeylab/journeylab/stats"
)

func ExampleCompare() {
	control := stats.ArmStats{N: 3407, Sum: 1396.87, SumSq: 52377.9767}
	treatment := stats.ArmStats{N: 3461, Sum: 2422.7, SumSq: 134698.29}
	r := stats.Compare(stats.KindMean, control, treatment, stats.Options{})
	if err := r.Err(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("relative lift %.3f, 95%% CI [%.3f, %.3f], p = %.4f\n",
		r.Relative.Estimate, r.Relative.CILow, r.Relative.CIHigh, r.Relative.PValue)
	// Output: relative lift 0.707, 95% CI [-0.035, 1.450], p = 0.0619
}

func ExampleCompare_bayesianLowerIsBetter() {
	// Return rate: fewer returns is better, so Sides is Less.
	control := stats.ArmStats{N: 2000, Sum: 240}
	treatment := stats.ArmStats{N: 2000, Sum: 205}
	r := stats.Compare(stats.KindBinomial, control, treatment,
		stats.Options{Method: stats.Bayesian, Sides: stats.Less})
	fmt.Printf("chance to win %.3f, risk of shipping %.4f\n", r.ChanceToWin, r.Risk[1])
	// Output: chance to win 0.972, risk of shipping 0.0008
}

func ExampleNPSArm() {
	control := stats.NPSArm(400, 350, 250)   // NPS 0.15
	treatment := stats.NPSArm(450, 330, 220) // NPS 0.23
	r := stats.Compare(stats.KindNPS, control, treatment, stats.Options{Sides: stats.Greater})
	fmt.Printf("NPS %.2f -> %.2f, one-sided p = %.4f\n", r.ControlMean, r.TreatmentMean, r.Absolute.PValue)
	// Output: NPS 0.15 -> 0.23, one-sided p = 0.0117
}

func ExampleProbabilityBest() {
	p := stats.ProbabilityBest([]float64{0.100, 0.104, 0.098}, []float64{0.003, 0.003, 0.003})
	w := stats.BanditWeights(p, 0.05)
	fmt.Printf("P(best) %.3f  weights %.3f\n", p, w)
	// Output: P(best) [0.158 0.787 0.055]  weights [0.184 0.719 0.097]
}

func ExampleSampleSizeProportions() {
	s, err := stats.SampleSizeProportions(0.10, 0.10, stats.RelativeMDE, false, stats.PowerParams{Power: 0.8})
	if err != nil {
		fmt.Println(err)
		return
	}
	days, _ := stats.Duration(s.PerArm, 2, 1000, 1)
	fmt.Printf("%d units per arm, %d days at 1000 visitors a day\n", s.PerArm, days)
	// Output: 14749 units per arm, 30 days at 1000 visitors a day
}

func ExampleDesign() {
	// A 5% conversion rate; the report's verdict tests the difference.
	d := stats.Design{Kind: stats.KindBinomial, Baseline: 0.05, Scale: stats.RelativeMDE}
	n, _ := d.SampleSize(0.10) // +10 %
	p, _ := d.Power(0.10, 20000)
	m, _ := d.MDE(20000)
	fmt.Printf("+10%%: %d units per arm; power with 20,000: %.3f; MDE of 20,000: %+.1f%%\n", n.PerArm, p, 100*m)

	// Three arms, Bonferroni, planned for the sequential method.
	seq := stats.Design{Kind: stats.KindBinomial, Baseline: 0.05, Scale: stats.RelativeMDE, Arms: 3, Method: stats.Sequential}
	s, _ := seq.SampleSize(0.10)
	fmt.Printf("sequential, 3 arms: %d units per arm at alpha %.3f each, tuning N* = %.0f\n", s.PerArm, seq.ComparisonAlpha(), seq.TuningFor(float64(s.PerArm)))
	// Output:
	// +10%: 31231 units per arm; power with 20,000: 0.611; MDE of 20,000: +12.6%
	// sequential, 3 arms: 67670 units per arm at alpha 0.025 each, tuning N* = 135340
}

// The 90th percentile of the revenue of ten exposed visitors, eight of
// whom bought nothing (no rollup: zeros), caps the whale at the second
// buyer's 40; with nobody exposed there is no cap, which CapAt ignores.
func ExamplePercentileCap() {
	revenue := []float64{40, 5000}
	cap := stats.PercentileCap(revenue, 8, 0.9)
	fmt.Println(cap, stats.CapAt(5000, cap))
	none := stats.PercentileCap(nil, 0, 0.9)
	fmt.Println(none, stats.CapAt(5000, none))
	// Output:
	// 40 40
	// NaN 5000
}
