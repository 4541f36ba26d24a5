package mongo

import (
	"context"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"
)

// expireChunk is how many units one retention step covers.
const expireChunk = 1000

// ExpireEvents implements privacy.ExpiringStore. It walks the units
// collection (one document per unit with events or exposures) in _id
// order; per chunk it reads which units have an exposure to an experiment
// in keep (index unit_experiment) and deletes the others' events before
// `before` (index unit_event narrows to the units; ts is filtered among
// their events). No transaction: a unit exposed meanwhile loses at most
// events older than the retention.
func (s *Store) ExpireEvents(ctx context.Context, before time.Time, keep []string) (int64, error) {
	var total int64
	after := ""
	for {
		n, last, err := s.expireChunk(ctx, before, keep, after)
		total += n
		if err != nil || last == "" {
			return total, err
		}
		after = last
	}
}

// expireChunk expires the events of the next units after `after`; last is
// the chunk's last unit, empty when there are no more.
func (s *Store) expireChunk(ctx context.Context, before time.Time, keep []string, after string) (n int64, last string, err error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var docs []struct {
		ID string `bson:"_id"`
	}
	o := options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}).SetLimit(expireChunk).SetProjection(bson.D{{Key: "_id", Value: 1}})
	if err := s.findAll(ctx, s.c.units, bson.D{{Key: "_id", Value: bson.D{{Key: "$gt", Value: after}}}}, o, &docs); err != nil {
		return 0, "", wrap("list units", err)
	}
	if len(docs) == 0 {
		return 0, "", nil
	}
	units := make([]string, len(docs))
	for i, d := range docs {
		units[i] = d.ID
	}
	var kept []struct {
		Unit string `bson:"unit_id"`
	}
	if err := s.findAll(ctx, s.c.exposures, bson.D{in("unit_id", units), in("experiment", keep)},
		options.Find().SetProjection(bson.D{{Key: "unit_id", Value: 1}}), &kept); err != nil {
		return 0, "", wrap("read exposures to kept experiments", err)
	}
	skip := make(map[string]bool, len(kept))
	for _, k := range kept {
		skip[k.Unit] = true
	}
	expire := units[:0:0]
	for _, u := range units {
		if !skip[u] {
			expire = append(expire, u)
		}
	}
	if len(expire) > 0 {
		res, err := s.c.events.DeleteMany(ctx, bson.D{in("unit_id", expire), {Key: "ts", Value: bson.D{{Key: "$lt", Value: before.UnixNano()}}}})
		if err != nil {
			return 0, "", wrap("expire events", err)
		}
		n = res.DeletedCount
	}
	return n, units[len(units)-1], nil
}
