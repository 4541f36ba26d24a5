package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"journeylab/experiment"
)

// LastActivity returns the time of the experiment's newest exposure and of
// the newest outcome event attributed to one of its units (zero when
// none), for the data-delay checks. Both are range reads of the
// experiment's rows (exposures and unit_metrics are clustered by
// experiment).
func (s *Store) LastActivity(ctx context.Context, experimentKey string) (lastExposure, lastEvent time.Time, err error) {
	var exp, ev sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(at) FROM exposures WHERE experiment = ?`, experimentKey).Scan(&exp); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("newest exposure of %s: %w", experimentKey, err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(last_ts) FROM unit_metrics WHERE experiment = ? AND count > 0`, experimentKey).Scan(&ev); err != nil {
		return time.Time{}, time.Time{}, fmt.Errorf("newest event of %s: %w", experimentKey, err)
	}
	if exp.Valid {
		lastExposure = time.Unix(0, exp.Int64).UTC()
	}
	if ev.Valid && ev.Int64 > 0 {
		lastEvent = time.Unix(0, ev.Int64).UTC()
	}
	return lastExposure, lastEvent, nil
}

// CrossVariantUnits counts the experiment's units that were reported in a
// variant other than the one they were first exposed to.
func (s *Store) CrossVariantUnits(ctx context.Context, experimentKey string) (int64, error) {
	var n int64
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM exposure_conflicts WHERE experiment = ?`, experimentKey).Scan(&n); err != nil {
		return 0, fmt.Errorf("units in several variants of %s: %w", experimentKey, err)
	}
	return n, nil
}

// noteVariantConflict records x when its unit is already stored in another
// variant of the experiment (the stored first exposure still wins).
func noteVariantConflict(ctx context.Context, tx *sql.Tx, x experiment.Exposure) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO exposure_conflicts (experiment, unit_id, variant, at)
		SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM exposures WHERE experiment = ? AND unit_id = ? AND variant <> ?)
		ON CONFLICT (experiment, unit_id) DO NOTHING`,
		x.Experiment, x.Unit, x.Variant, x.At.UnixNano(), x.Experiment, x.Unit, x.Variant)
	if err != nil {
		return fmt.Errorf("record exposure in another variant: %w", err)
	}
	return nil
}
