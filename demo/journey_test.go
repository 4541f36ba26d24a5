package demo

import (
	"context"
	"testing"
	"time"

	"github.com/journeylab/journeylab/anomaly"
	"github.com/journeylab/journeylab/journey"
	"github.com/journeylab/journeylab/report"
)

// checkJourney checks what the journey map of a demo must show: most
// visitors are lost between consideration and decision, and the payment
// outage is a day checkout conversion fell below its band. The report test
// calls it on its demo run.
func checkJourney(t *testing.T, st journey.Reader, cat report.Catalog, src report.Source, sum *Summary) {
	ctx := context.Background()
	j := journey.NewService(st, cat, src, func() time.Time { return testEnd })
	from := sum.Start.AddDate(0, 0, -HistoryDays)
	outage := OutageDay(sum.Start)

	t.Run("the funnel's pain point is the planted one", func(t *testing.T) {
		m, err := j.Build(ctx, journey.Query{From: from, To: testEnd})
		if err != nil {
			t.Fatal(err)
		}
		p := m.Funnel.PainPoint
		if p == nil || p.From != PainPoint[0] || p.To != PainPoint[1] {
			t.Fatalf("pain point %+v, want %s -> %s (steps %+v)", p, PainPoint[0], PainPoint[1], m.Funnel.Steps)
		}
		if p.LostShare < 0.5 {
			t.Fatalf("the pain point loses %.0f%% of visitors; the demo plants a clear one (over half)", 100*p.LostShare)
		}
	})
	t.Run("anomaly detection finds the outage day in checkout conversion", func(t *testing.T) {
		all, err := j.StageKPISeries(ctx, from, testEnd)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range all {
			for i, b := range anomaly.Bands(s.Points, anomaly.Options{Rate: s.Rate}) {
				if s.Points[i].Day.Equal(outage) {
					f, ok := anomaly.Check(s.Points[i], b)
					t.Logf("%s v=%.4f n=%.0f exp=%.4f sigma=%.4f [%.4f,%.4f] %v %.1f", s.KPI, s.Points[i].Value, s.Points[i].N, b.Expected, b.Sigma, b.Low, b.High, ok, f.Sigmas)
				}
			}
		}
		for _, s := range all {
			if s.KPI != "conversion" {
				continue
			}
			for _, f := range anomaly.Detect(s.Points, anomaly.Options{}) {
				if f.Day.Equal(outage) && f.Direction == anomaly.Below {
					return
				}
			}
			t.Fatalf("no finding below the band on %s in %+v", outage.Format(time.DateOnly), anomaly.Detect(s.Points, anomaly.Options{}))
		}
		t.Fatal("no conversion series")
	})
}
