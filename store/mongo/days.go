package mongo

import (
	"context"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	engine "github.com/journeylab/journeylab/outcomes"
)

// The MongoDB store feeds the days-since-exposure view.
var _ engine.DayStore = (*Store)(nil)

// exposuresAfterQuery is the find of ExposuresAfter: the rebuild's chunk
// read, on the experiment_unit index.
func exposuresAfterQuery(exp, after string, limit int) (bson.D, *options.FindOptions) {
	return bson.D{eq("experiment", exp), {Key: "unit_id", Value: bson.D{{Key: "$gt", Value: after}}}},
		options.Find().SetSort(bson.D{{Key: "unit_id", Value: 1}}).SetLimit(int64(limit)).SetHint("experiment_unit").
			SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "unit_id", Value: 1}, {Key: "variant", Value: 1}, {Key: "at", Value: 1}})
}

// eventsNamedQuery is the find of EventsNamed: the units' events on the
// unit_seq index, narrowed to the names the metrics read.
func eventsNamedQuery(units, names []string) (bson.D, *options.FindOptions) {
	return bson.D{in("unit_id", units), in("event", names)},
		options.Find().SetSort(bson.D{{Key: "unit_id", Value: 1}, {Key: "seq", Value: 1}}).SetHint("unit_seq").
			SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "unit_id", Value: 1}, {Key: "event_id", Value: 1}, {Key: "seq", Value: 1}, {Key: "event", Value: 1}, {Key: "value", Value: 1}, {Key: "ts", Value: 1}})
}

// ExposuresAfter implements outcomes.DayStore.
func (s *Store) ExposuresAfter(ctx context.Context, exp, after string, limit int) ([]*engine.Exposure, error) {
	ctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	defer cancel()
	filter, o := exposuresAfterQuery(exp, after, limit)
	var docs []exposureDoc
	if err := s.findAll(ctx, s.c.exposures, filter, o, &docs); err != nil {
		return nil, wrap("list exposures of "+exp, err)
	}
	out := make([]*engine.Exposure, len(docs))
	for i, d := range docs {
		out[i] = &engine.Exposure{Unit: d.Unit, Experiment: exp, Variant: d.Variant, At: d.At}
	}
	return out, nil
}

// EventsNamed implements outcomes.DayStore.
func (s *Store) EventsNamed(ctx context.Context, units, names []string) (map[string][]engine.Event, error) {
	if len(units) == 0 || len(names) == 0 {
		return map[string][]engine.Event{}, nil
	}
	ctx, cancel := s.bound(ctx, s.opts.ScanTimeout)
	defer cancel()
	filter, o := eventsNamedQuery(units, names)
	return s.findEvents(ctx, filter, o)
}
