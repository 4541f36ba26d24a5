package serving

import (
	"sort"
	"sync"

	"github.com/journeylab/journeylab/assign"
)

// Flag is a running experiment seen as a feature flag by a remote
// evaluation protocol (OpenFeature's OFREP): its key, and where it sits in
// the journey for the labels of an evaluation.
type Flag struct {
	Key        string
	Touchpoint string
	Stage      string
	Layer      string
	// Payloads tells whether any variant has a payload.
	Payloads bool
}

// flagsOf indexes the running experiments as flags, sorted by key.
func flagsOf(exps []assign.Experiment) (map[string]Flag, []Flag) {
	byKey := make(map[string]Flag, len(exps))
	list := make([]Flag, 0, len(exps))
	for _, e := range exps {
		f := Flag{Key: e.Key, Touchpoint: e.Touchpoint, Stage: e.Stage, Layer: e.Layer}
		for _, v := range e.Variants {
			f.Payloads = f.Payloads || len(v.Payload) > 0
		}
		byKey[e.Key] = f
		list = append(list, f)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Key < list[j].Key })
	return byKey, list
}

// Flag returns the running experiment key as a flag, and false when no
// running experiment (in the snapshot being served) has that key.
func (s *Service) Flag(key string) (Flag, bool) {
	f, ok := s.cur.Load().flags[key]
	return f, ok
}

// Flags returns every running experiment as a flag, sorted by key. The
// slice is shared: do not modify it.
func (s *Service) Flags() []Flag { return s.cur.Load().flagList }

// EvaluateFlag evaluates one running experiment for unitID. It returns the
// unit's assignment and true, or false when the unit is not in the
// experiment (outside its coverage, targeting or layer range, or in its
// layer's holdout) or no running experiment has that key. With expose, the
// assignment is recorded as Assign records it, together with the unit's
// holdout-baseline arm of the experiment's layer, and nothing else of the
// touchpoint; without, nothing is recorded.
func (s *Service) EvaluateFlag(key, unitID string, attrs map[string]any, expose bool) (assign.Assignment, bool) {
	st := s.cur.Load()
	f, ok := st.flags[key]
	if !ok {
		return assign.Assignment{}, false
	}
	bufp := evalBuffers.Get().(*[]assign.Assignment)
	defer func() {
		clear(*bufp) // drop references to payloads of old snapshots
		evalBuffers.Put(bufp)
	}()
	all := st.snap.Assign(unitID, f.Touchpoint, attrs, (*bufp)[:0])
	*bufp = all[:0]
	// Keep the flag's own entry first, then its layer's baseline entry.
	sel := all[:0]
	found := false
	for _, a := range all {
		switch {
		case a.Experiment == key && !a.Holdout && !a.Baseline:
			found = true
			sel = append(sel, a)
			sel[0], sel[len(sel)-1] = sel[len(sel)-1], sel[0]
		case a.Baseline && f.Layer != "" && a.Layer == f.Layer:
			sel = append(sel, a)
		}
	}
	if len(sel) > 0 && (expose || found) {
		stored := s.storedUnit(unitID)
		st.applyPins(stored, sel)
		if expose {
			s.record(st, stored, attrs, sel)
		} else {
			s.dedupe.peek(stored, sel[:1], st.repin)
		}
	}
	if !found {
		return assign.Assignment{}, false
	}
	return sel[0], true
}

// evalBuffers pools EvaluateFlag's scratch space: a touchpoint's results
// would otherwise be allocated on every call.
var evalBuffers = sync.Pool{New: func() any { s := make([]assign.Assignment, 0, 16); return &s }}
