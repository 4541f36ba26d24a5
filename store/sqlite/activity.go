package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"journeylab/experiment"
)

// LastExposure returns the time of the experiment's newest exposure (zero
// when none), for the data-delay check: a range read of the experiment's
// exposures, which are clustered by experiment.
func (s *Store) LastExposure(ctx context.Context, experimentKey string) (time.Time, error) {
	var at sql.NullInt64
	if err := s.r.QueryRowContext(ctx, `SELECT MAX(at) FROM exposures WHERE experiment = ?`, experimentKey).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("newest exposure of %s: %w", experimentKey, err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return time.Unix(0, at.Int64).UTC(), nil
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
