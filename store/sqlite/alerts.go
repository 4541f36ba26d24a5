package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
)

// OpenAlerts returns the open alerts of the experiment ("" for all),
// oldest first.
func (s *Store) OpenAlerts(ctx context.Context, experimentKey string) ([]health.Alert, error) {
	q := `SELECT doc FROM alerts WHERE status = 'open'`
	var args []any
	if experimentKey != "" {
		q += ` AND experiment = ?`
		args = append(args, experimentKey)
	}
	return s.queryAlerts(ctx, q+` ORDER BY opened_at, id`, args...)
}

// ListAlerts returns alerts matching f, newest opened first.
func (s *Store) ListAlerts(ctx context.Context, f health.Filter) ([]health.Alert, error) {
	var where []string
	var args []any
	if f.Experiment != "" {
		where, args = append(where, "experiment = ?"), append(args, f.Experiment)
	}
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, string(f.Status))
	}
	if f.Check != "" {
		where, args = append(where, "check_name = ?"), append(args, string(f.Check))
	}
	q := `SELECT doc FROM alerts`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	limit := f.Limit
	if limit <= 0 || limit > health.MaxLimit {
		limit = health.DefaultLimit
	}
	args = append(args, limit)
	return s.queryAlerts(ctx, q+` ORDER BY opened_at DESC, id LIMIT ?`, args...)
}

func (s *Store) queryAlerts(ctx context.Context, q string, args ...any) ([]health.Alert, error) {
	return queryDocs[health.Alert](ctx, s.r, "alerts", q, args...)
}

// GetAlert returns the alert and its events, oldest first.
func (s *Store) GetAlert(ctx context.Context, id string) (health.Alert, []health.AlertEvent, error) {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT doc FROM alerts WHERE id = ?`, id).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return health.Alert{}, nil, fmt.Errorf("alert %q: %w", id, experiment.ErrNotFound)
	}
	if err != nil {
		return health.Alert{}, nil, fmt.Errorf("get alert %s: %w", id, err)
	}
	var a health.Alert
	if err := json.Unmarshal([]byte(doc), &a); err != nil {
		return health.Alert{}, nil, fmt.Errorf("decode alert %s: %w", id, err)
	}
	evs, err := queryDocs[health.AlertEvent](ctx, s.r, "alert events", `SELECT doc FROM alert_events WHERE alert_id = ? ORDER BY id`, id)
	if err != nil {
		return health.Alert{}, nil, fmt.Errorf("events of alert %s: %w", id, err)
	}
	return a, evs, nil
}

// CreateAlert stores a new open alert and its "opened" event in one
// transaction; a second open alert for the same condition is
// experiment.ErrAlreadyExists.
func (s *Store) CreateAlert(ctx context.Context, a health.Alert, ev health.AlertEvent) error {
	doc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO alerts (id, experiment, dedupe_key, status, check_name, opened_at, doc) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			a.ID, a.Experiment, a.DedupeKey(), string(a.Status), string(a.Check), a.OpenedAt.UnixNano(), string(doc))
		if isUniqueViolation(err) {
			return fmt.Errorf("open alert %s: %w", a.DedupeKey(), experiment.ErrAlreadyExists)
		}
		if err != nil {
			return fmt.Errorf("insert alert: %w", err)
		}
		return addAlertEvent(ctx, tx, ev)
	})
}

// UpdateAlert replaces the alert's document and status, appending ev.
func (s *Store) UpdateAlert(ctx context.Context, a health.Alert, ev *health.AlertEvent) error {
	doc, err := json.Marshal(a)
	if err != nil {
		return fmt.Errorf("encode alert: %w", err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE alerts SET status = ?, doc = ? WHERE id = ?`, string(a.Status), string(doc), a.ID)
		if err != nil {
			return fmt.Errorf("update alert %s: %w", a.ID, err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return fmt.Errorf("alert %q: %w", a.ID, experiment.ErrNotFound)
		}
		if ev == nil {
			return nil
		}
		return addAlertEvent(ctx, tx, *ev)
	})
}

