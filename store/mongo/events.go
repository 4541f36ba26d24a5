package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/journey"
	engine "github.com/journeylab/journeylab/outcomes"
)

// eventDoc is an events document; times are Unix nanoseconds.
type eventDoc struct {
	Unit     string      `bson:"unit_id"`
	EventID  string      `bson:"event_id"`
	Seq      int64       `bson:"seq"`
	Event    string      `bson:"event"`
	Value    float64     `bson:"value"`
	TS       int64       `bson:"ts"`
	Received int64       `bson:"received"`
	Attrs    []eventAttr `bson:"attrs,omitempty"`
}

// AppendEvents implements events.Store: it stores evs (an event id already
// stored for the unit, or repeated earlier in evs, is a duplicate) and
// attributes the new ones to the experiments their unit was exposed to, in
// one majority-committed transaction.
func (s *Store) AppendEvents(ctx context.Context, received time.Time, evs []events.Event) ([]bool, error) {
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	// The first occurrence of an id in the batch is the one stored.
	var first []int
	seen := make(map[[2]string]bool, len(evs))
	for i := range evs {
		k := [2]string{evs[i].UnitID, evs[i].EventID}
		if !seen[k] {
			seen[k] = true
			first = append(first, i)
		}
	}
	stored := make([]bool, len(evs))
	if len(first) == 0 {
		return stored, nil
	}
	// Storage positions are reserved outside the transaction: concurrent
	// batches would otherwise all conflict on the counter.
	base, err := s.reserveSeq(ctx, len(first))
	if err != nil {
		return nil, err
	}
	recv := received.UnixNano()
	models := make([]drv.WriteModel, len(first))
	docs := make([]eventDoc, len(first))
	for j, i := range first {
		ev := &evs[i]
		recv := recv
		if !ev.Received.IsZero() {
			recv = ev.Received.UnixNano()
		}
		docs[j] = eventDoc{Unit: ev.UnitID, EventID: ev.EventID, Seq: base + int64(j), Event: ev.Event, Value: *ev.Value,
			TS: ev.TS.UnixNano(), Received: recv, Attrs: toEventAttrs(ev.Attributes)}
		set := bson.D{{Key: "seq", Value: docs[j].Seq}, {Key: "event", Value: docs[j].Event}, {Key: "value", Value: docs[j].Value},
			{Key: "ts", Value: docs[j].TS}, {Key: "received", Value: recv}}
		if docs[j].Attrs != nil {
			set = append(set, bson.E{Key: "attrs", Value: docs[j].Attrs})
		}
		// An upsert, not an insert: a duplicate key would abort the
		// transaction, while a matched $setOnInsert changes nothing.
		models[j] = drv.NewUpdateOneModel().SetFilter(eventKey(ev.UnitID, ev.EventID)).
			SetUpdate(bson.D{{Key: "$setOnInsert", Value: set}}).SetUpsert(true)
	}
	err = s.inTx(ctx, "append events", func(sc drv.SessionContext) error {
		clear(stored)
		cfg, err := s.attribution(sc)
		if err != nil {
			return err
		}
		res, err := s.c.events.BulkWrite(sc, models, options.BulkWrite().SetOrdered(false))
		if err != nil {
			return fmt.Errorf("insert events: %w", err)
		}
		var pts []engine.Event
		var jevs []journey.Event
		var units []string
		seenUnit := map[string]bool{}
		for j, i := range first {
			if _, ok := res.UpsertedIDs[int64(j)]; !ok {
				continue
			}
			stored[i] = true
			d := &docs[j]
			jevs = append(jevs, journey.Event{Unit: d.Unit, Name: d.Event, TS: d.TS, Value: d.Value})
			if !seenUnit[d.Unit] {
				seenUnit[d.Unit] = true
				units = append(units, d.Unit)
			}
			if len(cfg.ByEvent[d.Event]) > 0 {
				pts = append(pts, engine.Event{Unit: d.Unit, Seq: d.Seq, Point: events.Point{ID: d.EventID, Event: d.Event, TS: d.TS, Value: d.Value}})
			}
		}
		if err := s.touchUnits(sc, units); err != nil {
			return err
		}
		if err := journey.Record(sc, journeyTx{s, sc}, jevs, cfg.Stages); err != nil {
			return err
		}
		cs, err := engine.Attribute(sc, engineTx{s, sc}, cfg, pts)
		if err != nil {
			return err
		}
		return writeChanges(sc, s.c.unitMetrics, cs)
	})
	if err != nil {
		return nil, err
	}
	return stored, nil
}

// reserveSeq hands out n consecutive storage positions and returns the first.
func (s *Store) reserveSeq(ctx context.Context, n int) (int64, error) {
	var c struct {
		V int64 `bson:"v"`
	}
	err := s.c.counters.FindOneAndUpdate(ctx, bson.D{eq("_id", seqCounter)}, bson.D{{Key: "$inc", Value: bson.D{{Key: "v", Value: int64(n)}}}},
		options.FindOneAndUpdate().SetUpsert(true).SetReturnDocument(options.After)).Decode(&c)
	if err != nil {
		return 0, wrap("reserve event sequence", err)
	}
	return c.V - int64(n) + 1, nil
}

