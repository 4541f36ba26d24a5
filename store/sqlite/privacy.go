package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/privacy"
)

// unitIDSetting names the privacy_settings row of the unit-id mode.
const unitIDSetting = "unit_ids"

// UnitIDMode implements privacy.UnitIDStore.
func (s *Store) UnitIDMode(ctx context.Context) (string, error) {
	var mode string
	err := s.r.QueryRowContext(ctx, `SELECT value FROM privacy_settings WHERE name = ?`, unitIDSetting).Scan(&mode)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read unit-id mode: %w", err)
	}
	return mode, nil
}

// SetUnitIDMode implements privacy.UnitIDStore.
func (s *Store) SetUnitIDMode(ctx context.Context, mode string) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO privacy_settings (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value`, unitIDSetting, mode)
		if err != nil {
			return fmt.Errorf("record unit-id mode: %w", err)
		}
		return nil
	})
}

// HoldsUnits implements privacy.UnitIDStore.
func (s *Store) HoldsUnits(ctx context.Context) (bool, error) {
	var holds bool
	err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM exposures) OR EXISTS (SELECT 1 FROM events)`).Scan(&holds)
	if err != nil {
		return false, fmt.Errorf("read whether units are stored: %w", err)
	}
	return holds, nil
}

// ExpireExposures implements privacy.ExposureExpiringStore: a chunk of
// the experiment's units per transaction (the writer is never held long),
// their rollups, records of exposures in another variant and exposures;
// then, in one transaction, what is left of the experiment's rollups, its
// totals and segment counts (derived from the exposures, so a report
// could not be told apart from a partial one), and the expiry record.
// secure_delete is on meanwhile, as for erasures.
func (s *Store) ExpireExposures(ctx context.Context, key string, at time.Time) (privacy.ExposureExpiry, error) {
	out := privacy.ExposureExpiry{Experiment: key, At: at}
	if _, err := s.w.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return out, fmt.Errorf("expire exposures: %w", err)
	}
	defer func() { _, _ = s.w.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`) }()
	for {
		units, err := s.exposedUnits(ctx, key)
		if err != nil || len(units) == 0 {
			if err != nil {
				return out, err
			}
			break
		}
		list, err := jsonList(units)
		if err != nil {
			return out, err
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			n, err := execCount(ctx, tx, `DELETE FROM unit_metrics WHERE experiment = ? AND unit_id IN (SELECT value FROM json_each(?))`, key, list)
			if err != nil {
				return err
			}
			out.Rollups += n
			if _, err := tx.ExecContext(ctx, `DELETE FROM exposure_conflicts WHERE experiment = ? AND unit_id IN (SELECT value FROM json_each(?))`, key, list); err != nil {
				return err
			}
			n, err = execCount(ctx, tx, `DELETE FROM exposures WHERE experiment = ? AND unit_id IN (SELECT value FROM json_each(?))`, key, list)
			out.Exposures += n
			return err
		})
		if err != nil {
			return out, fmt.Errorf("expire exposures of %s: %w", key, err)
		}
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		n, err := execCount(ctx, tx, `DELETE FROM unit_metrics WHERE experiment = ?`, key)
		if err != nil {
			return err
		}
		out.Rollups += n
		for _, table := range []string{"exposure_conflicts", "metric_totals", "exposure_counts", "segment_totals", "segment_counts", "segment_overflow", "segment_pending"} {
			// table is one of ours, never input.
			if _, err := tx.ExecContext(ctx, `DELETE FROM `+table+` WHERE experiment = ?`, key); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO exposure_expiries (experiment, at, exposures, rollups) VALUES (?, ?, ?, ?)
			ON CONFLICT (experiment) DO UPDATE SET at = excluded.at, exposures = exposures + excluded.exposures, rollups = rollups + excluded.rollups`,
			key, at.UnixNano(), out.Exposures, out.Rollups)
		return err
	})
	if err != nil {
		return out, fmt.Errorf("expire exposures of %s: %w", key, err)
	}
	return out, nil
}

// exposedUnits returns the next chunk of units exposed to experiment key.
func (s *Store) exposedUnits(ctx context.Context, key string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id FROM exposures WHERE experiment = ? ORDER BY unit_id LIMIT ?`, key, expireChunk)
	if err != nil {
		return nil, fmt.Errorf("list exposed units of %s: %w", key, err)
	}
	return scanUnits(rows)
}

// ExposureExpiries implements privacy.ExposureExpiringStore.
func (s *Store) ExposureExpiries(ctx context.Context) (map[string]privacy.ExposureExpiry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT experiment, at, exposures, rollups FROM exposure_expiries`)
	if err != nil {
		return nil, fmt.Errorf("read exposure expiries: %w", err)
	}
	defer rows.Close()
	out := map[string]privacy.ExposureExpiry{}
	for rows.Next() {
		var x privacy.ExposureExpiry
		var at int64
		if err := rows.Scan(&x.Experiment, &at, &x.Exposures, &x.Rollups); err != nil {
			return nil, fmt.Errorf("scan exposure expiry: %w", err)
		}
		x.At = time.Unix(0, at).UTC()
		out[x.Experiment] = x
	}
	return out, rows.Err()
}

// StoredData implements privacy.Inventory. Counting and the oldest times
// read whole tables: it serves an admin page, not a hot path.
func (s *Store) StoredData(ctx context.Context) (privacy.StoredData, error) {
	var out privacy.StoredData
	var oldestEvent, oldestExposure sql.NullInt64
	err := s.r.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM events), (SELECT MIN(ts) FROM events),
		(SELECT COUNT(*) FROM exposures), (SELECT MIN(at) FROM exposures),
		(SELECT COUNT(*) FROM unit_metrics), (SELECT COUNT(*) FROM erasures)`).
		Scan(&out.Events, &oldestEvent, &out.Exposures, &oldestExposure, &out.Rollups, &out.ErasedUnits)
	if err != nil {
		return out, fmt.Errorf("read stored data: %w", err)
	}
	out.OldestEvent, out.OldestExposure = nanoTime(oldestEvent), nanoTime(oldestExposure)
	return out, nil
}

func nanoTime(n sql.NullInt64) *time.Time {
	if !n.Valid {
		return nil
	}
	t := time.Unix(0, n.Int64).UTC()
	return &t
}
