package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sync"

	"journeylab/events"
	"journeylab/experiment"
)

// outcomes is the Store's in-memory state for outcome recording.
type outcomes struct {
	// mu guards cfg.
	mu  sync.Mutex
	cfg *events.Attribution
	// commit batches concurrent AppendEvents calls into one transaction.
	commit groupCommit
}

// attribution returns the rules for the config version visible to tx,
// reloading them through the experiment.Store methods when it changed. The
// caller holds the write transaction, so nothing can commit between reading
// the version and reading the definitions.
func (s *Store) attribution(ctx context.Context, tx *sql.Tx) (*events.Attribution, error) {
	var v int64
	if err := tx.QueryRowContext(ctx, `SELECT v FROM config_version WHERE id = 1`).Scan(&v); err != nil {
		return nil, fmt.Errorf("read config version: %w", err)
	}
	s.out.mu.Lock()
	cur := s.out.cfg
	s.out.mu.Unlock()
	if cur != nil && cur.Version == v {
		return cur, nil
	}
	exps, err := s.ListExperiments(ctx, experiment.Filter{})
	if err != nil {
		return nil, fmt.Errorf("load experiments for attribution: %w", err)
	}
	ms, err := s.ListMetrics(ctx)
	if err != nil {
		return nil, fmt.Errorf("load metrics for attribution: %w", err)
	}
	layers, err := s.ListLayers(ctx)
	if err != nil {
		return nil, fmt.Errorf("load layers for attribution: %w", err)
	}
	a := events.CompileAttribution(v, exps, layers, ms)
	s.out.mu.Lock()
	s.out.cfg = a
	s.out.mu.Unlock()
	return a, nil
}

type rollupKey struct{ exp, unit, metric string }

type totalsKey struct {
	exp, metric, variant string
	day                  int64
}

// pendingRollup is one unit's rollup being changed in the current transaction.
type pendingRollup struct {
	rule     *events.Rule
	variant  string
	day      int64
	old, cur events.Rollup
	// segs are the unit's exposure segments whose totals the change moves
	// (nil when the segment totals do not cover the unit yet); with
	// segFromZero they lack the unit entirely, so they get cur, not cur−old.
	segs        []segment
	segFromZero bool
}

// rollupBatch collects rollup changes of one transaction and writes them,
// with the matching delta of metric_totals and segment_totals, in flush.
type rollupBatch struct {
	rows  map[rollupKey]*pendingRollup
	order []rollupKey
	seg   *segmentWrites
}

func newRollupBatch() *rollupBatch {
	return &rollupBatch{rows: map[rollupKey]*pendingRollup{}, seg: newSegmentWrites()}
}

// add registers a rollup whose stored state is p.old.
func (b *rollupBatch) add(k rollupKey, p *pendingRollup) {
	b.rows[k] = p
	b.order = append(b.order, k)
}

const rollupColumns = `count, sum, den_count, den_sum, pre_count, pre_sum, last_ts, last_id, last_value, pre_last_ts, pre_last_id, pre_last_value`

func scanRollup(scan func(...any) error, extra ...any) (events.Rollup, error) {
	var u events.Rollup
	dest := append(extra, &u.Count, &u.Sum, &u.DenCount, &u.DenSum, &u.PreCount, &u.PreSum,
		&u.Last.TS, &u.Last.ID, &u.Last.Value, &u.PreLast.TS, &u.PreLast.ID, &u.PreLast.Value)
	err := scan(dest...)
	return u, err
}

// collectRollups reads rows of (unit_id, metric, rollupColumns) into a map
// keyed by (unit, metric), and closes rows.
func collectRollups(rows *sql.Rows) (map[[2]string]events.Rollup, error) {
	defer rows.Close()
	out := map[[2]string]events.Rollup{}
	for rows.Next() {
		var unit, metric string
		u, err := scanRollup(rows.Scan, &unit, &metric)
		if err != nil {
			return nil, fmt.Errorf("scan rollup: %w", err)
		}
		out[[2]string{unit, metric}] = u
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read rollups: %w", err)
	}
	return out, nil
}

// flush writes every changed rollup and adds the change of each unit's
// contribution to metric_totals and its segments' totals, so neither the
// plain report nor a dimension breakdown scans units.
func (b *rollupBatch) flush(ctx context.Context, tx *sql.Tx) error {
	totals := map[totalsKey]events.Contribution{}
	var tkeys []totalsKey
	var upserts []any
	var deletes []rollupKey
	for _, k := range b.order {
		p := b.rows[k]
		cap := p.rule.FixedCap()
		if p.segFromZero && len(p.segs) > 0 && !p.cur.IsZero() {
			c := p.rule.Contribution(p.cur, cap)
			for _, sg := range p.segs {
				b.seg.addTotal(segTotalsKey{k.exp, sg.dim, k.metric, sg.value, p.variant, p.day}, c)
			}
		}
		if p.cur == p.old {
			continue
		}
		delta := p.rule.Contribution(p.cur, cap).Sub(p.rule.Contribution(p.old, cap))
		tk := totalsKey{k.exp, k.metric, p.variant, p.day}
		if _, ok := totals[tk]; !ok {
			tkeys = append(tkeys, tk)
		}
		totals[tk] = totals[tk].Add(delta)
		if !p.segFromZero {
			for _, sg := range p.segs {
				b.seg.addTotal(segTotalsKey{k.exp, sg.dim, k.metric, sg.value, p.variant, p.day}, delta)
			}
		}
		if p.cur.IsZero() {
			deletes = append(deletes, k)
			continue
		}
		u := p.cur
		upserts = append(upserts, k.exp, k.unit, k.metric, p.variant, p.day,
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
			if _, err := del.ExecContext(ctx, k.exp, k.unit, k.metric); err != nil {
				return fmt.Errorf("delete rollup: %w", err)
			}
		}
	}
	if err := addTotals(ctx, tx, tkeys, totals); err != nil {
		return err
	}
	return b.seg.write(ctx, tx)
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
