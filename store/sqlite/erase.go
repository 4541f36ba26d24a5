package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/journeylab/journeylab/events"
	engine "github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/privacy"
)

// eraseChunk is how many units one erasure transaction covers: large
// enough to share the fsync, small enough not to hold the writer long.
const eraseChunk = 500

// EraseUnits implements privacy.Store. Per chunk of units, in one
// transaction: every rollup's contribution is subtracted from
// metric_totals and segment_totals (the outcomes engine's change with an
// empty new rollup, as when a unit's events stop counting), every exposure
// from exposure_counts and segment_counts; then the unit's rollups,
// exposures and events are deleted, totals rows left with nothing counted
// are removed (a rebuild would not write them), and the audit row of each
// unit's hash is written.
//
// secure_delete is on while erasing (the writer is one connection), so
// that SQLite overwrites the freed content instead of leaving it in free
// pages; the old page images in the WAL are gone at the next checkpoint.
func (s *Store) EraseUnits(ctx context.Context, units []privacy.Unit, at time.Time) (privacy.Erased, error) {
	var total privacy.Erased
	if _, err := s.w.ExecContext(ctx, `PRAGMA secure_delete = ON`); err != nil {
		return total, fmt.Errorf("erase: %w", err)
	}
	// Best effort: left on, it only costs I/O on later deletes.
	defer func() { _, _ = s.w.ExecContext(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`) }()
	for start := 0; start < len(units); start += eraseChunk {
		chunk := units[start:min(start+eraseChunk, len(units))]
		var got privacy.Erased
		err := s.inTx(ctx, func(tx *sql.Tx) error {
			var err error
			got, err = s.eraseChunk(ctx, tx, chunk, at)
			return err
		})
		if err != nil {
			return total, err
		}
		total = total.Add(got)
	}
	return total, nil
}

func (s *Store) eraseChunk(ctx context.Context, tx *sql.Tx, units []privacy.Unit, at time.Time) (privacy.Erased, error) {
	out := privacy.Erased{Units: int64(len(units))}
	ids := make([]string, len(units))
	for i, u := range units {
		ids[i] = u.ID
	}
	list, err := jsonList(ids)
	if err != nil {
		return out, err
	}
	cfg, err := s.attribution(ctx, tx)
	if err != nil {
		return out, err
	}
	pending, err := segmentPending(ctx, tx)
	if err != nil {
		return out, err
	}
	xs, err := engineTx{tx}.ExposuresOf(ctx, ids)
	if err != nil {
		return out, err
	}
	// Exposures leave the counts; each experiment's units are collected
	// for its rollups.
	byExp := map[string][]string{}
	exposure := map[[2]string]*engine.Exposure{}
	counts := map[countKey]int64{}
	var ckeys []countKey
	seg := newSegmentWrites()
	for _, unitXs := range xs {
		for _, x := range unitXs {
			byExp[x.Experiment] = append(byExp[x.Experiment], x.Unit)
			exposure[[2]string{x.Experiment, x.Unit}] = x
			ck := countKey{x.Experiment, x.Variant, x.Day()}
			if counts[ck] == 0 {
				ckeys = append(ckeys, ck)
			}
			counts[ck]--
			if segmentsCover(pending, x.Experiment, x.Unit) {
				attrs, _ := x.Attrs.(map[string]string)
				segs, _ := exposureSegments(attrs)
				seg.removeExposure(x.Experiment, x.Variant, x.Day(), segs)
			}
		}
	}
	exps := make([]string, 0, len(byExp))
	for exp := range byExp {
		exps = append(exps, exp)
	}
	slices.Sort(exps)
	var cs []*engine.Change
	for _, exp := range exps {
		rollups, err := engineTx{tx}.RollupsOf(ctx, exp, byExp[exp])
		if err != nil {
			return out, err
		}
		var rules []events.Rule
		if er := cfg.Experiments[exp]; er != nil {
			rules = er.Rules
		}
		for k, st := range rollups {
			i := slices.IndexFunc(rules, func(r events.Rule) bool { return r.Metric.Key == k.Metric })
			x := exposure[[2]string{exp, k.Unit}]
			if i < 0 || x == nil {
				// A metric no longer attributed: no maintained total
				// reads it; the rollup is deleted below.
				continue
			}
			cs = append(cs, &engine.Change{Key: k, Rule: &rules[i], Exposure: x, Exists: true, Old: st.Rollup})
		}
	}
	// Map order must not decide the order totals are subtracted in.
	slices.SortFunc(cs, func(a, b *engine.Change) int {
		if c := strings.Compare(a.Experiment, b.Experiment); c != 0 {
			return c
		}
		if c := strings.Compare(a.Unit, b.Unit); c != 0 {
			return c
		}
		return strings.Compare(a.Metric, b.Metric)
	})
	if err := writeChanges(ctx, tx, cs, segmentMode{pending: pending}, seg); err != nil {
		return out, err
	}
	if err := addExposureCounts(ctx, tx, ckeys, counts); err != nil {
		return out, err
	}
	if err := seg.write(ctx, tx); err != nil {
		return out, err
	}
	for _, exp := range exps {
		n, err := execCount(ctx, tx, `DELETE FROM unit_metrics WHERE experiment = ? AND unit_id IN (SELECT value FROM json_each(?))`, exp, list)
		if err != nil {
			return out, fmt.Errorf("erase rollups: %w", err)
		}
		out.Rollups += n
		if _, err := tx.ExecContext(ctx, `DELETE FROM exposure_conflicts WHERE experiment = ? AND unit_id IN (SELECT value FROM json_each(?))`, exp, list); err != nil {
			return out, fmt.Errorf("erase exposure conflicts: %w", err)
		}
		if err := pruneTotals(ctx, tx, exp); err != nil {
			return out, err
		}
	}
	out.Rollups += int64(len(cs))
	if out.Exposures, err = execCount(ctx, tx, `DELETE FROM exposures WHERE unit_id IN (SELECT value FROM json_each(?))`, list); err != nil {
		return out, fmt.Errorf("erase exposures: %w", err)
	}
	if out.Events, err = execCount(ctx, tx, `DELETE FROM events WHERE unit_id IN (SELECT value FROM json_each(?))`, list); err != nil {
		return out, fmt.Errorf("erase events: %w", err)
	}
	// The journey map keeps anonymous daily counts; the unit's own row goes.
	if _, err := tx.ExecContext(ctx, `DELETE FROM journey_units WHERE unit_id IN (SELECT value FROM json_each(?))`, list); err != nil {
		return out, fmt.Errorf("erase journey unit: %w", err)
	}
	audit, err := tx.PrepareContext(ctx, `INSERT INTO erasures (hash, first_at, last_at, requests) VALUES (?, ?, ?, 1)
		ON CONFLICT (hash) DO UPDATE SET last_at = excluded.last_at, requests = requests + 1`)
	if err != nil {
		return out, fmt.Errorf("prepare erasure audit: %w", err)
	}
	defer audit.Close()
	for _, u := range units {
		if _, err := audit.ExecContext(ctx, u.Hash, at.UnixNano(), at.UnixNano()); err != nil {
			return out, fmt.Errorf("audit erasure: %w", err)
		}
	}
	return out, nil
}

// pruneTotals removes the experiment's totals rows that count nothing any
// more: counts at zero, totals of a (variant, day) or segment cell nobody
// is exposed in (whatever float residue the subtraction left), and totals
// whose every sum is zero. A rebuild writes none of them.
func pruneTotals(ctx context.Context, tx *sql.Tx, exp string) error {
	for _, q := range []string{
		`DELETE FROM metric_totals WHERE experiment = ?1 AND NOT EXISTS (SELECT 1 FROM exposure_counts c
			WHERE c.experiment = ?1 AND c.variant = metric_totals.variant AND c.day = metric_totals.day AND c.n > 0)`,
		`DELETE FROM segment_totals WHERE experiment = ?1 AND NOT EXISTS (SELECT 1 FROM segment_counts c
			WHERE c.experiment = ?1 AND c.dimension = segment_totals.dimension AND c.segment = segment_totals.segment
			AND c.variant = segment_totals.variant AND c.day = segment_totals.day AND c.n > 0)`,
		`DELETE FROM metric_totals WHERE experiment = ?1 AND n = 0 AND sum = 0 AND sum_sq = 0 AND den_sum = 0 AND den_sum_sq = 0
			AND sum_num_den = 0 AND pre_sum = 0 AND pre_sum_sq = 0 AND sum_pre_post = 0`,
		`DELETE FROM segment_totals WHERE experiment = ?1 AND n = 0 AND sum = 0 AND sum_sq = 0 AND den_sum = 0 AND den_sum_sq = 0
			AND sum_num_den = 0 AND pre_sum = 0 AND pre_sum_sq = 0 AND sum_pre_post = 0`,
		`DELETE FROM exposure_counts WHERE experiment = ?1 AND n <= 0`,
		`DELETE FROM segment_counts WHERE experiment = ?1 AND n <= 0`,
	} {
		if _, err := tx.ExecContext(ctx, q, exp); err != nil {
			return fmt.Errorf("prune totals of %s: %w", exp, err)
		}
	}
	return nil
}

// removeExposure uncounts one exposure from its segments.
func (w *segmentWrites) removeExposure(exp, variant string, day int64, segs []segment) {
	for _, sg := range segs {
		k := segCountKey{exp, sg.dim, sg.value, variant, day}
		if _, ok := w.counts[k]; !ok {
			w.ckeys = append(w.ckeys, k)
		}
		w.counts[k]--
	}
}

func execCount(ctx context.Context, tx *sql.Tx, q string, args ...any) (int64, error) {
	res, err := tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ErasedAmong implements privacy.Store.
func (s *Store) ErasedAmong(ctx context.Context, hashes []string) (map[string]bool, error) {
	list, err := jsonList(hashes)
	if err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT hash FROM erasures WHERE hash IN (SELECT value FROM json_each(?))`, list)
	if err != nil {
		return nil, fmt.Errorf("read erasures: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var h string
		if err := rows.Scan(&h); err != nil {
			return nil, fmt.Errorf("scan erasure: %w", err)
		}
		out[h] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read erasures: %w", err)
	}
	return out, nil
}

// AnyErased implements privacy.Store.
func (s *Store) AnyErased(ctx context.Context) (bool, error) {
	var any bool
	if err := s.r.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM erasures)`).Scan(&any); err != nil {
		return false, fmt.Errorf("read erasures: %w", err)
	}
	return any, nil
}
