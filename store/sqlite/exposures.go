package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	engine "github.com/journeylab/journeylab/outcomes"
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
		pending, err := segmentPending(ctx, tx)
		if err != nil {
			return err
		}
		counts := map[countKey]int64{}
		var ckeys []countKey
		seg := newSegmentWrites()
		var newOnes []*engine.Exposure
		var repeated repeatedExposures
		for i, x := range xs {
			if !fresh[i] {
				repeated = append(repeated, x)
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
			seg.addExposure(x.Experiment, x.Variant, events.DayOf(at), segs, overflow)
			newOnes = append(newOnes, &engine.Exposure{Unit: x.Unit, Experiment: x.Experiment, Variant: x.Variant, At: at, Attrs: x.Attributes})
		}
		if err := addExposureCounts(ctx, tx, ckeys, counts); err != nil {
			return err
		}
		if err := repeated.record(ctx, tx); err != nil {
			return err
		}
		cs, err := engine.Backfill(ctx, engineTx{tx}, cfg, newOnes)
		if err != nil {
			return err
		}
		if err := writeChanges(ctx, tx, cs, segmentMode{pending: pending}, seg); err != nil {
			return err
		}
		return seg.write(ctx, tx)
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
		err := ins.insertKeys(ctx, args, stored)
		args = args[:0]
		if err != nil {
			return fmt.Errorf("insert exposures: %w", err)
		}
		return nil
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
