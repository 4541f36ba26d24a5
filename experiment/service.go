package experiment

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/journeylab/journeylab/assign"
)

// Service holds the rules of experiment management on top of a Store:
// validation, lifecycle, allocations, layer ranges and the audit trail.
type Service struct {
	store Store
	now   func() time.Time
	// launchMu serialises launches so two experiments never get the same layer block.
	launchMu sync.Mutex
	// rollupsStale, when set, is told about experiments whose stored rollups
	// no longer cover their metric definitions (see OnRollupsStale).
	rollupsStale func(key string)
}

// OnRollupsStale registers fn to be called, after the update is stored, when
// an update of an experiment that has collected data adds metrics or changes
// the pre-exposure window: rollups exist only for the definitions in force
// when events arrived, so the caller should rebuild them from raw events.
func (s *Service) OnRollupsStale(fn func(key string)) { s.rollupsStale = fn }

// rollupsStale reports whether going from cur to next needs a rebuild.
func rollupsStale(cur, next *Experiment) bool {
	if !cur.Status.Started() {
		return false
	}
	if cur.Analysis.PreExposureDays != next.Analysis.PreExposureDays {
		return true
	}
	had := map[string]bool{}
	for _, k := range cur.AllMetrics() {
		had[k] = true
	}
	for _, k := range next.AllMetrics() {
		if !had[k] {
			return true
		}
	}
	return false
}

// NewService returns a Service; now is the clock (time.Now in production).
func NewService(store Store, now func() time.Time) *Service {
	return &Service{store: store, now: now}
}

// Store returns the underlying store.
func (s *Service) Store() Store { return s.store }

// SeedBuiltinMetrics stores the built-in KPI catalogue where missing.
func (s *Service) SeedBuiltinMetrics(ctx context.Context) error {
	for _, m := range BuiltinMetrics() {
		if err := s.store.CreateMetric(ctx, m); err != nil && !errors.Is(err, ErrAlreadyExists) {
			return fmt.Errorf("seed metric %s: %w", m.Key, err)
		}
	}
	return nil
}

// Create validates and stores a new draft experiment.
func (s *Service) Create(ctx context.Context, actor string, e *Experiment) (*Experiment, error) {
	e, err := cloneInput(e)
	if err != nil {
		return nil, err
	}
	// Server-owned fields: a client cannot create a running experiment or pick its allocation.
	e.Status, e.Version, e.Allocation, e.LayerRange = StatusDraft, 1, assign.Allocation{}, nil
	e.StartedAt, e.StoppedAt = nil, nil
	e.Normalize()
	if err := s.validate(ctx, e); err != nil {
		return nil, err
	}
	alloc, err := assign.Allocate(e.Weights())
	if err != nil {
		return nil, invalid("variants", "%v", err)
	}
	e.Allocation = alloc
	now := s.now().UTC()
	e.CreatedAt, e.UpdatedAt = now, now
	audit := AuditEntry{ExperimentKey: e.Key, Actor: actor, Action: "create", At: now, Version: e.Version, Changes: Diff(nil, e)}
	if err := s.store.CreateExperiment(ctx, e, audit); err != nil {
		return nil, fmt.Errorf("create experiment %s: %w", e.Key, err)
	}
	return e, nil
}

// Get returns one experiment.
func (s *Service) Get(ctx context.Context, key string) (*Experiment, error) {
	e, err := s.store.GetExperiment(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("get experiment %s: %w", key, err)
	}
	return e, nil
}

// List returns experiments matching f.
func (s *Service) List(ctx context.Context, f Filter) ([]*Experiment, error) {
	list, err := s.store.ListExperiments(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list experiments: %w", err)
	}
	return list, nil
}

