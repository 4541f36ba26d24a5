package assign

import (
	"encoding/json"
	"fmt"
	"math"
	"sort"
)

// Variant is one arm of an experiment.
type Variant struct {
	// Key names the variant (e.g. "control", "green-button"); unique within
	// the experiment.
	Key string `json:"key"`
	// Payload is handed back to the front-end with the assignment.
	Payload json.RawMessage `json:"payload,omitempty"`
}

// Experiment is the assignment view of one running experiment. The server
// converts its domain type into this; only running experiments belong in a
// Snapshot.
type Experiment struct {
	// Key identifies the experiment; unique within a snapshot.
	Key string `json:"key"`
	// Salt is hashed with the unit id; empty means Key. It must never change
	// once units have been exposed.
	Salt string `json:"salt,omitempty"`
	// Touchpoint is where the experiment runs (e.g. "checkout-cta").
	Touchpoint string `json:"touchpoint"`
	// Stage is the journey stage of the touchpoint, carried into results.
	Stage string `json:"stage,omitempty"`
	// Coverage in [0, 1] is the share of units in the experiment.
	Coverage float64 `json:"coverage"`
	// Variants are the arms; their positions are the variant indexes used
	// by Allocation and Sticky, so a variant is never removed or reordered.
	Variants []Variant `json:"variants"`
	// Allocation maps variant buckets to variant indexes. The zero value
	// means an even split (Allocate with equal weights), which suits a new
	// experiment; store the allocation once units have been exposed.
	Allocation Allocation `json:"allocation"`
	// Targeting restricts the experiment to units whose attributes match
	// the condition; empty means everyone.
	Targeting Condition `json:"targeting,omitempty"`
	// Layer is the key of the Layer the experiment belongs to; empty means
	// none. LayerRange must be set exactly when Layer is.
	Layer string `json:"layer,omitempty"`
	// LayerRange is the block of layer buckets the experiment owns.
	LayerRange *Range `json:"layer_range,omitempty"`
	// Overrides force unit ids to a variant key (QA allow-list).
	Overrides map[string]string `json:"overrides,omitempty"`
	// Sticky pins previously exposed units to the variant index they saw,
	// for those units whose variant under the current Allocation differs.
	Sticky map[string]int `json:"sticky,omitempty"`
}

// EffectiveSalt returns Salt, or Key when Salt is empty.
func (e Experiment) EffectiveSalt() string {
	if e.Salt == "" {
		return e.Key
	}
	return e.Salt
}

// Assignment is one result of Snapshot.Assign: either a variant of an
// experiment or, when Holdout is set, a layer that held the unit out.
type Assignment struct {
	// Experiment is the experiment key; for a holdout entry, the layer's
	// baseline experiment, or empty when the layer has no baseline.
	Experiment string `json:"experiment,omitempty"`
	// Touchpoint is the experiment's touchpoint; for a holdout entry, the
	// touchpoint that was asked for.
	Touchpoint string `json:"touchpoint,omitempty"`
	// Stage is the experiment's journey stage.
	Stage string `json:"stage,omitempty"`
	// Variant is the variant key; for a baseline entry, the baseline's
	// variant, else empty for a holdout entry.
	Variant string `json:"variant,omitempty"`
	// VariantIndex is the position in Experiment.Variants (for a baseline
	// entry, in Baseline.Variants); -1 for a holdout entry of a layer
	// without a baseline.
	VariantIndex int `json:"variant_index"`
	// Payload is the variant's payload.
	Payload json.RawMessage `json:"payload,omitempty"`
	// Layer is the experiment's layer, or the layer that held the unit out.
	Layer string `json:"layer,omitempty"`
	// Forced marks a QA override: the server must not record it as an
	// exposure.
	Forced bool `json:"forced,omitempty"`
	// Sticky marks a variant taken from Experiment.Sticky rather than from
	// the allocation.
	Sticky bool `json:"sticky,omitempty"`
	// Holdout marks a layer holdout entry: the unit is in the holdout of
	// Layer and sees none of its experiments.
	Holdout bool `json:"holdout,omitempty"`
	// Baseline marks an entry of Layer's baseline experiment (Layer.Baseline):
	// not something to show the unit, but its arm of the holdout comparison,
	// to be recorded as an exposure.
	Baseline bool `json:"baseline,omitempty"`
}

