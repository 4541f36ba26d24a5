package serving

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

// refreshTimeout bounds one rebuild, including sticky scans of large
// experiments.
const refreshTimeout = 2 * time.Minute

// errorLogEvery limits how often a persisting refresh error is logged.
const errorLogEvery = time.Minute

// stickyEntry caches the sticky units of one experiment for the allocation
// they were computed against.
type stickyEntry struct {
	alloc string
	units map[string]int
}

// poll is the refresher goroutine.
func (s *Service) poll() {
	defer close(s.pollDone)
	t := time.NewTicker(s.opts.RefreshInterval)
	defer t.Stop()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(s.ctx, refreshTimeout)
		_, _ = s.Refresh(ctx)
		cancel()
	}
}

// Refresh rebuilds the snapshot if the store's config version moved since
// the one being served, and reports whether it did. The refresher calls it
// every RefreshInterval; tests and tools may call it to skip the wait.
func (s *Service) Refresh(ctx context.Context) (bool, error) {
	v, err := s.store.ConfigVersion(ctx)
	if err != nil {
		err = fmt.Errorf("read config version: %w", err)
		s.refreshFailed(err)
		return false, err
	}
	if v == s.cur.Load().version {
		return false, nil
	}
	if err := s.rebuild(ctx, v); err != nil {
		s.refreshFailed(err)
		return false, err
	}
	return true, nil
}

// refreshFailed counts a failed refresh and logs it, at most once a minute
// while it keeps failing; the previous snapshot stays in service.
func (s *Service) refreshFailed(err error) {
	if s.ctx.Err() != nil {
		return // Close interrupted the refresh; nothing is wrong
	}
	s.m.refreshErrors.Inc()
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	if now := time.Now(); now.Sub(s.lastErrLog) >= errorLogEvery {
		s.lastErrLog = now
		s.log.Error("refreshing experiments failed; still serving the previous configuration", "version", s.cur.Load().version, "error", err)
	}
}

// rebuild reads the running experiments and layers at config version v,
// computes sticky units and swaps in a new snapshot.
func (s *Service) rebuild(ctx context.Context, v int64) error {
	s.refreshMu.Lock()
	defer s.refreshMu.Unlock()
	if cur := s.cur.Load(); cur != nil && cur.version == v {
		return nil // a concurrent Refresh got here first
	}
	list, err := s.store.ListExperiments(ctx, experiment.Filter{Status: experiment.StatusRunning})
	if err != nil {
		return fmt.Errorf("list running experiments: %w", err)
	}
	storedLayers, err := s.store.ListLayers(ctx)
	if err != nil {
		return fmt.Errorf("list layers: %w", err)
	}
	if err := s.refreshTouchpoints(ctx); err != nil {
		return err
	}
	exps := make([]assign.Experiment, 0, len(list))
	for _, e := range list {
		if e.Status == experiment.StatusRunning { // a backend may ignore the filter
			exps = append(exps, AssignExperiment(e))
		}
	}
	layers := make([]assign.Layer, len(storedLayers))
	for i, l := range storedLayers {
		layers[i] = AssignLayer(l)
	}
	personas, err := s.loadPersonas(ctx)
	if err != nil {
		return err
	}
	personas = s.compilablePersonas(personas)
	exps, layers = s.compilable(exps, layers, personas)

	sticky, err := s.stickyUnits(ctx, exps)
	if err != nil {
		return err
	}
	pinned := 0
	var pins map[string]map[string]int
	for i := range exps {
		units := sticky[exps[i].Key].units
		pinned += len(units)
		if s.opts.StoredUnit != nil && len(units) > 0 {
			// Pins by pseudonym: serving applies them (state.applyPins).
			if pins == nil {
				pins = map[string]map[string]int{}
			}
			pins[exps[i].Key] = units
			continue
		}
		exps[i].Sticky = units
	}
	snap, err := assign.NewSnapshot(exps, layers, personas...)
	if err != nil {
		return fmt.Errorf("build snapshot: %w", err)
	}
	variants := make(map[string][]assign.Variant, len(exps))
	for _, e := range exps {
		variants[e.Key] = e.Variants
	}
	flags, flagList := flagsOf(exps)
	sdk := &sdkView{cfg: assign.Config{Version: v, Experiments: exps, Layers: layers, Personas: personas}}
	s.cur.Store(&state{version: v, snap: snap, variants: variants, flags: flags, flagList: flagList, sdk: sdk, pins: pins})
	s.sticky = sticky
	s.m.version.Set(float64(v))
	s.m.experiments.Set(float64(len(exps)))
	s.m.stickyUnits.Set(float64(pinned))
	s.log.Debug("experiments refreshed", "version", v, "running", len(exps), "layers", len(layers), "sticky_units", pinned)
	return nil
}

