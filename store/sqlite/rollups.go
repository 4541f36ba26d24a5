package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/groupcommit"
	engine "github.com/journeylab/journeylab/outcomes"
)

// outcomes is the Store's in-memory state for outcome recording.
type outcomes struct {
	// rules caches the compiled attribution rules per config version.
	rules engine.Rules
	// commit batches concurrent AppendEvents calls into one transaction,
	// so they share one fsync.
	commit groupcommit.Group[*appendReq]
}

// attribution returns the rules for the config version visible to tx. The
// caller holds the write transaction, so nothing can commit between reading
// the version and reading the definitions.
func (s *Store) attribution(ctx context.Context, tx *sql.Tx) (*events.Attribution, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT v FROM config_version WHERE id = 1`).Scan(&v); err != nil {
		return nil, fmt.Errorf("read config version: %w", err)
	}
	return s.out.rules.For(ctx, v, s)
}

// engineTx is the outcomes engine's I/O inside one write transaction.
type engineTx struct{ tx *sql.Tx }

// ExposuresOf implements engine.Store; Attrs are the decoded attributes.
func (e engineTx) ExposuresOf(ctx context.Context, units []string) (map[string][]*engine.Exposure, error) {
	list, err := jsonList(units)
	if err != nil {
		return nil, err
	}
	rows, err := e.tx.QueryContext(ctx, `SELECT unit_id, experiment, variant, at, attributes FROM exposures WHERE unit_id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, fmt.Errorf("look up exposures: %w", err)
	}
	defer rows.Close()
	out := map[string][]*engine.Exposure{}
	for rows.Next() {
		x := &engine.Exposure{}
		var raw sql.NullString
		if err := rows.Scan(&x.Unit, &x.Experiment, &x.Variant, &x.At, &raw); err != nil {
			return nil, fmt.Errorf("scan exposure: %w", err)
		}
		attrs, err := decodeAttributes(raw)
		if err != nil {
			return nil, fmt.Errorf("exposure of %q to %s: %w", x.Unit, x.Experiment, err)
		}
		x.Attrs = attrs
		out[x.Unit] = append(out[x.Unit], x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up exposures: %w", err)
	}
	return out, nil
}

