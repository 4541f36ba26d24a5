package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/experiment"
	engine "github.com/journeylab/journeylab/outcomes"
)

// rebuildChunk is how many units one rebuild transaction recomputes: small
// enough to stay far below MongoDB's transaction time and size limits and
// to make a conflict with live ingestion cheap to retry.
const rebuildChunk = 500

// Rebuild recomputes every rollup of the experiment from raw events and
// exposures: after a metric was added to a running experiment, or to repair
// data. It works through the exposed units in chunks, each in its own
// transaction, so events may keep arriving meanwhile (a chunk that
// conflicts with them runs again). A rollup that was right stays bit-for-bit
// the same, because both paths fold the same events in storage order.
// progress, if not nil, is called after each chunk with the units done and
// the total. There are no totals to fix afterwards: the report sums rollups
// when it is read.
func (s *Store) Rebuild(ctx context.Context, experimentKey string, progress func(done, total int64)) error {
	if err := experiment.Recorded(ctx, s, experimentKey); err != nil {
		return err
	}
	cctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	total, err := s.c.exposures.CountDocuments(cctx, bson.D{eq("experiment", experimentKey)})
	cancel()
	if err != nil {
		return wrap("count exposures of "+experimentKey, err)
	}
	var done int64
	after := ""
	for {
		n, last, err := s.rebuildChunk(ctx, experimentKey, after)
		if err != nil {
			return fmt.Errorf("rebuild %s after unit %q: %w", experimentKey, after, err)
		}
		done += int64(n)
		total = max(total, done)
		if progress != nil {
			progress(done, total)
		}
		if n < rebuildChunk {
			return nil
		}
		after = last
	}
}

// rebuildChunk recomputes the rollups of the next units after unit `after`.
func (s *Store) rebuildChunk(ctx context.Context, exp, after string) (n int, last string, err error) {
	ctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	defer cancel()
	err = s.inTx(ctx, "rebuild chunk", func(sc drv.SessionContext) error {
		n, last = 0, ""
		cfg, err := s.attribution(sc)
		if err != nil {
			return err
		}
		er := cfg.Experiments[exp]
		if er == nil {
			return fmt.Errorf("experiment %q: %w", exp, experiment.ErrNotFound)
		}
		var xs []exposureDoc
		err = s.findAll(sc, s.c.exposures, bson.D{eq("experiment", exp), {Key: "unit_id", Value: bson.D{{Key: "$gt", Value: after}}}},
			options.Find().SetSort(bson.D{{Key: "unit_id", Value: 1}}).SetLimit(rebuildChunk).SetHint("experiment_unit"), &xs)
		if err != nil {
			return fmt.Errorf("list exposures: %w", err)
		}
		if len(xs) == 0 {
			return nil
		}
		n, last = len(xs), xs[len(xs)-1].Unit
		inChunk := bson.E{Key: "unit_id", Value: bson.D{{Key: "$gt", Value: after}, {Key: "$lte", Value: last}}}
		chunk := make([]*engine.Exposure, len(xs))
		for i := range xs {
			x := &xs[i]
			chunk[i] = &engine.Exposure{Unit: x.Unit, Experiment: exp, Variant: x.Variant, At: x.At, Attrs: x.Attrs}
		}
		cs, err := engine.Rebuild(sc, engineTx{s, sc}, er, chunk)
		if err != nil {
			return err
		}
		if err := writeChanges(sc, s.c.unitMetrics, cs); err != nil {
			return err
		}
		// Rollups of metrics the experiment no longer lists are dropped.
		if _, err := s.c.unitMetrics.DeleteMany(sc, bson.D{eq("experiment", exp), inChunk, {Key: "metric", Value: bson.D{{Key: "$nin", Value: er.MetricKeys()}}}}); err != nil {
			return fmt.Errorf("drop stale rollups: %w", err)
		}
		return nil
	})
	return n, last, err
}