// Snapshot is an immutable, compiled set of running experiments and their
// layers. It is safe for concurrent use; to change anything build a new one
// and swap the pointer.
type Snapshot struct {
	all      touchpointIndex
	byTP     map[string]*touchpointIndex
	personas []compiledPersona // sorted by key
}

// Persona is a named, reusable targeting condition. Experiments reference
// it with {"$persona": "<key>"}; Snapshot.Personas tells which personas a
// unit's attributes match.
type Persona struct {
	// Key identifies the persona.
	Key string `json:"key"`
	// Condition is what a unit's attributes must match; a persona cannot
	// reference another persona.
	Condition Condition `json:"condition"`
}

type compiledPersona struct {
	key     string
	matcher Matcher
}

type touchpointIndex struct {
	exps   []*compiledExperiment // sorted by key
	layers []touchpointLayer     // layers with a holdout, sorted by key
}

// touchpointLayer lists the experiments of one layer on one touchpoint, so a
// held-out unit is reported only when the layer really hid an experiment from
// it.
type touchpointLayer struct {
	layer *compiledLayer
	exps  []*compiledExperiment
}

type compiledLayer struct {
	key      string
	salt     string
	holdout  int
	baseline *Baseline
}

type compiledExperiment struct {
	key, salt, touchpoint, stage string
	coverage                     int
	variants                     []Variant
	alloc                        Allocation
	matcher                      Matcher
	layer                        *compiledLayer
	layerRange                   Range
	overrides                    map[string]int
	sticky                       map[string]int
}

// NewSnapshot validates and compiles experiments, layers and the personas
// their targeting may reference. It copies what it keeps, so later changes
// to the arguments do not affect the snapshot. Errors name the experiment,
// layer or persona and the offending field.
func NewSnapshot(experiments []Experiment, layers []Layer, personas ...Persona) (*Snapshot, error) {
	s := &Snapshot{byTP: make(map[string]*touchpointIndex)}
	env, err := s.compilePersonas(personas)
	if err != nil {
		return nil, err
	}
	layerByKey := make(map[string]*compiledLayer, len(layers))
	for i, l := range layers {
		where := fmt.Sprintf("layers[%d]", i)
		if l.Key == "" {
			return nil, fmt.Errorf("%s.key: required", where)
		}
		where = fmt.Sprintf("layer %q", l.Key)
		if _, dup := layerByKey[l.Key]; dup {
			return nil, fmt.Errorf("%s: duplicate key", where)
		}
		if math.IsNaN(l.HoldoutShare) || l.HoldoutShare < 0 || l.HoldoutShare > 1 {
			return nil, fmt.Errorf("%s: holdout_share: %v outside [0, 1]", where, l.HoldoutShare)
		}
		cl := &compiledLayer{key: l.Key, salt: l.EffectiveSalt(), holdout: l.HoldoutBuckets()}
		if l.Baseline != nil {
			if l.Baseline.Experiment == "" || l.Baseline.Variants[0] == "" || l.Baseline.Variants[1] == "" {
				return nil, fmt.Errorf("%s: baseline: experiment and both variants are required", where)
			}
			b := *l.Baseline
			cl.baseline = &b
		}
		layerByKey[l.Key] = cl
	}

	seen := make(map[string]bool, len(experiments))
	inLayer := make(map[string][]*compiledExperiment)
	shared := make(map[string]Matcher)
	uses := make(map[*expr]int)
	for i := range experiments {
		e := &experiments[i]
		if e.Key == "" {
			return nil, fmt.Errorf("experiments[%d].key: required", i)
		}
		if seen[e.Key] {
			return nil, fmt.Errorf("experiment %q: duplicate key", e.Key)
		}
		seen[e.Key] = true
		ce, err := compileExperiment(e, layerByKey, env)
		if err != nil {
			return nil, fmt.Errorf("experiment %q: %w", e.Key, err)
		}
		if ce.matcher.root != nil {
			if m, ok := shared[ce.matcher.key]; ok {
				ce.matcher = m
			} else {
				shared[ce.matcher.key] = ce.matcher
			}
			uses[ce.matcher.root]++
		}
		if ce.layer != nil {
			for _, other := range inLayer[ce.layer.key] {
				if other.layerRange.Overlaps(ce.layerRange) {
					return nil, fmt.Errorf("experiment %q: layer_range [%d, %d) overlaps experiment %q [%d, %d) in layer %q",
						ce.key, ce.layerRange.Start, ce.layerRange.End, other.key, other.layerRange.Start, other.layerRange.End, ce.layer.key)
				}
			}
			inLayer[ce.layer.key] = append(inLayer[ce.layer.key], ce)
		}
		s.all.exps = append(s.all.exps, ce)
		tp := s.byTP[ce.touchpoint]
		if tp == nil {
			tp = &touchpointIndex{}
			s.byTP[ce.touchpoint] = tp
		}
		tp.exps = append(tp.exps, ce)
	}
	s.all.finish()
	for _, tp := range s.byTP {
		tp.finish()
	}
	s.assignMemoSlots(uses)
	return s, nil
}

