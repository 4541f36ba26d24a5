package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/journeylab/journeylab/experiment"
)

// CreateMetric implements experiment.Store.
func (s *Store) CreateMetric(ctx context.Context, m experiment.Metric) error {
	doc, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("encode metric: %w", err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO metrics (key, stage, doc) VALUES (?, ?, ?)`, m.Key, string(m.Stage), string(doc))
	if isUniqueViolation(err) {
		return fmt.Errorf("metric %q: %w", m.Key, experiment.ErrAlreadyExists)
	}
	if err != nil {
		return s.writeErr(fmt.Errorf("insert metric: %w", err))
	}
	return nil
}

// GetMetric implements experiment.Store.
func (s *Store) GetMetric(ctx context.Context, key string) (experiment.Metric, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT doc FROM metrics WHERE key = ?`, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return experiment.Metric{}, fmt.Errorf("metric %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return experiment.Metric{}, fmt.Errorf("select metric: %w", err)
	}
	var m experiment.Metric
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		return experiment.Metric{}, fmt.Errorf("decode metric %q: %w", key, err)
	}
	return m, nil
}

// ListMetrics implements experiment.Store.
func (s *Store) ListMetrics(ctx context.Context) ([]experiment.Metric, error) {
	out, err := queryDocs[experiment.Metric](ctx, s.r, "metrics", `SELECT doc FROM metrics`)
	if err != nil {
		return nil, err
	}
	experiment.SortMetrics(out)
	return out, nil
}

// PutLayer implements experiment.Store.
func (s *Store) PutLayer(ctx context.Context, l experiment.Layer) error {
	doc, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("encode layer: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO layers (key, doc) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET doc = excluded.doc`, l.Key, string(doc)); err != nil {
			return fmt.Errorf("upsert layer: %w", err)
		}
		return bumpConfigVersion(ctx, tx)
	})
}

// GetLayer implements experiment.Store.
func (s *Store) GetLayer(ctx context.Context, key string) (experiment.Layer, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT doc FROM layers WHERE key = ?`, key).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return experiment.Layer{}, fmt.Errorf("layer %q: %w", key, experiment.ErrNotFound)
	}
	if err != nil {
		return experiment.Layer{}, fmt.Errorf("select layer: %w", err)
	}
	var l experiment.Layer
	if err := json.Unmarshal([]byte(doc), &l); err != nil {
		return experiment.Layer{}, fmt.Errorf("decode layer %q: %w", key, err)
	}
	return l, nil
}

// ListLayers implements experiment.Store.
func (s *Store) ListLayers(ctx context.Context) ([]experiment.Layer, error) {
	return queryDocs[experiment.Layer](ctx, s.r, "layers", `SELECT doc FROM layers ORDER BY key`)
}
