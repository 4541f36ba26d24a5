// Package anomaly finds the days on which a journey KPI left the range that
// its own history predicts. It is pure: series in, bands and findings out, no
// I/O and no clock, so the journey map, health checks and tests share it.
//
// The expected value of a day is a robust level times a weekday factor
// (Bands explains the method); its band is that expectation plus or minus
// Width standard deviations, where the variance adds the day's sampling
// noise (binomial for rates, from the day's denominator N) to the
// day-to-day variation the series showed in the past weeks. Every estimate
// is a median or a robust scale, so a past outage or spike does not move
// the next weeks' bands.
package anomaly

import (
	"cmp"
	"math"
	"slices"
	"time"

	"gonum.org/v1/gonum/stat/distuv"
)

// Point is one day's value of a KPI series.
type Point struct {
	// Day is the UTC midnight the value belongs to.
	Day time.Time
	// Value is the KPI that day (a rate, a mean or a score); NaN when the
	// day has no data.
	Value float64
	// N is the denominator behind Value (visitors, orders, responses); 0
	// when unknown or when the day has no data. Days with small N are
	// noisier, so bands widen for them.
	N float64
}

// Series is one stage KPI over consecutive days.
type Series struct {
	Stage string
	KPI   string
	// Name is the KPI's display name ("Checkout conversion"); KPI when
	// empty.
	Name string
	// LowerIsBetter says which direction of an anomaly is bad news.
	LowerIsBetter bool
	// Rate says Value is a share of N (bounce rate, conversion): its
	// sampling noise is binomial, and it reads as a percentage. Pass it on
	// as Options.Rate.
	Rate   bool
	Points []Point
}

// Band is the range a day's value was expected in, computed only from the
// days before it (no look-ahead), so a band is what was known that morning.
type Band struct {
	Day      time.Time
	Expected float64
	Low      float64
	High     float64
	// Sigma is the standard deviation of the day's value around Expected:
	// sampling noise at the day's N plus the series' day-to-day variation.
	// Low and High are Expected -/+ Width*Sigma (clipped to [0, 1] for
	// rates).
	Sigma float64
	// Ready is false while there is too little history for a band;
	// Expected, Low, High and Sigma are then NaN.
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
	// Sigmas is how far the value is from Expected in standard deviations
	// (negative below).
	Sigmas float64
}

// Options tune the bands. The zero value means the defaults.
type Options struct {
	// Weeks is how many whole weeks before a day its band learns the
	// weekday factors and the day-to-day variation from (default 8, at
	// most 52).
	Weeks int
	// MinWeeks is the fewest weeks with data for each weekday a band needs
	// (default 3); before that the band is not Ready.
	MinWeeks int
	// Width is the band's half-width in standard deviations (default 4).
	Width float64
	// LevelDays is how many days before a day its level is the median of
	// (default 14, at most 365). A level shift is accepted as the new normal after
	// about half of it; an outage shorter than that stays an anomaly.
	LevelDays int
	// Rate says the values are shares of N: the sampling variance is then
	// p(1-p)/N. Otherwise the variation is scaled by how much smaller a
	// day's N is than usual (never narrowed for a larger N).
	Rate bool
	// MinSpread is the least Sigma relative to Expected (default 0.005),
	// so a series that never moved does not alert on a rounding change.
	MinSpread float64
}

// Defaults of Options.
const (
	DefaultWeeks     = 8
	DefaultMinWeeks  = 3
	DefaultWidth     = 4.0
	DefaultLevelDays = 14
	DefaultMinSpread = 0.005
)

func (o Options) withDefaults() Options {
	if o.Weeks <= 0 {
		o.Weeks = DefaultWeeks
	}
	o.Weeks = min(o.Weeks, 52)
	if o.MinWeeks <= 0 {
		o.MinWeeks = DefaultMinWeeks
	}
	o.MinWeeks = min(o.MinWeeks, o.Weeks)
	if !(o.Width > 0) || math.IsInf(o.Width, 0) {
		o.Width = DefaultWidth
	}
	if o.LevelDays <= 0 {
		o.LevelDays = DefaultLevelDays
	}
	o.LevelDays = min(o.LevelDays, 365)
	if !(o.MinSpread > 0) || math.IsInf(o.MinSpread, 0) {
		o.MinSpread = DefaultMinSpread
	}
	return o
}