// assignMemoSlots numbers the personas, then the conditions several
// experiments share, then the attribute clauses several distinct
// conditions share, so that Assign evaluates each once per call (the memo
// has 64 slots; the rest are evaluated every time).
func (s *Snapshot) assignMemoSlots(uses map[*expr]int) {
	slot := uint8(0)
	give := func(e *expr) {
		if e != nil && e.memo == 0 && slot < 64 {
			slot++
			e.memo = slot
		}
	}
	for _, p := range s.personas {
		give(p.matcher.root)
	}
	var roots []*expr
	for _, e := range s.all.exps {
		if e.matcher.root == nil || uses[e.matcher.root] == -1 {
			continue
		}
		if uses[e.matcher.root] > 1 {
			give(e.matcher.root)
		}
		uses[e.matcher.root] = -1 // each distinct condition once below
		roots = append(roots, e.matcher.root)
	}
	for _, p := range s.personas {
		if p.matcher.root != nil {
			roots = append(roots, p.matcher.root)
		}
	}
	byKey := map[string][]*clause{}
	var keys []string
	for _, r := range roots {
		r.fieldClauses(func(cl *clause) {
			if byKey[cl.key] == nil {
				keys = append(keys, cl.key)
			}
			byKey[cl.key] = append(byKey[cl.key], cl)
		})
	}
	// Persona clauses are evaluated with their persona's slot; only the
	// experiments' shared clauses get one of their own.
	inPersona := map[*clause]bool{}
	for _, p := range s.personas {
		if p.matcher.root != nil {
			p.matcher.root.fieldClauses(func(cl *clause) { inPersona[cl] = true })
		}
	}
	byPath := map[string][]*clause{}
	var paths []string
	for _, k := range keys {
		group := byKey[k]
		if len(group) >= 2 && slot < 64 && !inPersona[group[0]] {
			slot++
			for _, cl := range group {
				cl.memo = slot
			}
		}
		p := group[0].path.full
		if byPath[p] == nil {
			paths = append(paths, p)
		}
		byPath[p] = append(byPath[p], group...)
	}
	for _, r := range roots {
		r.splitMemo()
	}
	// Paths that distinct clauses read are looked up once per call.
	pathSlot := uint8(0)
	for _, p := range paths {
		if pathSlot == 16 {
			break
		}
		distinct := map[string]bool{}
		for _, cl := range byPath[p] {
			distinct[cl.key] = true
		}
		if len(distinct) < 2 {
			continue
		}
		pathSlot++
		for _, cl := range byPath[p] {
			cl.path.slot = pathSlot
		}
	}
}

