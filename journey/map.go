package journey

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/journeylab/journeylab/anomaly"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

// Reader reads the maintained aggregates; each store implements it on
// its read path. Day ranges are [from, to) in Day indexes.
type Reader interface {
	// JourneyBits returns every event name that has a bit.
	JourneyBits(ctx context.Context) (map[string]uint, error)
	// JourneyDaily returns the daily aggregates of the days in range.
	JourneyDaily(ctx context.Context, from, to int64) (map[DailyKey]Daily, error)
	// JourneyCohorts returns, for the units first seen in range, how many
	// reached each set of stages.
	JourneyCohorts(ctx context.Context, from, to int64) (map[int64]int64, error)
	// JourneyCohortSegments is JourneyCohorts split by the value of the
	// attribute dim in each unit's earliest exposure (NotAssigned for
	// units without exposures, report.NoSegment for exposures without
	// the attribute).
	JourneyCohortSegments(ctx context.Context, from, to int64, dim string) (map[string]map[int64]int64, error)
}

// NotAssigned is the funnel segment of units that were never exposed to
// an experiment, whose attributes journeylab therefore does not know.
const NotAssigned = "(not assigned)"

// Service builds the journey map.
type Service struct {
	src Reader
	cat report.Catalog
	rep report.Source
	now func() time.Time
}

// NewService returns the journey map over src (aggregates), cat (metric
// catalogue and experiments) and rep (experiment reports); now stamps maps.
func NewService(src Reader, cat report.Catalog, rep report.Source, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{src: src, cat: cat, rep: rep, now: now}
}

// ceilDay is the Day index of the first UTC midnight at or after t.
func ceilDay(t time.Time) int64 {
	ns := t.UnixNano()
	d := Day(ns)
	if ns != d*int64(86400e9) {
		d++
	}
	return d
}

// dayTime is the UTC midnight of a Day index.
func dayTime(d int64) time.Time { return time.Unix(d*86400, 0).UTC() }

// catalogue returns the metric catalogue in catalogue order.
func (s *Service) catalogue(ctx context.Context) ([]experiment.Metric, error) {
	ms, err := s.cat.ListMetrics(ctx)
	if err != nil {
		return nil, fmt.Errorf("journey: list metrics: %w", err)
	}
	experiment.SortMetrics(ms)
	return ms, nil
}

// StageKPISeries returns one series per catalogue metric (built-in and
// custom) with one point per UTC midnight in [from, to), consecutive. A
// day without a denominator has N = 0 and Value = NaN.
func (s *Service) StageKPISeries(ctx context.Context, from, to time.Time) ([]anomaly.Series, error) {
	ms, err := s.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	f, t := ceilDay(from), ceilDay(to)
	if t < f {
		t = f
	}
	ds, err := s.src.JourneyDaily(ctx, f, t)
	if err != nil {
		return nil, fmt.Errorf("journey: read daily aggregates: %w", err)
	}
	out := make([]anomaly.Series, 0, len(ms))
	for _, m := range ms {
		out = append(out, series(m, f, t, ds))
	}
	return out, nil
}

func series(m experiment.Metric, from, to int64, ds days) anomaly.Series {
	sr := anomaly.Series{Stage: string(m.Stage), KPI: m.Key, Name: m.Name, LowerIsBetter: m.Direction == experiment.LowerIsBetter,
		Rate: m.Kind == experiment.KindBinomial, Points: make([]anomaly.Point, 0, to-from)}
	for d := from; d < to; d++ {
		c := components(m, d, ds)
		sr.Points = append(sr.Points, anomaly.Point{Day: dayTime(d), Value: c.Value(), N: c.Den})
	}
	return sr
}

// Query selects the map's days and the funnel's breakdown.
type Query struct {
	// From and To are in the first and the last day shown (UTC days).
	From, To time.Time
	// Dimension splits the funnel by a unit attribute ("" for none).
	Dimension string
}

// MaxDays bounds a map's range.
const MaxDays = 366

// BandHistoryDays is how many days before a map's range its bands look
// back: the weeks anomaly's weekday factors learn from.
const BandHistoryDays = 7 * anomaly.DefaultWeeks

// Map is the journey map of a range of days.
type Map struct {
	From        string    `json:"from"`
	To          string    `json:"to"`
	GeneratedAt time.Time `json:"generated_at"`
	// Visitors is the sum of the daily visitor counts (visitor-days).
	Visitors int64       `json:"visitors"`
	Stages   []StageView `json:"stages"`
	Funnel   Funnel      `json:"funnel"`
}

// StageView is one journey stage on the map.
type StageView struct {
	Stage       experiment.Stage `json:"stage"`
	KPIs        []KPIView        `json:"kpis"`
	Experiments []ExperimentView `json:"experiments"`
	// Shipped is the cumulative measured lift of shipped winners, per KPI
	// of this stage that a shipped winner moved.
	Shipped []ShippedLift `json:"shipped"`
}

