package report

import (
	"context"
	"math"
	"math/rand/v2"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// fakeUnit is one exposed unit with its per-metric values, from which
// fakeSource derives sufficient statistics the way a real store must.
type fakeUnit struct {
	variant string
	day     time.Time
	attrs   map[string]string
	// values per metric key: 0/1 (binomial), the per-unit value (mean, ratio
	// numerator) or the NPS score −1/0/+1 (absent: did not respond).
	values map[string]float64
	den    map[string]float64
	pre    map[string]float64
}

// fakeSource is an in-memory Source over fakeUnits.
type fakeSource struct {
	units []fakeUnit
	// calls counts MetricCells calls, to check that the report reads each
	// metric once per view.
	calls int
	err   error
}

func (f *fakeSource) ExposureCounts(ctx context.Context, key string) (map[string]int64, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := map[string]int64{}
	for _, u := range f.units {
		out[u.variant]++
	}
	return out, nil
}

func (f *fakeSource) MetricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q CellQuery) ([]Cell, error) {
	f.calls++
	if f.err != nil {
		return nil, f.err
	}
	type key struct {
		variant, segment string
		day              time.Time
	}
	acc := map[key]*stats.ArmStats{}
	var order []key
	for _, u := range f.units {
		k := key{variant: u.variant}
		if q.Dimension != "" {
			k.segment = u.attrs[q.Dimension]
			if k.segment == "" {
				k.segment = NoSegment
			}
		}
		if q.Daily {
			k.day = u.day
		}
		s, ok := acc[k]
		if !ok {
			s = &stats.ArmStats{}
			acc[k] = s
			order = append(order, k)
		}
		y, has := u.values[m.Key]
		if m.Kind == experiment.KindNPS && !has {
			continue
		}
		s.N++
		s.Sum += y
		s.SumSq += y * y
		if m.Kind == experiment.KindRatio {
			x := u.den[m.Key]
			s.DenSum += x
			s.DenSumSq += x * x
			s.SumNumDen += x * y
		}
		if p, ok := u.pre[m.Key]; ok {
			s.PreSum += p
			s.PreSumSq += p * p
			s.SumPrePost += p * y
		}
	}
	cells := make([]Cell, 0, len(order))
	for _, k := range order {
		cells = append(cells, Cell{Variant: k.variant, Segment: k.segment, Day: k.day, Stats: *acc[k]})
	}
	return cells, nil
}

func (f *fakeSource) Funnel(ctx context.Context, e *experiment.Experiment, steps []experiment.Metric) (map[string][]int64, error) {
	if f.err != nil {
		return nil, f.err
	}
	out := map[string][]int64{}
	for _, u := range f.units {
		if out[u.variant] == nil {
			out[u.variant] = make([]int64, len(steps))
		}
		for k, m := range steps {
			if u.values[m.Key] <= 0 {
				break
			}
			out[u.variant][k]++
		}
	}
	return out, nil
}

// metricsByKey is the built-in catalogue keyed by metric key.
func metricsByKey() map[string]experiment.Metric {
	out := map[string]experiment.Metric{}
	for _, m := range experiment.BuiltinMetrics() {
		out[m.Key] = m
	}
	return out
}

// testExperiment is a checkout experiment with KPIs in four stages.
func testExperiment() *experiment.Experiment {
	return &experiment.Experiment{
		Key: "one-page-checkout", Name: "One-page checkout", Stage: experiment.StageCheckout,
		Touchpoint: "checkout", Status: experiment.StatusRunning,
		Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "one-page", Weight: 1}},
		Control:  "control",
		// Deliberately out of stage order: the report must sort by journey stage.
		GoalMetrics:      []string{"conversion", "add_to_cart_rate"},
		SecondaryMetrics: []string{"bounce_rate", "revenue_per_visitor", "average_order_value", "nps"},
		GuardrailMetrics: []string{"cart_abandonment"},
	}
}

// The true effects simulated by simulateUnits, relative to control.
const (
	trueAddToCartLift   = 0.20  // add_to_cart_rate improves
	trueBounceLift      = -0.20 // bounce_rate improves (lower is better)
	trueAbandonmentLift = 0.30  // cart_abandonment guardrail is harmed
	// conversion, revenue and NPS have no true effect.
)

// simulateUnits draws n units per arm over 7 days with the true effects above.
func simulateUnits(seed uint64, n int) []fakeUnit {
	rng := rand.New(rand.NewPCG(seed, 1))
	start := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	bern := func(p float64) float64 {
		if rng.Float64() < p {
			return 1
		}
		return 0
	}
	devices := []string{"mobile", "mobile", "desktop", "tablet"}
	var units []fakeUnit
	for _, variant := range []string{"control", "one-page"} {
		t := 0.0
		if variant == "one-page" {
			t = 1
		}
		for range n {
			u := fakeUnit{
				variant: variant,
				day:     start.AddDate(0, 0, rng.IntN(7)),
				attrs:   map[string]string{"device": devices[rng.IntN(len(devices))]},
				values:  map[string]float64{},
				den:     map[string]float64{},
				pre:     map[string]float64{},
			}
			u.values["bounce_rate"] = bern(0.4 * (1 + trueBounceLift*t))
			u.values["add_to_cart_rate"] = bern(0.2 * (1 + trueAddToCartLift*t))
			u.values["cart_abandonment"] = bern(0.1 * (1 + trueAbandonmentLift*t))
			converted := bern(0.1)
			u.values["conversion"] = converted
			revenue := 0.0
			if converted == 1 {
				revenue = math.Round(40*math.Exp(0.5*rng.NormFloat64())*100) / 100
			}
			u.values["revenue_per_visitor"] = revenue
			u.values["average_order_value"] = revenue
			u.den["average_order_value"] = converted
			// Pre-exposure revenue correlates with revenue: CUPED has work to do.
			u.pre["revenue_per_visitor"] = math.Max(0, revenue*0.5+10*rng.NormFloat64())
			if rng.Float64() < 0.3 {
				score := []float64{-1, 0, 0, 1, 1}[rng.IntN(5)]
				u.values["nps"] = score
			}
			units = append(units, u)
		}
	}
	return units
}
