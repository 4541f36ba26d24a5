package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"

	"journeylab/events"
	"journeylab/experiment"
)

type countKey struct {
	exp, variant string
	day          int64
}

// InsertExposures stores first exposures; an (experiment, unit) pair that is
// already stored keeps its first variant and time, and the later one is
// ignored. Each new exposure attributes the unit's events that are already
// stored (an event may arrive before the batched exposure is written),
// including pre-exposure events for CUPED. It returns how many were new.
func (s *Store) InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error) {
	for i, x := range xs {
		if x.Experiment == "" || x.Unit == "" || x.Variant == "" || x.At.Year() < 2000 {
			return 0, &experiment.ValidationError{Field: fmt.Sprintf("exposures[%d]", i), Message: "experiment, unit_id, variant and a time after 2000 are required"}
		}
	}
	inserted := 0
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		inserted = 0
		cfg, err := s.attribution(ctx, tx)
		if err != nil {
			return err
		}
		fresh, err := insertExposureRows(ctx, tx, xs)
		if err != nil {
			return err
		}
		// Only units that already sent events need a back-fill: one
		// set-based probe instead of an event query per new exposure.
		var probe []string
		seen := map[string]bool{}
		for i, x := range xs {
			if er := cfg.Experiments[x.Experiment]; fresh[i] && er != nil && len(er.Rules) > 0 && !seen[x.Unit] {
				seen[x.Unit] = true
				probe = append(probe, x.Unit)
			}
		}
		withEvents, err := unitsWithEvents(ctx, tx, probe)
		if err != nil {
			return err
		}
		evq, err := tx.PrepareContext(ctx, `SELECT event_id, event, value, ts FROM events WHERE unit_id = ? ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("prepare event lookup: %w", err)
		}
		defer evq.Close()
		pending, err := segmentPending(ctx, tx)
		if err != nil {
			return err
		}
		counts := map[countKey]int64{}
		var ckeys []countKey
		b := newRollupBatch()
		for i, x := range xs {
			if !fresh[i] {
				continue
			}
			inserted++
			at := x.At.UnixNano()
			ck := countKey{x.Experiment, x.Variant, events.DayOf(at)}
			if counts[ck] == 0 {
				ckeys = append(ckeys, ck)
			}
			counts[ck]++
			// Overflow is recorded even before a fill covers the unit: it
			// only sends the report to the scan.
			segs, overflow := exposureSegments(x.Attributes)
			if !segmentsCover(pending, x.Experiment, x.Unit) {
				segs = nil
			}
			b.seg.addExposure(x.Experiment, x.Variant, events.DayOf(at), segs, overflow)
			if er := cfg.Experiments[x.Experiment]; er != nil && len(er.Rules) > 0 && withEvents[x.Unit] {
				if err := backfill(ctx, evq, b, er, x.Unit, x.Variant, at, segs); err != nil {
					return err
				}
			}
		}
		if err := addExposureCounts(ctx, tx, ckeys, counts); err != nil {
			return err
		}
		return b.flush(ctx, tx)
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
}

// insertExposureRows inserts xs with multi-row statements and reports, per
// exposure, whether it was stored: false for a pair already stored, and
// for a pair repeated earlier in xs (the first occurrence is kept).
func insertExposureRows(ctx context.Context, tx *sql.Tx, xs []experiment.Exposure) ([]bool, error) {
	// OR IGNORE: no constraint can abort the statement, so SQLite skips
	// the statement journal (see appendBatch).
	ins := newBulk(tx, `INSERT OR IGNORE INTO exposures (experiment, unit_id, variant, at, attributes)`, 5, `RETURNING experiment, unit_id`)
	defer ins.close()
	stored := map[[2]string]bool{}
	args := make([]any, 0, bulkRows*5)
	// Exposures of one request share their attribute map: encode it once.
	var lastAttrs map[string]string
	var lastEnc any
	flush := func() error {
		if len(args) == 0 {
			return nil
		}
		st, err := ins.stmt(ctx, len(args)/5)
		if err != nil {
			return err
		}
		rows, err := st.QueryContext(ctx, args...)
		if err != nil {
			return fmt.Errorf("insert exposures: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var k [2]string
			if err := rows.Scan(&k[0], &k[1]); err != nil {
				return fmt.Errorf("insert exposures: %w", err)
			}
			stored[k] = true
		}
		args = args[:0]
		return rows.Err()
	}
	for _, x := range xs {
		if len(x.Attributes) == 0 {
			lastAttrs, lastEnc = nil, nil
		} else if lastAttrs == nil || !maps.Equal(lastAttrs, x.Attributes) {
			enc, err := json.Marshal(x.Attributes)
			if err != nil {
				return nil, fmt.Errorf("encode exposure attributes: %w", err)
			}
			lastAttrs, lastEnc = x.Attributes, string(enc)
		}
		args = append(args, x.Experiment, x.Unit, x.Variant, x.At.UnixNano(), lastEnc)
		if len(args) == bulkRows*5 {
			if err := flush(); err != nil {
				return nil, err
			}
		}
	}
	if err := flush(); err != nil {
		return nil, err
	}
	fresh := make([]bool, len(xs))
	for i, x := range xs {
		k := [2]string{x.Experiment, x.Unit}
		if stored[k] {
			fresh[i] = true
			delete(stored, k)
		}
	}
	return fresh, nil
}

// unitsWithEvents returns which of units have at least one stored event.
func unitsWithEvents(ctx context.Context, tx *sql.Tx, units []string) (map[string]bool, error) {
	out := map[string]bool{}
	if len(units) == 0 {
		return out, nil
	}
	list, err := jsonList(units)
	if err != nil {
		return nil, err
	}
	rows, err := tx.QueryContext(ctx, `SELECT value FROM json_each(?) AS u WHERE EXISTS (SELECT 1 FROM events WHERE unit_id = u.value)`, list)
	if err != nil {
		return nil, fmt.Errorf("look up units with events: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("scan unit: %w", err)
		}
		out[u] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up units with events: %w", err)
	}
	return out, nil
}

// backfill folds the unit's stored events, in storage order, into fresh
// rollups for every metric of the experiment it was just exposed to; their
// contributions also go to segs' totals.
func backfill(ctx context.Context, evq *sql.Stmt, b *rollupBatch, er *events.ExperimentRules, unit, variant string, at int64, segs []segment) error {
	rows, err := evq.QueryContext(ctx, unit)
	if err != nil {
		return fmt.Errorf("read events of %q: %w", unit, err)
	}
	defer rows.Close()
	var pending []*pendingRollup
	for rows.Next() {
		var p events.Point
		if err := rows.Scan(&p.ID, &p.Event, &p.Value, &p.TS); err != nil {
			return fmt.Errorf("scan event: %w", err)
		}
		if !er.UsesEvent(p.Event) {
			continue
		}
		if pending == nil {
			// A new exposure has no rollups yet: start every metric from zero.
			for i := range er.Rules {
				r := &er.Rules[i]
				pr := &pendingRollup{rule: r, variant: variant, day: events.DayOf(at), segs: segs}
				b.add(rollupKey{er.Key, unit, r.Metric.Key}, pr)
				pending = append(pending, pr)
			}
		}
		for _, pr := range pending {
			pr.rule.Fold(&pr.cur, at, p)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read events of %q: %w", unit, err)
	}
	return nil
}

func addExposureCounts(ctx context.Context, tx *sql.Tx, keys []countKey, counts map[countKey]int64) error {
	if len(keys) == 0 {
		return nil
	}
	st, err := tx.PrepareContext(ctx, `INSERT INTO exposure_counts (experiment, variant, day, n) VALUES (?, ?, ?, ?)
		ON CONFLICT (experiment, variant, day) DO UPDATE SET n = n + excluded.n`)
	if err != nil {
		return fmt.Errorf("prepare exposure count: %w", err)
	}
	defer st.Close()
	for _, k := range keys {
		if _, err := st.ExecContext(ctx, k.exp, k.variant, k.day, counts[k]); err != nil {
			return fmt.Errorf("count exposures: %w", err)
		}
	}
	return nil
}

// ExposureVariants streams every exposed unit of the experiment with its
// variant, in unit order, so serving can keep exposed units sticky when
// weights change. fn's error stops the stream and is returned.
func (s *Store) ExposureVariants(ctx context.Context, experimentKey string, fn func(unit, variant string) error) error {
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id, variant FROM exposures WHERE experiment = ? ORDER BY unit_id`, experimentKey)
	if err != nil {
		return fmt.Errorf("list exposures of %s: %w", experimentKey, err)
	}
	defer rows.Close()
	for rows.Next() {
		var unit, variant string
		if err := rows.Scan(&unit, &variant); err != nil {
			return fmt.Errorf("scan exposure: %w", err)
		}
		if err := fn(unit, variant); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list exposures of %s: %w", experimentKey, err)
	}
	return nil
}
