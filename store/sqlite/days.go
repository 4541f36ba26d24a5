package sqlite

import (
	"context"
	"fmt"
	"strings"

	engine "github.com/journeylab/journeylab/outcomes"
)

// The SQLite store feeds the days-since-exposure view.
var _ engine.DayStore = (*Store)(nil)

// ExposuresAfter implements outcomes.DayStore: a range of the exposures
// table's primary key, read outside the writer.
func (s *Store) ExposuresAfter(ctx context.Context, exp, after string, limit int) ([]*engine.Exposure, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id, variant, at FROM exposures WHERE experiment = ? AND unit_id > ? ORDER BY unit_id LIMIT ?`, exp, after, limit)
	if err != nil {
		return nil, fmt.Errorf("list exposures of %s: %w", exp, err)
	}
	defer rows.Close()
	var out []*engine.Exposure
	for rows.Next() {
		x := &engine.Exposure{Experiment: exp}
		if err := rows.Scan(&x.Unit, &x.Variant, &x.At); err != nil {
			return nil, fmt.Errorf("scan exposure: %w", err)
		}
		out = append(out, x)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list exposures of %s: %w", exp, err)
	}
	return out, nil
}

// EventsNamed implements outcomes.DayStore with one query over the events
// primary key (unit_id first) for all units.
func (s *Store) EventsNamed(ctx context.Context, units, names []string) (map[string][]engine.Event, error) {
	out := map[string][]engine.Event{}
	if len(units) == 0 || len(names) == 0 {
		return out, nil
	}
	list, err := jsonList(units)
	if err != nil {
		return nil, err
	}
	args := []any{list}
	for _, n := range names {
		args = append(args, n)
	}
	return readEvents(ctx, s.r, `SELECT unit_id, seq, event_id, event, value, ts FROM events
		WHERE unit_id IN (SELECT value FROM json_each(?)) AND event IN (?`+strings.Repeat(", ?", len(names)-1)+`) ORDER BY unit_id, seq`, args...)
}