// Update replaces the editable fields of an experiment. next.Version must be
// the version the client read (optimistic concurrency): a stale one gets
// ErrVersionConflict.
func (s *Service) Update(ctx context.Context, actor, key string, next *Experiment) (*Experiment, error) {
	cur, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if next.Version != cur.Version {
		return nil, fmt.Errorf("%w: experiment %s is at version %d, the update was based on %d", ErrVersionConflict, key, cur.Version, next.Version)
	}
	e, err := cloneInput(next)
	if err != nil {
		return nil, err
	}
	if e.Key != "" && e.Key != cur.Key {
		return nil, invalid("key", "cannot be changed (was %q)", cur.Key)
	}
	e.Key = cur.Key
	// Server-owned fields come from the stored version.
	e.Status, e.Allocation, e.LayerRange = cur.Status, cur.Allocation, cur.LayerRange
	e.StartedAt, e.StoppedAt, e.CreatedAt = cur.StartedAt, cur.StoppedAt, cur.CreatedAt
	e.Normalize()
	if cur.Status.Started() {
		if err := frozenAfterStart(cur, e); err != nil {
			return nil, err
		}
	}
	if cur.Status == StatusArchived {
		return nil, fmt.Errorf("%w: experiment %s is archived and read-only", ErrIllegalTransition, key)
	}
	if err := s.validate(ctx, e); err != nil {
		return nil, err
	}
	if len(cur.Allocation.Ranges) == 0 || len(e.Variants) != len(cur.Variants) {
		e.Allocation, err = assign.Allocate(e.Weights())
	} else {
		e.Allocation, err = assign.Reallocate(cur.Allocation, e.Weights())
	}
	if err != nil {
		return nil, invalid("variants", "%v", err)
	}
	out, err := s.write(ctx, actor, "update", cur, e, nil)
	if err == nil && s.rollupsStale != nil && rollupsStale(cur, out) {
		s.rollupsStale(out.Key)
	}
	return out, err
}

// frozenAfterStart refuses changes that would reshuffle live visitors or
// make collected data meaningless.
func frozenAfterStart(cur, e *Experiment) error {
	if e.Salt != cur.Salt {
		return invalid("salt", "cannot change after launch: it would reassign every unit")
	}
	if e.Touchpoint != cur.Touchpoint || e.Stage != cur.Stage {
		return invalid("touchpoint", "stage and touchpoint cannot change after launch")
	}
	if e.Layer != cur.Layer || e.LayerShare != cur.LayerShare {
		return invalid("layer", "layer and layer_share cannot change after launch")
	}
	if e.Control != cur.Control {
		return invalid("control", "cannot change after launch")
	}
	if len(e.Variants) != len(cur.Variants) {
		return invalid("variants", "variants cannot be added or removed after launch (set a weight to 0 instead)")
	}
	for i := range e.Variants {
		if e.Variants[i].Key != cur.Variants[i].Key {
			return invalid(fmt.Sprintf("variants[%d].key", i), "cannot change after launch")
		}
	}
	return nil
}

// Transition applies a lifecycle action.
func (s *Service) Transition(ctx context.Context, actor, key string, a Action) (*Experiment, error) {
	if a == ActionLaunch || a == ActionResume {
		s.launchMu.Lock()
		defer s.launchMu.Unlock()
	}
	cur, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	to, err := Next(cur.Status, a)
	if err != nil {
		return nil, fmt.Errorf("experiment %s: %w", key, err)
	}
	e := cur.Clone()
	e.Status = to
	now := s.now().UTC()
	switch a {
	case ActionLaunch:
		if err := s.checkReferences(ctx, e); err != nil {
			return nil, err
		}
		e.StartedAt = &now
		if e.Layer != "" {
			r, err := s.layerRange(ctx, e)
			if err != nil {
				return nil, err
			}
			e.LayerRange = &r
		}
	case ActionStop:
		e.StoppedAt = &now
	}
	return s.write(ctx, actor, string(a), cur, e, nil)
}

// Reweight sets new variant weights on a live experiment (bandit updates),
// moving the minimum share of buckets and recording why in the audit note.
func (s *Service) Reweight(ctx context.Context, actor, key string, weights []float64, note json.RawMessage) (*Experiment, error) {
	cur, err := s.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if len(weights) != len(cur.Variants) {
		return nil, invalid("weights", "need %d weights, got %d", len(cur.Variants), len(weights))
	}
	e := cur.Clone()
	for i := range e.Variants {
		e.Variants[i].Weight = weights[i]
	}
	if err := e.validateVariants(); err != nil {
		return nil, err
	}
	if e.Allocation, err = assign.Reallocate(cur.Allocation, weights); err != nil {
		return nil, invalid("weights", "%v", err)
	}
	return s.write(ctx, actor, "reweight", cur, e, note)
}

