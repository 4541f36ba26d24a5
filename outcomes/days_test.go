package outcomes_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/stats"
	"github.com/journeylab/journeylab/store/storetest"
)

// exposedAt is late in a UTC day, so that a unit's first 24 hours straddle
// two UTC days.
var exposedAt = time.Date(2026, 11, 23, 23, 0, 0, 0, time.UTC)

var (
	revenue  = experiment.Metric{Key: "revenue", Kind: experiment.KindMean, Event: "order", Aggregation: experiment.AggSum}
	bought   = experiment.Metric{Key: "bought", Kind: experiment.KindBinomial, Event: "order"}
	aov      = experiment.Metric{Key: "aov", Kind: experiment.KindRatio, Event: "order", Aggregation: experiment.AggSum, DenominatorEvent: "order", DenominatorAggregation: experiment.AggCount}
	score    = experiment.Metric{Key: "score", Kind: experiment.KindNPS, Event: "nps"}
	revenueP = experiment.Metric{Key: "revenue_p50", Kind: experiment.KindMean, Event: "order", Aggregation: experiment.AggSum, Capping: experiment.Capping{Type: "percentile", Value: 0.5}}
)

func daysExperiment(cuped bool) *experiment.Experiment {
	e := &experiment.Experiment{Key: "exp", Control: "control",
		Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "treatment", Weight: 1}}}
	e.Analysis.CUPED = cuped
	e.Analysis.PreExposureDays = 7
	return e
}

func ev(id, unit, name string, value float64, after time.Duration) events.Event {
	ts := exposedAt.Add(after)
	return events.Event{EventID: id, UnitID: unit, Event: name, Value: &value, TS: &ts}
}

func expose(unit, variant string, after time.Duration) experiment.Exposure {
	return experiment.Exposure{Experiment: "exp", Unit: unit, Variant: variant, At: exposedAt.Add(after)}
}