// splitMemo sets known and rest once the memo slots are given: a
// condition's clauses are a conjunction, so those with a memo slot can be
// answered together by one mask test.
func (e *expr) splitMemo() {
	e.known, e.rest = 0, nil
	for i := range e.clauses {
		cl := &e.clauses[i]
		switch {
		case cl.kind == clField && cl.memo != 0:
			e.known |= uint64(1) << (cl.memo - 1)
		case cl.kind == clPersona && cl.sub.memo != 0:
			e.known |= uint64(1) << (cl.sub.memo - 1)
		default:
			e.rest = append(e.rest, i)
		}
	}
}

// fieldClauses calls fn with every attribute clause evaluated against the
// same object as e itself: its own and those of nested $and, $or, $nor and
// $not (not personas, which have their own slot, nor $elemMatch).
func (e *expr) fieldClauses(fn func(*clause)) {
	for i := range e.clauses {
		cl := &e.clauses[i]
		switch cl.kind {
		case clField:
			fn(cl)
		case clAnd, clOr, clNor:
			for j := range cl.subs {
				cl.subs[j].fieldClauses(fn)
			}
		case clNot:
			cl.sub.fieldClauses(fn)
		}
	}
}

// match evaluates m for one Assign call, sharing results through memo.
func (m Matcher) match(attrs map[string]any, mm *memo) bool {
	if m.root == nil {
		return true
	}
	return m.root.eval(attrs, mm)
}

// compilePersonas compiles the personas into the snapshot and returns the
// environment experiments' conditions are compiled in.
func (s *Snapshot) compilePersonas(personas []Persona) (Env, error) {
	env := Env{Personas: make(map[string]Matcher, len(personas))}
	for i, p := range personas {
		if p.Key == "" {
			return env, fmt.Errorf("personas[%d].key: required", i)
		}
		if _, dup := env.Personas[p.Key]; dup {
			return env, fmt.Errorf("persona %q: duplicate key", p.Key)
		}
		m, err := CompilePersona(p.Condition, Env{})
		if err != nil {
			return env, fmt.Errorf("persona %q: %w", p.Key, err)
		}
		env.Personas[p.Key] = m
		s.personas = append(s.personas, compiledPersona{key: p.Key, matcher: m})
	}
	sort.Slice(s.personas, func(i, j int) bool { return s.personas[i].key < s.personas[j].key })
	return env, nil
}

// Personas appends to dst the keys of the snapshot's personas whose
// condition the attributes match, sorted, and returns the extended slice.
func (s *Snapshot) Personas(attrs map[string]any, dst []string) []string {
	if s == nil {
		return dst
	}
	for i := range s.personas {
		if s.personas[i].matcher.Match(attrs) {
			dst = append(dst, s.personas[i].key)
		}
	}
	return dst
}