func addAlertEvent(ctx context.Context, tx *sql.Tx, ev health.AlertEvent) error {
	doc, err := json.Marshal(ev)
	if err != nil {
		return fmt.Errorf("encode alert event: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO alert_events (alert_id, doc) VALUES (?, ?)`, ev.AlertID, string(doc)); err != nil {
		return fmt.Errorf("insert alert event: %w", err)
	}
	return nil
}

// GetSettings returns the experiment's health settings (zero when none).
func (s *Store) GetSettings(ctx context.Context, experimentKey string) (health.Settings, error) {
	var out health.Settings
	return out, s.getExperimentDoc(ctx, "health_settings", experimentKey, &out)
}

// PutSettings stores the experiment's health settings.
func (s *Store) PutSettings(ctx context.Context, experimentKey string, hs health.Settings) error {
	return s.putExperimentDoc(ctx, "health_settings", experimentKey, hs)
}

// GetState returns what the health checks remembered about the experiment.
func (s *Store) GetState(ctx context.Context, experimentKey string) (health.ActivityState, error) {
	var out health.ActivityState
	return out, s.getExperimentDoc(ctx, "health_state", experimentKey, &out)
}

// PutState replaces what the health checks remember about the experiment.
func (s *Store) PutState(ctx context.Context, experimentKey string, hs health.ActivityState) error {
	return s.putExperimentDoc(ctx, "health_state", experimentKey, hs)
}

// getExperimentDoc decodes the JSON document of one experiment from table
// (health_settings or health_state; our own constant, never input) into
// out, leaving out untouched when there is none.
func (s *Store) getExperimentDoc(ctx context.Context, table, experimentKey string, out any) error {
	var doc string
	err := s.r.QueryRowContext(ctx, `SELECT doc FROM `+table+` WHERE experiment = ?`, experimentKey).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s of %s: %w", table, experimentKey, err)
	}
	if err := json.Unmarshal([]byte(doc), out); err != nil {
		return fmt.Errorf("decode %s of %s: %w", table, experimentKey, err)
	}
	return nil
}

// putExperimentDoc replaces the JSON document of one experiment in table.
func (s *Store) putExperimentDoc(ctx context.Context, table, experimentKey string, v any) error {
	doc, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", table, err)
	}
	_, err = s.w.ExecContext(ctx, `INSERT INTO `+table+` (experiment, doc) VALUES (?, ?)
		ON CONFLICT (experiment) DO UPDATE SET doc = excluded.doc`, experimentKey, string(doc))
	if err != nil {
		return fmt.Errorf("store %s of %s: %w", table, experimentKey, err)
	}
	return nil
}

// AddDelivery appends one attempt to the delivery log.
func (s *Store) AddDelivery(ctx context.Context, d health.Delivery) error {
	doc, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("encode delivery: %w", err)
	}
	if _, err := s.w.ExecContext(ctx, `INSERT INTO webhook_deliveries (alert_id, doc) VALUES (?, ?)`, d.AlertID, string(doc)); err != nil {
		return fmt.Errorf("log delivery: %w", err)
	}
	return nil
}

// ListDeliveries returns the newest attempts first, of one alert when
// alertID is not "".
func (s *Store) ListDeliveries(ctx context.Context, alertID string, limit int) ([]health.Delivery, error) {
	if limit <= 0 || limit > health.MaxLimit {
		limit = health.DefaultLimit
	}
	q, args := `SELECT doc FROM webhook_deliveries ORDER BY seq DESC LIMIT ?`, []any{limit}
	if alertID != "" {
		q, args = `SELECT doc FROM webhook_deliveries WHERE alert_id = ? ORDER BY seq DESC LIMIT ?`, []any{alertID, limit}
	}
	return queryDocs[health.Delivery](ctx, s.r, "deliveries", q, args...)
}
