package privacy

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"
	"sync"
	"time"
)

// recheck is how often an Eraser that knows of no erasure asks the store
// again: another instance sharing the store may have erased a unit.
const recheck = 10 * time.Second

// keepOut is the Eraser's state for keeping erased units out.
type keepOut struct {
	mu sync.Mutex
	// active: some unit has been erased, so merges must check.
	active  bool
	checked time.Time
	macs    sync.Pool
}

// ErasedUnits returns which of units have been erased (by any instance
// sharing the store). While no unit has ever been erased it costs nothing
// but a store look-up every ten seconds; afterwards one keyed hash per
// distinct unit and one indexed store query per call. The journals' merges
// call it so that records of an erased unit never reach the store again.
func (e *Eraser) ErasedUnits(ctx context.Context, units []string) (map[string]bool, error) {
	if len(units) == 0 || !e.checkActive(ctx) {
		return nil, nil
	}
	byHash := make(map[string]string, len(units))
	hashes := make([]string, 0, len(units))
	for _, u := range units {
		h := e.pooledHash(u)
		if _, ok := byHash[h]; !ok {
			byHash[h] = u
			hashes = append(hashes, h)
		}
	}
	found, err := e.st.ErasedAmong(ctx, hashes)
	if err != nil {
		return nil, fmt.Errorf("look up erased units: %w", err)
	}
	out := make(map[string]bool, len(found))
	for h := range found {
		out[byHash[h]] = true
	}
	return out, nil
}

// checkActive reports whether any unit was erased, asking the store at
// most every recheck while none was.
func (e *Eraser) checkActive(ctx context.Context) bool {
	e.ko.mu.Lock()
	defer e.ko.mu.Unlock()
	if e.ko.active {
		return true
	}
	if now := e.now(); now.Sub(e.ko.checked) >= recheck {
		e.ko.checked = now
		any, err := e.st.AnyErased(ctx)
		// An error leaves it inactive until the next check; merges must
		// not fail because the audit could not be read.
		e.ko.active = err == nil && any
	}
	return e.ko.active
}

// activate makes merges check from now on: called before the store
// erases, so that nothing merged after the erasure commits slips through.
func (e *Eraser) activate() {
	e.ko.mu.Lock()
	e.ko.active = true
	e.ko.mu.Unlock()
}

// pooledHash is Hash without allocating a MAC per call.
func (e *Eraser) pooledHash(unit string) string {
	m, _ := e.ko.macs.Get().(hash.Hash)
	if m == nil {
		m = hmac.New(sha256.New, e.key)
	}
	m.Reset()
	m.Write([]byte(unit))
	var sum [sha256.Size]byte
	h := hex.EncodeToString(m.Sum(sum[:0]))
	e.ko.macs.Put(m)
	return h
}
