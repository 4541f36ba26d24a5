package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/experiment"
)

// CreateKey implements auth.KeyStore.
func (s *Store) CreateKey(ctx context.Context, k auth.Key) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO api_keys (id, name, scope, hash, created_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Name, string(k.Scope), k.Hash, k.CreatedAt.UTC().Format(time.RFC3339Nano))
	if isUniqueViolation(err) {
		return fmt.Errorf("key %q: %w", k.ID, experiment.ErrAlreadyExists)
	}
	if err != nil {
		return s.writeErr(fmt.Errorf("insert key: %w", err))
	}
	return nil
}

// RevokeKey implements auth.KeyStore.
func (s *Store) RevokeKey(ctx context.Context, id string, at time.Time, actor string) (auth.Key, error) {
	var k auth.Key
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND revoked_at IS NULL`,
			at.UTC().Format(time.RFC3339Nano), actor, id); err != nil {
			return fmt.Errorf("revoke key: %w", err)
		}
		var err error
		k, err = scanKey(tx.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id).Scan)
		if errors.Is(err, sql.ErrNoRows) {
			return auth.ErrUnknownKey
		}
		return err
	})
	return k, err
}

// keyColumns are the api_keys columns scanKey reads, in its order.
const keyColumns = "id, name, scope, hash, created_at, revoked_at, revoked_by"

// GetKey implements auth.KeyStore; a missing key is auth.ErrUnknownKey.
func (s *Store) GetKey(ctx context.Context, id string) (auth.Key, error) {
	row := s.r.QueryRowContext(ctx, `SELECT `+keyColumns+` FROM api_keys WHERE id = ?`, id)
	k, err := scanKey(row.Scan)
	if errors.Is(err, sql.ErrNoRows) {
		return auth.Key{}, auth.ErrUnknownKey
	}
	return k, err
}

// ListKeys implements auth.KeyStore.
func (s *Store) ListKeys(ctx context.Context) ([]auth.Key, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+keyColumns+` FROM api_keys ORDER BY created_at`)
	if err != nil {
		return nil, fmt.Errorf("list keys: %w", err)
	}
	defer rows.Close()
	var out []auth.Key
	for rows.Next() {
		k, err := scanKey(rows.Scan)
		if err != nil {
			return nil, err
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func scanKey(scan func(...any) error) (auth.Key, error) {
	var k auth.Key
	var scope, created string
	var revoked, revokedBy sql.NullString
	if err := scan(&k.ID, &k.Name, &scope, &k.Hash, &created, &revoked, &revokedBy); err != nil {
		return auth.Key{}, err
	}
	k.Scope = auth.Scope(scope)
	t, err := time.Parse(time.RFC3339Nano, created)
	if err != nil {
		return auth.Key{}, fmt.Errorf("parse key time: %w", err)
	}
	k.CreatedAt = t
	if revoked.Valid {
		r, err := time.Parse(time.RFC3339Nano, revoked.String)
		if err != nil {
			return auth.Key{}, fmt.Errorf("parse revoke time: %w", err)
		}
		k.RevokedAt = &r
		k.RevokedBy = revokedBy.String
	}
	return k, nil
}