// chi2Median is the median of a chi-square variable with one degree of
// freedom: the median of a squared standard-normal residual.
var chi2Median = distuv.ChiSquared{K: 1}.Quantile(0.5)

// Bands returns one band per point, each computed from the points of the
// days before it only (days that are missing, i.e. whose Value is NaN or
// infinite, are skipped). For a day t:
//
//  1. Weekday factors, from the Weeks whole weeks before t: each week's
//     values divided by that week's median (minus it, when some value is
//     not positive, e.g. NPS), then per weekday the median over the weeks,
//     normalised to average 1 (0). A week needs 5 days with data; a
//     weekday needs MinWeeks such weeks.
//  2. The level: the median of the deseasonalised values (value divided by
//     its weekday's factor) of the LevelDays days before t, at least half
//     of them present. Expected = level times t's weekday factor.
//  3. The spread: for each day s of those weeks, the residual of the same
//     prediction made for s (level from the LevelDays before s, weekday
//     factors fitted without s's week, so that the residual is as large
//     as a real forecast error rather than an in-sample one). Its
//     variance is modelled as sampling noise plus a day-to-day variance
//     tau²·g: p(1-p)/N + tau²·E² for rates, tau²·E²·max(1, N̄/N) otherwise
//     (N̄ the median N; E² becomes 1 with additive effects). tau² is set so
//     that the median squared standardised residual equals the median of
//     a chi-square with one degree of freedom: a robust fit that ignores up
//     to half the days being anomalous. At least 14 residuals are needed.
//
// Sigma for t is then the same model at t's own N (the usual N when t has
// none), at least MinSpread of Expected.
//
// A day whose value fell outside its own band is left out of the bands of
// the days after it, as if it had no data, so an outage neither widens nor
// moves the next weeks' bands. When more than half of a level's days are
// such days, the KPI has moved to a new level and stayed there: the level
// then takes every day, and the new level becomes the normal after about
// LevelDays/2 days.
func Bands(points []Point, opts Options) []Band {
	o := opts.withDefaults()
	h := newHistory(points)
	// Oldest first, so that a day found outside its band is known as such
	// to the bands of the days after it.
	order := make([]int, len(points))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(dayIndex(points[a].Day), dayIndex(points[b].Day)) })
	out := make([]Band, len(points))
	for _, i := range order {
		p := points[i]
		d := dayIndex(p.Day)
		b := h.band(d, denominator(p.N), o)
		b.Day = p.Day
		out[i] = b
		if _, bad := Check(p, b); bad {
			h.markOutside(d)
		}
	}
	return out
}

// Detect returns the points outside their bands, in the order of points.
func Detect(points []Point, opts Options) []Finding {
	var out []Finding
	for i, b := range Bands(points, opts) {
		if f, ok := Check(points[i], b); ok {
			out = append(out, f)
		}
	}
	return out
}

// Check tells whether p lies outside its band b (a band of Bands). A day
// without data or without a ready band is never outside.
func Check(p Point, b Band) (Finding, bool) {
	v := p.Value
	if !b.Ready || math.IsNaN(v) || math.IsInf(v, 0) {
		return Finding{}, false
	}
	f := Finding{Day: b.Day, Value: v, Band: b}
	if b.Sigma > 0 {
		f.Sigmas = (v - b.Expected) / b.Sigma
	}
	switch {
	case v > b.High:
		f.Direction = Above
	case v < b.Low:
		f.Direction = Below
	default:
		return Finding{}, false
	}
	if b.Sigma == 0 {
		f.Sigmas = math.Copysign(math.Inf(1), v-b.Expected)
	}
	return f, true
}

// obs is one day with data.
type obs struct {
	v float64
	// n is the denominator, 0 when unknown.
	n float64
	// outside: the value fell outside its own band.
	outside bool
}

