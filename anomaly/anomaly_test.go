package anomaly_test

import (
	"encoding/binary"
	"math"
	"testing"
	"time"

	"github.com/journeylab/journeylab/anomaly"
)

// steady is a noise-free weekly pattern at N visitors a day.
func steady(days int, n float64) []anomaly.Point {
	weekday := []float64{0.10, 0.10, 0.10, 0.10, 0.12, 0.15, 0.15} // Monday first
	var pts []anomaly.Point
	for d := range days {
		pts = append(pts, anomaly.Point{Day: day0.AddDate(0, 0, d), Value: weekday[d%7], N: n})
	}
	return pts
}

func TestDetect(t *testing.T) {
	pts := steady(42, 1000)
	rate := anomaly.Options{Rate: true}
	t.Run("a steady weekly pattern raises nothing, weekend highs included", func(t *testing.T) {
		if got := anomaly.Detect(pts, rate); len(got) != 0 {
			t.Fatalf("findings on a clean series: %+v", got)
		}
	})
	t.Run("a planted drop on one day is found and only that day", func(t *testing.T) {
		planted := append([]anomaly.Point(nil), pts...)
		planted[38].Value = 0.05
		got := anomaly.Detect(planted, rate)
		if len(got) != 1 || !got[0].Day.Equal(planted[38].Day) || got[0].Direction != anomaly.Below || got[0].Sigmas > -4 {
			t.Fatalf("findings = %+v, want one below on %v", got, planted[38].Day)
		}
	})
	t.Run("the first three weeks have no band, then the weekday's value is expected", func(t *testing.T) {
		b := anomaly.Bands(pts, rate)
		for d := range 21 {
			if b[d].Ready || !math.IsNaN(b[d].Expected) || !math.IsNaN(b[d].Sigma) {
				t.Fatalf("bands[%d] = %+v, want not ready", d, b[d])
			}
		}
		if !b[21].Ready || !b[41].Ready || math.Abs(b[41].Expected-0.15) > 1e-12 {
			t.Fatalf("bands[21] = %+v, bands[41] = %+v", b[21], b[41])
		}
	})
	t.Run("a rate's band is its binomial sampling noise when the series never varied more", func(t *testing.T) {
		b := anomaly.Bands(pts, rate)[41]
		p := (0.15*1000 + 1) / 1002
		if want := math.Sqrt(p * (1 - p) / 1000); math.Abs(b.Sigma-want) > 1e-12 {
			t.Fatalf("sigma = %g, want %g", b.Sigma, want)
		}
	})
}

func TestSeasonalAAStaysWithinTheFalseAlertBudget(t *testing.T) {
	// Conversion almost doubles at the weekend, traffic too: a naive band
	// around the weekly mean would flag every Saturday.
	k := kpi{name: "strong weekend", base: 0.025, visitors: 8000, tau: 0.04, trend: 0.15, rate: true,
		kpiWeek: [7]float64{1.8, 0.8, 0.8, 0.82, 0.85, 0.95, 1.75}, trafficWeek: [7]float64{2, 0.8, 0.8, 0.8, 0.85, 1, 1.9}}
	alerts, days := 0, 0
	for seed := range uint64(10) {
		pts := k.series(77+seed, nil)
		days += len(pts) - warmupDays
		got := anomaly.Detect(pts, anomaly.Options{Rate: true})
		alerts += len(got)
		for _, f := range got {
			t.Logf("seed %d: alert on %s (%s), %.1fσ", seed, f.Day.Format("Mon 2 Jan 2006"), f.Direction, f.Sigmas)
		}
	}
	// The budget of the accuracy table: half a false alert per series-year.
	if perYear := 365 * float64(alerts) / float64(days); perYear > 0.5 {
		t.Fatalf("%d alerts in %d days without anomaly: %.2f per series-year, want <= 0.5", alerts, days, perYear)
	}
}

