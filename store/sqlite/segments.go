package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

// Bounds of the maintained segment totals. Each attribute of an exposure
// multiplies the totals rows its unit's changes touch, so an exposure with
// more than maxSegmentDimensions queryable attributes gets no segment totals
// at all, and a value longer than maxSegmentValue bytes none for its
// attribute; every such attribute is recorded in segment_overflow, and the
// report scans units for it instead.
const (
	maxSegmentDimensions = 16
	maxSegmentValue      = 256
)

// segment is one exposure attribute as a dimension breakdown sees it.
type segment struct{ dim, value string }

// exposureSegments returns the segments the exposure's attributes get
// totals for, sorted by dimension, and the dimensions beyond the bounds.
// Names the report cannot query are ignored; empty values (and the literal
// "(none)") are left out, as they fall into the (none) segment, which is
// the plain totals minus the others.
func exposureSegments(attrs map[string]string) (segs []segment, overflow []string) {
	for k, v := range attrs {
		if !report.ValidDimension(k) {
			continue
		}
		if len(v) > maxSegmentValue {
			overflow = append(overflow, k)
			continue
		}
		segs = append(segs, segment{k, v})
	}
	if len(segs)+len(overflow) > maxSegmentDimensions {
		for _, sg := range segs {
			overflow = append(overflow, sg.dim)
		}
		segs = nil
	}
	n := 0
	for _, sg := range segs {
		if sg.value != "" && sg.value != report.NoSegment {
			segs[n] = sg
			n++
		}
	}
	segs = segs[:n]
	sort.Slice(segs, func(i, j int) bool { return segs[i].dim < segs[j].dim })
	sort.Strings(overflow)
	return segs, overflow
}

// decodeAttributes parses an exposure's stored attributes (NULL for none).
func decodeAttributes(raw sql.NullString) (map[string]string, error) {
	if !raw.Valid || raw.String == "" {
		return nil, nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(raw.String), &m); err != nil {
		return nil, fmt.Errorf("decode exposure attributes: %w", err)
	}
	return m, nil
}