// history holds the days with data, indexed by day from first.
type history struct {
	first int64
	days  []obs
	has   []bool
	// Scratch space reused from band to band (Bands is sequential).
	all, in, ns, c []float64
	res            []residual
	ratios         [][7]float64
	cols           columns
}

// maxSpan bounds the days a history spans: points further apart than
// about 270 years are a caller's mistake, not a KPI.
const maxSpan = 100000

func newHistory(points []Point) history {
	var h history
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for _, p := range points {
		if v := p.Value; !math.IsNaN(v) && !math.IsInf(v, 0) {
			d := dayIndex(p.Day)
			lo, hi = min(lo, d), max(hi, d)
		}
	}
	if lo > hi {
		return h
	}
	if hi-lo >= maxSpan {
		// Keep the latest days: those are the ones bands look at.
		lo = hi - maxSpan + 1
	}
	h.first, h.days, h.has = lo, make([]obs, hi-lo+1), make([]bool, hi-lo+1)
	for _, p := range points {
		if v := p.Value; !math.IsNaN(v) && !math.IsInf(v, 0) {
			if i := dayIndex(p.Day) - lo; i >= 0 {
				h.days[i], h.has[i] = obs{v: v, n: denominator(p.N)}, true
			}
		}
	}
	return h
}

// get returns day d's data, if any.
func (h *history) get(d int64) (obs, bool) {
	i := d - h.first
	if i < 0 || i >= int64(len(h.days)) || !h.has[i] {
		return obs{}, false
	}
	return h.days[i], true
}

func (h *history) markOutside(d int64) {
	if i := d - h.first; i >= 0 && i < int64(len(h.days)) && h.has[i] {
		h.days[i].outside = true
	}
}

// model is the seasonal model fitted for one target day.
type model struct {
	mult bool
	f    [7]float64
	o    Options
}

func (m *model) deseason(v float64, w int) float64 {
	if m.mult {
		return v / m.f[w]
	}
	return v - m.f[w]
}

func (m *model) reseason(level float64, w int) float64 {
	if m.mult {
		return level * m.f[w]
	}
	return level + m.f[w]
}

// minResiduals is the fewest past prediction errors a band's spread is
// estimated from: two weeks.
const minResiduals = 14

func notReady() Band {
	nan := math.NaN()
	return Band{Expected: nan, Low: nan, High: nan, Sigma: nan}
}

// band computes the band of day t whose denominator is n.
func (h *history) band(t int64, n float64, o Options) Band {
	lo := t - int64(7*o.Weeks)
	mult := true
	ns := h.ns[:0]
	for s := lo; s < t; s++ {
		x, ok := h.get(s)
		if !ok {
			continue
		}
		mult = mult && x.v > 0
		if x.n > 0 {
			ns = append(ns, x.n)
		}
	}
	nRef := 0.0
	if len(ns) > 0 {
		nRef = median(ns)
	}
	h.ns = ns
	cols := &h.cols
	cols.build(h.weekRatios(t, o.Weeks, mult))
	m := model{mult: mult, o: o}
	if !m.fit(cols, -1, o.MinWeeks) {
		return notReady()
	}
	level, ok := h.level(t, &m)
	if !ok {
		return notReady()
	}
	// The past prediction errors: each day of week k predicted as day t
	// is, with weekday factors fitted without week k, so that a residual
	// is as far from its prediction as t's value will be from Expected.
	res := h.res[:0]
	for k := range o.Weeks {
		mk := model{mult: mult, o: o}
		if !mk.fit(cols, k, max(o.MinWeeks-1, 2)) {
			continue
		}
		start := t - int64(7*(k+1))
		for s := start; s < start+7; s++ {
			x, ok := h.get(s)
			if !ok || x.outside {
				continue
			}
			l, ok := h.level(s, &mk)
			if !ok {
				continue
			}
			fit := mk.reseason(l, weekday(s))
			r := x.v - fit
			if math.IsNaN(r) || math.IsInf(r, 0) {
				continue
			}
			samp, g := mk.noise(fit, x.n, nRef)
			res = append(res, residual{r2: r * r, samp: samp, g: g})
		}
	}
	if len(res) < minResiduals {
		return notReady()
	}
	h.res = res
	tau2 := h.fitTau2(res)
	exp := m.reseason(level, weekday(t))
	if math.IsNaN(exp) || math.IsInf(exp, 0) {
		return notReady()
	}
	if o.Rate {
		// A share cannot leave [0, 1], whatever the values said.
		exp = math.Min(math.Max(exp, 0), 1)
	}
	if n <= 0 {
		n = nRef
	}
	samp, g := m.noise(exp, n, nRef)
	sd := math.Sqrt(samp + tau2*g)
	sd = math.Max(sd, o.MinSpread*math.Abs(exp))
	b := Band{Expected: exp, Low: exp - o.Width*sd, High: exp + o.Width*sd, Sigma: sd, Ready: true}
	if o.Rate {
		b.Low, b.High = math.Max(b.Low, 0), math.Min(b.High, 1)
	}
	return b
}

