package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/journeylab/journeylab/experiment"
)

// CreateExperiment implements experiment.Store.
func (s *Store) CreateExperiment(ctx context.Context, e *experiment.Experiment, audit experiment.AuditEntry) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode experiment: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO experiments (key, stage, touchpoint, status, layer, version, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			e.Key, string(e.Stage), e.Touchpoint, string(e.Status), e.Layer, e.Version, string(doc))
		if isUniqueViolation(err) {
			return fmt.Errorf("experiment %q: %w", e.Key, experiment.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("insert experiment: %w", err)
		}
		return writeAuditAndBump(ctx, tx, audit)
	})
}

// UpdateExperiment implements experiment.Store.
func (s *Store) UpdateExperiment(ctx context.Context, e *experiment.Experiment, prevVersion int64, audit experiment.AuditEntry) error {
	doc, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode experiment: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE experiments SET stage = ?, touchpoint = ?, status = ?, layer = ?, version = ?, doc = ? WHERE key = ? AND version = ?`,
			string(e.Stage), e.Touchpoint, string(e.Status), e.Layer, e.Version, string(doc), e.Key, prevVersion)
		if err != nil {
			return fmt.Errorf("update experiment: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var v int64
			switch err := tx.QueryRowContext(ctx, `SELECT version FROM experiments WHERE key = ?`, e.Key).Scan(&v); {
			case errors.Is(err, sql.ErrNoRows):
				return fmt.Errorf("experiment %q: %w", e.Key, experiment.ErrNotFound)
			case err != nil:
				return fmt.Errorf("read version: %w", err)
			default:
				return fmt.Errorf("experiment %q is at version %d, not %d: %w", e.Key, v, prevVersion, experiment.ErrVersionConflict)
			}
		}
		return writeAuditAndBump(ctx, tx, audit)
	})
}

func writeAuditAndBump(ctx context.Context, tx *sql.Tx, audit experiment.AuditEntry) error {
	doc, err := json.Marshal(audit)
	if err != nil {
		return fmt.Errorf("encode audit: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO audit (experiment_key, at, doc) VALUES (?, ?, ?)`,
		audit.ExperimentKey, audit.At.UTC().Format(time.RFC3339Nano), string(doc)); err != nil {
		return fmt.Errorf("insert audit: %w", err)
	}
	return bumpConfigVersion(ctx, tx)
}

func bumpConfigVersion(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, `UPDATE config_version SET v = v + 1 WHERE id = 1`); err != nil {
		return fmt.Errorf("bump config version: %w", err)
	}
	return nil
}

// GetExperiment implements experiment.Store.
func (s *Store) GetExperiment(ctx context.Context, key string) (*experiment.Experiment, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT doc FROM experiments WHERE key = ?`, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("experiment %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select experiment: %w", err)
	}
	var e experiment.Experiment
	if err := json.Unmarshal([]byte(doc), &e); err != nil {
		return nil, fmt.Errorf("decode experiment %q: %w", key, err)
	}
	return &e, nil
}

// ListExperiments implements experiment.Store.
func (s *Store) ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error) {
	var where []string
	var args []any
	add := func(col, val string) {
		if val != "" {
			where = append(where, col+" = ?")
			args = append(args, val)
		}
	}
	add("stage", string(f.Stage))
	add("touchpoint", f.Touchpoint)
	add("status", string(f.Status))
	add("layer", f.Layer)
	q := `SELECT doc FROM experiments`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return queryDocs[*experiment.Experiment](ctx, s.r, "experiments", q+" ORDER BY key", args...)
}

// ListAudit implements experiment.Store.
func (s *Store) ListAudit(ctx context.Context, key string) ([]experiment.AuditEntry, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, doc FROM audit WHERE experiment_key = ? ORDER BY id`, key)
	if err != nil {
		return nil, fmt.Errorf("list audit: %w", err)
	}
	defer rows.Close()
	var out []experiment.AuditEntry
	for rows.Next() {
		var id int64
		var doc string
		if err := rows.Scan(&id, &doc); err != nil {
			return nil, fmt.Errorf("scan audit: %w", err)
		}
		var a experiment.AuditEntry
		if err := json.Unmarshal([]byte(doc), &a); err != nil {
			return nil, fmt.Errorf("decode audit: %w", err)
		}
		a.ID = id
		out = append(out, a)
	}
	return out, rows.Err()
}

// ConfigVersion implements experiment.Store.
func (s *Store) ConfigVersion(ctx context.Context) (int64, error) {
	var v int64
	if err := s.r.QueryRowContext(ctx, `SELECT v FROM config_version WHERE id = 1`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read config version: %w", err)
	}
	return v, nil
}
