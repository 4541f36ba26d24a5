package bandit

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// banditRun is the outcome of one simulated optimise-mode experiment.
type banditRun struct {
	units        [3]int64  // units per arm over the whole run
	finalWeights []float64 // weights after the last period
	regret       float64   // expected conversions lost against always showing the best arm
	reweights    int       // periods after which the weights moved
}

// simRates are the arms' true conversion rates; the set-up is the one
// whose numbers docs/bandit.md quotes.
var simRates = [3]float64{0.10, 0.11, 0.13}

const (
	simPeriods = 30
	simPerDay  = 1000 // new visitors per period
	simFloor   = 0.01
)

// simulateBandit runs the experiment end to end at the level of units: each
// period simPerDay new visitors are bucketed with the production hash
// (assign.Hash, VariantBucket) into the current allocation, convert with
// their arm's true rate, and after the period the weights are recomputed
// with Weights on every arm's pooled statistics, as the Scheduler does, and
// applied with assign.Reallocate, as Service.Reweight does. Only new
// visitors are assigned each period, so stickiness (package serving) does
// not enter.
//
// With periodWeighted the posteriors come from PeriodWeighted over the
// periods instead: the alternative Weights deliberately does not use.
func simulateBandit(t testing.TB, seed uint64, periodWeighted bool) banditRun {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 0xba4d17))
	salt := fmt.Sprintf("sim-%d", seed)
	best := math.Max(simRates[0], math.Max(simRates[1], simRates[2]))
	weights := []float64{1, 1, 1}
	alloc, err := assign.Allocate(weights)
	if err != nil {
		t.Fatal(err)
	}
	var run banditRun
	var periods [][]stats.ArmStats
	for p := range simPeriods {
		row := make([]stats.ArmStats, 3)
		prefix := "p" + strconv.Itoa(p) + "-u"
		for i := range simPerDay {
			v := alloc.Variant(assign.VariantBucket(assign.Hash(salt, prefix+strconv.Itoa(i))))
			row[v].N++
			if rng.Float64() < simRates[v] {
				row[v].Sum++
				row[v].SumSq++
			}
			run.regret += best - simRates[v]
		}
		for a := range row {
			run.units[a] += row[a].N
		}
		periods = append(periods, row)
		next, err := Weights(poolRows(periods), stats.KindBinomial, experiment.HigherIsBetter, simFloor)
		if errors.Is(err, ErrNotYet) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		weights = next.Weights()
		if periodWeighted {
			weights = periodWeightedWeights(t, periods)
		}
		if alloc, err = assign.Reallocate(alloc, weights); err != nil {
			t.Fatal(err)
		}
		run.reweights++
	}
	run.finalWeights = weights
	return run
}

// periodWeightedWeights is Weights with PeriodWeighted posteriors.
func periodWeightedWeights(t testing.TB, periods [][]stats.ArmStats) []float64 {
	t.Helper()
	est, err := PeriodWeighted(stats.KindBinomial, periods)
	if err != nil {
		t.Fatal(err)
	}
	means, sds := make([]float64, len(est.Arms)), make([]float64, len(est.Arms))
	for a, arm := range est.Arms {
		means[a], sds[a] = arm.Mean, arm.SE
	}
	return stats.BanditWeights(stats.ProbabilityBest(means, sds), simFloor)
}

func poolRows(rows [][]stats.ArmStats) []stats.ArmStats {
	out := make([]stats.ArmStats, len(rows[0]))
	for _, r := range rows {
		for a := range r {
			out[a] = plus(out[a], r[a])
		}
	}
	return out
}

// equalSplitRegret is the expected regret of a fixed equal split over the
// same visitors.
func equalSplitRegret() float64 {
	best := math.Max(simRates[0], math.Max(simRates[1], simRates[2]))
	mean := (simRates[0] + simRates[1] + simRates[2]) / 3
	return simPeriods * simPerDay * (best - mean)
}

