package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journey"
	engine "github.com/journeylab/journeylab/outcomes"
)

type appendReq struct {
	received time.Time
	evs      []events.Event
	// attrs are the events' attributes as JSON (nil for none), encoded
	// before the request queues so the single writer does not do it.
	attrs []any
	// stored is set by the commit that includes the request.
	stored []bool
}

// AppendEvents implements events.Store: it stores evs (duplicates of stored
// event ids are skipped) and attributes the new ones to the experiments
// their unit was exposed to, in one transaction that is committed with
// synchronous=FULL before it returns.
func (s *Store) AppendEvents(ctx context.Context, received time.Time, evs []events.Event) ([]bool, error) {
	req := &appendReq{received: received, evs: evs, attrs: make([]any, len(evs))}
	for i := range evs {
		if evs[i].Value == nil || evs[i].TS == nil {
			return nil, &experiment.ValidationError{Field: fmt.Sprintf("events[%d]", i), Message: "value and ts must be set (events.Normalize fills them)"}
		}
		if len(evs[i].Attributes) > 0 {
			b, err := json.Marshal(evs[i].Attributes)
			if err != nil {
				return nil, fmt.Errorf("encode attributes of event %q: %w", evs[i].EventID, err)
			}
			req.attrs[i] = string(b)
		}
	}
	err := s.out.commit.Do(req, func(batch []*appendReq) error {
		// The commit serves every queued caller, so one caller giving up
		// must not abort it.
		return s.appendBatch(context.WithoutCancel(ctx), batch)
	})
	if err != nil {
		return nil, err
	}
	return req.stored, nil
}

func (s *Store) appendBatch(ctx context.Context, reqs []*appendReq) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		cfg, err := s.attribution(ctx, tx)
		if err != nil {
			return err
		}
		var seq int64
		if err := tx.QueryRowContext(ctx, `SELECT last FROM event_seq WHERE id = 1`).Scan(&seq); err != nil {
			return fmt.Errorf("read event sequence: %w", err)
		}
		base := seq
		// OR IGNORE rather than ON CONFLICT DO NOTHING: no constraint can
		// abort the statement then, so SQLite skips the statement journal
		// (a copy of every page a multi-row statement touches).
		ins := newBulk(tx, `INSERT OR IGNORE INTO events (unit_id, event_id, seq, event, value, ts, received, attributes)`, 8,
			`RETURNING unit_id, event_id`)
		defer ins.close()
		// fresh holds the (unit, event id) pairs the inserts returned; the
		// first occurrence of each in the batch is the stored one, later
		// ones are duplicates.
		fresh := map[[2]string]bool{}
		var args []any
		flush := func() error {
			err := ins.insertKeys(ctx, args, fresh)
			args = args[:0]
			if err != nil {
				return fmt.Errorf("insert events: %w", err)
			}
			return nil
		}
		for _, r := range reqs {
			for i := range r.evs {
				ev := &r.evs[i]
				recv := r.received
				if !ev.Received.IsZero() {
					recv = ev.Received
				}
				seq++
				args = append(args, ev.UnitID, ev.EventID, seq, ev.Event, *ev.Value, ev.TS.UnixNano(), recv.UnixNano(), r.attrs[i])
				if len(args) == bulkRows*8 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE event_seq SET last = ? WHERE id = 1`, seq); err != nil {
			return fmt.Errorf("advance event sequence: %w", err)
		}
		// Each event got the next position in the insert loop above, the
		// ignored duplicates included.
		var pts []engine.Event
		var jevs []journey.Event
		pos := base
		for _, r := range reqs {
			r.stored = make([]bool, len(r.evs))
			for i := range r.evs {
				ev := &r.evs[i]
				pos++
				k := [2]string{ev.UnitID, ev.EventID}
				if !fresh[k] {
					continue
				}
				delete(fresh, k)
				r.stored[i] = true
				jevs = append(jevs, journey.Event{Unit: ev.UnitID, Name: ev.Event, TS: ev.TS.UnixNano(), Value: *ev.Value})
				if len(cfg.ByEvent[ev.Event]) > 0 {
					pts = append(pts, engine.Event{Unit: ev.UnitID, Seq: pos, Point: events.Point{ID: ev.EventID, Event: ev.Event, TS: ev.TS.UnixNano(), Value: *ev.Value}})
				}
			}
		}
		if err := journey.Record(ctx, journeyTx{tx}, jevs, cfg.Stages); err != nil {
			return err
		}
		cs, err := engine.Attribute(ctx, engineTx{tx}, cfg, pts)
		if err != nil || len(cs) == 0 {
			return err
		}
		pending, err := segmentPending(ctx, tx)
		if err != nil {
			return err
		}
		seg := newSegmentWrites()
		if err := writeChanges(ctx, tx, cs, segmentMode{pending: pending}, seg); err != nil {
			return err
		}
		return seg.write(ctx, tx)
	})
}

// StoredEvents reports, for each key, whether an event with that unit and
// event id is stored: one set-based query on the primary key, on the read
// pool so it runs beside the writer.
func (s *Store) StoredEvents(ctx context.Context, keys []events.Key) ([]bool, error) {
	out := make([]bool, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	pairs := make([][2]string, len(keys))
	at := make(map[events.Key][]int, len(keys))
	for i, k := range keys {
		pairs[i] = [2]string{k.Unit, k.ID}
		at[k] = append(at[k], i)
	}
	list, err := json.Marshal(pairs)
	if err != nil {
		return nil, fmt.Errorf("encode event keys: %w", err)
	}
	rows, err := s.r.QueryContext(ctx, `SELECT e.unit_id, e.event_id FROM json_each(?) AS k
		JOIN events AS e ON e.unit_id = k.value ->> 0 AND e.event_id = k.value ->> 1`, string(list))
	if err != nil {
		return nil, fmt.Errorf("look up stored events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k events.Key
		if err := rows.Scan(&k.Unit, &k.ID); err != nil {
			return nil, fmt.Errorf("look up stored events: %w", err)
		}
		for _, i := range at[k] {
			out[i] = true
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up stored events: %w", err)
	}
	return out, nil
}
