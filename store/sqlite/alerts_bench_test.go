package sqlite

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/storetest"
)

// BenchmarkHealthCheck1M measures one health check of an experiment with
// 1M exposed units (30% with rollups, 9 metrics): the newest-exposure read
// alone, the report alone (with the sequential method), and the whole check
// (the report, activity, units in several variants, alert reconciliation).
//
//	go test ./store/sqlite -run '^$' -bench HealthCheck1M -benchtime 5x -count 3
func BenchmarkHealthCheck1M(b *testing.B) {
	st := openTemp(b)
	svc := storetest.SetupOutcomes(b, st)
	bulkLoad(b, st, "exp", 1_000_000, 0.3)
	ctx := context.Background()
	b.Run("newest exposure", func(b *testing.B) {
		for b.Loop() {
			if _, err := st.LastExposure(ctx, "exp"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("the report alone", func(b *testing.B) {
		for b.Loop() {
			e, metrics, err := report.Load(ctx, st, "exp")
			if err != nil {
				b.Fatal(err)
			}
			e.Analysis.Method = "sequential"
			if _, err := report.Build(ctx, st, e, metrics, report.Options{Now: storetest.T0}); err != nil {
				b.Fatal(err)
			}
		}
	})
	mon, err := health.NewMonitor(svc, st, st, st, st, health.Options{Now: func() time.Time { return storetest.T0.Add(15 * 24 * time.Hour) },
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("whole check", func(b *testing.B) {
		for b.Loop() {
			if _, err := mon.CheckExperiment(ctx, "exp"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkInsertExposureBatch measures a batch of 2000 exposures of new
// units, and of units already stored in the same variant (after a restart
// emptied the serving dedupe cache: each is ignored after the batch's one
// look-up for variant conflicts).
//
//	go test ./store/sqlite -run '^$' -bench InsertExposureBatch -benchtime 200x -count 3
func BenchmarkInsertExposureBatch(b *testing.B) {
	st := openTemp(b)
	storetest.SetupOutcomes(b, st)
	ctx := context.Background()
	batch := func(from int) []experiment.Exposure {
		xs := make([]experiment.Exposure, 2000)
		for i := range xs {
			xs[i] = experiment.Exposure{Experiment: "exp", Unit: fmt.Sprintf("u%08d", from+i), Variant: []string{"control", "treatment"}[i%2], At: storetest.T0}
		}
		return xs
	}
	repeated := batch(0)
	if _, err := st.InsertExposures(ctx, repeated); err != nil {
		b.Fatal(err)
	}
	next := len(repeated)
	b.Run("new units", func(b *testing.B) {
		for b.Loop() {
			if n, err := st.InsertExposures(ctx, batch(next)); err != nil || n != 2000 {
				b.Fatal(n, err)
			}
			next += 2000
		}
	})
	b.Run("repeated units", func(b *testing.B) {
		for b.Loop() {
			if n, err := st.InsertExposures(ctx, repeated); err != nil || n != 0 {
				b.Fatal(n, err)
			}
		}
	})
}