// weekRatios returns, for each of the whole weeks before t (0 the latest),
// each weekday's value relative to the week's median (divided by it when
// mult, minus it otherwise); NaN where a day has no data or the week has
// fewer than 5 days with data.
func (h *history) weekRatios(t int64, weeks int, mult bool) [][7]float64 {
	if cap(h.ratios) < weeks {
		h.ratios = make([][7]float64, weeks)
	}
	out := h.ratios[:weeks]
	block := make([]float64, 0, 7)
	for k := range weeks {
		for w := range out[k] {
			out[k][w] = math.NaN()
		}
		start := t - int64(7*(k+1))
		block = block[:0]
		for s := start; s < start+7; s++ {
			if x, ok := h.get(s); ok && !x.outside {
				block = append(block, x.v)
			}
		}
		if len(block) < 5 {
			continue
		}
		lvl := median(block)
		if mult && !(lvl > 0) {
			continue
		}
		for s := start; s < start+7; s++ {
			x, ok := h.get(s)
			if !ok || x.outside {
				continue
			}
			r := x.v - lvl
			if mult {
				r = x.v / lvl
			}
			out[k][weekday(s)] = r
		}
	}
	return out
}

// columns are the week ratios of weekRatios by weekday, sorted, so that
// the median without any one week is read off without sorting again.
type columns struct {
	sorted [7][]float64
	// rank[w][k] is the position of week k's ratio in sorted[w], -1 when
	// the week has none.
	rank [7][]int
}

func (c *columns) build(ratios [][7]float64) {
	for w := range c.sorted {
		xs, rank := c.sorted[w][:0], c.rank[w][:0]
		for k := range ratios {
			rank = append(rank, -1)
			if r := ratios[k][w]; !math.IsNaN(r) {
				xs = append(xs, r)
			}
		}
		sortFloats(xs)
		// Weeks with equal ratios may share a rank; leaving out either
		// leaves the same values.
		for k := range ratios {
			if r := ratios[k][w]; !math.IsNaN(r) {
				rank[k], _ = slices.BinarySearch(xs, r)
			}
		}
		c.sorted[w], c.rank[w] = xs, rank
	}
}

// median is weekday w's median ratio without week exclude (-1: none), and
// how many weeks it is of.
func (c *columns) median(w, exclude int) (float64, int) {
	xs, skip := c.sorted[w], -1
	if exclude >= 0 {
		skip = c.rank[w][exclude]
	}
	n := len(xs)
	if skip >= 0 {
		n--
	}
	if n <= 0 {
		return math.NaN(), 0
	}
	at := func(i int) float64 {
		if skip >= 0 && i >= skip {
			i++
		}
		return xs[i]
	}
	if n%2 == 1 {
		return at(n / 2), n
	}
	return (at(n/2-1) + at(n/2)) / 2, n
}