func TestBandsAreRobustToPastAnomalies(t *testing.T) {
	k := kpis[0]
	clean := k.series(5, nil)
	hit := append([]anomaly.Point(nil), clean...)
	gap := append([]anomaly.Point(nil), clean...)
	// A three-day checkout outage: conversion at a fifth.
	for d := 100; d < 103; d++ {
		hit[d].Value *= 0.2
		gap[d] = anomaly.Point{Day: gap[d].Day, Value: math.NaN()}
	}
	opts := anomaly.Options{Rate: true}
	b, g := anomaly.Bands(hit, opts), anomaly.Bands(gap, opts)
	t.Run("the outage is found, every day of it", func(t *testing.T) {
		for d := 100; d < 103; d++ {
			if f, ok := anomaly.Check(hit[d], b[d]); !ok || f.Direction != anomaly.Below {
				t.Errorf("day %d not found below its band %+v (value %g)", d, b[d], hit[d].Value)
			}
		}
	})
	t.Run("the next weeks' bands are those of a series without data on the outage's days", func(t *testing.T) {
		for d := 103; d < len(hit); d++ {
			if b[d] != g[d] {
				t.Fatalf("day %d: band %+v after the outage, %+v after no data", d, b[d], g[d])
			}
		}
		if got := anomaly.Detect(hit[103:], opts); len(got) != 0 {
			t.Fatalf("alerts after the outage: %+v", got)
		}
	})
}

func TestALevelShiftBecomesTheNewNormalWithinTwoWeeks(t *testing.T) {
	k := kpis[0]
	pts := k.series(9, nil)
	const shift = 150
	for d := shift; d < len(pts); d++ {
		pts[d].Value *= 0.6
	}
	var alerted []int
	for _, f := range anomaly.Detect(pts, anomaly.Options{Rate: true}) {
		alerted = append(alerted, int(f.Day.Sub(day0).Hours()/24))
	}
	if len(alerted) == 0 || alerted[0] != shift {
		t.Fatalf("alerts on days %v, want the first on day %d", alerted, shift)
	}
	for _, d := range alerted {
		if d < shift || d >= shift+14 {
			t.Fatalf("alerts on days %v: want them only in the two weeks after the shift on day %d", alerted, shift)
		}
	}
	if len(alerted) < 5 {
		t.Fatalf("alerts on days %v: a 40%% drop should stay an anomaly for about a week", alerted)
	}
}

func TestFewVisitorsWidenARateBand(t *testing.T) {
	k := kpis[0]
	pts := k.series(11, nil)
	const d = 200
	lean := append([]anomaly.Point(nil), pts...)
	lean[d].N = 50
	opts := anomaly.Options{Rate: true}
	full, thin := anomaly.Bands(pts, opts)[d], anomaly.Bands(lean, opts)[d]
	if thin.Expected != full.Expected {
		t.Fatalf("the day's own N moved the expectation: %g vs %g", thin.Expected, full.Expected)
	}
	// At 50 visitors the binomial noise dwarfs the day-to-day variation.
	p := (thin.Expected*50 + 1) / 52
	if want := math.Sqrt(p * (1 - p) / 50); thin.Sigma < want || thin.Sigma > 1.05*want || full.Sigma > thin.Sigma/5 {
		t.Fatalf("sigma %g at N=50 (binomial alone %g), %g at N=%g", thin.Sigma, want, full.Sigma, pts[d].N)
	}
	if thin.Low != 0 {
		t.Fatalf("a rate's band must stop at 0, got low %g", thin.Low)
	}
}

