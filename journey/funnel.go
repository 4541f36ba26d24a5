package journey

import (
	"context"
	"fmt"
	"sort"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
)

// Funnel is the cohort funnel across stages: the units first seen in the
// range, and how many of them have reached each stage since.
type Funnel struct {
	// Cohort is the number of units first seen in the range.
	Cohort    int64      `json:"cohort"`
	Steps     []Step     `json:"steps"`
	PainPoint *PainPoint `json:"pain_point"`
	// Dimension and Segments split the funnel by a unit attribute.
	Dimension string          `json:"dimension,omitempty"`
	Segments  []FunnelSegment `json:"segments,omitempty"`
}

// Step is one stage of the funnel.
type Step struct {
	Stage experiment.Stage `json:"stage"`
	// Units of the cohort that sent any event of one of the stage's KPIs.
	Units int64 `json:"units"`
	// Share is Units / cohort.
	Share float64 `json:"share"`
	// Lost is how many fewer units reached this stage than the one before
	// (0 for the first stage, and when more reached it).
	Lost int64 `json:"lost"`
	// LostShare is Lost / the previous stage's units.
	LostShare float64 `json:"lost_share"`
}

// PainPoint is the step where most units are lost.
type PainPoint struct {
	From      experiment.Stage `json:"from"`
	To        experiment.Stage `json:"to"`
	Lost      int64            `json:"lost"`
	LostShare float64          `json:"lost_share"`
}

// FunnelSegment is the funnel of the cohort's units with one value of the
// dimension.
type FunnelSegment struct {
	Value     string     `json:"value"`
	Cohort    int64      `json:"cohort"`
	Steps     []Step     `json:"steps"`
	PainPoint *PainPoint `json:"pain_point"`
}

// steps computes the funnel of cohort counts by stages reached.
func steps(cohort map[int64]int64) (int64, []Step, *PainPoint) {
	var total int64
	stages := experiment.Stages()
	reach := make([]int64, len(stages))
	for mask, n := range cohort {
		total += n
		for i := range stages {
			if mask&(1<<i) != 0 {
				reach[i] += n
			}
		}
	}
	out := make([]Step, len(stages))
	var pain *PainPoint
	for i, st := range experiment.Stages() {
		s := Step{Stage: st, Units: reach[i]}
		if total > 0 {
			s.Share = float64(reach[i]) / float64(total)
		}
		if i > 0 && reach[i-1] > reach[i] {
			s.Lost = reach[i-1] - reach[i]
			s.LostShare = float64(s.Lost) / float64(reach[i-1])
			if pain == nil || s.Lost > pain.Lost {
				pain = &PainPoint{From: experiment.Stages()[i-1], To: st, Lost: s.Lost, LostShare: s.LostShare}
			}
		}
		out[i] = s
	}
	return total, out, pain
}

func (s *Service) funnel(ctx context.Context, from, to int64, dim string) (Funnel, error) {
	cohort, err := s.src.JourneyCohorts(ctx, from, to)
	if err != nil {
		return Funnel{}, fmt.Errorf("journey: read cohorts: %w", err)
	}
	var f Funnel
	f.Cohort, f.Steps, f.PainPoint = steps(cohort)
	if dim == "" {
		return f, nil
	}
	segs, err := s.src.JourneyCohortSegments(ctx, from, to, dim)
	if err != nil {
		return Funnel{}, fmt.Errorf("journey: read cohort segments: %w", err)
	}
	f.Dimension, f.Segments = dim, []FunnelSegment{}
	for v, c := range segs {
		sg := FunnelSegment{Value: v}
		sg.Cohort, sg.Steps, sg.PainPoint = steps(c)
		f.Segments = append(f.Segments, sg)
	}
	sort.Slice(f.Segments, func(i, j int) bool {
		a, b := f.Segments[i], f.Segments[j]
		if a.Cohort != b.Cohort {
			return a.Cohort > b.Cohort
		}
		return a.Value < b.Value
	})
	if len(f.Segments) > report.MaxSegments {
		f.Segments = f.Segments[:report.MaxSegments]
	}
	return f, nil
}