// fit sets m's weekday factors to the per-weekday medians of the week
// ratios, leaving out week exclude (-1: none), normalised to average 1 (0
// when additive); false when some weekday has fewer than minWeeks weeks.
func (m *model) fit(cols *columns, exclude, minWeeks int) bool {
	sum := 0.0
	for w := range m.f {
		f, n := cols.median(w, exclude)
		if n < minWeeks {
			return false
		}
		m.f[w] = f
		sum += f
	}
	mean := sum / 7
	if m.mult && !(mean > 0) {
		return false
	}
	for w := range m.f {
		if m.mult {
			m.f[w] /= mean
			if !(m.f[w] > 0) {
				return false
			}
		} else {
			m.f[w] -= mean
		}
	}
	return true
}

// level is the median deseasonalised value of the LevelDays before t
// that were inside their bands, or of all of them when fewer than half
// were (the KPI moved to a new level and stayed); false when fewer than
// half of those days have data.
func (h *history) level(t int64, m *model) (float64, bool) {
	all, in := h.all[:0], h.in[:0]
	for s := t - int64(m.o.LevelDays); s < t; s++ {
		if x, ok := h.get(s); ok {
			d := m.deseason(x.v, weekday(s))
			all = append(all, d)
			if !x.outside {
				in = append(in, d)
			}
		}
	}
	h.all, h.in = all, in
	switch {
	case len(in) > 0 && 2*len(in) >= m.o.LevelDays:
		return median(in), true
	case len(all) > 0 && 2*len(all) >= m.o.LevelDays:
		return median(all), true
	}
	return 0, false
}

// noise returns the sampling variance of a day whose expected value is
// exp and denominator n, and the factor g its day-to-day variance tau² is
// multiplied by. With multiplicative weekday effects the day-to-day
// variation is relative (g includes exp²): a Saturday twice as high as a
// Tuesday varies twice as much.
func (m *model) noise(exp, n, nRef float64) (samp, g float64) {
	g = 1
	if m.mult {
		g = exp * exp
	}
	if m.o.Rate {
		if n <= 0 {
			return 0, g
		}
		// Laplace's rule keeps the variance positive at a rate of 0 or 1.
		p := (math.Min(math.Max(exp, 0), 1)*n + 1) / (n + 2)
		return p * (1 - p) / n, g
	}
	if n > 0 && nRef > n {
		return 0, g * nRef / n
	}
	return 0, g
}

// residual is one past prediction error with its noise model.
type residual struct {
	r2, samp, g float64
}

// fitTau2 returns the day-to-day variance tau² ≥ 0 at which the median of
// the squared standardised errors r²/(samp + tau²·g) is the median of a
// chi-square with one degree of freedom. Error i is above that median
// exactly when tau² is below c_i = (r²/median - samp)/g, so the root is
// the median of the c_i (0 when the sampling noise alone explains that
// much).
func (h *history) fitTau2(res []residual) float64 {
	c := h.c[:0]
	defer func() { h.c = c }()
	for _, r := range res {
		c = append(c, (r.r2/chi2Median-r.samp)/r.g)
	}
	tau2 := median(c)
	if !(tau2 > 0) || math.IsInf(tau2, 0) {
		return 0
	}
	return tau2
}

// denominator reads a point's N: 0 (unknown) unless positive and finite.
func denominator(n float64) float64 {
	if n > 0 && !math.IsInf(n, 0) {
		return n
	}
	return 0
}

// dayIndex counts days since 1970-01-01 (UTC), rounding down.
func dayIndex(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s%86400 < 0 {
		d--
	}
	return d
}

// weekday of a day index: 0 is Sunday (1970-01-01 was a Thursday).
func weekday(d int64) int {
	return int(((d+4)%7 + 7) % 7)
}

// sortFloats sorts xs. The slices are mostly short (a week's days, a
// level's 14 days): an insertion sort beats the general sort's set-up
// there, and values are finite, so no NaN ordering is needed.
func sortFloats(xs []float64) {
	if len(xs) > 32 {
		slices.Sort(xs)
		return
	}
	for i := 1; i < len(xs); i++ {
		x, j := xs[i], i
		for ; j > 0 && xs[j-1] > x; j-- {
			xs[j] = xs[j-1]
		}
		xs[j] = x
	}
}

// median returns the median of xs (not empty), reordering xs.
func median(xs []float64) float64 {
	sortFloats(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return (xs[n/2-1] + xs[n/2]) / 2
}
