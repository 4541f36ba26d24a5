package mongo

import (
	"fmt"
	"sync"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/mongo/options"

	"journeylab/events"
	"journeylab/experiment"
)

// outcomes is the Store's in-memory state for outcome recording.
type outcomes struct {
	// mu guards cfg.
	mu  sync.Mutex
	cfg *events.Attribution
}

// attribution returns the rules for the config version in the
// transaction's snapshot, reloading them when the version changed.
func (s *Store) attribution(sc drv.SessionContext) (*events.Attribution, error) {
	var c configCounterDoc
	if err := s.c.counters.FindOne(sc, bson.D{eq("_id", configCounter)}).Decode(&c); err != nil {
		return nil, fmt.Errorf("read config version: %w", err)
	}
	s.out.mu.Lock()
	cur := s.out.cfg
	s.out.mu.Unlock()
	if cur != nil && cur.Version == c.V {
		return cur, nil
	}
	exps, err := s.ListExperiments(sc, experiment.Filter{})
	if err != nil {
		return nil, fmt.Errorf("load experiments for attribution: %w", err)
	}
	ms, err := s.ListMetrics(sc)
	if err != nil {
		return nil, fmt.Errorf("load metrics for attribution: %w", err)
	}
	layers, err := s.ListLayers(sc)
	if err != nil {
		return nil, fmt.Errorf("load layers for attribution: %w", err)
	}
	a := events.CompileAttribution(c.V, exps, layers, ms)
	s.out.mu.Lock()
	s.out.cfg = a
	s.out.mu.Unlock()
	return a, nil
}

type rollupKey struct{ exp, unit, metric string }

// seqPoint is a stored event with its storage position.
type seqPoint struct {
	seq int64
	events.Point
}

// pendingRollup is one unit's rollup being changed in the current transaction.
type pendingRollup struct {
	rule    *events.Rule
	variant string
	day     int64
	attrs   []attr
	// exists says a document is stored; old and oldSeq are its state.
	exists   bool
	old, cur events.Rollup
	// oldSeq and seq are the storage position of the last event that
	// changed the rollup. Rollups are folds in storage order, so that the
	// incremental path and Rebuild agree to the last bit; an event that
	// arrives behind one already folded in (two instances committing out of
	// order) makes the unit refold from its stored events.
	oldSeq, seq int64
}

// fold adds p to the rollup. It returns false when p would change the
// rollup but sits before an event already folded in: the caller must
// refold the unit.
func (p *pendingRollup) fold(exposedAt int64, pt seqPoint) bool {
	before := p.cur
	if !p.rule.Fold(&p.cur, exposedAt, pt.Point) {
		return true
	}
	if pt.seq < p.seq {
		p.cur = before
		return false
	}
	p.seq = pt.seq
	return true
}

// reset starts the rollup from zero (before a refold).
func (p *pendingRollup) reset() {
	p.cur, p.seq = events.Rollup{}, 0
}

// rollupBatch collects the rollup changes of one transaction.
type rollupBatch struct {
	rows  map[rollupKey]*pendingRollup
	order []rollupKey
}

func newRollupBatch() *rollupBatch {
	return &rollupBatch{rows: map[rollupKey]*pendingRollup{}}
}

// add registers a rollup whose stored state is p.old.
func (b *rollupBatch) add(k rollupKey, p *pendingRollup) {
	b.rows[k] = p
	b.order = append(b.order, k)
}

// refold recomputes every pending rollup of (exp, unit) from the unit's
// events, which must be in storage order.
func (b *rollupBatch) refold(er *events.ExperimentRules, unit string, exposedAt int64, evs []seqPoint) {
	var ps []*pendingRollup
	for i := range er.Rules {
		if p := b.rows[rollupKey{er.Key, unit, er.Rules[i].Metric.Key}]; p != nil {
			p.reset()
			ps = append(ps, p)
		}
	}
	for _, e := range evs {
		for _, p := range ps {
			p.fold(exposedAt, e)
		}
	}
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

// newRollupDoc maps a pending rollup to its document.
func newRollupDoc(k rollupKey, p *pendingRollup) rollupDoc {
	u := p.cur
	d := rollupDoc{
		Unit: k.unit, Experiment: k.exp, Metric: k.metric, Variant: p.variant, Day: p.day,
		Count: u.Count, Sum: u.Sum, DenCount: u.DenCount, DenSum: u.DenSum, PreCount: u.PreCount, PreSum: u.PreSum,
		LastTS: u.Last.TS, LastID: u.Last.ID, LastValue: u.Last.Value,
		PreLastTS: u.PreLast.TS, PreLastID: u.PreLast.ID, PreLastValue: u.PreLast.Value,
		Seq: p.seq, Attrs: p.attrs,
	}
	if y, x, pre, counts := p.rule.Values(u); counts {
		d.Y, d.X, d.Pre = y, x, pre
		if p.rule.Metric.Kind == experiment.KindNPS {
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

// stored returns the pending state of a stored rollup document.
func (d *rollupDoc) stored(rule *events.Rule, variant string, day int64, attrs []attr) *pendingRollup {
	u := d.rollup()
	return &pendingRollup{rule: rule, variant: variant, day: day, attrs: attrs, exists: true, old: u, cur: u, oldSeq: d.Seq, seq: d.Seq}
}

// flush writes every changed rollup in one unordered bulk write: a
// replacement (upsert) for a changed rollup, a delete for one that folded
// back to nothing.
func (b *rollupBatch) flush(sc drv.SessionContext, c *drv.Collection) error {
	var models []drv.WriteModel
	for _, k := range b.order {
		p := b.rows[k]
		if p.cur == p.old && p.seq == p.oldSeq {
			continue
		}
		f := rollupKeyFilter(k.unit, k.exp, k.metric)
		if p.cur.IsZero() {
			if p.exists {
				models = append(models, drv.NewDeleteOneModel().SetFilter(f))
			}
			continue
		}
		models = append(models, drv.NewReplaceOneModel().SetFilter(f).SetReplacement(newRollupDoc(k, p)).SetUpsert(true))
	}
	if len(models) == 0 {
		return nil
	}
	if _, err := c.BulkWrite(sc, models, options.BulkWrite().SetOrdered(false)); err != nil {
		return fmt.Errorf("write rollups: %w", err)
	}
	return nil
}
