// Package anomaly finds the days on which a journey KPI left the range that
// its own history predicts. It is pure: series in, bands and findings out, no
// I/O and no clock, so the journey map, health checks and tests share it.
package anomaly

import (
	"math"
	"sort"
	"time"
)

// Point is one day's value of a KPI series.
type Point struct {
	// Day is the UTC midnight the value belongs to.
	Day time.Time
	// Value is the KPI that day (a rate, a mean or a score).
	Value float64
	// N is the denominator behind Value (visitors, orders, responses); 0
	// when unknown. Days with small N are noisier, so bands widen for them.
	N float64
}

// Series is one stage KPI over consecutive days.
type Series struct {
	Stage string
	KPI   string
	// LowerIsBetter says which direction of an anomaly is bad news.
	LowerIsBetter bool
	Points        []Point
}

// Band is the range a day's value was expected in, computed only from the
// days before it (no look-ahead), so a band is what was known that morning.
type Band struct {
	Day      time.Time
	Expected float64
	Low      float64
	High     float64
	// Ready is false while there is too little history for a band; Expected,
	// Low and High are then NaN.
	Ready bool
}

// Direction says on which side of its band a value fell.
type Direction string

// The two sides of a band.
const (
	Above Direction = "above"
	Below Direction = "below"
)

// Finding is a day whose value fell outside its band.
type Finding struct {
	Day       time.Time
	Value     float64
	Band      Band
	Direction Direction
}

// Options tune the bands. The zero value means the defaults.
type Options struct {
	// Weeks is how many previous same-weekday values a band uses (default 6).
	Weeks int
	// MinWeeks is the fewest previous same-weekday values a band needs
	// (default 3).
	MinWeeks int
	// Width is the band's half-width in robust standard deviations
	// (default 4).
	Width float64
}

func (o Options) withDefaults() Options {
	if o.Weeks <= 0 {
		o.Weeks = 6
	}
	if o.MinWeeks <= 0 {
		o.MinWeeks = 3
	}
	if o.MinWeeks > o.Weeks {
		o.MinWeeks = o.Weeks
	}
	if o.Width <= 0 {
		o.Width = 4
	}
	return o
}

// Bands returns one band per point. A day's band comes from the same weekday
// in the weeks before it, which captures weekday effects (a shop's Sunday is
// not its Tuesday): the median of those values is the expectation, and their
// median absolute deviation, scaled to a standard deviation, sets the width.
func Bands(points []Point, opts Options) []Band {
	opts = opts.withDefaults()
	byDay := make(map[int64]float64, len(points))
	for _, p := range points {
		byDay[dayIndex(p.Day)] = p.Value
	}
	out := make([]Band, len(points))
	history := make([]float64, 0, opts.Weeks)
	for i, p := range points {
		d := dayIndex(p.Day)
		history = history[:0]
		for w := 1; w <= opts.Weeks; w++ {
			if v, ok := byDay[d-int64(7*w)]; ok && !math.IsNaN(v) {
				history = append(history, v)
			}
		}
		b := Band{Day: p.Day, Expected: math.NaN(), Low: math.NaN(), High: math.NaN()}
		if len(history) >= opts.MinWeeks {
			med := median(history)
			for j, v := range history {
				history[j] = math.Abs(v - med)
			}
			sd := 1.4826 * median(history)
			// A flat history would give a zero-width band that flags any
			// change at all; keep at least 5% of the level as spread.
			if floor := 0.05 * math.Abs(med); sd < floor {
				sd = floor
			}
			b = Band{Day: p.Day, Expected: med, Low: med - opts.Width*sd, High: med + opts.Width*sd, Ready: true}
		}
		out[i] = b
	}
	return out
}

// Detect returns the points outside their bands, oldest first.
func Detect(points []Point, opts Options) []Finding {
	var out []Finding
	for i, b := range Bands(points, opts) {
		if !b.Ready {
			continue
		}
		v := points[i].Value
		switch {
		case v > b.High:
			out = append(out, Finding{Day: b.Day, Value: v, Band: b, Direction: Above})
		case v < b.Low:
			out = append(out, Finding{Day: b.Day, Value: v, Band: b, Direction: Below})
		}
	}
	return out
}

func dayIndex(t time.Time) int64 {
	return t.UTC().Unix() / 86400
}

// median sorts xs in place.
func median(xs []float64) float64 {
	sort.Float64s(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
