package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

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
		ins, err := tx.PrepareContext(ctx, `INSERT INTO exposures (experiment, unit_id, variant, at, attributes)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (experiment, unit_id) DO NOTHING`)
		if err != nil {
			return fmt.Errorf("prepare exposure insert: %w", err)
		}
		defer ins.Close()
		evq, err := tx.PrepareContext(ctx, `SELECT event_id, event, value, ts FROM events WHERE unit_id = ? ORDER BY seq`)
		if err != nil {
			return fmt.Errorf("prepare event lookup: %w", err)
		}
		defer evq.Close()
		var repeated repeatedExposures
		pending, err := segmentPending(ctx, tx)
		if err != nil {
			return err
		}
		counts := map[countKey]int64{}
		var ckeys []countKey
		b := newRollupBatch()
		for _, x := range xs {
			var attrs any
			if len(x.Attributes) > 0 {
				enc, err := json.Marshal(x.Attributes)
				if err != nil {
					return fmt.Errorf("encode exposure attributes: %w", err)
				}
				attrs = string(enc)
			}
			at := x.At.UnixNano()
			res, err := ins.ExecContext(ctx, x.Experiment, x.Unit, x.Variant, at, attrs)
			if err != nil {
				return fmt.Errorf("insert exposure: %w", err)
			}
			if n, err := res.RowsAffected(); err != nil || n == 0 {
				if err != nil {
					return fmt.Errorf("insert exposure: %w", err)
				}
				repeated = append(repeated, x)
				continue
			}
			inserted++
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
			if er := cfg.Experiments[x.Experiment]; er != nil && len(er.Rules) > 0 {
				if err := backfill(ctx, evq, b, er, x.Unit, x.Variant, at, segs); err != nil {
					return err
				}
			}
		}
		if err := addExposureCounts(ctx, tx, ckeys, counts); err != nil {
			return err
		}
		if err := repeated.record(ctx, tx); err != nil {
			return err
		}
		return b.flush(ctx, tx)
	})
	if err != nil {
		return 0, err
	}
	return inserted, nil
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
