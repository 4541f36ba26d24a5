package journey

import (
	"math"

	"github.com/journeylab/journeylab/experiment"
)

// days holds the daily aggregates of a range, by day and event name.
type days map[DailyKey]Daily

// Components are a KPI's numerator and denominator over some days. Value
// is Num/Den (for NPS, promoters minus detractors over respondents), NaN
// when Den is 0.
type Components struct {
	Num float64
	Den float64
	// Promoters and Detractors are set for NPS metrics; Num is then
	// Promoters − Detractors.
	Promoters  float64
	Detractors float64
}

// Value is the KPI the components give, NaN without a denominator.
func (c Components) Value() float64 {
	if c.Den == 0 {
		return math.NaN()
	}
	return c.Num / c.Den
}

func (c Components) add(o Components) Components {
	return Components{Num: c.Num + o.Num, Den: c.Den + o.Den, Promoters: c.Promoters + o.Promoters, Detractors: c.Detractors + o.Detractors}
}

// agg is the per-day total of an event under an aggregation.
func agg(d Daily, a experiment.Aggregation) float64 {
	if a == experiment.AggCount {
		return float64(d.Count)
	}
	return d.Sum
}

// components returns metric m's components on day from the aggregates
// (see docs/journey.md for each kind):
//   - binomial: distinct units that sent the event / visitors
//   - mean: the event's sum (or count) / visitors
//   - ratio: the numerator event's sum (or count) / the denominator's
//   - nps: (promoter − detractor responses) / responses
func components(m experiment.Metric, day int64, ds days) Components {
	ev := ds[DailyKey{day, m.Event}]
	visitors := float64(ds[DailyKey{day, Visitors}].Units)
	switch m.Kind {
	case experiment.KindBinomial:
		return Components{Num: float64(ev.Units), Den: visitors}
	case experiment.KindMean:
		return Components{Num: agg(ev, m.Aggregation), Den: visitors}
	case experiment.KindRatio:
		den := ds[DailyKey{day, m.DenominatorEvent}]
		return Components{Num: agg(ev, m.Aggregation), Den: agg(den, m.DenominatorAggregation)}
	case experiment.KindNPS:
		p, d := float64(ev.Promoters), float64(ev.Detractors)
		return Components{Num: p - d, Den: float64(ev.Count), Promoters: p, Detractors: d}
	}
	return Components{}
}

// tracked reports whether m's value can be computed: binomial metrics need
// distinct units, so their event must have a bit.
func tracked(m experiment.Metric, bits map[string]uint) bool {
	if m.Kind != experiment.KindBinomial {
		return true
	}
	_, ok := bits[m.Event]
	return ok
}
