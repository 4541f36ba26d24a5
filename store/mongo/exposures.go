package mongo

import (
	"context"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	engine "github.com/journeylab/journeylab/outcomes"
)

// InsertExposures stores first exposures; an (experiment, unit) pair that is
// already stored (or repeated earlier in xs) keeps its first variant and
// time. Each new exposure attributes the unit's events that are already
// stored, including pre-exposure events for CUPED. It returns how many
// were new. The exposures are one unordered bulk upsert in a transaction.
func (s *Store) InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error) {
	for i, x := range xs {
		if x.Experiment == "" || x.Unit == "" || x.Variant == "" || x.At.Year() < 2000 {
			return 0, &experiment.ValidationError{Field: fmt.Sprintf("exposures[%d]", i), Message: "experiment, unit_id, variant and a time after 2000 are required"}
		}
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []exposureDoc
	var models []drv.WriteModel
	seen := make(map[[2]string]bool, len(xs))
	for _, x := range xs {
		k := [2]string{x.Experiment, x.Unit}
		if seen[k] {
			continue
		}
		seen[k] = true
		at := x.At.UnixNano()
		d := exposureDoc{Unit: x.Unit, Experiment: x.Experiment, Variant: x.Variant, At: at, Day: events.DayOf(at), Attrs: toAttrs(x.Attributes)}
		set := bson.D{{Key: "variant", Value: d.Variant}, {Key: "at", Value: d.At}, {Key: "day", Value: d.Day}}
		if d.Attrs != nil {
			set = append(set, bson.E{Key: "attrs", Value: d.Attrs})
		}
		docs = append(docs, d)
		models = append(models, drv.NewUpdateOneModel().SetFilter(exposureKey(x.Unit, x.Experiment)).
			SetUpdate(bson.D{{Key: "$setOnInsert", Value: set}}).SetUpsert(true))
	}
	if len(models) == 0 {
		return 0, nil
	}
	inserted := 0
	err := s.inTx(ctx, "insert exposures", func(sc drv.SessionContext) error {
		inserted = 0
		cfg, err := s.attribution(sc)
		if err != nil {
			return err
		}
		res, err := s.c.exposures.BulkWrite(sc, models, options.BulkWrite().SetOrdered(false))
		if err != nil {
			return fmt.Errorf("insert exposures: %w", err)
		}
		var fresh []*engine.Exposure
		var units []string
		seenUnit := map[string]bool{}
		var repeated []exposureDoc
		for j := range docs {
			if _, ok := res.UpsertedIDs[int64(j)]; !ok {
				repeated = append(repeated, docs[j])
				continue
			}
			inserted++
			d := &docs[j]
			fresh = append(fresh, &engine.Exposure{Unit: d.Unit, Experiment: d.Experiment, Variant: d.Variant, At: d.At, Attrs: d.Attrs})
			if !seenUnit[d.Unit] {
				seenUnit[d.Unit] = true
				units = append(units, d.Unit)
			}
		}
		if err := s.noteVariantConflicts(sc, repeated); err != nil {
			return err
		}
		if err := s.touchUnits(sc, units); err != nil {
			return err
		}
		cs, err := engine.Backfill(sc, engineTx{s, sc}, cfg, fresh)
		if err != nil {
			return err
		}
		return writeChanges(sc, s.c.unitMetrics, cs)
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
}

// ExposureVariants streams every exposed unit of the experiment with its
// variant, in unit order (a covered index scan), so serving can keep exposed
// units sticky when weights change. fn's error stops the stream and is returned.
func (s *Store) ExposureVariants(ctx context.Context, experimentKey string, fn func(unit, variant string) error) error {
	ctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	defer cancel()
	cur, err := s.c.exposures.Find(ctx, bson.D{eq("experiment", experimentKey)}, options.Find().
		SetSort(bson.D{{Key: "unit_id", Value: 1}}).
		SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "unit_id", Value: 1}, {Key: "variant", Value: 1}}).
		SetHint("experiment_unit"))
	if err != nil {
		return wrap("list exposures of "+experimentKey, err)
	}
	defer cur.Close(ctx)
	for cur.Next(ctx) {
		var d exposureDoc
		if err := cur.Decode(&d); err != nil {
			return fmt.Errorf("decode exposure: %w", err)
		}
		if err := fn(d.Unit, d.Variant); err != nil {
			return err
		}
	}
	return wrap("list exposures of "+experimentKey, cur.Err())
}