func compileExperiment(e *Experiment, layers map[string]*compiledLayer, env Env) (*compiledExperiment, error) {
	if e.Touchpoint == "" {
		return nil, fmt.Errorf("touchpoint: required")
	}
	if math.IsNaN(e.Coverage) || e.Coverage < 0 || e.Coverage > 1 {
		return nil, fmt.Errorf("coverage: %v outside [0, 1]", e.Coverage)
	}
	if len(e.Variants) == 0 {
		return nil, fmt.Errorf("variants: must not be empty")
	}
	ce := &compiledExperiment{
		key:        e.Key,
		salt:       e.EffectiveSalt(),
		touchpoint: e.Touchpoint,
		stage:      e.Stage,
		coverage:   ShareToBuckets(e.Coverage),
		variants:   make([]Variant, len(e.Variants)),
	}
	index := make(map[string]int, len(e.Variants))
	for i, v := range e.Variants {
		if v.Key == "" {
			return nil, fmt.Errorf("variants[%d].key: required", i)
		}
		if _, dup := index[v.Key]; dup {
			return nil, fmt.Errorf("variants[%d].key: duplicate %q", i, v.Key)
		}
		index[v.Key] = i
		ce.variants[i] = Variant{Key: v.Key, Payload: append(json.RawMessage(nil), v.Payload...)}
	}

	if len(e.Allocation.Ranges) == 0 {
		w := make([]float64, len(e.Variants))
		for i := range w {
			w[i] = 1
		}
		a, err := Allocate(w)
		if err != nil {
			return nil, err
		}
		ce.alloc = a
	} else {
		if err := e.Allocation.Validate(); err != nil {
			return nil, err
		}
		for i, r := range e.Allocation.Ranges {
			if r.Variant >= len(e.Variants) {
				return nil, fmt.Errorf("allocation.ranges[%d].variant: %d but the experiment has %d variants", i, r.Variant, len(e.Variants))
			}
		}
		ce.alloc = Allocation{Ranges: append([]VariantRange(nil), e.Allocation.Ranges...)}
	}

	m, err := CompileCondition(e.Targeting, env)
	if err != nil {
		return nil, err
	}
	ce.matcher = m

	switch {
	case e.Layer != "" && e.LayerRange == nil:
		return nil, fmt.Errorf("layer_range: required when layer is set")
	case e.Layer == "" && e.LayerRange != nil:
		return nil, fmt.Errorf("layer: required when layer_range is set")
	case e.Layer != "":
		l, ok := layers[e.Layer]
		if !ok {
			return nil, fmt.Errorf("layer: unknown layer %q", e.Layer)
		}
		if err := e.LayerRange.Validate(); err != nil {
			return nil, fmt.Errorf("layer_range.%w", err)
		}
		ce.layer = l
		ce.layerRange = *e.LayerRange
	}

	if len(e.Overrides) > 0 {
		ce.overrides = make(map[string]int, len(e.Overrides))
		for unit, key := range e.Overrides {
			v, ok := index[key]
			if !ok {
				return nil, fmt.Errorf("overrides[%q]: unknown variant %q", unit, key)
			}
			ce.overrides[unit] = v
		}
	}
	if len(e.Sticky) > 0 {
		ce.sticky = make(map[string]int, len(e.Sticky))
		for unit, v := range e.Sticky {
			if v < 0 || v >= len(e.Variants) {
				return nil, fmt.Errorf("sticky[%q]: variant index %d outside 0..%d", unit, v, len(e.Variants)-1)
			}
			ce.sticky[unit] = v
		}
	}
	return ce, nil
}

// finish sorts the experiments by key and groups the ones in layers with a
// holdout.
func (t *touchpointIndex) finish() {
	sort.Slice(t.exps, func(i, j int) bool { return t.exps[i].key < t.exps[j].key })
	pos := make(map[*compiledLayer]int)
	for _, e := range t.exps {
		if e.layer == nil || e.layer.holdout == 0 {
			continue
		}
		i, ok := pos[e.layer]
		if !ok {
			i = len(t.layers)
			pos[e.layer] = i
			t.layers = append(t.layers, touchpointLayer{layer: e.layer})
		}
		t.layers[i].exps = append(t.layers[i].exps, e)
	}
	sort.Slice(t.layers, func(i, j int) bool { return t.layers[i].layer.key < t.layers[j].layer.key })
}

// Len returns the number of experiments in the snapshot.
func (s *Snapshot) Len() int {
	if s == nil {
		return 0
	}
	return len(s.all.exps)
}