func (s *Service) write(ctx context.Context, actor, action string, cur, e *Experiment, note json.RawMessage) (*Experiment, error) {
	now := s.now().UTC()
	e.Version = cur.Version + 1
	e.UpdatedAt = now
	audit := AuditEntry{ExperimentKey: e.Key, Actor: actor, Action: action, At: now, Version: e.Version, Changes: Diff(cur, e), Note: note}
	if err := s.store.UpdateExperiment(ctx, e, cur.Version, audit); err != nil {
		return nil, fmt.Errorf("%s experiment %s: %w", action, e.Key, err)
	}
	return e, nil
}

// layerRange finds a free block of the layer for e, first fit after the holdout.
func (s *Service) layerRange(ctx context.Context, e *Experiment) (assign.Range, error) {
	layer, err := s.store.GetLayer(ctx, e.Layer)
	if err != nil {
		return assign.Range{}, fmt.Errorf("layer %s: %w", e.Layer, err)
	}
	others, err := s.store.ListExperiments(ctx, Filter{Layer: e.Layer})
	if err != nil {
		return assign.Range{}, fmt.Errorf("list layer %s: %w", e.Layer, err)
	}
	var taken []assign.Range
	for _, o := range others {
		if o.Key != e.Key && o.Status.Live() && o.LayerRange != nil {
			taken = append(taken, *o.LayerRange)
		}
	}
	size := assign.ShareToBuckets(e.LayerShare)
	r, err := assign.AllocateLayerRange(taken, assign.ShareToBuckets(layer.HoldoutShare), size)
	if err != nil {
		return assign.Range{}, invalid("layer_share", "layer %s has no free block of %.2f%%: %v", e.Layer, e.LayerShare*100, err)
	}
	return r, nil
}

// checkMetricsExist notes every metric key given in field that is not in
// the catalogue (keys that are not keys at all are Validate's business). An
// error means the catalogue could not be read.
func (s *Service) checkMetricsExist(ctx context.Context, p *problems, field string, keys []string) error {
	for i, k := range keys {
		if !validKey(k) {
			continue
		}
		if _, err := s.store.GetMetric(ctx, k); err != nil {
			if errors.Is(err, ErrNotFound) {
				p.add(fmt.Sprintf("%s[%d]", field, i), "unknown metric %q", k)
				continue
			}
			return fmt.Errorf("check metric %s: %w", k, err)
		}
	}
	return nil
}

// validate checks e on its own and against the store, and reports every
// problem of both at once.
func (s *Service) validate(ctx context.Context, e *Experiment) error {
	var p problems
	e.validate(&p)
	if err := s.references(ctx, e, &p); err != nil {
		return err
	}
	return p.err()
}

// checkReferences verifies that metrics, the layer and the personas the
// targeting references exist, and that the targeting compiles.
func (s *Service) checkReferences(ctx context.Context, e *Experiment) error {
	var p problems
	if err := s.references(ctx, e, &p); err != nil {
		return err
	}
	return p.err()
}

// references notes what checkReferences checks; an error means the store
// could not be read.
func (s *Service) references(ctx context.Context, e *Experiment, p *problems) error {
	if !e.Targeting.IsZero() {
		personas, err := s.compiledPersonas(ctx)
		if err != nil {
			return err
		}
		_ = p.addError(e.ValidateTargeting(personas))
	}
	for _, l := range e.metricLists() {
		if err := s.checkMetricsExist(ctx, p, l.field, l.keys); err != nil {
			return err
		}
	}
	if e.Layer != "" && validKey(e.Layer) {
		if _, err := s.store.GetLayer(ctx, e.Layer); err != nil {
			if !errors.Is(err, ErrNotFound) {
				return fmt.Errorf("check layer %s: %w", e.Layer, err)
			}
			p.add("layer", "unknown layer %q (create it with PUT /v1/layers/%s)", e.Layer, e.Layer)
		}
	}
	return nil
}

