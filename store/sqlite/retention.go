package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// expireChunk is how many units one retention transaction covers.
const expireChunk = 1000

// ExpireEvents implements privacy.ExpiringStore. It walks the units with
// raw events in key order, a chunk per transaction (the writer is never
// held long), deleting the chunk's events before `before` unless the unit
// has an exposure to an experiment in keep. secure_delete is on meanwhile,
// as for erasures.
func (s *Store) ExpireEvents(ctx context.Context, before time.Time, keep []string) (int64, error) {
	keepList, err := jsonList(keep)
	if err != nil {
		return 0, err
	}
	if _, err := s.w.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return 0, fmt.Errorf("expire events: %w", err)
	}
	defer func() { _, _ = s.w.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`) }()
	var total int64
	after := ""
	for {
		units, err := s.eventUnits(ctx, after)
		if err != nil {
			return total, err
		}
		if len(units) == 0 {
			return total, nil
		}
		list, err := jsonList(units)
		if err != nil {
			return total, err
		}
		err = s.inTx(ctx, func(tx *sql.Tx) error {
			n, err := execCount(ctx, tx, `DELETE FROM events WHERE unit_id IN (SELECT value FROM json_each(?1)) AND ts < ?2
				AND unit_id NOT IN (SELECT unit_id FROM exposures WHERE unit_id IN (SELECT value FROM json_each(?1))
					AND experiment IN (SELECT value FROM json_each(?3)))`, list, before.UnixNano(), keepList)
			total += n
			return err
		})
		if err != nil {
			return total, fmt.Errorf("expire events: %w", err)
		}
		after = units[len(units)-1]
	}
}

// eventUnits returns the next units with raw events after unit `after`.
func (s *Store) eventUnits(ctx context.Context, after string) ([]string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT DISTINCT unit_id FROM events WHERE unit_id > ? ORDER BY unit_id LIMIT ?`, after, expireChunk)
	if err != nil {
		return nil, fmt.Errorf("list units with events: %w", err)
	}
	return scanUnits(rows)
}

// scanUnits reads a one-column result of unit ids and closes it.
func scanUnits(rows *sql.Rows) ([]string, error) {
	defer rows.Close()
	var out []string
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return nil, fmt.Errorf("scan unit: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}
