package serving

import (
	"fmt"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/cespare/xxhash/v2"
	"github.com/hashicorp/golang-lru/v2/simplelru"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
)

// dedupeShards spreads the dedupe cache over independent locks: every
// request touches it, and a single lock would serialise all of them.
const dedupeShards = 64

// dedupe remembers, for recently exposed units, the variant index each of
// their (experiment, unit) pairs was recorded with. It is an LRU of units
// (hashicorp/golang-lru's simplelru under one mutex per shard), so one
// request costs one lock and one map lookup however many experiments it
// gets; the size budget counts pairs.
type dedupe struct {
	shards [dedupeShards]dedupeShard
	ids    experimentIDs
}

type dedupeShard struct {
	mu     sync.Mutex
	lru    *simplelru.LRU[string, *seenUnit]
	pairs  int      // pairs held by the shard
	budget int      // most pairs the shard may hold
	_      [64]byte // keeps neighbouring shards' locks off one cache line
}

// seenUnit lists the experiments a unit was exposed to, sorted by id.
type seenUnit struct {
	exps []seenPair
}

// seenPair is 8 bytes: the cache holds up to DedupeSize of them, and an
// experiment key (a 16-byte string header) per pair would double that.
type seenPair struct {
	experiment uint32 // experimentIDs id
	variant    int32
}

// find returns the position of experiment id in u.exps and whether it is there.
func (u *seenUnit) find(id uint32) (int, bool) {
	lo, hi := 0, len(u.exps)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if u.exps[m].experiment < id {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(u.exps) && u.exps[lo].experiment == id
}

// experimentIDs numbers experiment keys for the dedupe cache. Reads take
// no lock and do not allocate: the map is replaced, never changed, when a
// key is new (a launch, rarely).
type experimentIDs struct {
	m  atomic.Pointer[map[string]uint32]
	mu sync.Mutex // serialises additions
}

// id returns key's number, assigning the next one to a new key.
func (x *experimentIDs) id(key string) uint32 {
	if m := x.m.Load(); m != nil {
		if id, ok := (*m)[key]; ok {
			return id
		}
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	old := x.m.Load()
	if old != nil {
		if id, ok := (*old)[key]; ok {
			return id
		}
	}
	next := make(map[string]uint32, 1+lenOf(old))
	if old != nil {
		for k, v := range *old {
			next[k] = v
		}
	}
	id := uint32(len(next) + 1)
	next[key] = id
	x.m.Store(&next)
	return id
}

func lenOf(m *map[string]uint32) int {
	if m == nil {
		return 0
	}
	return len(*m)
}

func newDedupe(size int) (*dedupe, error) {
	budget := max(1, (size+dedupeShards-1)/dedupeShards)
	d := &dedupe{}
	for i := range d.shards {
		// Every unit holds at least one pair, so budget entries is also
		// the most units a shard can hold.
		l, err := simplelru.NewLRU[string, *seenUnit](budget, nil)
		if err != nil {
			return nil, fmt.Errorf("dedupe cache: %w", err)
		}
		d.shards[i].lru, d.shards[i].budget = l, budget
	}
	return d, nil
}

func (d *dedupe) shard(unit string) *dedupeShard {
	return &d.shards[xxhash.Sum64String(unit)%dedupeShards]
}

// observe checks the results of one request for unit against the cache.
// A result whose pair is remembered with another variant is passed to
// repin with that variant; a result whose pair is new is remembered and
// passed to fresh. Forced results and holdout entries of layers without a
// baseline are skipped. unit is retained.
func (d *dedupe) observe(unit string, as []assign.Assignment, repin func(a *assign.Assignment, v int), fresh func(a *assign.Assignment)) {
	sh := d.shard(unit)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u, _ := sh.lru.Get(unit)
	added := 0
	for i := range as {
		a := &as[i]
		if a.Forced || a.Experiment == "" {
			continue
		}
		if u == nil {
			u = &seenUnit{exps: make([]seenPair, 0, len(as))}
			sh.lru.Add(unit, u)
		}
		id := d.ids.id(a.Experiment)
		at, ok := u.find(id)
		if ok {
			if v := int(u.exps[at].variant); v != a.VariantIndex {
				repin(a, v)
			}
			continue
		}
		u.exps = slices.Insert(u.exps, at, seenPair{id, int32(a.VariantIndex)})
		added++
		fresh(a)
	}
	sh.pairs += added
	for sh.pairs > sh.budget {
		_, old, ok := sh.lru.RemoveOldest()
		if !ok {
			break
		}
		sh.pairs -= len(old.exps)
	}
}

// peek re-pins results whose pair the cache remembers with another variant,
// like observe, but remembers nothing new: for answers that record nothing.
func (d *dedupe) peek(unit string, as []assign.Assignment, repin func(a *assign.Assignment, v int)) {
	sh := d.shard(unit)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	u, ok := sh.lru.Peek(unit)
	if !ok {
		return
	}
	for i := range as {
		a := &as[i]
		if a.Forced || a.Experiment == "" {
			continue
		}
		if at, found := u.find(d.ids.id(a.Experiment)); found {
			if v := int(u.exps[at].variant); v != a.VariantIndex {
				repin(a, v)
			}
		}
	}
}

// forget removes pairs whose exposure was dropped, so that a later request
// for the unit queues it again.
func (d *dedupe) forget(xs []experiment.Exposure) {
	for _, x := range xs {
		sh := d.shard(x.Unit)
		sh.mu.Lock()
		if u, ok := sh.lru.Peek(x.Unit); ok {
			if at, found := u.find(d.ids.id(x.Experiment)); found {
				u.exps = slices.Delete(u.exps, at, at+1)
				sh.pairs--
			}
		}
		sh.mu.Unlock()
	}
}
