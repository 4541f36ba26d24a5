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

// outcomes is the Store's in-memory state for outcome recording.
type outcomes struct {
	// rules caches the compiled attribution rules per config version.
	rules engine.Rules
}

// attribution returns the rules for the config version in the
// transaction's snapshot, reloading them when the version changed.
func (s *Store) attribution(sc drv.SessionContext) (*events.Attribution, error) {
	var c configCounterDoc
	if err := s.c.counters.FindOne(sc, bson.D{eq("_id", configCounter)}).Decode(&c); err != nil {
		return nil, fmt.Errorf("read config version: %w", err)
	}
	return s.out.rules.For(sc, c.V, s)
}

// engineTx is the outcomes engine's I/O inside one transaction.
type engineTx struct {
	s  *Store
	sc drv.SessionContext
}

// ExposuresOf implements engine.Store; Attrs are the exposure's []attr.
func (e engineTx) ExposuresOf(_ context.Context, units []string) (map[string][]*engine.Exposure, error) {
	var xs []exposureDoc
	if err := e.s.findAll(e.sc, e.s.c.exposures, bson.D{in("unit_id", units)}, nil, &xs); err != nil {
		return nil, fmt.Errorf("look up exposures: %w", err)
	}
	out := map[string][]*engine.Exposure{}
	for i := range xs {
		x := &xs[i]
		out[x.Unit] = append(out[x.Unit], &engine.Exposure{Unit: x.Unit, Experiment: x.Experiment, Variant: x.Variant, At: x.At, Attrs: x.Attrs})
	}
	return out, nil
}

// RollupsOf implements engine.Store.
func (e engineTx) RollupsOf(_ context.Context, exp string, units []string) (map[engine.Key]engine.Stored, error) {
	return e.s.rollupsOf(e.sc, bson.D{in("unit_id", units), eq("experiment", exp)})
}

// EventsOf implements engine.Store.
func (e engineTx) EventsOf(_ context.Context, units []string) (map[string][]engine.Event, error) {
	return e.s.eventsOf(e.sc, units)
}

// rollupDoc is a unit_metrics document: the events.Rollup fields, the
// storage position of the last event folded in, the unit's exposure
// attributes (for segment breakdowns), and the unit's uncapped per-unit
// values y, x (denominator) and pre with n (1 for an NPS respondent), from
// which the report's aggregation sums sufficient statistics server-side.
type rollupDoc struct {
	Unit         string  `bson:"unit_id"`
	Experiment   string  `bson:"experiment"`
	Metric       string  `bson:"metric"`
	Variant      string  `bson:"variant"`
	Day          int64   `bson:"day"`
	Count        int64   `bson:"count"`
	Sum          float64 `bson:"sum"`
	DenCount     int64   `bson:"den_count"`
	DenSum       float64 `bson:"den_sum"`
	PreCount     int64   `bson:"pre_count"`
	PreSum       float64 `bson:"pre_sum"`
	LastTS       int64   `bson:"last_ts"`
	LastID       string  `bson:"last_id"`
	LastValue    float64 `bson:"last_value"`
	PreLastTS    int64   `bson:"pre_last_ts"`
	PreLastID    string  `bson:"pre_last_id"`
	PreLastValue float64 `bson:"pre_last_value"`
	Seq          int64   `bson:"seq"`
	Attrs        []attr  `bson:"attrs,omitempty"`
	Y            float64 `bson:"y"`
	X            float64 `bson:"x"`
	Pre          float64 `bson:"pre"`
	N            int64   `bson:"n"`
}

// newRollupDoc maps a change to the document it leaves.
func newRollupDoc(c *engine.Change) rollupDoc {
	u := c.New
	attrs, _ := c.Exposure.Attrs.([]attr)
	d := rollupDoc{
		Unit: c.Unit, Experiment: c.Experiment, Metric: c.Metric, Variant: c.Exposure.Variant, Day: c.Exposure.Day(),
		Count: u.Count, Sum: u.Sum, DenCount: u.DenCount, DenSum: u.DenSum, PreCount: u.PreCount, PreSum: u.PreSum,
		LastTS: u.Last.TS, LastID: u.Last.ID, LastValue: u.Last.Value,
		PreLastTS: u.PreLast.TS, PreLastID: u.PreLast.ID, PreLastValue: u.PreLast.Value,
		Seq: c.Seq, Attrs: attrs,
	}
	if y, x, pre, counts := c.Rule.Values(u); counts {
		d.Y, d.X, d.Pre = y, x, pre
		if c.Rule.Metric.Kind == experiment.KindNPS {
			d.N = 1
		}
	}
	return d
}

// rollup returns the events.Rollup the document stores.
func (d *rollupDoc) rollup() events.Rollup {
	return events.Rollup{
		Count: d.Count, Sum: d.Sum, DenCount: d.DenCount, DenSum: d.DenSum, PreCount: d.PreCount, PreSum: d.PreSum,
		Last:    events.Score{TS: d.LastTS, ID: d.LastID, Value: d.LastValue},
		PreLast: events.Score{TS: d.PreLastTS, ID: d.PreLastID, Value: d.PreLastValue},
	}
}

// writeChanges writes every changed rollup in one unordered bulk write: a
// replacement (upsert) for a changed rollup, a delete for one that folded
// back to nothing.
func writeChanges(sc drv.SessionContext, c *drv.Collection, cs []*engine.Change) error {
	var models []drv.WriteModel
	for _, ch := range cs {
		if !ch.Changed() {
			continue
		}
		f := rollupKeyFilter(ch.Unit, ch.Experiment, ch.Metric)
		if ch.New.IsZero() {
			if ch.Exists {
				models = append(models, drv.NewDeleteOneModel().SetFilter(f))
			}
			continue
		}
		models = append(models, drv.NewReplaceOneModel().SetFilter(f).SetReplacement(newRollupDoc(ch)).SetUpsert(true))
	}
	if len(models) == 0 {
		return nil
	}
	if _, err := c.BulkWrite(sc, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("write rollups: %w", err)
	}
	return nil
}