// fold runs ScanDays over src for metrics ms as of now.
func fold(t *testing.T, src outcomes.DayStore, ms []experiment.Metric, view outcomes.DayView, now time.Time, chunk int) *outcomes.ByDay {
	t.Helper()
	for i := range ms {
		ms[i].Normalize()
	}
	d := outcomes.NewByDay(daysExperiment(true), ms, view, now.UnixNano(), 28)
	if err := outcomes.ScanDays(context.Background(), src, "exp", chunk, d); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestByDay(t *testing.T) {
	h := time.Hour
	src := storetest.NewMemDays(
		[]experiment.Exposure{expose("a", "control", 0), expose("b", "treatment", 0), expose("c", "treatment", 30*h), expose("x", "unknown", 0)},
		[]events.Event{
			ev("1", "a", "order", 10, 30*time.Minute), // day 0 of a, though the next UTC day
			ev("2", "a", "order", 20, 23*h),           // day 0
			ev("3", "a", "order", 5, 25*h),            // day 1
			ev("4", "b", "order", 7, 49*h),            // day 2
			ev("5", "b", "order", 3, -2*h),            // before exposure: CUPED's pre-exposure value
			ev("6", "c", "order", 8, 31*h),            // day 0 of c (exposed 30 h after a and b)
			ev("7", "x", "order", 99, h),              // a variant the experiment does not list
			ev("8", "a", "page", 1, h),                // an event no metric reads
		})
	now := exposedAt.Add(3*24*h + h) // a and b have days 0-2; c only day 0 (its day 1 ends at 78 h)

	t.Run("day k is the 24 hours after exposure and counts only units whose day k has ended", func(t *testing.T) {
		d := fold(t, src, []experiment.Metric{revenue}, outcomes.Daily, now, 0)
		if d.Days() != 3 {
			t.Fatalf("%d days, want 3", d.Days())
		}
		want := [][2]stats.ArmStats{
			{{N: 1, Sum: 30, SumSq: 900}, {N: 2, Sum: 8, SumSq: 64, PreSum: 3 + 0, PreSumSq: 9}},
			{{N: 1, Sum: 5, SumSq: 25}, {N: 1, PreSum: 3, PreSumSq: 9}},
			{{N: 1}, {N: 1, Sum: 7, SumSq: 49, PreSum: 3, PreSumSq: 9, SumPrePost: 21}},
		}
		for k, w := range want {
			got := d.Arms(0, k)
			if got[0] != w[0] || got[1] != w[1] {
				t.Errorf("day %d: got %+v, want %+v", k, got, w)
			}
			if u := d.Units(k); u[0] != w[0].N || u[1] != w[1].N {
				t.Errorf("day %d: eligible units %v", k, u)
			}
		}
	})
	t.Run("the cumulative view adds up days 0 to k", func(t *testing.T) {
		d := fold(t, src, []experiment.Metric{revenue}, outcomes.Cumulative, now, 0)
		want := [][2]stats.ArmStats{
			{{N: 1, Sum: 30, SumSq: 900}, {N: 2, Sum: 8, SumSq: 64, PreSum: 3, PreSumSq: 9}},
			{{N: 1, Sum: 35, SumSq: 35 * 35}, {N: 1, PreSum: 3, PreSumSq: 9}},
			{{N: 1, Sum: 35, SumSq: 35 * 35}, {N: 1, Sum: 7, SumSq: 49, PreSum: 3, PreSumSq: 9, SumPrePost: 21}},
		}
		for k, w := range want {
			if got := d.Arms(0, k); got[0] != w[0] || got[1] != w[1] {
				t.Errorf("day %d: got %+v, want %+v", k, got, w)
			}
		}
	})
	t.Run("binomial and ratio metrics count per day", func(t *testing.T) {
		d := fold(t, src, []experiment.Metric{bought, aov}, outcomes.Daily, now, 0)
		if got, want := d.Arms(0, 0), (stats.ArmStats{N: 1, Sum: 1, SumSq: 1}); got[0] != want {
			t.Errorf("bought, day 0, control: %+v, want %+v", got[0], want)
		}
		if got, want := d.Arms(1, 0), (stats.ArmStats{N: 1, Sum: 30, SumSq: 900, DenSum: 2, DenSumSq: 4, SumNumDen: 60}); got[0] != want {
			t.Errorf("aov, day 0, control: %+v, want %+v", got[0], want)
		}
	})
	t.Run("no unit is counted before its first day has ended", func(t *testing.T) {
		if d := fold(t, src, []experiment.Metric{revenue}, outcomes.Daily, exposedAt.Add(23*h), 0); d.Days() != 0 {
			t.Errorf("%d days, want none", d.Days())
		}
	})
	t.Run("reading in chunks of one unit changes nothing", func(t *testing.T) {
		a := fold(t, src, []experiment.Metric{revenue, aov}, outcomes.Cumulative, now, 0)
		b := fold(t, src, []experiment.Metric{revenue, aov}, outcomes.Cumulative, now, 1)
		for k := range a.Days() {
			for i := range 2 {
				if fmt.Sprint(a.Arms(i, k)) != fmt.Sprint(b.Arms(i, k)) {
					t.Errorf("metric %d day %d: %v in one chunk, %v in chunks of one", i, k, a.Arms(i, k), b.Arms(i, k))
				}
			}
		}
	})
}

func TestByDayNPSCountsTheDaysRespondents(t *testing.T) {
	h := time.Hour
	src := storetest.NewMemDays(
		[]experiment.Exposure{expose("a", "control", 0), expose("b", "control", 0), expose("c", "treatment", 0)},
		[]events.Event{
			ev("1", "a", "nps", 10, h), ev("2", "a", "nps", 3, 2*h), // day 0: the latest, a detractor
			ev("3", "a", "nps", 9, 25*h), // day 1: a promoter
			ev("4", "c", "nps", 8, 26*h), // day 1: a passive
		})
	d := fold(t, src, []experiment.Metric{score}, outcomes.Daily, exposedAt.Add(50*h), 0)
	want := [][2]stats.ArmStats{
		{{N: 1, Sum: -1, SumSq: 1}, {}},
		{{N: 1, Sum: 1, SumSq: 1}, {N: 1}},
	}
	for k, w := range want {
		if got := d.Arms(0, k); got[0] != w[0] || got[1] != w[1] {
			t.Errorf("day %d: got %+v, want %+v", k, got, w)
		}
		if u := d.Units(k); u[0] != 2 || u[1] != 1 {
			t.Errorf("day %d: eligible units %v, want [2 1]", k, u)
		}
	}
}

func TestByDayPercentileCapIsThatDays(t *testing.T) {
	var xs []experiment.Exposure
	var evs []events.Event
	// Day 0: four control units with 1, 2, 3, 100; day 1: one with 50 and
	// three without orders.
	for i, v := range []float64{1, 2, 3, 100} {
		u := fmt.Sprintf("u%d", i)
		xs = append(xs, expose(u, "control", 0))
		evs = append(evs, ev("d0-"+u, u, "order", v, time.Hour))
	}
	evs = append(evs, ev("d1", "u0", "order", 50, 25*time.Hour))
	d := fold(t, storetest.NewMemDays(xs, evs), []experiment.Metric{revenueP}, outcomes.Daily, exposedAt.Add(49*time.Hour), 0)
	// The median of day 0 (1, 2, 3, 100) is 2; of day 1 (0, 0, 0, 50) it is 0.
	if got, want := d.Arms(0, 0)[0], (stats.ArmStats{N: 4, Sum: 1 + 2 + 2 + 2, SumSq: 1 + 4 + 4 + 4}); got != want {
		t.Errorf("day 0: %+v, want %+v", got, want)
	}
	if got, want := d.Arms(0, 1)[0], (stats.ArmStats{N: 4}); got != want {
		t.Errorf("day 1: %+v, want %+v", got, want)
	}
}

// BenchmarkByDayFold1MEvents is the fold alone, without a store: 100k
// units with 10 events each over their first 14 days, for a binomial and a
// mean metric, both views.
func BenchmarkByDayFold1MEvents(b *testing.B) {
	rng := rand.New(rand.NewPCG(5, 6))
	const units, perUnit = 100_000, 10
	xs := make([]*outcomes.Exposure, units)
	evs := make([][]outcomes.Event, units)
	start := exposedAt.UnixNano()
	day := int64(24 * time.Hour)
	for i := range xs {
		xs[i] = &outcomes.Exposure{Unit: fmt.Sprintf("u%06d", i), Experiment: "exp", Variant: []string{"control", "treatment"}[i%2], At: start + rng.Int64N(14*day)}
		for j := range perUnit {
			evs[i] = append(evs[i], outcomes.Event{Unit: xs[i].Unit, Seq: int64(j + 1),
				Point: events.Point{ID: fmt.Sprint(j), Event: "order", TS: xs[i].At + rng.Int64N(14*day), Value: float64(rng.IntN(100))}})
		}
	}
	ms := []experiment.Metric{bought, revenue}
	for i := range ms {
		ms[i].Normalize()
	}
	now := start + 29*day
	for _, view := range []outcomes.DayView{outcomes.Daily, outcomes.Cumulative} {
		b.Run(string(view), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d := outcomes.NewByDay(daysExperiment(false), ms, view, now, 28)
				for i, x := range xs {
					d.Add(x, evs[i])
				}
				if d.Days() != 28 {
					b.Fatalf("%d days", d.Days())
				}
			}
		})
	}
}
