package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	engine "github.com/journeylab/journeylab/outcomes"
)

// rebuildChunk is how many units one rebuild transaction recomputes: small
// enough that ingestion, which waits for the single writer, barely notices.
// A variable so that tests can interleave ingestion with small chunks.
var rebuildChunk = 1000

// Rebuild recomputes every rollup of the experiment from raw events and
// exposures: after a metric was added to a running experiment, or to repair
// data. It works through the exposed units in chunks, each in its own
// transaction that replaces the chunk's rollups and moves metric_totals by
// the difference, so events may keep arriving meanwhile. A rollup that was
// right stays bit-for-bit the same, because both paths fold the same events
// in the same (storage) order. progress, if not nil, is called after each
// chunk with the units done and the total.
//
// The segment totals of dimension breakdowns move by the same differences,
// except for an experiment whose segment totals are pending (data from
// before they existed): those are emptied and filled chunk by chunk from
// the recomputed rollups, while ingestion moves them only for the units
// already filled.
func (s *Store) Rebuild(ctx context.Context, experimentKey string, progress func(done, total int64)) error {
	if err := experiment.Recorded(ctx, s, experimentKey); err != nil {
		return err
	}
	if err := s.rebuildStart(ctx, experimentKey); err != nil {
		return fmt.Errorf("rebuild %s: %w", experimentKey, err)
	}
	var total int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM exposures WHERE experiment = ?`, experimentKey).Scan(&total); err != nil {
		return fmt.Errorf("count exposures of %s: %w", experimentKey, err)
	}
	var done int64
	after := ""
	for {
		n, last, err := s.rebuildChunk(ctx, experimentKey, after)
		if err != nil {
			return fmt.Errorf("rebuild %s after unit %q: %w", experimentKey, after, err)
		}
		done += int64(n)
		total = max(total, done)
		if progress != nil {
			progress(done, total)
		}
		if n < rebuildChunk {
			break
		}
		after = last
	}
	return s.rebuildFinish(ctx, experimentKey)
}

// rebuildChunk recomputes the rollups of the next units after unit `after`.
func (s *Store) rebuildChunk(ctx context.Context, exp, after string) (n int, last string, err error) {
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		cfg, err := s.attribution(ctx, tx)
		if err != nil {
			return err
		}
		er := cfg.Experiments[exp]
		if er == nil {
			return fmt.Errorf("experiment %q: %w", exp, experiment.ErrNotFound)
		}
		pending, err := segmentPending(ctx, tx)
		if err != nil {
			return err
		}
		done, filling := pending[exp]
		if filling && done != after {
			return fmt.Errorf("segment totals filled through %q, not %q: another rebuild of the experiment is running", done, after)
		}
		units, err := chunkUnits(ctx, tx, exp, after)
		if err != nil {
			return err
		}
		if filling {
			// The last chunk completes the segment totals in its own
			// transaction: a unit exposed after it commits is counted by
			// InsertExposures.
			q, args := `UPDATE segment_pending SET done_through = ? WHERE experiment = ?`, []any{"", exp}
			if len(units) < rebuildChunk {
				q, args = `DELETE FROM segment_pending WHERE experiment = ?`, args[1:]
			} else {
				args[0] = units[len(units)-1].unit
			}
			if _, err := tx.ExecContext(ctx, q, args...); err != nil {
				return fmt.Errorf("advance segment fill: %w", err)
			}
		}
		if len(units) == 0 {
			return nil
		}
		n, last = len(units), units[len(units)-1].unit
		seg := newSegmentWrites()
		xs := make([]*engine.Exposure, len(units))
		for i, u := range units {
			attrs, err := decodeAttributes(u.attrs)
			if err != nil {
				return fmt.Errorf("exposure of %q: %w", u.unit, err)
			}
			if filling {
				segs, overflow := exposureSegments(attrs)
				seg.addExposure(exp, u.variant, events.DayOf(u.at), segs, overflow)
			}
			xs[i] = &engine.Exposure{Unit: u.unit, Experiment: exp, Variant: u.variant, At: u.at, Attrs: attrs}
		}
		cs, err := engine.Rebuild(ctx, engineTx{tx}, er, xs)
		if err != nil {
			return err
		}
		if err := writeChanges(ctx, tx, cs, segmentMode{pending: pending, fill: filling}, seg); err != nil {
			return err
		}
		if err := seg.write(ctx, tx); err != nil {
			return err
		}
		// Rollups of metrics the experiment no longer lists are dropped.
		q, args := exceptMetrics(`DELETE FROM unit_metrics WHERE experiment = ? AND unit_id > ? AND unit_id <= ?`,
			[]any{exp, after, last}, er.MetricKeys())
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("drop stale rollups: %w", err)
		}
		return nil
	})
	return n, last, err
}

type chunkUnit struct {
	unit, variant string
	at            int64
	attrs         sql.NullString
}

func chunkUnits(ctx context.Context, tx *sql.Tx, exp, after string) ([]chunkUnit, error) {
	rows, err := tx.QueryContext(ctx, `SELECT unit_id, variant, at, attributes FROM exposures WHERE experiment = ? AND unit_id > ? ORDER BY unit_id LIMIT ?`, exp, after, rebuildChunk)
	if err != nil {
		return nil, fmt.Errorf("list exposures: %w", err)
	}
	defer rows.Close()
	var out []chunkUnit
	for rows.Next() {
		var u chunkUnit
		if err := rows.Scan(&u.unit, &u.variant, &u.at, &u.attrs); err != nil {
			return nil, fmt.Errorf("scan exposure: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// rebuildStart empties the segment totals of an experiment whose segment
// totals are pending, so that the chunks fill them from the first unit.
func (s *Store) rebuildStart(ctx context.Context, exp string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		pending, err := segmentPending(ctx, tx)
		if err != nil {
			return err
		}
		if _, ok := pending[exp]; !ok {
			return nil
		}
		for _, q := range []string{
			`DELETE FROM segment_totals WHERE experiment = ?`,
			`DELETE FROM segment_counts WHERE experiment = ?`,
			`DELETE FROM segment_overflow WHERE experiment = ?`,
			`UPDATE segment_pending SET done_through = '' WHERE experiment = ?`,
		} {
			if _, err := tx.ExecContext(ctx, q, exp); err != nil {
				return fmt.Errorf("reset segment totals: %w", err)
			}
		}
		return nil
	})
}

// rebuildFinish drops the totals of metrics the experiment no longer lists
// and recounts its exposures from the exposures table.
func (s *Store) rebuildFinish(ctx context.Context, exp string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		cfg, err := s.attribution(ctx, tx)
		if err != nil {
			return err
		}
		er := cfg.Experiments[exp]
		if er == nil {
			return fmt.Errorf("experiment %q: %w", exp, experiment.ErrNotFound)
		}
		q, args := exceptMetrics(`DELETE FROM metric_totals WHERE experiment = ?`, []any{exp}, er.MetricKeys())
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("drop stale totals: %w", err)
		}
		if _, err := tx.ExecContext(ctx, strings.Replace(q, "metric_totals", "segment_totals", 1), args...); err != nil {
			return fmt.Errorf("drop stale segment totals: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM exposure_counts WHERE experiment = ?`, exp); err != nil {
			return fmt.Errorf("reset exposure counts: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO exposure_counts (experiment, variant, day, n)
			SELECT experiment, variant, at / ?, COUNT(*) FROM exposures WHERE experiment = ? GROUP BY variant, at / ?`,
			events.DayNanos, exp, events.DayNanos); err != nil {
			return fmt.Errorf("recount exposures: %w", err)
		}
		return nil
	})
}

// exceptMetrics narrows the DELETE q, whose parameters are args, to rows of
// metrics not among keys (all rows when keys is empty).
func exceptMetrics(q string, args []any, keys []string) (string, []any) {
	if len(keys) == 0 {
		return q, args
	}
	q += ` AND metric NOT IN (?` + strings.Repeat(", ?", len(keys)-1) + `)`
	for _, k := range keys {
		args = append(args, k)
	}
	return q, args
}
