package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/journeylab/journeylab/journey"
	"github.com/journeylab/journeylab/report"
)

// journeyTx is the journey recorder's I/O inside the event batch's write
// transaction (journey.Store).
type journeyTx struct{ tx *sql.Tx }

// JourneyBits implements journey.Store.
func (j journeyTx) JourneyBits(ctx context.Context) (map[string]uint, error) {
	return readJourneyBits(ctx, j.tx)
}

// queryer is what reads need from a transaction or the read pool.
type queryer interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

func readJourneyBits(ctx context.Context, q queryer) (map[string]uint, error) {
	rows, err := q.QueryContext(ctx, `SELECT event, bit FROM journey_bits`)
	if err != nil {
		return nil, fmt.Errorf("read journey bits: %w", err)
	}
	defer rows.Close()
	out := map[string]uint{}
	for rows.Next() {
		var ev string
		var bit uint
		if err := rows.Scan(&ev, &bit); err != nil {
			return nil, fmt.Errorf("scan journey bit: %w", err)
		}
		out[ev] = bit
	}
	return out, rows.Err()
}

// AddJourneyBits implements journey.Store.
func (j journeyTx) AddJourneyBits(ctx context.Context, bits map[string]uint) error {
	for ev, b := range bits {
		if _, err := j.tx.ExecContext(ctx, `INSERT INTO journey_bits (event, bit) VALUES (?, ?)`, ev, b); err != nil {
			return fmt.Errorf("add journey bit of %q: %w", ev, err)
		}
	}
	return nil
}

// JourneyEventCounts implements journey.Store: a range read of each
// unit's stored events (the events table is clustered by unit).
func (j journeyTx) JourneyEventCounts(ctx context.Context, keys []journey.DayUnit) (map[journey.DayUnit]map[string]int64, error) {
	st, err := j.tx.PrepareContext(ctx, `SELECT event, COUNT(*) FROM events WHERE unit_id = ? AND ts >= ? AND ts < ? GROUP BY event`)
	if err != nil {
		return nil, fmt.Errorf("prepare earlier-day read: %w", err)
	}
	defer st.Close()
	out := make(map[journey.DayUnit]map[string]int64, len(keys))
	for _, k := range keys {
		from := k.Day * int64(86400e9)
		if err := func() error {
			rows, err := st.QueryContext(ctx, k.Unit, from, from+int64(86400e9))
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var ev string
				var n int64
				if err := rows.Scan(&ev, &n); err != nil {
					return err
				}
				if out[k] == nil {
					out[k] = map[string]int64{}
				}
				out[k][ev] = n
			}
			return rows.Err()
		}(); err != nil {
			return nil, fmt.Errorf("read events of %q on day %d: %w", k.Unit, k.Day, err)
		}
	}
	return out, nil
}