func TestSimulatedBanditShiftsTrafficToTheBestArm(t *testing.T) {
	fixed := equalSplitRegret()
	check := func(t *testing.T, seed uint64, run banditRun) {
		t.Helper()
		if run.units[2] <= run.units[0] || run.units[2] <= run.units[1] {
			t.Errorf("seed %d: units per arm %v, want the 13%% arm to get the most traffic", seed, run.units)
		}
		if run.regret >= fixed {
			t.Errorf("seed %d: regret %.1f is not below the equal split's %.1f", seed, run.regret, fixed)
		}
	}

	t.Run("the reported run beats a fixed equal split", func(t *testing.T) {
		run := simulateBandit(t, 1, false)
		total := float64(simPeriods * simPerDay)
		t.Logf("%d periods × %d visitors, true conversion %v, floor %g", simPeriods, simPerDay, simRates, simFloor)
		t.Logf("traffic share per arm: %.3f %.3f %.3f; final weights %.3f; re-weighted after %d of %d periods",
			float64(run.units[0])/total, float64(run.units[1])/total, float64(run.units[2])/total, run.finalWeights, run.reweights, simPeriods)
		t.Logf("regret (expected conversions lost vs always-best): bandit %.1f, fixed equal split %.1f", run.regret, fixed)
		check(t, 1, run)
	})

	t.Run("every one of twenty seeds beats a fixed equal split", func(t *testing.T) {
		var sum, worst, sumPW float64
		var bestShare float64
		const seeds = 20
		for seed := uint64(100); seed < 100+seeds; seed++ {
			run := simulateBandit(t, seed, false)
			check(t, seed, run)
			sum += run.regret / seeds
			worst = math.Max(worst, run.regret)
			bestShare += float64(run.units[2]) / float64(simPeriods*simPerDay) / seeds
			sumPW += simulateBandit(t, seed, true).regret / seeds
		}
		t.Logf("over %d seeds: mean regret %.1f (worst %.1f) vs equal split %.1f; mean traffic share of the best arm %.3f",
			seeds, sum, worst, fixed, bestShare)
		t.Logf("same seeds with period-weighted instead of pooled posteriors: mean regret %.1f", sumPW)
	})
}

// TestReweightingMovesOnlyNewUnits shows what stickiness protects at the
// level of this package: after a re-weighting, assign.Reallocate moves a
// share of buckets, and units in those buckets would change variant if
// nothing pinned them. Serving pins every exposed unit to its stored
// variant (serving.TestStickinessAfterReweight checks the real service);
// here a map plays that role.
func TestReweightingMovesOnlyNewUnits(t *testing.T) {
	const salt, n = "sticky-sim", 20000
	alloc, err := assign.Allocate([]float64{1, 1, 1})
	if err != nil {
		t.Fatal(err)
	}
	variantOf := func(a assign.Allocation, unit string) int {
		return a.Variant(assign.VariantBucket(assign.Hash(salt, unit)))
	}
	sticky := map[string]int{}
	for i := range n {
		u := fmt.Sprintf("old-%d", i)
		sticky[u] = variantOf(alloc, u)
	}
	u, err := Weights(pooled(conv(3000, 300), conv(3000, 330), conv(3000, 390)), stats.KindBinomial, experiment.HigherIsBetter, simFloor)
	if err != nil {
		t.Fatal(err)
	}
	next, err := assign.Reallocate(alloc, u.Weights())
	if err != nil {
		t.Fatal(err)
	}
	served := func(unit string) int {
		if v, ok := sticky[unit]; ok {
			return v
		}
		return variantOf(next, unit)
	}

	flipsWithout, flipsWith := 0, 0
	for unit, v := range sticky {
		if variantOf(next, unit) != v {
			flipsWithout++
		}
		if served(unit) != v {
			flipsWith++
		}
	}
	moved := 0.0
	for _, w := range u.Weights() {
		moved += math.Abs(w-1.0/3) / 2
	}
	t.Logf("re-weighting from an even split to %.3f moves %.1f%% of buckets; exposed units that would flip without pinning: %.1f%%",
		u.Weights(), 100*moved, 100*float64(flipsWithout)/n)
	if flipsWith != 0 {
		t.Errorf("%d exposed units changed variant despite pinning", flipsWith)
	}
	if math.Abs(float64(flipsWithout)/n-moved) > 0.02 {
		t.Errorf("without pinning %.3f of units flip, want about the moved share %.3f (Reallocate moves the minimum)", float64(flipsWithout)/n, moved)
	}
	counts := make([]int, 3)
	for i := range n {
		counts[served(fmt.Sprintf("new-%d", i))]++
	}
	for a, w := range u.Weights() {
		if got := float64(counts[a]) / n; math.Abs(got-w) > 0.015 {
			t.Errorf("new units: arm %d gets %.3f, want its new weight %.3f", a, got, w)
		}
	}
}
