package sqlite

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/journey"
)

// backfillChunk is how many stored events one backfill transaction folds.
const backfillChunk = 5000

// backfillJourney fills the journey map's aggregates from the stored events
// when there are events but no journey rows: a database written before the
// journey map existed. It runs once, at open, before anything else writes.
// It reads the events in their storage order (by unit, no sort), puts each
// unit's events in time order (so none is late) and folds whole units in
// transactions of about backfillChunk events with the same code as
// ingestion.
func (s *Store) backfillJourney(ctx context.Context) error {
	var pending bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM events) AND NOT EXISTS (SELECT 1 FROM journey_units)`).Scan(&pending); err != nil {
		return fmt.Errorf("check the journey aggregates: %w", err)
	}
	if !pending {
		return nil
	}
	ms, err := s.ListMetrics(ctx)
	if err != nil {
		return fmt.Errorf("journey backfill: %w", err)
	}
	stages := experiment.StageBits(ms)
	rows, err := s.r.QueryContext(ctx, `SELECT unit_id, event, value, ts FROM events`)
	if err != nil {
		return fmt.Errorf("journey backfill: read events: %w", err)
	}
	defer rows.Close()
	var chunk []journey.Event
	unitStart := 0
	fold := func() error {
		err := s.inTx(ctx, func(tx *sql.Tx) error { return journey.Record(ctx, journeyTx{tx}, chunk, stages) })
		chunk, unitStart = chunk[:0], 0
		return err
	}
	// endUnit puts the last unit's events in time order and folds the
	// chunk once it is full.
	endUnit := func() error {
		unit := chunk[unitStart:]
		slices.SortStableFunc(unit, func(a, b journey.Event) int { return cmp.Compare(a.TS, b.TS) })
		if len(chunk) >= backfillChunk {
			return fold()
		}
		unitStart = len(chunk)
		return nil
	}
	for rows.Next() {
		var ev journey.Event
		if err := rows.Scan(&ev.Unit, &ev.Name, &ev.Value, &ev.TS); err != nil {
			return fmt.Errorf("journey backfill: scan event: %w", err)
		}
		if len(chunk) > unitStart && chunk[unitStart].Unit != ev.Unit {
			if err := endUnit(); err != nil {
				return fmt.Errorf("journey backfill: %w", err)
			}
		}
		chunk = append(chunk, ev)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journey backfill: read events: %w", err)
	}
	if len(chunk) > 0 {
		if err := endUnit(); err != nil {
			return fmt.Errorf("journey backfill: %w", err)
		}
	}
	if len(chunk) > 0 {
		if err := fold(); err != nil {
			return fmt.Errorf("journey backfill: %w", err)
		}
	}
	return nil
}