func TestMissingDaysAndNegativeKPIs(t *testing.T) {
	t.Run("a missing day gets a band but no finding, and gaps do not stop the bands", func(t *testing.T) {
		pts := steady(70, 1000)
		for _, d := range []int{30, 31, 45, 69} {
			pts[d] = anomaly.Point{Day: pts[d].Day, Value: math.NaN()}
		}
		b := anomaly.Bands(pts, anomaly.Options{Rate: true})
		if !b[31].Ready || !b[69].Ready || math.Abs(b[69].Expected-0.15) > 1e-12 {
			t.Fatalf("bands[31] = %+v, bands[69] = %+v", b[31], b[69])
		}
		if got := anomaly.Detect(pts, anomaly.Options{Rate: true}); len(got) != 0 {
			t.Fatalf("findings %+v", got)
		}
	})
	t.Run("a series that can be negative gets additive weekday effects", func(t *testing.T) {
		// NPS: -5 on weekdays, +15 at weekends.
		var pts []anomaly.Point
		for d := range 63 {
			v := -5.0
			if wd := day0.AddDate(0, 0, d).Weekday(); wd == time.Saturday || wd == time.Sunday {
				v = 15
			}
			v += float64(d%3) - 1
			pts = append(pts, anomaly.Point{Day: day0.AddDate(0, 0, d), Value: v, N: 300})
		}
		b := anomaly.Bands(pts, anomaly.Options{})
		sat := 61 // day0 is a Monday
		if !b[sat].Ready || math.Abs(b[sat].Expected-15) > 1.5 || math.Abs(b[sat-1].Expected+5) > 1.5 {
			t.Fatalf("Saturday %+v, Friday %+v", b[sat], b[sat-1])
		}
		if got := anomaly.Detect(pts, anomaly.Options{}); len(got) != 0 {
			t.Fatalf("findings %+v", got)
		}
	})
	t.Run("too short a history is never ready", func(t *testing.T) {
		for _, b := range anomaly.Bands(steady(20, 1000), anomaly.Options{}) {
			if b.Ready {
				t.Fatalf("ready band %+v", b)
			}
		}
	})
}

// FuzzBands feeds arbitrary values, denominators and gaps: Bands must not
// panic, must return one band per point, and a ready band must be finite
// and ordered.
func FuzzBands(f *testing.F) {
	seed := make([]byte, 0, 16*60)
	for d := range 60 {
		seed = binary.LittleEndian.AppendUint64(seed, math.Float64bits(0.1+0.01*float64(d%7)))
		seed = binary.LittleEndian.AppendUint64(seed, math.Float64bits(1000))
	}
	f.Add(seed, uint8(0), false)
	f.Add(seed, uint8(3), true)
	f.Add([]byte{}, uint8(1), true)
	f.Fuzz(func(t *testing.T, data []byte, skip uint8, rate bool) {
		var pts []anomaly.Point
		day := day0
		for len(data) >= 16 {
			v := math.Float64frombits(binary.LittleEndian.Uint64(data))
			n := math.Float64frombits(binary.LittleEndian.Uint64(data[8:]))
			data = data[16:]
			pts = append(pts, anomaly.Point{Day: day, Value: v, N: n})
			day = day.AddDate(0, 0, 1+int(skip%3))
		}
		bands := anomaly.Bands(pts, anomaly.Options{Rate: rate})
		if len(bands) != len(pts) {
			t.Fatalf("%d bands for %d points", len(bands), len(pts))
		}
		for i, b := range bands {
			if !b.Day.Equal(pts[i].Day) {
				t.Fatalf("band %d is of %v, point of %v", i, b.Day, pts[i].Day)
			}
			if !b.Ready {
				if !math.IsNaN(b.Expected) || !math.IsNaN(b.Low) || !math.IsNaN(b.High) {
					t.Fatalf("band %d not ready but has numbers: %+v", i, b)
				}
				continue
			}
			for _, x := range []float64{b.Expected, b.Low, b.High, b.Sigma} {
				if math.IsNaN(x) {
					t.Fatalf("ready band %d has NaN: %+v", i, b)
				}
			}
			if !(b.Low <= b.Expected && b.Expected <= b.High) || b.Sigma < 0 || (rate && (b.Low < 0 || b.High > 1)) {
				t.Fatalf("band %d out of order: %+v", i, b)
			}
		}
		_ = anomaly.Detect(pts, anomaly.Options{Rate: rate})
	})
}

// BenchmarkBands is the journey map's read: 20 KPIs, 90 days shown, each
// with the 77 days of history their bands need.
func BenchmarkBands(b *testing.B) {
	var series [][]anomaly.Point
	for i := range 20 {
		series = append(series, kpis[i%len(kpis)].series(uint64(i), nil)[:90+77])
	}
	b.ResetTimer()
	for range b.N {
		for i, pts := range series {
			anomaly.Bands(pts, anomaly.Options{Rate: kpis[i%len(kpis)].rate})
		}
	}
}
