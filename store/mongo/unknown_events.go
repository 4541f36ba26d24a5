package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/eventnames"
)

// unknownEventsColl holds one document per unknown event name:
// {_id: name, count, first_seen, last_seen}.
const unknownEventsColl = "unknown_events"

// unknownEventsOrder is most frequent first, then by name; the index
// count_name serves it.
var unknownEventsOrder = bson.D{{Key: "count", Value: -1}, {Key: "_id", Value: 1}}

// unknownEventDoc is a stored unknown event name.
type unknownEventDoc struct {
	Name      string    `bson:"_id"`
	Count     int64     `bson:"count"`
	FirstSeen time.Time `bson:"first_seen"`
	LastSeen  time.Time `bson:"last_seen"`
}

// unknownEventUpdate adds one name's counts: an upsert that increments the
// count and widens the seen times, so instances add up.
func unknownEventUpdate(x eventnames.Seen) (filter, update bson.D) {
	return bson.D{eq("_id", x.Name)}, bson.D{
		{Key: "$inc", Value: bson.D{{Key: "count", Value: x.Count}}},
		{Key: "$min", Value: bson.D{{Key: "first_seen", Value: x.FirstSeen.UTC()}}},
		{Key: "$max", Value: bson.D{{Key: "last_seen", Value: x.LastSeen.UTC()}}},
	}
}

// unknownEventsBeyond finds the names past the limit kept, to delete them.
func unknownEventsBeyond() *options.FindOptions {
	return options.Find().SetSort(unknownEventsOrder).SetSkip(int64(eventnames.MaxNames)).
		SetProjection(bson.D{{Key: "_id", Value: 1}}).SetHint("count_name")
}

// unknownEventsList reads at most limit names, most frequent first.
func unknownEventsList(limit int) *options.FindOptions {
	return options.Find().SetSort(unknownEventsOrder).SetLimit(int64(limit)).SetHint("count_name")
}

// AddUnknownEvents implements eventnames.Store: one unordered bulk of
// upserts, then the names past eventnames.MaxNames are deleted. Not a
// transaction: the counts are advisory, and a concurrent instance's
// prune can only drop a name that is rare.
func (s *Store) AddUnknownEvents(ctx context.Context, seen []eventnames.Seen) error {
	if len(seen) == 0 {
		return nil
	}
	coll := s.db.Collection(unknownEventsColl)
	models := make([]drv.WriteModel, len(seen))
	for i, x := range seen {
		f, u := unknownEventUpdate(x)
		models[i] = drv.NewUpdateOneModel().SetFilter(f).SetUpdate(u).SetUpsert(true)
	}
	if _, err := coll.BulkWrite(ctx, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return wrap("add unknown event names", err)
	}
	var beyond []unknownEventDoc
	if err := s.findAll(ctx, coll, bson.D{}, unknownEventsBeyond(), &beyond); err != nil {
		return wrap("find rare unknown event names", err)
	}
	if len(beyond) == 0 {
		return nil
	}
	names := make([]string, len(beyond))
	for i, d := range beyond {
		names[i] = d.Name
	}
	if _, err := coll.DeleteMany(ctx, bson.D{in("_id", names)}); err != nil {
		return wrap("delete rare unknown event names", err)
	}
	return nil
}

// UnknownEvents implements eventnames.Store.
func (s *Store) UnknownEvents(ctx context.Context, limit int) ([]eventnames.Seen, error) {
	var docs []unknownEventDoc
	if err := s.findAll(ctx, s.db.Collection(unknownEventsColl), bson.D{}, unknownEventsList(limit), &docs); err != nil {
		return nil, wrap("list unknown event names", err)
	}
	out := make([]eventnames.Seen, len(docs))
	for i, d := range docs {
		out[i] = eventnames.Seen{Name: d.Name, Count: d.Count, FirstSeen: d.FirstSeen.UTC(), LastSeen: d.LastSeen.UTC()}
	}
	return out, nil
}