// compilable returns the experiments and layers that compile together. When
// the whole set does not, it leaves out each layer and experiment that fails
// on its own and experiments whose layer range overlaps an earlier one (by
// key) of the same layer, logging each, so one bad record never blocks the
// others.
func (s *Service) compilable(exps []assign.Experiment, layers []assign.Layer, personas []assign.Persona) ([]assign.Experiment, []assign.Layer) {
	if _, err := assign.NewSnapshot(exps, layers, personas...); err == nil {
		return exps, layers
	}
	var keptLayers []assign.Layer
	seenLayer := map[string]bool{}
	for _, l := range layers {
		if _, err := assign.NewSnapshot(nil, []assign.Layer{l}); err != nil || seenLayer[l.Key] {
			s.leftOut("layer", l.Key, errors.Join(err, dupErr(seenLayer[l.Key])))
			continue
		}
		seenLayer[l.Key] = true
		keptLayers = append(keptLayers, l)
	}
	var kept []assign.Experiment
	taken := map[string][]assign.Experiment{}
	seen := map[string]bool{}
	for _, e := range exps {
		if _, err := assign.NewSnapshot([]assign.Experiment{e}, keptLayers, personas...); err != nil || seen[e.Key] {
			s.leftOut("experiment", e.Key, errors.Join(err, dupErr(seen[e.Key])))
			continue
		}
		if e.LayerRange != nil {
			if other, clash := overlapping(taken[e.Layer], *e.LayerRange); clash {
				s.leftOut("experiment", e.Key, fmt.Errorf("layer_range overlaps experiment %q in layer %q", other, e.Layer))
				continue
			}
			taken[e.Layer] = append(taken[e.Layer], e)
		}
		seen[e.Key] = true
		kept = append(kept, e)
	}
	return kept, keptLayers
}

func dupErr(dup bool) error {
	if dup {
		return errors.New("duplicate key")
	}
	return nil
}

func overlapping(others []assign.Experiment, r assign.Range) (string, bool) {
	for _, o := range others {
		if o.LayerRange.Overlaps(r) {
			return o.Key, true
		}
	}
	return "", false
}

func (s *Service) leftOut(kind, key string, err error) {
	s.m.refreshErrors.Inc()
	s.log.Error(kind+" left out of assignment: its stored configuration does not compile", kind, key, "error", err)
}

// stickyUnits returns, per experiment, the exposed units whose recorded
// variant differs from what the current allocation gives them. It reuses
// the previous result while an experiment's allocation is unchanged, skips
// experiments whose allocation never changed after launch, and otherwise
// scans the stored exposures plus those still in the journal.
func (s *Service) stickyUnits(ctx context.Context, exps []assign.Experiment) (map[string]stickyEntry, error) {
	out := make(map[string]stickyEntry, len(exps))
	scan := map[string]*assign.Experiment{}
	for i := range exps {
		e := &exps[i]
		fp := allocationKey(e.Allocation)
		prev, known := s.sticky[e.Key]
		if known && prev.alloc == fp {
			out[e.Key] = prev
			continue
		}
		if !known {
			changed, err := s.allocationChangedAfterLaunch(ctx, e.Key)
			if err != nil {
				return nil, err
			}
			if !changed {
				out[e.Key] = stickyEntry{alloc: fp}
				continue
			}
		}
		scan[e.Key] = e
	}
	if len(scan) == 0 {
		return out, nil
	}
	pins := make(map[string]*pinner, len(scan))
	keys := make(map[string]bool, len(scan))
	for key, e := range scan {
		p, err := newPinner(e)
		if err != nil {
			return nil, err
		}
		// A pseudonym cannot be bucketed: pin every exposed unit.
		p.pinAll = s.opts.StoredUnit != nil
		pins[key] = p
		keys[key] = true
	}
	// The journal is read before the store: an exposure merged between the
	// two reads is then in the store read, and one journaled after the
	// journal read is covered by the dedupe cache (see Service.record). The
	// store's are added first: a unit's first exposure is the one kept.
	var journaled []experiment.Exposure
	if err := s.exposures.pendingExposures(keys, func(x *experiment.Exposure) {
		journaled = append(journaled, experiment.Exposure{Experiment: x.Experiment, Unit: x.Unit, Variant: x.Variant})
	}); err != nil {
		return nil, err
	}
	for key, p := range pins {
		if err := s.store.ExposureVariants(ctx, key, func(unit, variant string) error {
			p.add(unit, variant)
			return nil
		}); err != nil {
			return nil, fmt.Errorf("read exposures of %s: %w", key, err)
		}
	}
	for i := range journaled {
		pins[journaled[i].Experiment].add(journaled[i].Unit, journaled[i].Variant)
	}
	for key, p := range pins {
		if p.unknown > 0 {
			s.log.Warn("exposures with a variant the experiment does not have were ignored", "experiment", key, "count", p.unknown)
		}
		out[key] = stickyEntry{alloc: allocationKey(scan[key].Allocation), units: p.units}
	}
	return out, nil
}

