package report

import (
	"context"
	"fmt"
	"sort"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
	"github.com/journeylab/journeylab/warning"
)

// NoSegment names the segment of units that lack the breakdown attribute.
const NoSegment = "(none)"

// addSegments fills r.Segments with the same statistics per value of
// r.Dimension. Each segment is its own family for the multiple-comparison
// correction; the more segments, the likelier one of them shows a lift by
// chance, which docs/report.md warns about.
func (r *Report) addSegments(ctx context.Context, src Source, e *experiment.Experiment, defs []kpiDef) error {
	perMetric := make([]map[string][]stats.ArmStats, len(defs))
	var units map[string][]stats.ArmStats
	unitsFromNPS := false
	for i, d := range defs {
		cells, err := src.MetricCells(ctx, e, d.metric, CellQuery{Dimension: r.Dimension})
		if err != nil {
			return fmt.Errorf("report %s: metric %s by %s: %w", e.Key, d.metric.Key, r.Dimension, err)
		}
		bySeg := map[string][]stats.ArmStats{}
		for _, c := range cells {
			vi := e.VariantIndex(c.Variant)
			if vi < 0 {
				continue
			}
			seg := c.Segment
			if seg == "" {
				seg = NoSegment
			}
			if bySeg[seg] == nil {
				bySeg[seg] = make([]stats.ArmStats, len(e.Variants))
			}
			bySeg[seg][vi] = addStats(bySeg[seg][vi], c.Stats)
		}
		perMetric[i] = bySeg
		// NPS cells count respondents, every other kind counts exposed units.
		if units == nil || (unitsFromNPS && d.metric.Kind != experiment.KindNPS) {
			units, unitsFromNPS = bySeg, d.metric.Kind == experiment.KindNPS
		}
	}

	type seg struct {
		value string
		units []int64
		total int64
	}
	var segs []seg
	for value, arms := range units {
		s := seg{value: value, units: make([]int64, len(e.Variants))}
		for i, a := range arms {
			s.units[i] = a.N
			s.total += a.N
		}
		segs = append(segs, s)
	}
	sort.Slice(segs, func(i, j int) bool {
		if segs[i].total != segs[j].total {
			return segs[i].total > segs[j].total
		}
		return segs[i].value < segs[j].value
	})
	if len(segs) == 1 && segs[0].value == NoSegment {
		r.Warnings = append(r.Warnings, noSuchDimension(r.Dimension))
	}
	if len(segs) > MaxSegments {
		r.SegmentsOmitted = len(segs) - MaxSegments
		segs = segs[:MaxSegments]
	}

	r.Segments = []Segment{}
	for _, s := range segs {
		arms := make([][]stats.ArmStats, len(defs))
		for i := range defs {
			arms[i] = perMetric[i][s.value]
			if arms[i] == nil {
				arms[i] = make([]stats.ArmStats, len(e.Variants))
			}
		}
		out := Segment{Value: s.value, Units: []ArmUnits{}, SRM: checkSRM(e, s.units, nil)}
		for i, v := range e.Variants {
			out.Units = append(out.Units, ArmUnits{Variant: v.Key, Units: s.units[i]})
		}
		out.Stages, out.GuardrailBreaches = analyse(e, defs, arms, s.value)
		r.Segments = append(r.Segments, out)
	}
	return nil
}

// noSuchDimension is the warning for a breakdown by an attribute that no
// exposed unit has: every unit is under NoSegment.
func noSuchDimension(dim string) warning.Warning {
	return warning.Warning{Code: warning.UnknownDimension, Dimension: dim,
		Message: fmt.Sprintf("no exposed unit has the attribute %q, so every unit is under %q", dim, NoSegment),
		Hint: "attributes are recorded at a unit's first exposure, from those sent to /v1/assign and kept by privacy.attributes; " +
			"check the name's spelling and case"}
}