// Audit returns the experiment's audit trail.
func (s *Service) Audit(ctx context.Context, key string) ([]AuditEntry, error) {
	if _, err := s.Get(ctx, key); err != nil {
		return nil, err
	}
	entries, err := s.store.ListAudit(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("audit of %s: %w", key, err)
	}
	return entries, nil
}

// CreateMetric validates and stores a custom metric.
func (s *Service) CreateMetric(ctx context.Context, m Metric) (Metric, error) {
	m.BuiltIn = false
	m.Normalize()
	if err := m.Validate(); err != nil {
		return Metric{}, err
	}
	if err := s.store.CreateMetric(ctx, m); err != nil {
		return Metric{}, fmt.Errorf("create metric %s: %w", m.Key, err)
	}
	return m, nil
}

// PutLayer validates and stores a layer. The holdout of a layer with live
// experiments cannot grow into their blocks.
func (s *Service) PutLayer(ctx context.Context, l Layer) (Layer, error) {
	l.Normalize()
	var p problems
	_ = p.addError(l.Validate())
	if err := s.checkMetricsExist(ctx, &p, "metrics", l.Metrics); err != nil {
		return Layer{}, err
	}
	if err := p.err(); err != nil {
		return Layer{}, err
	}
	stale := false
	prev, err := s.store.GetLayer(ctx, l.Key)
	switch {
	case err == nil:
		split := prev.Salt != l.Salt || l.HoldoutShare != prev.HoldoutShare
		added := s.rollupsStale != nil && addsMetrics(prev.Metrics, l.Metrics)
		if split || added {
			live, started, err := s.layerState(ctx, l.Key)
			if err != nil {
				return Layer{}, err
			}
			if prev.Salt != l.Salt {
				if err := splitFixed(prev, "salt", live, started); err != nil {
					return Layer{}, err
				}
			}
			if l.HoldoutShare != prev.HoldoutShare {
				if err := splitFixed(prev, "holdout_share", live, started); err != nil {
					return Layer{}, err
				}
			}
			// Rollups exist only for the metrics in force when events
			// arrived, so a metric added once the baseline has data needs a
			// rebuild, as for an experiment (OnRollupsStale).
			stale = added && started
		}
		l.Version = prev.Version + 1
	case errors.Is(err, ErrNotFound):
		l.Version = 1
	default:
		return Layer{}, fmt.Errorf("get layer %s: %w", l.Key, err)
	}
	if err := s.store.PutLayer(ctx, l); err != nil {
		return Layer{}, fmt.Errorf("put layer %s: %w", l.Key, err)
	}
	if stale {
		s.rollupsStale(HoldoutKey(l.Key))
	}
	return l, nil
}

// splitFixed refuses a change of field, which decides who is held out, while
// the layer has live experiments (their units would move) or once its holdout
// baseline may have data, i.e. an experiment of it has started (two splits
// would be mixed under one key).
func splitFixed(prev Layer, field string, live, started bool) error {
	if live {
		return invalid(field, "cannot change while the layer has live experiments")
	}
	if prev.HasBaseline() && started {
		return invalid(field, "cannot change once the layer's holdout baseline has data; use a new layer")
	}
	return nil
}

// addsMetrics reports whether next lists a metric cur does not.
func addsMetrics(cur, next []string) bool {
	for _, k := range next {
		if !slices.Contains(cur, k) {
			return true
		}
	}
	return false
}

// layerState reports whether some experiment of the layer is live and
// whether some has started, from one read of the layer's experiments.
func (s *Service) layerState(ctx context.Context, layer string) (live, started bool, err error) {
	list, err := s.store.ListExperiments(ctx, Filter{Layer: layer})
	if err != nil {
		return false, false, fmt.Errorf("experiments of layer %s: %w", layer, err)
	}
	for _, e := range list {
		live = live || e.Status.Live()
		started = started || e.Status.Started()
	}
	return live, started, nil
}