// KPIView is one KPI of a stage over the range.
type KPIView struct {
	Metric    string                `json:"metric"`
	Name      string                `json:"name"`
	Kind      experiment.MetricKind `json:"kind"`
	Direction experiment.Direction  `json:"direction"`
	// Value is Numerator / Denominator over the whole range; absent when
	// the denominator is 0.
	Value       *float64 `json:"value"`
	Numerator   float64  `json:"numerator"`
	Denominator float64  `json:"denominator"`
	// Tracked is false for a binomial KPI whose event got no bit (more
	// than MaxTracked event names): it has no values.
	Tracked bool `json:"tracked"`
	// Anomalies counts the days outside their expected band.
	Anomalies int        `json:"anomalies"`
	Series    []DayPoint `json:"series"`
}

// DayPoint is one day of a KPI with its expected band.
type DayPoint struct {
	Day   string   `json:"day"`
	Value *float64 `json:"value"`
	// N is the day's denominator (visitors, orders, responses).
	N float64 `json:"n"`
	// Expected, Low and High are the band (absent until there is history).
	Expected *float64 `json:"expected"`
	Low      *float64 `json:"low"`
	High     *float64 `json:"high"`
	// Outside is "above" or "below" for a day outside its band.
	Outside string `json:"outside,omitempty"`
}

func finite(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}

// Build returns the journey map of q.
func (s *Service) Build(ctx context.Context, q Query) (*Map, error) {
	if q.Dimension != "" && !report.ValidDimension(q.Dimension) {
		return nil, &experiment.ValidationError{Field: "dimension", Message: "not a queryable attribute name"}
	}
	f, t := Day(q.From.UnixNano()), Day(q.To.UnixNano())+1
	if t <= f {
		return nil, &experiment.ValidationError{Field: "to", Message: "must not be before from"}
	}
	if t-f > MaxDays {
		return nil, &experiment.ValidationError{Field: "from", Message: fmt.Sprintf("the range is at most %d days", MaxDays)}
	}
	ms, err := s.catalogue(ctx)
	if err != nil {
		return nil, err
	}
	bits, err := s.src.JourneyBits(ctx)
	if err != nil {
		return nil, fmt.Errorf("journey: read event bits: %w", err)
	}
	// The bands of the first days shown come from the weeks before them.
	ds, err := s.src.JourneyDaily(ctx, f-BandHistoryDays, t)
	if err != nil {
		return nil, fmt.Errorf("journey: read daily aggregates: %w", err)
	}
	out := &Map{From: dayTime(f).Format(time.DateOnly), To: dayTime(t - 1).Format(time.DateOnly), GeneratedAt: s.now().UTC()}
	for d := f; d < t; d++ {
		out.Visitors += ds[DailyKey{d, Visitors}].Units
	}
	byStage := map[experiment.Stage]*StageView{}
	for _, st := range experiment.Stages() {
		out.Stages = append(out.Stages, StageView{Stage: st, KPIs: []KPIView{}, Experiments: []ExperimentView{}, Shipped: []ShippedLift{}})
	}
	for i := range out.Stages {
		byStage[out.Stages[i].Stage] = &out.Stages[i]
	}
	// The bands are most of a map's CPU, and each KPI's are independent:
	// spread them over the cores (ds and bits are only read).
	views := make([]KPIView, len(ms))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(ms)) {
		wg.Go(func() {
			for i := int(next.Add(1) - 1); i < len(ms); i = int(next.Add(1) - 1) {
				if byStage[ms[i].Stage] != nil {
					views[i] = kpiView(ms[i], f, t, ds, bits)
				}
			}
		})
	}
	wg.Wait()
	for i, m := range ms {
		if sv := byStage[m.Stage]; sv != nil {
			sv.KPIs = append(sv.KPIs, views[i])
		}
	}
	if out.Funnel, err = s.funnel(ctx, f, t, q.Dimension); err != nil {
		return nil, err
	}
	if err := s.experiments(ctx, byStage, f, t); err != nil {
		return nil, err
	}
	return out, nil
}

func kpiView(m experiment.Metric, from, to int64, ds days, bits map[string]uint) KPIView {
	k := KPIView{Metric: m.Key, Name: m.Name, Kind: m.Kind, Direction: m.Direction, Tracked: tracked(m, bits),
		Series: make([]DayPoint, 0, to-from)}
	var total Components
	sr := series(m, from-BandHistoryDays, to, ds)
	// One pass of Bands; Check then says which days fell outside (Detect
	// would compute every band a second time).
	bands := anomaly.Bands(sr.Points, anomaly.Options{Rate: sr.Rate})[BandHistoryDays:]
	for i, p := range sr.Points[BandHistoryDays:] {
		total = total.add(components(m, from+int64(i), ds))
		dp := DayPoint{Day: p.Day.Format(time.DateOnly), Value: finite(p.Value), N: p.N}
		b := bands[i]
		if b.Ready {
			dp.Expected, dp.Low, dp.High = finite(b.Expected), finite(b.Low), finite(b.High)
		}
		if f, out := anomaly.Check(p, b); out {
			dp.Outside = string(f.Direction)
			k.Anomalies++
		}
		k.Series = append(k.Series, dp)
	}
	k.Numerator, k.Denominator, k.Value = total.Num, total.Den, finite(total.Value())
	return k
}
