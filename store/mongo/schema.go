package mongo

import (
	"context"
	"errors"
	"fmt"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// indexSpec is one index the store needs.
type indexSpec struct {
	coll   string
	name   string
	keys   bson.D
	unique bool
}

// indexes lists every secondary index. The unique indexes of the
// collections that grow with traffic (exposures, events, unit_metrics)
// start with unit_id, so they stay enforceable when those collections are
// sharded on { unit_id: "hashed" } (a sharded cluster enforces uniqueness
// only for indexes prefixed by the shard key).
var indexes = []indexSpec{
	{"experiments", "stage_status", bson.D{{Key: "stage", Value: 1}, {Key: "status", Value: 1}}, false},
	{"experiments", "touchpoint_status", bson.D{{Key: "touchpoint", Value: 1}, {Key: "status", Value: 1}}, false},
	{"experiments", "layer", bson.D{{Key: "layer", Value: 1}}, false},
	{"audit", "experiment_id", bson.D{{Key: "experiment_key", Value: 1}, {Key: "_id", Value: 1}}, false},
	{"api_keys", "created_at", bson.D{{Key: "created_at", Value: 1}, {Key: "_id", Value: 1}}, false},
	// First exposure wins: one document per (unit, experiment). It also
	// serves attribution's look-up of a unit's exposures.
	{"exposures", "unit_experiment", bson.D{{Key: "unit_id", Value: 1}, {Key: "experiment", Value: 1}}, true},
	// Sticky variants and rebuild chunks read an experiment in unit order (covered).
	{"exposures", "experiment_unit", bson.D{{Key: "experiment", Value: 1}, {Key: "unit_id", Value: 1}, {Key: "variant", Value: 1}}, false},
	// Exposure counts per variant and day (covered aggregation).
	{"exposures", "experiment_variant_day", bson.D{{Key: "experiment", Value: 1}, {Key: "variant", Value: 1}, {Key: "day", Value: 1}}, false},
	// Idempotency: an event id is stored once per unit, as in SQLite.
	{"events", "unit_event", bson.D{{Key: "unit_id", Value: 1}, {Key: "event_id", Value: 1}}, true},
	// A unit's events in storage order, for backfill, refold and rebuild.
	{"events", "unit_seq", bson.D{{Key: "unit_id", Value: 1}, {Key: "seq", Value: 1}}, false},
	{"unit_metrics", "unit_experiment_metric", bson.D{{Key: "unit_id", Value: 1}, {Key: "experiment", Value: 1}, {Key: "metric", Value: 1}}, true},
	// Report aggregations and the percentile cap's ordered look-up.
	{"unit_metrics", "experiment_metric_y", bson.D{{Key: "experiment", Value: 1}, {Key: "metric", Value: 1}, {Key: "y", Value: 1}}, false},
	// Rebuild chunks (experiment, unit range).
	{"unit_metrics", "experiment_unit", bson.D{{Key: "experiment", Value: 1}, {Key: "unit_id", Value: 1}}, false},
	// The unknown event names, most frequent first (list and prune).
	{unknownEventsColl, "count_name", unknownEventsOrder, false},
	// The journey map's aggregates (journey.go): one document per key.
	{collJourneyBits, "event", bson.D{{Key: "event", Value: 1}}, true},
	{collJourneyUnits, "first_day", bson.D{{Key: "first_day", Value: 1}}, false},
	{collJourneyDaily, "day_event", bson.D{{Key: "day", Value: 1}, {Key: "event", Value: 1}}, true},
	{collJourneyCohorts, "first_day_stages", bson.D{{Key: "first_day", Value: 1}, {Key: "stages", Value: 1}}, true},
}

// collectionNames are created explicitly so that transactions never have
// to create one (which a cross-shard transaction may not do).
var collectionNames = []string{"experiments", "audit", "metrics", "layers", "api_keys", "counters", "exposures", "events", "unit_metrics", "units", "personas", "erasures", unknownEventsColl,
	collJourneyBits, collJourneyUnits, collJourneyDaily, collJourneyCohorts}

// Counter documents in the counters collection.
const (
	// configCounter holds v, the config version, and audit, the last audit id.
	configCounter = "config"
	// seqCounter holds v, the last event sequence number handed out.
	seqCounter = "event_seq"
)

// codeNamespaceExists is the server's answer to creating an existing collection.
const codeNamespaceExists = 48

// ensureSchema creates collections, indexes and counters; every step is
// idempotent, so concurrent instances may run it at once.
func (s *Store) ensureSchema(ctx context.Context) error {
	for _, name := range collectionNames {
		err := s.db.CreateCollection(ctx, name)
		var ce drv.CommandError
		if err != nil && !(errors.As(err, &ce) && ce.Code == codeNamespaceExists) {
			return wrap("create collection "+name, err)
		}
	}
	byColl := map[string][]drv.IndexModel{}
	var order []string
	for _, ix := range indexes {
		if byColl[ix.coll] == nil {
			order = append(order, ix.coll)
		}
		o := options.Index().SetName(ix.name)
		if ix.unique {
			o.SetUnique(true)
		}
		byColl[ix.coll] = append(byColl[ix.coll], drv.IndexModel{Keys: ix.keys, Options: o})
	}
	for _, coll := range order {
		if _, err := s.db.Collection(coll).Indexes().CreateMany(ctx, byColl[coll]); err != nil {
			return wrap(fmt.Sprintf("create indexes of %s", coll), err)
		}
	}
	for _, c := range []struct {
		id   string
		init bson.D
	}{
		{configCounter, bson.D{{Key: "v", Value: int64(0)}, {Key: "audit", Value: int64(0)}}},
		{seqCounter, bson.D{{Key: "v", Value: int64(0)}}},
	} {
		_, err := s.c.counters.UpdateOne(ctx, bson.D{eq("_id", c.id)}, bson.D{{Key: "$setOnInsert", Value: c.init}}, options.Update().SetUpsert(true))
		if err != nil && !drv.IsDuplicateKeyError(err) {
			return wrap("create counter "+c.id, err)
		}
	}
	return s.ensureHealthSchema(ctx)
}