// RollupsOf implements engine.Store. Events are folded in storage order
// (one writer), so rollups keep no storage position.
func (e engineTx) RollupsOf(ctx context.Context, exp string, units []string) (map[engine.Key]engine.Stored, error) {
	list, err := jsonList(units)
	if err != nil {
		return nil, err
	}
	rows, err := e.tx.QueryContext(ctx, `SELECT unit_id, metric, `+rollupColumns+` FROM unit_metrics
		WHERE experiment = ? AND unit_id IN (SELECT value FROM json_each(?))`, exp, list)
	if err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	defer rows.Close()
	out := map[engine.Key]engine.Stored{}
	for rows.Next() {
		k := engine.Key{Experiment: exp}
		u, err := scanRollup(rows.Scan, &k.Unit, &k.Metric)
		if err != nil {
			return nil, fmt.Errorf("scan rollup: %w", err)
		}
		out[k] = engine.Stored{Rollup: u}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	return out, nil
}

// EventsOf implements engine.Store with one query for all units.
func (e engineTx) EventsOf(ctx context.Context, units []string) (map[string][]engine.Event, error) {
	list, err := jsonList(units)
	if err != nil {
		return nil, err
	}
	return readEvents(ctx, e.tx, `SELECT unit_id, seq, event_id, event, value, ts FROM events
		WHERE unit_id IN (SELECT value FROM json_each(?)) ORDER BY unit_id, seq`, list)
}

// readEvents runs query, which selects unit_id, seq, event_id, event, value
// and ts, and groups the events by unit in the order the query gives.
func readEvents(ctx context.Context, q interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}, query string, args ...any) (map[string][]engine.Event, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	defer rows.Close()
	out := map[string][]engine.Event{}
	for rows.Next() {
		var ev engine.Event
		if err := rows.Scan(&ev.Unit, &ev.Seq, &ev.ID, &ev.Event, &ev.Value, &ev.TS); err != nil {
			return nil, fmt.Errorf("scan event: %w", err)
		}
		out[ev.Unit] = append(out[ev.Unit], ev)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	return out, nil
}

// jsonList encodes strings as a JSON array for json_each: one parameter
// instead of a statement per length.
func jsonList(xs []string) (string, error) {
	b, err := json.Marshal(xs)
	if err != nil {
		return "", fmt.Errorf("encode list: %w", err)
	}
	return string(b), nil
}

type totalsKey struct {
	exp, metric, variant string
	day                  int64
}

const rollupColumns = `count, sum, den_count, den_sum, pre_count, pre_sum, last_ts, last_id, last_value, pre_last_ts, pre_last_id, pre_last_value`

func scanRollup(scan func(...any) error, extra ...any) (events.Rollup, error) {
	var u events.Rollup
	dest := append(extra, &u.Count, &u.Sum, &u.DenCount, &u.DenSum, &u.PreCount, &u.PreSum,
		&u.Last.TS, &u.Last.ID, &u.Last.Value, &u.PreLast.TS, &u.PreLast.ID, &u.PreLast.Value)
	err := scan(dest...)
	return u, err
}

// segmentMode says how a write moves the segment totals.
type segmentMode struct {
	// pending is segmentPending's answer: experiments whose segment totals
	// cover only some units yet.
	pending map[string]string
	// fill: the segment totals of the experiment are being filled by a
	// rebuild; they lack the chunk's units, so they get each unit's new
	// contribution rather than the difference.
	fill bool
}

// segments returns the segments whose totals c's unit moves, or nil when
// the segment totals do not cover the unit yet.
func (m segmentMode) segments(c *engine.Change) []segment {
	if !m.fill && !segmentsCover(m.pending, c.Experiment, c.Unit) {
		return nil
	}
	attrs, _ := c.Exposure.Attrs.(map[string]string)
	segs, _ := exposureSegments(attrs)
	return segs
}

// writeChanges writes every changed rollup and adds the change of each
// unit's contribution to metric_totals and its segments' totals (collected
// in seg, which the caller writes), so neither the plain report nor a
// dimension breakdown scans units.
func writeChanges(ctx context.Context, tx *sql.Tx, cs []*engine.Change, mode segmentMode, seg *segmentWrites) error {
	totals := map[totalsKey]events.Contribution{}
	var tkeys []totalsKey
	var upserts []any
	var deletes []engine.Key
	for _, c := range cs {
		cap := c.Rule.FixedCap()
		variant, day := c.Exposure.Variant, c.Exposure.Day()
		segs := mode.segments(c)
		if mode.fill && len(segs) > 0 && !c.New.IsZero() {
			contrib := c.Rule.Contribution(c.New, cap)
			for _, sg := range segs {
				seg.addTotal(segTotalsKey{c.Experiment, sg.dim, c.Metric, sg.value, variant, day}, contrib)
			}
		}
		if c.New == c.Old {
			continue
		}
		delta := c.Rule.Contribution(c.New, cap).Sub(c.Rule.Contribution(c.Old, cap))
		tk := totalsKey{c.Experiment, c.Metric, variant, day}
		if _, ok := totals[tk]; !ok {
			tkeys = append(tkeys, tk)
		}
		totals[tk] = totals[tk].Add(delta)
		if !mode.fill {
			for _, sg := range segs {
				seg.addTotal(segTotalsKey{c.Experiment, sg.dim, c.Metric, sg.value, variant, day}, delta)
			}
		}
		if c.New.IsZero() {
			deletes = append(deletes, c.Key)
			continue
		}
		u := c.New
		upserts = append(upserts, c.Experiment, c.Unit, c.Metric, variant, day,
			u.Count, u.Sum, u.DenCount, u.DenSum, u.PreCount, u.PreSum,
			u.Last.TS, u.Last.ID, u.Last.Value, u.PreLast.TS, u.PreLast.ID, u.PreLast.Value)
	}
	if len(upserts) > 0 {
		up := newBulk(tx, `INSERT INTO unit_metrics (experiment, unit_id, metric, variant, day, `+rollupColumns+`)`, 17,
			`ON CONFLICT (experiment, unit_id, metric) DO UPDATE SET count = excluded.count, sum = excluded.sum,
			den_count = excluded.den_count, den_sum = excluded.den_sum, pre_count = excluded.pre_count, pre_sum = excluded.pre_sum,
			last_ts = excluded.last_ts, last_id = excluded.last_id, last_value = excluded.last_value,
			pre_last_ts = excluded.pre_last_ts, pre_last_id = excluded.pre_last_id, pre_last_value = excluded.pre_last_value`)
		defer up.close()
		if err := up.exec(ctx, upserts); err != nil {
			return fmt.Errorf("upsert rollups: %w", err)
		}
	}
	if len(deletes) > 0 {
		del, err := tx.PrepareContext(ctx, `DELETE FROM unit_metrics WHERE experiment = ? AND unit_id = ? AND metric = ?`)
		if err != nil {
			return fmt.Errorf("prepare rollup delete: %w", err)
		}
		defer del.Close()
		for _, k := range deletes {
			if _, err := del.ExecContext(ctx, k.Experiment, k.Unit, k.Metric); err != nil {
				return fmt.Errorf("delete rollup: %w", err)
			}
		}
	}
	return addTotals(ctx, tx, tkeys, totals)
}

// addTotals adds the deltas to metric_totals.
func addTotals(ctx context.Context, tx *sql.Tx, keys []totalsKey, deltas map[totalsKey]events.Contribution) error {
	if len(keys) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO metric_totals (experiment, metric, variant, day, n, sum, sum_sq, den_sum, den_sum_sq, sum_num_den, pre_sum, pre_sum_sq, sum_pre_post)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (experiment, metric, variant, day) DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum,
		sum_sq = sum_sq + excluded.sum_sq, den_sum = den_sum + excluded.den_sum, den_sum_sq = den_sum_sq + excluded.den_sum_sq,
		sum_num_den = sum_num_den + excluded.sum_num_den, pre_sum = pre_sum + excluded.pre_sum,
		pre_sum_sq = pre_sum_sq + excluded.pre_sum_sq, sum_pre_post = sum_pre_post + excluded.sum_pre_post`)
	if err != nil {
		return fmt.Errorf("prepare totals upsert: %w", err)
	}
	defer st.Close()
	for _, k := range keys {
		d := deltas[k]
		if d == (events.Contribution{}) {
			continue
		}
		if _, err := st.ExecContext(ctx, k.exp, k.metric, k.variant, k.day, d.N, d.Sum, d.SumSq,
			d.DenSum, d.DenSumSq, d.SumNumDen, d.PreSum, d.PreSumSq, d.SumPrePost); err != nil {
			return fmt.Errorf("add to totals: %w", err)
		}
	}
	return nil
}
