package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"journeylab/events"
)

// groupCommit lets concurrent AppendEvents calls share one transaction and
// so one fsync: the caller that gets the leader lock commits everything
// queued so far, and the others find their results ready when they get it.
type groupCommit struct {
	mu     sync.Mutex // guards queue
	queue  []*appendReq
	leader sync.Mutex
}

type appendReq struct {
	received time.Time
	evs      []events.Event
	stored   []bool
	// err and done are written by the leader before it releases the leader lock.
	err  error
	done bool
}

// AppendEvents implements events.Store: it stores evs (duplicates of stored
// event ids are skipped) and attributes the new ones to the experiments
// their unit was exposed to, in one transaction that is committed with
// synchronous=FULL before it returns.
func (s *Store) AppendEvents(ctx context.Context, received time.Time, evs []events.Event) ([]bool, error) {
	req := &appendReq{received: received, evs: evs}
	g := &s.out.commit
	g.mu.Lock()
	g.queue = append(g.queue, req)
	g.mu.Unlock()

	g.leader.Lock()
	defer g.leader.Unlock()
	if req.done {
		return req.stored, req.err
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	// The commit serves every queued caller, so one caller giving up must not abort it.
	err := s.appendBatch(context.WithoutCancel(ctx), batch)
	for _, r := range batch {
		r.done = true
		if err != nil {
			r.stored, r.err = nil, err
		}
	}
	return req.stored, req.err
}

// unitPoint is a newly stored event of unit that some experiment's metric reads.
type unitPoint struct {
	unit string
	events.Point
}

func (s *Store) appendBatch(ctx context.Context, reqs []*appendReq) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		cfg, err := s.attribution(ctx, tx)
		if err != nil {
			return err
		}
		ins, err := tx.PrepareContext(ctx, `INSERT INTO events (event_id, unit_id, event, value, ts, received, attributes)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("prepare event insert: %w", err)
		}
		defer ins.Close()
		var pts []unitPoint
		for _, r := range reqs {
			r.stored = make([]bool, len(r.evs))
			recv := r.received.UnixNano()
			for i := range r.evs {
				ev := &r.evs[i]
				var attrs any
				if len(ev.Attributes) > 0 {
					b, err := json.Marshal(ev.Attributes)
					if err != nil {
						return fmt.Errorf("encode attributes of event %q: %w", ev.EventID, err)
					}
					attrs = string(b)
				}
				ts := ev.TS.UnixNano()
				res, err := ins.ExecContext(ctx, ev.EventID, ev.UnitID, ev.Event, *ev.Value, ts, recv, attrs)
				if err != nil {
					return fmt.Errorf("insert event %q: %w", ev.EventID, err)
				}
				n, err := res.RowsAffected()
				if err != nil {
					return fmt.Errorf("insert event %q: %w", ev.EventID, err)
				}
				r.stored[i] = n == 1
				if n == 1 && len(cfg.byEvent[ev.Event]) > 0 {
					pts = append(pts, unitPoint{unit: ev.UnitID, Point: events.Point{ID: ev.EventID, Event: ev.Event, TS: ts, Value: *ev.Value}})
				}
			}
		}
		return attributeEvents(ctx, tx, cfg, pts)
	})
}

type exposureRow struct {
	experiment, variant string
	at                  int64
}

// attributeEvents folds new events, in storage order, into the rollups of
// every experiment their unit is exposed to. Events of units that are not
// exposed (yet) stay raw; InsertExposures attributes them later.
func attributeEvents(ctx context.Context, tx *sql.Tx, cfg *attribution, pts []unitPoint) error {
	if len(pts) == 0 {
		return nil
	}
	xq, err := tx.PrepareContext(ctx, `SELECT experiment, variant, at FROM exposures WHERE unit_id = ?`)
	if err != nil {
		return fmt.Errorf("prepare exposure lookup: %w", err)
	}
	defer xq.Close()
	rq, err := tx.PrepareContext(ctx, selectUnitRollups)
	if err != nil {
		return fmt.Errorf("prepare rollup lookup: %w", err)
	}
	defer rq.Close()
	exposed := map[string][]exposureRow{}
	b := newRollupBatch()
	for _, p := range pts {
		xs, ok := exposed[p.unit]
		if !ok {
			if xs, err = unitExposures(ctx, xq, p.unit); err != nil {
				return err
			}
			exposed[p.unit] = xs
		}
		for _, t := range cfg.byEvent[p.Event] {
			for _, x := range xs {
				if x.experiment != t.exp.key {
					continue
				}
				if err := b.load(ctx, rq, t.exp, p.unit, x.variant, dayOf(x.at)); err != nil {
					return err
				}
				pr := b.rows[rollupKey{t.exp.key, p.unit, t.exp.rules[t.rule].Metric.Key}]
				pr.rule.Fold(&pr.cur, x.at, p.Point)
			}
		}
	}
	return b.flush(ctx, tx)
}

func unitExposures(ctx context.Context, st *sql.Stmt, unit string) ([]exposureRow, error) {
	rows, err := st.QueryContext(ctx, unit)
	if err != nil {
		return nil, fmt.Errorf("look up exposures of %q: %w", unit, err)
	}
	defer rows.Close()
	var xs []exposureRow
	for rows.Next() {
		var x exposureRow
		if err := rows.Scan(&x.experiment, &x.variant, &x.at); err != nil {
			return nil, fmt.Errorf("scan exposure: %w", err)
		}
		xs = append(xs, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up exposures of %q: %w", unit, err)
	}
	// A unit not exposed anywhere gets an empty (non-nil) entry so it is looked up once.
	if xs == nil {
		xs = []exposureRow{}
	}
	return xs, nil
}