// touchUnits writes the units' documents in the caller's transaction. An
// event batch and an exposure batch of the same unit both do, so they
// conflict and one of them retries: otherwise each could miss the other
// (the events not yet visible to the exposure's backfill, the exposure not
// yet visible to the events' attribution).
func (s *Store) touchUnits(sc drv.SessionContext, units []string) error {
	if len(units) == 0 {
		return nil
	}
	models := make([]drv.WriteModel, len(units))
	for i, u := range units {
		models[i] = drv.NewUpdateOneModel().SetFilter(bson.D{eq("_id", u)}).
			SetUpdate(bson.D{{Key: "$inc", Value: bson.D{{Key: "v", Value: int64(1)}}}}).SetUpsert(true)
	}
	if _, err := s.c.units.BulkWrite(sc, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("touch units: %w", err)
	}
	return nil
}

// exposureDoc is an exposures document; at is Unix nanoseconds, day its UTC day.
type exposureDoc struct {
	Unit       string `bson:"unit_id"`
	Experiment string `bson:"experiment"`
	Variant    string `bson:"variant"`
	At         int64  `bson:"at"`
	Day        int64  `bson:"day"`
	Attrs      []attr `bson:"attrs,omitempty"`
}

// rollupsOf reads the stored rollups matching filter.
func (s *Store) rollupsOf(ctx context.Context, filter bson.D) (map[engine.Key]engine.Stored, error) {
	var docs []rollupDoc
	if err := s.findAll(ctx, s.c.unitMetrics, filter, nil, &docs); err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	out := make(map[engine.Key]engine.Stored, len(docs))
	for i := range docs {
		d := &docs[i]
		out[engine.Key{Experiment: d.Experiment, Unit: d.Unit, Metric: d.Metric}] = engine.Stored{Rollup: d.rollup(), Seq: d.Seq}
	}
	return out, nil
}

// eventsOf reads the stored events of units, each unit's in storage order.
func (s *Store) eventsOf(ctx context.Context, units []string) (map[string][]engine.Event, error) {
	return s.findEvents(ctx, bson.D{in("unit_id", units)}, options.Find().
		SetSort(bson.D{{Key: "unit_id", Value: 1}, {Key: "seq", Value: 1}}).
		SetProjection(bson.D{{Key: "unit_id", Value: 1}, {Key: "event_id", Value: 1}, {Key: "seq", Value: 1}, {Key: "event", Value: 1}, {Key: "value", Value: 1}, {Key: "ts", Value: 1}}))
}

// findEvents runs a find on events and groups the events by unit in the
// order the find returns them.
func (s *Store) findEvents(ctx context.Context, filter bson.D, o *options.FindOptions) (map[string][]engine.Event, error) {
	cur, err := s.c.events.Find(ctx, filter, o)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer cur.Close(ctx)
	out := map[string][]engine.Event{}
	for cur.Next(ctx) {
		var d eventDoc
		if err := cur.Decode(&d); err != nil {
			return nil, fmt.Errorf("decode event: %w", err)
		}
		out[d.Unit] = append(out[d.Unit], engine.Event{Unit: d.Unit, Seq: d.Seq, Point: events.Point{ID: d.EventID, Event: d.Event, TS: d.TS, Value: d.Value}})
	}
	if err := cur.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// StoredEvents reports, for each key, whether an event with that unit and
// event id is stored. One query on the unique (unit_id, event_id) index:
// both fields as $in lists, the exact pairs picked out here.
func (s *Store) StoredEvents(ctx context.Context, keys []events.Key) ([]bool, error) {
	out := make([]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	ctx, cancel := s.bound(ctx, s.opts.OperationTimeout)
	defer cancel()
	var units, ids []string
	seenU, seenI := map[string]bool{}, map[string]bool{}
	at := make(map[events.Key][]int, len(keys))
	for i, k := range keys {
		at[k] = append(at[k], i)
		if !seenU[k.Unit] {
			seenU[k.Unit] = true
			units = append(units, k.Unit)
		}
		if !seenI[k.ID] {
			seenI[k.ID] = true
			ids = append(ids, k.ID)
		}
	}
	var docs []eventDoc
	err := s.findAll(ctx, s.c.events, storedEventsFilter(units, ids),
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 0}, {Key: "unit_id", Value: 1}, {Key: "event_id", Value: 1}}), &docs)
	if err != nil {
		return nil, wrap("look up stored events", err)
	}
	for _, d := range docs {
		for _, i := range at[events.Key{Unit: d.Unit, ID: d.EventID}] {
			out[i] = true
		}
	}
	return out, nil
}

// storedEventsFilter selects the events whose unit and id are both listed.
func storedEventsFilter(units, ids []string) bson.D {
	return bson.D{in("unit_id", units), in("event_id", ids)}
}
