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

// Collections of the privacy settings and the exposure expiries (one small
// document per setting and per expired experiment).
const (
	privacySettingsColl  = "privacy_settings"
	exposureExpiriesColl = "exposure_expiries"
)

// unitIDSetting is the _id of the unit-id mode's settings document.
const unitIDSetting = "unit_ids"

// UnitIDMode implements privacy.UnitIDStore.
func (s *Store) UnitIDMode(ctx context.Context) (string, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var doc struct {
		Value string `bson:"value"`
	}
	err := s.db.Collection(privacySettingsColl).FindOne(ctx, bson.D{eq("_id", unitIDSetting)}).Decode(&doc)
	if errors.Is(err, drv.ErrNoDocuments) {
		return "", nil
	}
	if err != nil {
		return "", wrap("read unit-id mode", err)
	}
	return doc.Value, nil
}

// SetUnitIDMode implements privacy.UnitIDStore.
func (s *Store) SetUnitIDMode(ctx context.Context, mode string) error {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	_, err := s.db.Collection(privacySettingsColl).UpdateOne(ctx, bson.D{eq("_id", unitIDSetting)}, unitIDModeUpdate(mode), options.Update().SetUpsert(true))
	return wrap("record unit-id mode", err)
}

func unitIDModeUpdate(mode string) bson.D {
	return bson.D{{Key: "$set", Value: bson.D{{Key: "value", Value: mode}}}}
}

// HoldsUnits implements privacy.UnitIDStore: one document of exposures or
// events (the _id index), no scan.
func (s *Store) HoldsUnits(ctx context.Context) (bool, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	for _, c := range []*drv.Collection{s.c.exposures, s.c.events} {
		err := c.FindOne(ctx, bson.D{}, options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
		if err == nil {
			return true, nil
		}
		if !errors.Is(err, drv.ErrNoDocuments) {
			return false, wrap("read whether units are stored", err)
		}
	}
	return false, nil
}

// expiryFilter selects experiment key's documents in unit_metrics,
// exposures and exposure_conflicts: the prefix of the indexes
// experiment_metric_y / experiment_unit, experiment_unit and
// experiment_unit (exposure_conflicts), so no collection is scanned.
func expiryFilter(key string) bson.D { return bson.D{eq("experiment", key)} }

// expiryRecord is the update that records an expiry's counts.
func expiryRecord(at time.Time, exposures, rollups int64) bson.D {
	return bson.D{
		{Key: "$set", Value: bson.D{{Key: "at", Value: at.UnixNano()}}},
		{Key: "$inc", Value: bson.D{{Key: "exposures", Value: exposures}, {Key: "rollups", Value: rollups}}},
	}
}

// ExpireExposures implements privacy.ExposureExpiringStore. Reports
// aggregate rollups and exposures at read time, so deleting them removes
// everything the experiment's report was made of. No transaction: the
// deletes may span shards and millions of documents; a run cut short is
// finished by the next (the expiry is recorded last).
func (s *Store) ExpireExposures(ctx context.Context, key string, at time.Time) (privacy.ExposureExpiry, error) {
	out := privacy.ExposureExpiry{Experiment: key, At: at}
	res, err := s.c.unitMetrics.DeleteMany(ctx, expiryFilter(key))
	if err != nil {
		return out, wrap("expire rollups of "+key, err)
	}
	out.Rollups = res.DeletedCount
	if _, err := s.db.Collection(exposureConflictsColl).DeleteMany(ctx, expiryFilter(key)); err != nil {
		return out, wrap("expire exposure conflicts of "+key, err)
	}
	if res, err = s.c.exposures.DeleteMany(ctx, expiryFilter(key)); err != nil {
		return out, wrap("expire exposures of "+key, err)
	}
	out.Exposures = res.DeletedCount
	_, err = s.db.Collection(exposureExpiriesColl).UpdateOne(ctx, bson.D{eq("_id", key)}, expiryRecord(at, out.Exposures, out.Rollups), options.Update().SetUpsert(true))
	return out, wrap("record exposure expiry of "+key, err)
}

// ExposureExpiries implements privacy.ExposureExpiringStore.
func (s *Store) ExposureExpiries(ctx context.Context) (map[string]privacy.ExposureExpiry, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []struct {
		ID        string `bson:"_id"`
		At        int64  `bson:"at"`
		Exposures int64  `bson:"exposures"`
		Rollups   int64  `bson:"rollups"`
	}
	if err := s.findAll(ctx, s.db.Collection(exposureExpiriesColl), bson.D{}, options.Find(), &docs); err != nil {
		return nil, wrap("read exposure expiries", err)
	}
	out := make(map[string]privacy.ExposureExpiry, len(docs))
	for _, d := range docs {
		out[d.ID] = privacy.ExposureExpiry{Experiment: d.ID, At: time.Unix(0, d.At).UTC(), Exposures: d.Exposures, Rollups: d.Rollups}
	}
	return out, nil
}

// oldestFirst reads the first document stored (the _id index: client- or
// server-generated ObjectIds grow with insertion time), projected on
// field, without a collection scan.
func oldestFirst(field string) *options.FindOneOptions {
	return options.FindOne().SetSort(bson.D{{Key: "_id", Value: 1}}).SetProjection(bson.D{{Key: field, Value: 1}, {Key: "_id", Value: 0}})
}

// StoredData implements privacy.Inventory without a collection scan:
// counts are the collections' metadata (estimatedDocumentCount), and the
// oldest times those of the event and exposure stored first (the _id
// index), which is the oldest one unless an older one arrived later.
func (s *Store) StoredData(ctx context.Context) (privacy.StoredData, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var out privacy.StoredData
	for _, c := range []struct {
		coll *drv.Collection
		n    *int64
	}{{s.c.events, &out.Events}, {s.c.exposures, &out.Exposures}, {s.c.unitMetrics, &out.Rollups}, {s.c.erasures, &out.ErasedUnits}} {
		n, err := c.coll.EstimatedDocumentCount(ctx)
		if err != nil {
			return out, wrap("count "+c.coll.Name(), err)
		}
		*c.n = n
	}
	for _, c := range []struct {
		coll  *drv.Collection
		field string
		out   **time.Time
	}{{s.c.events, "ts", &out.OldestEvent}, {s.c.exposures, "at", &out.OldestExposure}} {
		var doc bson.M
		err := c.coll.FindOne(ctx, bson.D{}, oldestFirst(c.field)).Decode(&doc)
		if errors.Is(err, drv.ErrNoDocuments) {
			continue
		}
		if err != nil {
			return out, wrap("read the oldest of "+c.coll.Name(), err)
		}
		if ns, ok := doc[c.field].(int64); ok {
			t := time.Unix(0, ns).UTC()
			*c.out = &t
		}
	}
	return out, nil
}
