package events

import (
	"math"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// Point is a stored event as attribution sees it; TS is in Unix nanoseconds.
type Point struct {
	ID    string
	Event string
	TS    int64
	Value float64
}

// Score is the latest NPS answer seen in a window; ID == "" means none.
type Score struct {
	TS    int64
	ID    string
	Value float64
}

// Rollup is one unit's running state for one metric of one experiment. It
// is a fold over the unit's events in storage (arrival) order, so the
// incremental path and a rebuild from raw events produce identical bits:
// both add the same floats in the same order.
type Rollup struct {
	// Count and Sum cover numerator events inside the metric window; a
	// unit with Count > 0 completed the metric's funnel step.
	Count int64
	Sum   float64
	// DenCount and DenSum cover denominator events of ratio metrics.
	DenCount int64
	DenSum   float64
	// PreCount and PreSum cover numerator events in the pre-exposure window (CUPED).
	PreCount int64
	PreSum   float64
	// Last and PreLast are the latest NPS scores in the window and the pre-exposure window.
	Last, PreLast Score
}

// IsZero reports whether no event has been folded in; such rollups need no row.
func (u Rollup) IsZero() bool { return u == Rollup{} }

// Rule is one metric of one experiment, compiled for attribution.
type Rule struct {
	Metric experiment.Metric
	// window is the metric's conversion window (0 = none), pre the experiment's
	// pre-exposure look-back, both in nanoseconds.
	window, pre int64
}

// NewRule compiles m for an experiment whose CUPED look-back is preExposureDays.
func NewRule(m experiment.Metric, preExposureDays float64) Rule {
	return Rule{
		Metric: m,
		window: int64(m.WindowHours * float64(time.Hour)),
		pre:    int64(preExposureDays * 24 * float64(time.Hour)),
	}
}

// Uses reports whether events named event feed the metric (as numerator or denominator).
func (r *Rule) Uses(event string) bool {
	return event == r.Metric.Event || (r.Metric.Kind == experiment.KindRatio && event == r.Metric.DenominatorEvent)
}

// Fold adds event p of a unit first exposed at exposedAt (Unix ns) to u and
// reports whether u changed. An event counts when exposedAt <= ts and, with a
// window, ts < exposedAt+window; numerator events in
// [exposedAt−pre, exposedAt) feed the pre-exposure values instead.
func (r *Rule) Fold(u *Rollup, exposedAt int64, p Point) bool {
	post := p.TS >= exposedAt && (r.window == 0 || p.TS < exposedAt+r.window)
	pre := p.TS < exposedAt && p.TS >= exposedAt-r.pre
	if !post && !pre {
		return false
	}
	changed := false
	if p.Event == r.Metric.Event {
		switch {
		case r.Metric.Kind == experiment.KindNPS:
			if !(p.Value >= 0 && p.Value <= 10) {
				return false // not a score: NPS metrics ignore it
			}
			if post {
				u.Count++
				if newer(p, u.Last) {
					u.Last = Score{TS: p.TS, ID: p.ID, Value: p.Value}
				}
			} else {
				u.PreCount++
				if newer(p, u.PreLast) {
					u.PreLast = Score{TS: p.TS, ID: p.ID, Value: p.Value}
				}
			}
		case post:
			u.Count++
			u.Sum += p.Value
		default:
			u.PreCount++
			u.PreSum += p.Value
		}
		changed = true
	}
	if post && r.Metric.Kind == experiment.KindRatio && p.Event == r.Metric.DenominatorEvent {
		u.DenCount++
		u.DenSum += p.Value
		changed = true
	}
	return changed
}

// newer orders NPS answers by ts, then by event id, so "latest" is well
// defined whatever order the events arrive in.
func newer(p Point, s Score) bool {
	if s.ID == "" {
		return true
	}
	return p.TS > s.TS || (p.TS == s.TS && p.ID > s.ID)
}

// Values returns the unit's uncapped numerator value y, denominator x (ratio
// only), pre-exposure value pre, and whether the unit counts at all: every
// exposed unit counts for binomial, mean and ratio metrics; for NPS only
// respondents do.
func (r *Rule) Values(u Rollup) (y, x, pre float64, counts bool) {
	m := &r.Metric
	switch m.Kind {
	case experiment.KindBinomial:
		return indicator(u.Count > 0), 0, indicator(u.PreCount > 0), true
	case experiment.KindNPS:
		if u.Last.ID == "" {
			return 0, 0, 0, false
		}
		if u.PreLast.ID != "" {
			pre = npsClass(u.PreLast.Value)
		}
		return npsClass(u.Last.Value), 0, pre, true
	case experiment.KindRatio:
		x = aggregate(m.DenominatorAggregation, u.DenCount, u.DenSum)
	}
	return aggregate(m.Aggregation, u.Count, u.Sum), x, aggregate(m.Aggregation, u.PreCount, u.PreSum), true
}

// FixedCap returns the metric's fixed cap, or NaN when it has none (or a
// percentile cap, which depends on all units and is applied at read time).
func (r *Rule) FixedCap() float64 {
	if r.Metric.Capping.Type == "value" {
		return r.Metric.Capping.Value
	}
	return math.NaN()
}

// Contribution is what one unit adds to its arm's sufficient statistics.
// Totals are maintained by adding new−old contributions when a unit changes.
type Contribution struct {
	// N counts NPS respondents; for the other kinds N comes from exposures.
	N                            int64
	Sum, SumSq                   float64
	DenSum, DenSumSq, SumNumDen  float64
	PreSum, PreSumSq, SumPrePost float64
}

// Contribution returns u's contribution with numerator and pre-exposure
// values of mean and ratio metrics capped at cap (NaN = no cap), following
// the conventions of report.Source.
func (r *Rule) Contribution(u Rollup, cap float64) Contribution {
	y, x, pre, counts := r.Values(u)
	return r.ContributionOf(y, x, pre, counts, cap)
}

// ContributionOf is Contribution for a unit whose Values are y, x, pre and
// counts: a reader that needs the values first (a percentile cap depends on
// every unit's) does not read the rollup twice.
func (r *Rule) ContributionOf(y, x, pre float64, counts bool, cap float64) Contribution {
	if !counts {
		return Contribution{}
	}
	if k := r.Metric.Kind; k == experiment.KindMean || k == experiment.KindRatio {
		y, pre = stats.CapAt(y, cap), stats.CapAt(pre, cap)
	}
	c := Contribution{Sum: y, SumSq: y * y, PreSum: pre, PreSumSq: pre * pre, SumPrePost: pre * y}
	if r.Metric.Kind == experiment.KindRatio {
		c.DenSum, c.DenSumSq, c.SumNumDen = x, x*x, x*y
	}
	if r.Metric.Kind == experiment.KindNPS {
		c.N = 1
	}
	return c
}

// Add returns c + o.
func (c Contribution) Add(o Contribution) Contribution {
	return Contribution{
		N: c.N + o.N, Sum: c.Sum + o.Sum, SumSq: c.SumSq + o.SumSq,
		DenSum: c.DenSum + o.DenSum, DenSumSq: c.DenSumSq + o.DenSumSq, SumNumDen: c.SumNumDen + o.SumNumDen,
		PreSum: c.PreSum + o.PreSum, PreSumSq: c.PreSumSq + o.PreSumSq, SumPrePost: c.SumPrePost + o.SumPrePost,
	}
}

// Sub returns c − o.
func (c Contribution) Sub(o Contribution) Contribution {
	return Contribution{
		N: c.N - o.N, Sum: c.Sum - o.Sum, SumSq: c.SumSq - o.SumSq,
		DenSum: c.DenSum - o.DenSum, DenSumSq: c.DenSumSq - o.DenSumSq, SumNumDen: c.SumNumDen - o.SumNumDen,
		PreSum: c.PreSum - o.PreSum, PreSumSq: c.PreSumSq - o.PreSumSq, SumPrePost: c.SumPrePost - o.SumPrePost,
	}
}

// AddTo adds c to the sufficient statistics a (N only for NPS respondents).
func (c Contribution) AddTo(a *stats.ArmStats) {
	a.N += c.N
	a.Sum += c.Sum
	a.SumSq += c.SumSq
	a.DenSum += c.DenSum
	a.DenSumSq += c.DenSumSq
	a.SumNumDen += c.SumNumDen
	a.PreSum += c.PreSum
	a.PreSumSq += c.PreSumSq
	a.SumPrePost += c.SumPrePost
}

func aggregate(a experiment.Aggregation, count int64, sum float64) float64 {
	if a == experiment.AggCount {
		return float64(count)
	}
	return sum
}

func indicator(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// npsClass scores an answer: promoters (9-10) +1, passives (7-8) 0, detractors (0-6) −1.
func npsClass(score float64) float64 {
	switch {
	case score >= 9:
		return 1
	case score >= 7:
		return 0
	default:
		return -1
	}
}
