package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/journeylab/journeylab/eventnames"
)

// AddUnknownEvents implements eventnames.Store in one transaction: adds
// the counts, widens the first and last seen times, and keeps the
// eventnames.MaxNames most frequent names.
func (s *Store) AddUnknownEvents(ctx context.Context, seen []eventnames.Seen) error {
	if len(seen) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, `INSERT INTO unknown_events (name, count, first_seen, last_seen) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET count = count + excluded.count,
				first_seen = min(first_seen, excluded.first_seen), last_seen = max(last_seen, excluded.last_seen)`)
		if err != nil {
			return fmt.Errorf("prepare unknown event names: %w", err)
		}
		defer stmt.Close()
		for _, x := range seen {
			if _, err := stmt.ExecContext(ctx, x.Name, x.Count, x.FirstSeen.UnixNano(), x.LastSeen.UnixNano()); err != nil {
				return fmt.Errorf("add unknown event name %q: %w", x.Name, err)
			}
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM unknown_events WHERE name NOT IN
			(SELECT name FROM unknown_events ORDER BY count DESC, name LIMIT ?)`, eventnames.MaxNames)
		if err != nil {
			return fmt.Errorf("keep the most frequent unknown event names: %w", err)
		}
		return nil
	})
}

// UnknownEvents implements eventnames.Store.
func (s *Store) UnknownEvents(ctx context.Context, limit int) ([]eventnames.Seen, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, count, first_seen, last_seen FROM unknown_events ORDER BY count DESC, name LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list unknown event names: %w", err)
	}
	defer rows.Close()
	var out []eventnames.Seen
	for rows.Next() {
		var x eventnames.Seen
		var first, last int64
		if err := rows.Scan(&x.Name, &x.Count, &first, &last); err != nil {
			return nil, fmt.Errorf("read unknown event name: %w", err)
		}
		x.FirstSeen, x.LastSeen = time.Unix(0, first).UTC(), time.Unix(0, last).UTC()
		out = append(out, x)
	}
	return out, rows.Err()
}