// allocationChangedAfterLaunch reads the audit trail: an allocation change
// recorded after the launch entry means exposed units may now hash to
// another variant. Without a launch entry it answers true, to be safe.
func (s *Service) allocationChangedAfterLaunch(ctx context.Context, key string) (bool, error) {
	entries, err := s.store.ListAudit(ctx, key)
	if err != nil {
		return false, fmt.Errorf("read audit of %s: %w", key, err)
	}
	launched := false
	for _, a := range entries {
		if a.Action == string(experiment.ActionLaunch) {
			launched = true
			continue
		}
		if !launched {
			continue
		}
		for _, c := range a.Changes {
			if c.Field == "allocation" {
				return true, nil
			}
		}
	}
	return !launched, nil
}

// pinner collects the units whose recorded variant differs from the one
// the current allocation gives.
type pinner struct {
	salt    string
	alloc   assign.Allocation
	index   map[string]int
	units   map[string]int
	unknown int
	// pinAll pins every unit to its recorded variant: stored ids are
	// pseudonyms, whose current variant cannot be computed.
	pinAll bool
}

func newPinner(e *assign.Experiment) (*pinner, error) {
	alloc := e.Allocation
	if len(alloc.Ranges) == 0 {
		w := make([]float64, len(e.Variants))
		for i := range w {
			w[i] = 1
		}
		var err error
		if alloc, err = assign.Allocate(w); err != nil {
			return nil, fmt.Errorf("experiment %s: %w", e.Key, err)
		}
	}
	p := &pinner{salt: e.EffectiveSalt(), alloc: alloc, index: make(map[string]int, len(e.Variants)), units: map[string]int{}}
	for i, v := range e.Variants {
		p.index[v.Key] = i
	}
	return p, nil
}

// add records that unit was exposed to variant. An earlier pin wins: the
// store keeps the first exposure of a unit, and journaled exposures are
// added after the stored ones.
func (p *pinner) add(unit, variant string) {
	v, ok := p.index[variant]
	if !ok {
		p.unknown++
		return
	}
	if _, pinned := p.units[unit]; pinned {
		return
	}
	if p.pinAll || p.alloc.Variant(assign.VariantBucket(assign.Hash(p.salt, unit))) != v {
		p.units[unit] = v
	}
}

// allocationKey is a compact identity of an allocation, to notice changes.
func allocationKey(a assign.Allocation) string {
	rs := append([]assign.VariantRange(nil), a.Ranges...)
	sort.Slice(rs, func(i, j int) bool { return rs[i].Start < rs[j].Start })
	var b strings.Builder
	for _, r := range rs {
		b.WriteString(strconv.Itoa(r.Start))
		b.WriteByte('-')
		b.WriteString(strconv.Itoa(r.End))
		b.WriteByte(':')
		b.WriteString(strconv.Itoa(r.Variant))
		b.WriteByte(',')
	}
	return b.String()
}