// segmentPending returns, per experiment whose segment totals are being
// filled, the last unit they cover. It is usually empty.
func segmentPending(ctx context.Context, tx *sql.Tx) (map[string]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT experiment, done_through FROM segment_pending`)
	if err != nil {
		return nil, fmt.Errorf("read segment progress: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var exp, done string
		if err := rows.Scan(&exp, &done); err != nil {
			return nil, fmt.Errorf("scan segment progress: %w", err)
		}
		out[exp] = done
	}
	return out, rows.Err()
}

// segmentsCover reports whether the segment totals of exp include unit, so
// that its changes must move them.
func segmentsCover(pending map[string]string, exp, unit string) bool {
	done, ok := pending[exp]
	return !ok || unit <= done
}

type segTotalsKey struct {
	exp, dim, metric, seg, variant string
	day                            int64
}

type segCountKey struct {
	exp, dim, seg, variant string
	day                    int64
}

// segmentWrites collects the segment changes of one transaction.
type segmentWrites struct {
	totals   map[segTotalsKey]events.Contribution
	tkeys    []segTotalsKey
	counts   map[segCountKey]int64
	ckeys    []segCountKey
	overflow map[[2]string]bool
	okeys    [][2]string
}

func newSegmentWrites() *segmentWrites {
	return &segmentWrites{totals: map[segTotalsKey]events.Contribution{}, counts: map[segCountKey]int64{}, overflow: map[[2]string]bool{}}
}

func (w *segmentWrites) addTotal(k segTotalsKey, d events.Contribution) {
	if _, ok := w.totals[k]; !ok {
		w.tkeys = append(w.tkeys, k)
	}
	w.totals[k] = w.totals[k].Add(d)
}

// addExposure counts one exposure in its segments and records its
// dimensions beyond the bounds.
func (w *segmentWrites) addExposure(exp, variant string, day int64, segs []segment, overflow []string) {
	for _, sg := range segs {
		k := segCountKey{exp, sg.dim, sg.value, variant, day}
		if w.counts[k] == 0 {
			w.ckeys = append(w.ckeys, k)
		}
		w.counts[k]++
	}
	for _, d := range overflow {
		k := [2]string{exp, d}
		if !w.overflow[k] {
			w.overflow[k] = true
			w.okeys = append(w.okeys, k)
		}
	}
}

// write adds the collected changes to the segment tables.
func (w *segmentWrites) write(ctx context.Context, tx *sql.Tx) error {
	var args []any
	for _, k := range w.tkeys {
		d := w.totals[k]
		if d == (events.Contribution{}) {
			continue
		}
		args = append(args, k.exp, k.dim, k.metric, k.seg, k.variant, k.day, d.N, d.Sum, d.SumSq,
			d.DenSum, d.DenSumSq, d.SumNumDen, d.PreSum, d.PreSumSq, d.SumPrePost)
	}
	if len(args) > 0 {
		// One row per statement, as addTotals: a multi-row upsert costs
		// SQLite a statement journal.
		up := newBulk(tx, `INSERT INTO segment_totals (experiment, dimension, metric, segment, variant, day, n, sum, sum_sq, den_sum, den_sum_sq, sum_num_den, pre_sum, pre_sum_sq, sum_pre_post)`, 15,
			`ON CONFLICT (experiment, dimension, metric, segment, variant, day) DO UPDATE SET n = n + excluded.n, sum = sum + excluded.sum,
			sum_sq = sum_sq + excluded.sum_sq, den_sum = den_sum + excluded.den_sum, den_sum_sq = den_sum_sq + excluded.den_sum_sq,
			sum_num_den = sum_num_den + excluded.sum_num_den, pre_sum = pre_sum + excluded.pre_sum,
			pre_sum_sq = pre_sum_sq + excluded.pre_sum_sq, sum_pre_post = sum_pre_post + excluded.sum_pre_post`)
		defer up.close()
		if err := up.execRows(ctx, args); err != nil {
			return fmt.Errorf("add to segment totals: %w", err)
		}
	}
	args = args[:0]
	for _, k := range w.ckeys {
		args = append(args, k.exp, k.dim, k.seg, k.variant, k.day, w.counts[k])
	}
	if len(args) > 0 {
		up := newBulk(tx, `INSERT INTO segment_counts (experiment, dimension, segment, variant, day, n)`, 6,
			`ON CONFLICT (experiment, dimension, segment, variant, day) DO UPDATE SET n = n + excluded.n`)
		defer up.close()
		if err := up.execRows(ctx, args); err != nil {
			return fmt.Errorf("count segment exposures: %w", err)
		}
	}
	args = args[:0]
	for _, k := range w.okeys {
		args = append(args, k[0], k[1])
	}
	if len(args) > 0 {
		up := newBulk(tx, `INSERT OR IGNORE INTO segment_overflow (experiment, dimension)`, 2, "")
		defer up.close()
		if err := up.exec(ctx, args); err != nil {
			return fmt.Errorf("record segment overflow: %w", err)
		}
	}
	return nil
}

// segmentsMaintained reports whether the dimension's segment totals of exp
// are complete: no exposure exceeded the bounds for it and no fill is
// under way.
func (s *Store) segmentsMaintained(ctx context.Context, exp, dim string) (bool, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM segment_pending WHERE experiment = ?)
		+ (SELECT COUNT(*) FROM segment_overflow WHERE experiment = ? AND dimension = ?)`, exp, exp, dim).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("read segment state: %w", err)
	}
	return n == 0, nil
}

