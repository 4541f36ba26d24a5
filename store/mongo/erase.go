package mongo

import (
	"context"
	"errors"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/privacy"
)

// erasedCollections hold a unit's documents under unit_id; each has an
// index that starts with unit_id (schema.go), which a test checks.
var erasedCollections = []string{"exposures", "unit_metrics", "events"}

// eraseFilter selects one unit's documents in erasedCollections.
func eraseFilter(unit string) bson.D { return bson.D{eq("unit_id", unit)} }

// EraseUnits implements privacy.Store. The audit documents (collection
// erasures, _id = the keyed hash) are written first, so that no erasure
// goes unaudited; then each unit is erased in its own transaction (one
// shard): its exposures (and records of exposures in another variant),
// rollups, events and unit document. Reports
// aggregate rollups at read time, so nothing else holds the unit's
// contribution. Every filter starts with unit_id, the prefix of the
// unique indexes unit_experiment, unit_event and unit_experiment_metric:
// no collection scan. The unit document is updated before the deletes so
// that a concurrent event or exposure batch of the unit conflicts with the
// erasure and retries after it (see touchUnits).
func (s *Store) EraseUnits(ctx context.Context, units []privacy.Unit, at time.Time) (privacy.Erased, error) {
	out := privacy.Erased{Units: int64(len(units))}
	if len(units) == 0 {
		return out, nil
	}
	models := make([]drv.WriteModel, len(units))
	for i, u := range units {
		models[i] = drv.NewUpdateOneModel().SetFilter(bson.D{eq("_id", u.Hash)}).SetUpsert(true).SetUpdate(bson.D{
			{Key: "$setOnInsert", Value: bson.D{{Key: "first_at", Value: at}}},
			{Key: "$set", Value: bson.D{{Key: "last_at", Value: at}}},
			{Key: "$inc", Value: bson.D{{Key: "requests", Value: int64(1)}}},
		})
	}
	if _, err := s.c.erasures.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return privacy.Erased{}, wrap("audit erasures", err)
	}
	for _, u := range units {
		var got privacy.Erased
		err := s.inTx(ctx, "erase unit", func(sc drv.SessionContext) error {
			got = privacy.Erased{}
			if err := s.touchUnits(sc, []string{u.ID}); err != nil {
				return err
			}
			// Records of exposures in another variant (health) are keyed
			// by experiment first: look the unit's experiments up before
			// its exposures go.
			var xs []struct {
				Experiment string `bson:"experiment"`
			}
			if err := s.findAll(sc, s.c.exposures, eraseFilter(u.ID), options.Find().SetProjection(bson.D{{Key: "experiment", Value: 1}}), &xs); err != nil {
				return err
			}
			if len(xs) > 0 {
				exps := make([]string, len(xs))
				for i, x := range xs {
					exps[i] = x.Experiment
				}
				if _, err := s.db.Collection(exposureConflictsColl).DeleteMany(sc, bson.D{in("experiment", exps), eq("unit_id", u.ID)}); err != nil {
					return err
				}
			}
			counts := map[string]*int64{"exposures": &got.Exposures, "unit_metrics": &got.Rollups, "events": &got.Events}
			for _, coll := range erasedCollections {
				res, err := s.db.Collection(coll).DeleteMany(sc, eraseFilter(u.ID))
				if err != nil {
					return err
				}
				*counts[coll] = res.DeletedCount
			}
			if _, err := s.c.units.DeleteOne(sc, bson.D{eq("_id", u.ID)}); err != nil {
				return err
			}
			// The journey map keeps anonymous daily counts; the unit's own document goes.
			_, err := s.coll(collJourneyUnits).DeleteOne(sc, bson.D{eq("_id", u.ID)})
			return err
		})
		if err != nil {
			return out, err
		}
		got.Units = 0
		out = out.Add(got)
	}
	return out, nil
}

// ErasedAmong implements privacy.Store (the _id index).
func (s *Store) ErasedAmong(ctx context.Context, hashes []string) (map[string]bool, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []struct {
		ID string `bson:"_id"`
	}
	err := s.findAll(ctx, s.c.erasures, bson.D{in("_id", hashes)}, options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}}), &docs)
	if err != nil {
		return nil, wrap("read erasures", err)
	}
	out := make(map[string]bool, len(docs))
	for _, d := range docs {
		out[d.ID] = true
	}
	return out, nil
}

// AnyErased implements privacy.Store.
func (s *Store) AnyErased(ctx context.Context) (bool, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	err := s.c.erasures.FindOne(ctx, bson.D{}).Err()
	if errors.Is(err, drv.ErrNoDocuments) {
		return false, nil
	}
	if err != nil {
		return false, wrap("read erasures", err)
	}
	return true, nil
}
