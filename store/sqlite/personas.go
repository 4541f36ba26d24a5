package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/journeylab/journeylab/experiment"
)

// CreatePersona implements experiment.Store.
func (s *Store) CreatePersona(ctx context.Context, p *experiment.Persona, audit experiment.AuditEntry) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode persona: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO personas (key, version, doc) VALUES (?, ?, ?)`, p.Key, p.Version, string(doc))
		if isUniqueViolation(err) {
			return fmt.Errorf("persona %q: %w", p.Key, experiment.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("insert persona: %w", err)
		}
		return writeAuditAndBump(ctx, tx, audit)
	})
}

// UpdatePersona implements experiment.Store.
func (s *Store) UpdatePersona(ctx context.Context, p *experiment.Persona, prevVersion int64, audit experiment.AuditEntry) error {
	doc, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("encode persona: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE personas SET version = ?, doc = ? WHERE key = ? AND version = ?`, p.Version, string(doc), p.Key, prevVersion)
		if err != nil {
			return fmt.Errorf("update persona: %w", err)
		}
		if err := personaChanged(ctx, tx, res, p.Key, prevVersion); err != nil {
			return err
		}
		return writeAuditAndBump(ctx, tx, audit)
	})
}

// DeletePersona implements experiment.Store.
func (s *Store) DeletePersona(ctx context.Context, key string, prevVersion int64, audit experiment.AuditEntry) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM personas WHERE key = ? AND version = ?`, key, prevVersion)
		if err != nil {
			return fmt.Errorf("delete persona: %w", err)
		}
		if err := personaChanged(ctx, tx, res, key, prevVersion); err != nil {
			return err
		}
		return writeAuditAndBump(ctx, tx, audit)
	})
}

// personaChanged turns a conditional write that touched no row into
// ErrNotFound or ErrVersionConflict.
func personaChanged(ctx context.Context, tx *sql.Tx, res sql.Result, key string, prevVersion int64) error {
	if n, _ := res.RowsAffected(); n > 0 {
		return nil
	}
	var v int64
	switch err := tx.QueryRowContext(ctx, `SELECT version FROM personas WHERE key = ?`, key).Scan(&v); {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("persona %q: %w", key, experiment.ErrNotFound)
	case err != nil:
		return fmt.Errorf("read persona version: %w", err)
	default:
		return fmt.Errorf("persona %q is at version %d, not %d: %w", key, v, prevVersion, experiment.ErrVersionConflict)
	}
}

// GetPersona implements experiment.Store.
func (s *Store) GetPersona(ctx context.Context, key string) (*experiment.Persona, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT doc FROM personas WHERE key = ?`, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("persona %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select persona: %w", err)
	}
	var p experiment.Persona
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return nil, fmt.Errorf("decode persona %q: %w", key, err)
	}
	return &p, nil
}

// ListPersonas implements experiment.Store.
func (s *Store) ListPersonas(ctx context.Context) ([]*experiment.Persona, error) {
	return queryDocs[*experiment.Persona](ctx, s.r, "personas", `SELECT doc FROM personas ORDER BY key`)
}
