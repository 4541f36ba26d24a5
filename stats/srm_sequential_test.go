package stats

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"gonum.org/v1/gonum/stat/distuv"
)

// The reference Bayes factors were computed independently with mpmath
// (30 digits): ln BF = lnΓ(c) − lnΓ(c+n) + Σ[lnΓ(aᵢ+xᵢ) − lnΓ(aᵢ) − xᵢ ln θᵢ].
func TestSequentialSRMMatchesReferenceValues(t *testing.T) {
	cases := []struct {
		name     string
		observed []int64
		weights  []float64
		conc     float64
		logBF, p float64
	}{
		{"a 1000/1200 split of a 50/50 test", []int64{1000, 1200}, []float64{1, 1}, 2500, 3.94182795647623, 0.0194126967278755},
		{"a 135/115 split of a 50/50 test", []int64{135, 115}, []float64{1, 1}, 2500, 0.0250901864441909, 0.975221956261651},
		{"three arms with uneven weights", []int64{500, 500, 600}, []float64{.34, .33, .33}, 2500, 2.38197957033701, 0.0923675483517468},
		{"a 5000/4500 split of a 50/50 test", []int64{5000, 4500}, []float64{1, 1}, 2500, 9.63616457615547, 6.5323116733666e-5},
		{"a near-even split with a loose prior", []int64{10000, 10100}, []float64{1, 1}, 100, -2.40908341302956, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := SequentialSRM(tc.observed, tc.weights, 0.001, tc.conc)
			if r.Status != StatusOK {
				t.Fatalf("status %s: %s", r.Status, r.Reason)
			}
			if math.Abs(r.LogBayesFactor-tc.logBF) > 1e-9 {
				t.Errorf("ln BF = %.15g, want %.15g", r.LogBayesFactor, tc.logBF)
			}
			if math.Abs(r.PValue-tc.p) > 1e-9*math.Max(tc.p, 1e-12) && math.Abs(r.PValue-tc.p) > 1e-12 {
				t.Errorf("p = %.15g, want %.15g", r.PValue, tc.p)
			}
		})
	}
}

func TestSequentialSRMRejectsWhatItCannotTest(t *testing.T) {
	cases := []struct {
		name     string
		observed []int64
		weights  []float64
		want     Status
	}{
		{"lengths that differ", []int64{1, 2}, []float64{1}, StatusInvalidInput},
		{"a negative count", []int64{-1, 2}, []float64{1, 1}, StatusInvalidInput},
		{"a NaN weight", []int64{1, 2}, []float64{math.NaN(), 1}, StatusInvalidInput},
		{"one arm with traffic", []int64{10, 0}, []float64{1, 0}, StatusNotEnoughData},
		{"no units", []int64{0, 0}, []float64{1, 1}, StatusNotEnoughData},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := SequentialSRM(tc.observed, tc.weights, 0.001, 0)
			if r.Status != tc.want || r.PValue != 1 || r.Alert || r.Reason == "" {
				t.Fatalf("got %+v, want status %s with p = 1 and a reason", r, tc.want)
			}
		})
	}
	t.Run("a zero-weight arm is left out of the test", func(t *testing.T) {
		a := SequentialSRM([]int64{1000, 1200, 77}, []float64{1, 1, 0}, 0.001, 2500)
		b := SequentialSRM([]int64{1000, 1200}, []float64{1, 1}, 0.001, 2500)
		if a.LogBayesFactor != b.LogBayesFactor || a.Units != 2200 {
			t.Fatalf("with a zero-weight arm %+v, without %+v", a, b)
		}
	})
}

// srmLooks simulates one experiment checked after every batch of
// perLook assignments over looks looks: each assigned unit lands in arm
// i with probability weights[i], and an exposure of arm i is recorded
// with probability keep[i] (a lost exposure is the typical SRM cause).
// It returns the first look (1-based) at which check alerts, or 0.
func srmLooks(rng *rand.Rand, looks int, perLook int64, weights, keep []float64, check func(counts []int64) bool) int {
	counts := make([]int64, len(weights))
	for look := 1; look <= looks; look++ {
		left, rest := float64(perLook), 1.0
		for i, w := range weights {
			var k float64
			if i == len(weights)-1 {
				k = left
			} else if left > 0 {
				k = distuv.Binomial{N: left, P: math.Min(1, w/rest), Src: rng}.Rand()
			}
			left -= k
			rest -= w
			if k > 0 {
				counts[i] += int64(distuv.Binomial{N: k, P: keep[i], Src: rng}.Rand())
			}
		}
		if check(counts) {
			return look
		}
	}
	return 0
}

// The health scheduler repeats the SRM check on every running experiment;
// these simulations show why it uses the sequential test.
func TestSequentialSRMSimulations(t *testing.T) {
	const sims, looks, perLook = 2000, 30, 1000
	half := []float64{0.5, 0.5}
	seqAt := func(alpha float64) func([]int64) bool {
		return func(c []int64) bool { return SequentialSRM(c, half, alpha, 0).Alert }
	}
	chiAt := func(alpha float64) func([]int64) bool {
		return func(c []int64) bool { return SRM(c, half).PValue < alpha }
	}
	rate := func(seed uint64, keep []float64, check func([]int64) bool) (alerted float64, firstLooks []int) {
		rng := rand.New(rand.NewPCG(seed, 17))
		n := 0
		for s := 0; s < sims; s++ {
			if at := srmLooks(rng, looks, perLook, half, keep, check); at > 0 {
				n++
				firstLooks = append(firstLooks, at)
			}
		}
		return float64(n) / sims, firstLooks
	}
	t.Run("an A/A test checked at 30 looks alerts in at most 5% of experiments at alpha 5%", func(t *testing.T) {
		got, _ := rate(1, []float64{1, 1}, seqAt(0.05))
		t.Logf("sequential SRM false-alert rate over %d looks: %.4f", looks, got)
		if got > 0.05 {
			t.Fatalf("false-alert rate %.4f > 0.05", got)
		}
	})
	t.Run("the same looks with a repeated chi-square test at alpha 5% alert far more often", func(t *testing.T) {
		got, _ := rate(1, []float64{1, 1}, chiAt(0.05))
		t.Logf("repeated chi-square false-alert rate over %d looks: %.4f", looks, got)
		if got < 0.15 {
			t.Fatalf("repeated chi-square false-alert rate %.4f; peeking should inflate it well past 5%%", got)
		}
	})
	t.Run("an A/A test at the health default alpha 0.001 almost never alerts", func(t *testing.T) {
		got, _ := rate(2, []float64{1, 1}, seqAt(SRMAlertP))
		if got > 0.002 {
			t.Fatalf("false-alert rate %.4f > 0.002", got)
		}
	})
	t.Run("a 10% exposure loss in one arm is flagged within 13 looks in 90% of experiments", func(t *testing.T) {
		got, at := rate(3, []float64{1, 0.9}, seqAt(SRMAlertP))
		if got < 0.99 {
			t.Fatalf("only %.3f of experiments with a 10%% loss alerted within %d looks", got, looks)
		}
		slices.Sort(at)
		median, p90 := at[len(at)/2], at[int(0.9*sims)-1]
		t.Logf("10%% loss: %.3f alerted in %d looks of %d units; median first alert at look %d, 90%% by look %d", got, looks, perLook, median, p90)
		if median > 10 || p90 > 13 {
			t.Fatalf("median look %d (want ≤ 10), 90th percentile %d (want ≤ 13)", median, p90)
		}
	})
}
