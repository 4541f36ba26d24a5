package anomaly

import (
	"math"
	"testing"
	"time"
)

func TestDetect(t *testing.T) {
	start := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC) // a Monday
	weekday := []float64{0.10, 0.10, 0.10, 0.10, 0.12, 0.15, 0.15}
	var pts []Point
	for d := 0; d < 42; d++ {
		pts = append(pts, Point{Day: start.AddDate(0, 0, d), Value: weekday[d%7], N: 1000})
	}
	t.Run("a steady weekly pattern raises nothing, weekend highs included", func(t *testing.T) {
		if got := Detect(pts, Options{}); len(got) != 0 {
			t.Fatalf("findings on a clean series: %+v", got)
		}
	})
	t.Run("a planted drop on one day is found and only that day", func(t *testing.T) {
		planted := append([]Point(nil), pts...)
		planted[38].Value = 0.05
		got := Detect(planted, Options{})
		if len(got) != 1 || !got[0].Day.Equal(planted[38].Day) || got[0].Direction != Below {
			t.Fatalf("findings = %+v, want one below on %v", got, planted[38].Day)
		}
	})
	t.Run("the first weeks have no band", func(t *testing.T) {
		b := Bands(pts, Options{})
		if b[0].Ready || !math.IsNaN(b[0].Expected) || !b[41].Ready || b[41].Expected != 0.15 {
			t.Fatalf("bands[0] = %+v, bands[41] = %+v", b[0], b[41])
		}
	})
}
