package experiment

import (
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/journeylab/journeylab/assign"
)

// Status is the lifecycle state of an experiment.
type Status string

// Lifecycle states: draft -> running <-> paused -> stopped -> archived.
const (
	StatusDraft    Status = "draft"
	StatusRunning  Status = "running"
	StatusPaused   Status = "paused"
	StatusStopped  Status = "stopped"
	StatusArchived Status = "archived"
)

// Mode says how traffic is split.
type Mode string

// Modes: a fixed split, or Thompson-sampling optimisation on one goal metric.
const (
	ModeAB       Mode = "ab"
	ModeOptimise Mode = "optimise"
)

// Variant is one arm of an experiment. Payload is opaque JSON the front-end
// uses to render the variant (copy, layout flags, ...).
type Variant struct {
	Key     string          `json:"key"`
	Name    string          `json:"name,omitempty"`
	Weight  float64         `json:"weight"`
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Analysis holds the statistical settings of an experiment's report.
type Analysis struct {
	// Method is "frequentist" (default), "sequential" or "bayesian".
	Method string `json:"method,omitempty"`
	// Alpha is the significance level; default 0.05.
	Alpha float64 `json:"alpha,omitempty"`
	// CUPED adjusts with each unit's pre-exposure value of the same metric.
	CUPED bool `json:"cuped"`
	// SequentialTuning is N*, the sample size the confidence sequence is tightest at.
	SequentialTuning float64 `json:"sequential_tuning,omitempty"`
	// Correction across the goal-metric family: "holm" (default), "bh" or "none".
	Correction string `json:"correction,omitempty"`
	// PreExposureDays is the look-back window for CUPED's pre-exposure values (default 14).
	PreExposureDays float64 `json:"pre_exposure_days,omitempty"`
}

// Optimise configures bandit mode.
type Optimise struct {
	// Metric is the goal metric whose posterior drives the weights.
	Metric string `json:"metric"`
	// IntervalMinutes between re-weightings; default 60, from 15 to
	// maxIntervalMinutes (a bound that also keeps the interval far from
	// overflowing a time.Duration).
	IntervalMinutes int `json:"interval_minutes,omitempty"`
	// Floor is the minimum share per arm; default 0.01.
	Floor float64 `json:"floor,omitempty"`
}

// maxIntervalMinutes is the longest optimise.interval_minutes: 30 days.
const maxIntervalMinutes = 30 * 24 * 60

// Experiment is an A/B test (or bandit) on one touchpoint of the journey.
type Experiment struct {
	Key        string `json:"key"`
	Name       string `json:"name"`
	Hypothesis string `json:"hypothesis,omitempty"`
	Owner      string `json:"owner,omitempty"`
	Stage      Stage  `json:"stage"`
	Touchpoint string `json:"touchpoint"`
	Status     Status `json:"status"`
	Mode       Mode   `json:"mode"`

	Variants []Variant `json:"variants"`
	Control  string    `json:"control"`
	// Coverage is the share of eligible units that enter the experiment (0..1].
	Coverage float64 `json:"coverage"`
	// Targeting is a condition in MongoDB query syntax (assign.Condition);
	// it may reference personas with {"$persona": "<key>"}.
	Targeting assign.Condition `json:"targeting,omitempty"`
	// Layer makes experiments mutually exclusive; LayerShare is this
	// experiment's share of the layer, LayerRange the block it was given at launch.
	Layer      string        `json:"layer,omitempty"`
	LayerShare float64       `json:"layer_share,omitempty"`
	LayerRange *assign.Range `json:"layer_range,omitempty"`
	// Overrides force units (QA allow-list) into a variant; never recorded as exposures.
	Overrides map[string]string `json:"overrides,omitempty"`
	// Salt seeds the hash; defaults to the key. Changing it reshuffles every unit,
	// so it is fixed once the experiment has run.
	Salt string `json:"salt"`

	GoalMetrics      []string  `json:"goal_metrics"`
	SecondaryMetrics []string  `json:"secondary_metrics,omitempty"`
	GuardrailMetrics []string  `json:"guardrail_metrics,omitempty"`
	Analysis         Analysis  `json:"analysis"`
	Optimise         *Optimise `json:"optimise,omitempty"`

	// Allocation maps variant buckets to variants; it is derived from the
	// weights and only ever moved minimally (assign.Reallocate).
	Allocation assign.Allocation `json:"allocation,omitzero"`

	StartAt   *time.Time `json:"start_at,omitempty"`
	StopAt    *time.Time `json:"stop_at,omitempty"`
	StartedAt *time.Time `json:"started_at,omitempty"`
	StoppedAt *time.Time `json:"stopped_at,omitempty"`

	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Clone returns a deep copy, so callers can diff old against new. It is for
// experiments that are already valid (read from the store, or validated):
// those always survive a JSON round trip.
func (e *Experiment) Clone() *Experiment {
	c, err := cloneInput(e)
	if err != nil {
		panic("experiment: clone of a valid experiment failed: " + err.Error())
	}
	return c
}

// cloneInput deep-copies caller-supplied data. Unlike Clone it reports what
// JSON cannot carry (NaN or infinite numbers, an invalid raw payload) as a
// validation error: Go callers of Service can pass such values even though
// HTTP clients cannot.
func cloneInput(e *Experiment) (*Experiment, error) {
	b, err := json.Marshal(e)
	if err != nil {
		return nil, invalid("", "experiment cannot be represented as JSON (NaN, infinity or an invalid payload): %v", err)
	}
	var c Experiment
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, invalid("", "experiment does not read back from JSON: %v", err)
	}
	return &c, nil
}

// VariantIndex returns the index of the variant with key k, or -1.
func (e *Experiment) VariantIndex(k string) int {
	for i, v := range e.Variants {
		if v.Key == k {
			return i
		}
	}
	return -1
}

// Weights returns the variants' weights in order.
func (e *Experiment) Weights() []float64 {
	w := make([]float64, len(e.Variants))
	for i, v := range e.Variants {
		w[i] = v.Weight
	}
	return w
}

// AllMetrics returns goal, secondary and guardrail metric keys, each once, in that order.
func (e *Experiment) AllMetrics() []string {
	seen := map[string]bool{}
	var out []string
	for _, list := range [][]string{e.GoalMetrics, e.SecondaryMetrics, e.GuardrailMetrics} {
		for _, k := range list {
			if !seen[k] {
				seen[k] = true
				out = append(out, k)
			}
		}
	}
	return out
}

// Normalize fills defaults so that a stored experiment is explicit.
func (e *Experiment) Normalize() {
	if e.Salt == "" {
		e.Salt = e.Key
	}
	if e.Mode == "" {
		e.Mode = ModeAB
	}
	if e.Status == "" {
		e.Status = StatusDraft
	}
	if e.Coverage == 0 {
		e.Coverage = 1
	}
	if e.Control == "" && len(e.Variants) > 0 {
		e.Control = e.Variants[0].Key
	}
	if e.Analysis.Method == "" {
		e.Analysis.Method = "frequentist"
	}
	if e.Analysis.Alpha == 0 {
		e.Analysis.Alpha = 0.05
	}
	if e.Analysis.Correction == "" {
		e.Analysis.Correction = "holm"
	}
	if e.Analysis.SequentialTuning == 0 {
		e.Analysis.SequentialTuning = 5000
	}
	if e.Analysis.PreExposureDays == 0 {
		e.Analysis.PreExposureDays = 14
	}
	if e.Layer != "" && e.LayerShare == 0 {
		e.LayerShare = 1
	}
	if e.Optimise != nil {
		if e.Optimise.IntervalMinutes == 0 {
			e.Optimise.IntervalMinutes = 60
		}
		if e.Optimise.Floor == 0 {
			e.Optimise.Floor = 0.01
		}
	}
}

// maxVariants bounds the arms of one experiment; more would make every arm
// underpowered and the report unreadable.
const maxVariants = 20

// Validate checks everything that does not need the store: metric
// existence is checked by the Service. It reports every problem it finds:
// a *ValidationError naming the field when there is one, ValidationErrors
// when there are several.
func (e *Experiment) Validate() error {
	var p problems
	e.validate(&p)
	return p.err()
}

func (e *Experiment) validate(p *problems) {
	if !validKey(e.Key) {
		p.add("key", "%s", keyRule)
	}
	if e.Name == "" || len(e.Name) > 200 {
		p.add("name", "required, at most 200 characters")
	}
	if len(e.Hypothesis) > 4000 {
		p.add("hypothesis", "at most 4000 characters")
	}
	if len(e.Owner) > 200 {
		p.add("owner", "at most 200 characters")
	}
	if !e.Stage.Valid() {
		p.add("stage", "unknown journey stage %q (want one of %v)", e.Stage, Stages())
	}
	if !validKey(e.Touchpoint) {
		p.add("touchpoint", "required; %s", keyRule)
	}
	if e.Mode != ModeAB && e.Mode != ModeOptimise {
		p.add("mode", "must be \"ab\" or \"optimise\", got %q", e.Mode)
	}
	e.validateVariantsInto(p)
	if math.IsNaN(e.Coverage) || e.Coverage <= 0 || e.Coverage > 1 {
		p.add("coverage", "must be in (0, 1]")
	}
	if e.Layer != "" && !validKey(e.Layer) {
		p.add("layer", "%s", keyRule)
	}
	if math.IsNaN(e.LayerShare) || e.LayerShare < 0 || e.LayerShare > 1 || (e.Layer == "" && e.LayerShare != 0) {
		p.add("layer_share", "must be in (0, 1] and needs a layer")
	}
	if len(e.Overrides) > 1000 {
		p.add("overrides", "at most 1000 forced units")
	} else {
		units := make([]string, 0, len(e.Overrides))
		for unit := range e.Overrides {
			units = append(units, unit)
		}
		sort.Strings(units) // problems in a fixed order
		for _, unit := range units {
			if unit == "" || len(unit) > 200 {
				p.add("overrides", "unit ids must have 1 to 200 characters")
			} else if v := e.Overrides[unit]; e.VariantIndex(v) < 0 {
				p.add("overrides."+unit, "variant %q is not one of the experiment's variants", v)
			}
		}
	}
	if e.Salt == "" || len(e.Salt) > 200 {
		p.add("salt", "1 to 200 characters")
	}
	if len(e.GoalMetrics) == 0 {
		p.add("goal_metrics", "at least one goal metric is required")
	}
	for _, l := range e.metricLists() {
		validateMetricKeysInto(p, l.field, l.keys)
	}
	e.validateAnalysis(p)
	if e.Mode == ModeOptimise {
		if e.Optimise == nil {
			p.add("optimise", "optimise mode needs optimise.metric")
		} else {
			found := false
			for _, k := range e.GoalMetrics {
				found = found || k == e.Optimise.Metric
			}
			if !found {
				p.add("optimise.metric", "must be one of the goal metrics")
			}
			if e.Optimise.IntervalMinutes < 15 || e.Optimise.IntervalMinutes > maxIntervalMinutes {
				p.add("optimise.interval_minutes", "must be from 15 to %d minutes (30 days)", maxIntervalMinutes)
			}
			if !(e.Optimise.Floor > 0) || e.Optimise.Floor*float64(len(e.Variants)) >= 1 {
				p.add("optimise.floor", "must be positive and leave room: floor x variants < 1")
			}
		}
	} else if e.Optimise != nil {
		p.add("optimise", "only for mode \"optimise\"")
	}
	if e.StartAt != nil && e.StopAt != nil && !e.StopAt.After(*e.StartAt) {
		p.add("stop_at", "must be after start_at")
	}
}

// metricList is one of an experiment's lists of metric keys and its field.
type metricList struct {
	field string
	keys  []string
}

// metricLists returns the goal, secondary and guardrail lists, in that order.
func (e *Experiment) metricLists() []metricList {
	return []metricList{{"goal_metrics", e.GoalMetrics}, {"secondary_metrics", e.SecondaryMetrics}, {"guardrail_metrics", e.GuardrailMetrics}}
}

// validateVariants checks the variants, weights and control.
func (e *Experiment) validateVariants() error {
	var p problems
	e.validateVariantsInto(&p)
	return p.err()
}

func (e *Experiment) validateVariantsInto(p *problems) {
	if len(e.Variants) < 2 || len(e.Variants) > maxVariants {
		p.add("variants", "need 2 to %d variants, got %d", maxVariants, len(e.Variants))
		return
	}
	total := 0.0
	seen := map[string]bool{}
	for i, v := range e.Variants {
		field := "variants[" + strconv.Itoa(i) + "]"
		if !validKey(v.Key) {
			p.add(field+".key", "%s", keyRule)
		} else if seen[v.Key] {
			p.add(field+".key", "duplicate variant key %q", v.Key)
		}
		seen[v.Key] = true
		if len(v.Name) > 200 {
			p.add(field+".name", "at most 200 characters")
		}
		if math.IsNaN(v.Weight) || math.IsInf(v.Weight, 0) || v.Weight < 0 {
			p.add(field+".weight", "must be a non-negative number")
		} else {
			total += v.Weight
		}
		if len(v.Payload) > 64<<10 {
			p.add(field+".payload", "at most 64 KiB")
		} else if len(v.Payload) > 0 && !json.Valid(v.Payload) {
			p.add(field+".payload", "must be valid JSON")
		}
	}
	if !(total > 0) {
		p.add("variants", "weights must sum to a positive total")
	}
	if e.VariantIndex(e.Control) < 0 {
		p.add("control", "%q is not one of the variants", e.Control)
	}
}

func (e *Experiment) validateAnalysis(p *problems) {
	a := e.Analysis
	switch a.Method {
	case "frequentist", "sequential", "bayesian":
	default:
		p.add("analysis.method", "must be frequentist, sequential or bayesian, got %q", a.Method)
	}
	if !(a.Alpha > 0 && a.Alpha < 0.5) {
		p.add("analysis.alpha", "must be in (0, 0.5)")
	}
	switch a.Correction {
	case "holm", "bh", "none":
	default:
		p.add("analysis.correction", "must be holm, bh or none, got %q", a.Correction)
	}
	if !(a.SequentialTuning >= 1) || math.IsInf(a.SequentialTuning, 0) {
		p.add("analysis.sequential_tuning", "must be at least 1")
	}
	if !(a.PreExposureDays > 0 && a.PreExposureDays <= 365) {
		p.add("analysis.pre_exposure_days", "must be in (0, 365]")
	}
}

// validateMetricKeysInto checks a list of metric keys given in field: at
// most 50, each a valid key, none twice.
func validateMetricKeysInto(p *problems, field string, keys []string) {
	if len(keys) > 50 {
		p.add(field, "at most 50 metrics")
		return
	}
	seen := map[string]bool{}
	for i, k := range keys {
		if !validKey(k) {
			p.add(field+"["+strconv.Itoa(i)+"]", "must be a metric key: %s", keyRule)
		} else if seen[k] {
			p.add(field+"["+strconv.Itoa(i)+"]", "metric %q listed twice", k)
		}
		seen[k] = true
	}
}