// JourneyUnits implements journey.Store with one query for the batch.
func (j journeyTx) JourneyUnits(ctx context.Context, units []string) (map[string]journey.UnitState, error) {
	list, err := jsonList(units)
	if err != nil {
		return nil, err
	}
	rows, err := j.tx.QueryContext(ctx, `SELECT unit_id, first_day, stages, day, day_mask FROM journey_units
		WHERE unit_id IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, fmt.Errorf("read journey units: %w", err)
	}
	defer rows.Close()
	out := make(map[string]journey.UnitState, len(units))
	for rows.Next() {
		var u string
		var st journey.UnitState
		if err := rows.Scan(&u, &st.FirstDay, &st.Stages, &st.Day, &st.DayMask); err != nil {
			return nil, fmt.Errorf("scan journey unit: %w", err)
		}
		out[u] = st
	}
	return out, rows.Err()
}

// WriteJourney implements journey.Store: multi-row upserts of the unit
// rows, additive upserts of the aggregates.
func (j journeyTx) WriteJourney(ctx context.Context, c journey.Changes) error {
	if len(c.Units) > 0 {
		args := make([]any, 0, 5*len(c.Units))
		for u, st := range c.Units {
			args = append(args, u, st.FirstDay, st.Stages, st.Day, st.DayMask)
		}
		b := newBulk(j.tx, `INSERT INTO journey_units (unit_id, first_day, stages, day, day_mask)`, 5,
			`ON CONFLICT (unit_id) DO UPDATE SET first_day = excluded.first_day, stages = excluded.stages,
			day = excluded.day, day_mask = excluded.day_mask`)
		defer b.close()
		if err := b.exec(ctx, args); err != nil {
			return fmt.Errorf("upsert journey units: %w", err)
		}
	}
	if len(c.Daily) > 0 {
		st, err := j.tx.PrepareContext(ctx, `INSERT INTO journey_daily (day, event, units, count, sum, promoters, detractors)
			VALUES (?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (day, event) DO UPDATE SET units = units + excluded.units, count = count + excluded.count,
			sum = sum + excluded.sum, promoters = promoters + excluded.promoters, detractors = detractors + excluded.detractors`)
		if err != nil {
			return fmt.Errorf("prepare journey daily upsert: %w", err)
		}
		defer st.Close()
		for k, d := range c.Daily {
			if _, err := st.ExecContext(ctx, k.Day, k.Event, d.Units, d.Count, d.Sum, d.Promoters, d.Detractors); err != nil {
				return fmt.Errorf("add to journey daily: %w", err)
			}
		}
	}
	if len(c.Cohorts) > 0 {
		st, err := j.tx.PrepareContext(ctx, `INSERT INTO journey_cohorts (first_day, stages, units) VALUES (?, ?, ?)
			ON CONFLICT (first_day, stages) DO UPDATE SET units = units + excluded.units`)
		if err != nil {
			return fmt.Errorf("prepare journey cohort upsert: %w", err)
		}
		defer st.Close()
		for k, n := range c.Cohorts {
			if _, err := st.ExecContext(ctx, k.Day, k.Stages, n); err != nil {
				return fmt.Errorf("add to journey cohorts: %w", err)
			}
		}
	}
	return nil
}

// JourneyBits implements journey.Reader.
func (s *Store) JourneyBits(ctx context.Context) (map[string]uint, error) {
	return readJourneyBits(ctx, s.r)
}

// JourneyDaily implements journey.Reader: one range read of the primary key.
func (s *Store) JourneyDaily(ctx context.Context, from, to int64) (map[journey.DailyKey]journey.Daily, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT day, event, units, count, sum, promoters, detractors
		FROM journey_daily WHERE day >= ? AND day < ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("read journey daily: %w", err)
	}
	defer rows.Close()
	out := map[journey.DailyKey]journey.Daily{}
	for rows.Next() {
		var k journey.DailyKey
		var d journey.Daily
		if err := rows.Scan(&k.Day, &k.Event, &d.Units, &d.Count, &d.Sum, &d.Promoters, &d.Detractors); err != nil {
			return nil, fmt.Errorf("scan journey daily: %w", err)
		}
		out[k] = d
	}
	return out, rows.Err()
}

// JourneyCohorts implements journey.Reader.
func (s *Store) JourneyCohorts(ctx context.Context, from, to int64) (map[int64]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT stages, SUM(units) FROM journey_cohorts
		WHERE first_day >= ? AND first_day < ? GROUP BY stages`, from, to)
	if err != nil {
		return nil, fmt.Errorf("read journey cohorts: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var mask, n int64
		if err := rows.Scan(&mask, &n); err != nil {
			return nil, fmt.Errorf("scan journey cohort: %w", err)
		}
		if n != 0 {
			out[mask] = n
		}
	}
	return out, rows.Err()
}

// JourneyCohortSegments implements journey.Reader. It reads the cohort's
// units (not their events) with each one's earliest exposure: a scan of
// the journey's unit rows, one look-up per unit first seen in the range.
func (s *Store) JourneyCohortSegments(ctx context.Context, from, to int64, dim string) (map[string]map[int64]int64, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT u.stages,
		(SELECT x.attributes FROM exposures AS x WHERE x.unit_id = u.unit_id ORDER BY x.at LIMIT 1),
		EXISTS (SELECT 1 FROM exposures AS x WHERE x.unit_id = u.unit_id)
		FROM journey_units AS u WHERE u.first_day >= ? AND u.first_day < ?`, from, to)
	if err != nil {
		return nil, fmt.Errorf("read journey cohort units: %w", err)
	}
	defer rows.Close()
	out := map[string]map[int64]int64{}
	for rows.Next() {
		var mask int64
		var raw sql.NullString
		var exposed bool
		if err := rows.Scan(&mask, &raw, &exposed); err != nil {
			return nil, fmt.Errorf("scan journey cohort unit: %w", err)
		}
		v := journey.NotAssigned
		if exposed {
			attrs, err := decodeAttributes(raw)
			if err != nil {
				return nil, err
			}
			v = segmentValue(attrs, dim)
		}
		if out[v] == nil {
			out[v] = map[int64]int64{}
		}
		out[v][mask]++
	}
	return out, rows.Err()
}

// segmentValue is the unit's value of dim as report breakdowns name it.
func segmentValue(attrs map[string]string, dim string) string {
	if v := attrs[dim]; v != "" {
		return v
	}
	return report.NoSegment
}

var _ journey.Reader = (*Store)(nil)