// Assign appends to dst the assignments of unitID on touchpoint ("" means
// every touchpoint) and returns the extended slice. Reuse dst (dst[:0])
// across calls to avoid allocating.
//
// For each running experiment of the touchpoint, in this order:
//  1. an override for the unit wins: the result is Forced, and coverage,
//     targeting and layer are bypassed;
//  2. in a layer, a unit in the layer's holdout or outside the
//     experiment's LayerRange is not in the experiment;
//  3. a unit whose coverage bucket is >= round(Coverage*10000) is not in it;
//  4. a unit whose attributes do not match the targeting rule is not in it;
//  5. otherwise the variant is the Sticky entry for the unit if any
//     (flagged Sticky), else the allocation's variant for its variant
//     bucket.
//
// Experiment results come first, sorted by experiment key; then one Holdout
// entry per layer (sorted by layer key) whose holdout contains the unit and
// which has, on this touchpoint, an experiment the unit is not forced into
// and whose targeting matches it — i.e. a layer that actually hid an
// experiment from the unit, so the baseline has the experiments' audience.
// A layer with a Baseline gives such a unit a Baseline entry whether or not
// it is in the holdout (Holdout tells which), so both arms of the
// comparison are the same audience.
func (s *Snapshot) Assign(unitID, touchpoint string, attrs map[string]any, dst []Assignment) []Assignment {
	if s == nil {
		return dst
	}
	idx := &s.all
	if touchpoint != "" {
		idx = s.byTP[touchpoint]
		if idx == nil {
			return dst
		}
	}
	var mm memo
	for _, e := range idx.exps {
		if v, ok := e.overrides[unitID]; ok {
			dst = append(dst, e.result(v))
			dst[len(dst)-1].Forced = true
			continue
		}
		if e.layer != nil {
			lb := CoverageBucket(Hash(e.layer.salt, unitID))
			if lb < e.layer.holdout || !e.layerRange.Contains(lb) {
				continue
			}
		}
		h := Hash(e.salt, unitID)
		if CoverageBucket(h) >= e.coverage {
			continue
		}
		if !e.matcher.match(attrs, &mm) {
			continue
		}
		if v, ok := e.sticky[unitID]; ok {
			dst = append(dst, e.result(v))
			dst[len(dst)-1].Sticky = true
			continue
		}
		dst = append(dst, e.result(e.alloc.Variant(VariantBucket(h))))
	}
	for i := range idx.layers {
		tl := &idx.layers[i]
		held := CoverageBucket(Hash(tl.layer.salt, unitID)) < tl.layer.holdout
		b := tl.layer.baseline
		if !held && b == nil || !tl.hides(unitID, attrs, &mm) {
			continue
		}
		a := Assignment{Touchpoint: touchpoint, VariantIndex: -1, Layer: tl.layer.key, Holdout: held}
		if b != nil {
			a.VariantIndex = 1
			if held {
				a.VariantIndex = 0
			}
			a.Experiment, a.Variant, a.Baseline = b.Experiment, b.Variants[a.VariantIndex], true
		}
		dst = append(dst, a)
	}
	return dst
}

// hides reports whether the layer has, on the touchpoint, an experiment
// the unit is not forced into and whose targeting matches it: one its
// holdout would hide from the unit.
func (tl *touchpointLayer) hides(unitID string, attrs map[string]any, mm *memo) bool {
	for _, e := range tl.exps {
		if _, forced := e.overrides[unitID]; !forced && e.matcher.match(attrs, mm) {
			return true
		}
	}
	return false
}

func (e *compiledExperiment) result(v int) Assignment {
	a := Assignment{
		Experiment:   e.key,
		Touchpoint:   e.touchpoint,
		Stage:        e.stage,
		Variant:      e.variants[v].Key,
		VariantIndex: v,
		Payload:      e.variants[v].Payload,
	}
	if e.layer != nil {
		a.Layer = e.layer.key
	}
	return a
}
