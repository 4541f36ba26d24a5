package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// TimeSeries is the cumulative lift of KPIs day by day, for a chart.
type TimeSeries struct {
	Experiment  string              `json:"experiment"`
	GeneratedAt time.Time           `json:"generated_at"`
	Analysis    experiment.Analysis `json:"analysis"`
	Control     string              `json:"control"`
	Series      []Series            `json:"series"`
}

// Series is one KPI for one treatment against control.
type Series struct {
	Metric    string               `json:"metric"`
	Name      string               `json:"name"`
	Direction experiment.Direction `json:"direction"`
	Variant   string               `json:"variant"`
	Points    []Point              `json:"points"`
}

// Point is the comparison over every unit exposed up to and including Date
// (UTC), with the outcomes those units have sent so far. Its p-value is not
// adjusted for multiple comparisons; only the sequential method's p-values
// and intervals stay valid when read every day.
type Point struct {
	Date         string `json:"date"`
	ControlUnits int64  `json:"control_units"`
	VariantUnits int64  `json:"variant_units"`
	Comparison
}

// BuildTimeSeries computes the daily cumulative lift of each metric (the
// experiment's goal metrics when the caller has no other choice; see
// ParseSeriesMetrics) for every treatment.
func BuildTimeSeries(ctx context.Context, src Source, e *experiment.Experiment, metrics []experiment.Metric, now time.Time) (*TimeSeries, error) {
	e = normalized(e)
	if now.IsZero() {
		now = time.Now()
	}
	ts := &TimeSeries{Experiment: e.Key, GeneratedAt: now.UTC(), Analysis: e.Analysis, Control: e.Control, Series: []Series{}}
	ctl := e.VariantIndex(e.Control)
	for _, m := range metrics {
		m.Normalize()
		cells, err := src.MetricCells(ctx, e, m, CellQuery{Daily: true})
		if err != nil {
			return nil, fmt.Errorf("time series %s: metric %s: %w", e.Key, m.Key, err)
		}
		byDay := map[string][]Cell{}
		for _, c := range cells {
			d := c.Day.UTC().Format(time.DateOnly)
			byDay[d] = append(byDay[d], c)
		}
		days := make([]string, 0, len(byDay))
		for d := range byDay {
			days = append(days, d)
		}
		sort.Strings(days)

		series := make([]Series, 0, len(e.Variants)-1)
		for i, v := range e.Variants {
			if i != ctl {
				series = append(series, Series{Metric: m.Key, Name: m.Name, Direction: m.Direction, Variant: v.Key, Points: []Point{}})
			}
		}
		opts := compareOptions(e.Analysis, m, true)
		cum := make([]stats.ArmStats, len(e.Variants))
		for _, d := range days {
			for i, s := range byVariant(e, byDay[d]) {
				cum[i] = addStats(cum[i], s)
			}
			j := 0
			for i, v := range e.Variants {
				if i == ctl {
					continue
				}
				c := comparison(v.Key, stats.Compare(stats.Kind(m.Kind), cum[ctl], cum[i], opts))
				c.Verdict = verdict(c, m.Direction, e.Analysis.Alpha, nil)
				series[j].Points = append(series[j].Points, Point{Date: d, ControlUnits: cum[ctl].N, VariantUnits: cum[i].N, Comparison: c})
				j++
			}
		}
		ts.Series = append(ts.Series, series...)
	}
	return ts, nil
}
