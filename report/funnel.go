package report

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// MaxFunnelSteps bounds a funnel: every step is a nested condition for the
// Source, and a longer funnel is unreadable anyway.
const MaxFunnelSteps = 12

// Funnel follows the experiment's units through a sequence of binomial
// metrics (e.g. product view → add to cart → order → no return) per variant.
type Funnel struct {
	Experiment  string              `json:"experiment"`
	GeneratedAt time.Time           `json:"generated_at"`
	Analysis    experiment.Analysis `json:"analysis"`
	Control     string              `json:"control"`
	// Exposed are the units that entered the funnel, per variant.
	Exposed []ArmUnits   `json:"exposed"`
	Steps   []FunnelStep `json:"steps"`
}

// FunnelStep is one step: how many units of each variant reached it (having
// reached every earlier step) and the variants' step conversion against
// control's.
type FunnelStep struct {
	Metric    string               `json:"metric"`
	Name      string               `json:"name"`
	Stage     experiment.Stage     `json:"stage"`
	Direction experiment.Direction `json:"direction"`
	Arms      []FunnelArm          `json:"arms"`
	// Comparisons are the lifts of Conversion (reached / entered) vs control.
	Comparisons []Comparison `json:"comparisons"`
}

// FunnelArm is one variant at one step.
type FunnelArm struct {
	Variant string `json:"variant"`
	// Entered are the units at the previous step (exposed units at the first).
	Entered int64 `json:"entered"`
	Reached int64 `json:"reached"`
	// Conversion is Reached/Entered, the stage-to-stage conversion.
	Conversion float64 `json:"conversion"`
	// ReachRate is Reached/exposed units, the share of the arm that got this far.
	ReachRate float64 `json:"reach_rate"`
}

// DefaultFunnelSteps returns the experiment's binomial "higher is better"
// metrics in journey order (experiment order within a stage). Metrics where
// lower is better (bounce, abandonment, returns) are left out: reaching them
// is not progress through the journey; ask for them explicitly to include them.
func DefaultFunnelSteps(e *experiment.Experiment, metrics map[string]experiment.Metric) []experiment.Metric {
	var steps []experiment.Metric
	for _, k := range e.AllMetrics() {
		if m, ok := metrics[k]; ok && m.Kind == experiment.KindBinomial && m.Direction == experiment.HigherIsBetter {
			steps = append(steps, m)
		}
	}
	sort.SliceStable(steps, func(i, j int) bool { return steps[i].Stage.Order() < steps[j].Stage.Order() })
	if len(steps) > MaxFunnelSteps {
		steps = steps[:MaxFunnelSteps]
	}
	return steps
}

// BuildFunnel computes the funnel of e over steps (binomial metrics, at most
// MaxFunnelSteps; see ParseFunnel). With no steps it returns the exposed
// units only.
func BuildFunnel(ctx context.Context, src Source, e *experiment.Experiment, steps []experiment.Metric, now time.Time) (*Funnel, error) {
	e = normalized(e)
	if now.IsZero() {
		now = time.Now()
	}
	counts, err := src.ExposureCounts(ctx, e.Key)
	if err != nil {
		return nil, fmt.Errorf("funnel %s: exposure counts: %w", e.Key, err)
	}
	f := &Funnel{Experiment: e.Key, GeneratedAt: now.UTC(), Analysis: e.Analysis, Control: e.Control,
		Exposed: []ArmUnits{}, Steps: []FunnelStep{}}
	for _, v := range e.Variants {
		f.Exposed = append(f.Exposed, ArmUnits{Variant: v.Key, Units: counts[v.Key]})
	}
	if len(steps) == 0 {
		return f, nil
	}
	reached, err := src.Funnel(ctx, e, steps)
	if err != nil {
		return nil, fmt.Errorf("funnel %s: %w", e.Key, err)
	}
	ctl := e.VariantIndex(e.Control)
	for k, m := range steps {
		step := FunnelStep{Metric: m.Key, Name: m.Name, Stage: m.Stage, Direction: m.Direction, Arms: []FunnelArm{}, Comparisons: []Comparison{}}
		armStats := make([]stats.ArmStats, len(e.Variants))
		for i, v := range e.Variants {
			exposed := counts[v.Key]
			entered := exposed
			if k > 0 {
				entered = stepCount(reached[v.Key], k-1)
			}
			got := stepCount(reached[v.Key], k)
			step.Arms = append(step.Arms, FunnelArm{Variant: v.Key, Entered: entered, Reached: got,
				Conversion: share(got, entered), ReachRate: share(got, exposed)})
			armStats[i] = stats.ArmStats{N: entered, Sum: float64(got), SumSq: float64(got)}
		}
		opts := compareOptions(e.Analysis, m, false)
		for i, v := range e.Variants {
			if i == ctl {
				continue
			}
			c := comparison(v.Key, stats.Compare(stats.KindBinomial, armStats[ctl], armStats[i], opts))
			c.Verdict = verdict(c, m.Direction, e.Analysis.Alpha, nil)
			step.Comparisons = append(step.Comparisons, c)
		}
		f.Steps = append(f.Steps, step)
	}
	return f, nil
}

func stepCount(counts []int64, k int) int64 {
	if k < len(counts) {
		return counts[k]
	}
	return 0
}

func share(part, whole int64) float64 {
	if whole <= 0 {
		return 0
	}
	return float64(part) / float64(whole)
}
