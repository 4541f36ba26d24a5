package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/experiment"
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

// repeatedExposures collects the exposures of a batch whose (experiment,
// unit) was already stored, and records those that name another variant
// than the stored one (the stored first exposure still wins) with one
// statement for the whole batch: a point read per exposure through
// database/sql costs several times the ignored insert itself.
type repeatedExposures []experiment.Exposure

// record writes the conflicts among the collected exposures.
func (r repeatedExposures) record(ctx context.Context, tx *sql.Tx) error {
	if len(r) == 0 {
		return nil
	}
	rows := make([][4]any, len(r))
	for i, x := range r {
		rows[i] = [4]any{x.Experiment, x.Unit, x.Variant, x.At.UnixNano()}
	}
	doc, err := json.Marshal(rows)
	if err != nil {
		return fmt.Errorf("encode repeated exposures: %w", err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO exposure_conflicts (experiment, unit_id, variant, at)
		SELECT json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'), json_extract(r.value, '$[3]')
		FROM json_each(?) AS r
		JOIN exposures x ON x.experiment = json_extract(r.value, '$[0]') AND x.unit_id = json_extract(r.value, '$[1]')
		WHERE x.variant <> json_extract(r.value, '$[2]')
		ON CONFLICT (experiment, unit_id) DO NOTHING`, string(doc))
	if err != nil {
		return fmt.Errorf("record exposures in another variant: %w", err)
	}
	return nil
}