// maintainedSegmentCells reads the dimension's segment counts and totals;
// the (none) segment is what the plain totals have beyond them.
func (s *Store) maintainedSegmentCells(ctx context.Context, exp string, rule *events.Rule, dim string, set *cellSet) error {
	plain := &cellSet{daily: true, cells: map[report.CellKey]*stats.ArmStats{}}
	if err := s.totalCells(ctx, exp, rule.Metric, plain); err != nil {
		return err
	}
	nps := rule.Metric.Kind == experiment.KindNPS
	// exposed counts exposures per (variant, day), plain minus the segments'.
	exposed := map[report.CellKey]int64{}
	rows, err := s.r.QueryContext(ctx, `SELECT variant, day, n FROM exposure_counts WHERE experiment = ?`, exp)
	if err != nil {
		return fmt.Errorf("read exposure counts: %w", err)
	}
	for rows.Next() {
		var k report.CellKey
		var n int64
		if err := rows.Scan(&k.Variant, &k.Day, &n); err != nil {
			rows.Close()
			return fmt.Errorf("scan exposure count: %w", err)
		}
		exposed[k] += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read exposure counts: %w", err)
	}
	rows, err = s.r.QueryContext(ctx, `SELECT segment, variant, day, n FROM segment_counts WHERE experiment = ? AND dimension = ?`, exp, dim)
	if err != nil {
		return fmt.Errorf("read segment counts: %w", err)
	}
	for rows.Next() {
		var seg string
		var k report.CellKey
		var n int64
		if err := rows.Scan(&seg, &k.Variant, &k.Day, &n); err != nil {
			rows.Close()
			return fmt.Errorf("scan segment count: %w", err)
		}
		exposed[k] -= n
		a := set.at(k.Variant, seg, k.Day)
		if !nps {
			a.N += n
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read segment counts: %w", err)
	}
	rows, err = s.r.QueryContext(ctx, `SELECT segment, variant, day, n, sum, sum_sq, den_sum, den_sum_sq, sum_num_den, pre_sum, pre_sum_sq, sum_pre_post
		FROM segment_totals WHERE experiment = ? AND dimension = ? AND metric = ?`, exp, dim, rule.Metric.Key)
	if err != nil {
		return fmt.Errorf("read segment totals: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seg string
		var k report.CellKey
		var c events.Contribution
		if err := rows.Scan(&seg, &k.Variant, &k.Day, &c.N, &c.Sum, &c.SumSq, &c.DenSum, &c.DenSumSq, &c.SumNumDen, &c.PreSum, &c.PreSumSq, &c.SumPrePost); err != nil {
			return fmt.Errorf("scan segment totals: %w", err)
		}
		c.AddTo(set.at(k.Variant, seg, k.Day))
		if p := plain.cells[report.CellKey{Variant: k.Variant, Day: k.Day}]; p != nil {
			subtract(p, c)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read segment totals: %w", err)
	}
	// Units without the attribute: only where some exposure is left, so that
	// float residues of the subtraction never make a cell of their own.
	// Fixed order, so that summing days into one cell gives the same bits every time.
	keys := make([]report.CellKey, 0, len(exposed))
	for k, n := range exposed {
		if n > 0 {
			keys = append(keys, k)
		}
	}
	slices.SortFunc(keys, func(a, b report.CellKey) int {
		if c := strings.Compare(a.Variant, b.Variant); c != 0 {
			return c
		}
		return int(min(max(a.Day-b.Day, -1), 1))
	})
	for _, k := range keys {
		a := set.at(k.Variant, report.NoSegment, k.Day)
		rest := stats.ArmStats{}
		if p := plain.cells[report.CellKey{Variant: k.Variant, Day: k.Day}]; p != nil {
			rest = *p
		}
		if !nps {
			rest.N = exposed[k]
		}
		events.Contribution(rest).AddTo(a)
	}
	return nil
}

// subtract removes contribution c from a (N only counts for NPS).
func subtract(a *stats.ArmStats, c events.Contribution) {
	events.Contribution{}.Sub(c).AddTo(a)
}
