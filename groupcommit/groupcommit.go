// Package groupcommit lets concurrent callers share one expensive commit
// (an fsync, a database transaction): each call queues its request, the
// caller that becomes the leader commits everything queued so far, and the
// others find their result ready when they get their turn.
package groupcommit

import "sync"

// Group batches the requests of concurrent Do calls. The zero value is ready.
type Group[T any] struct {
	mu     sync.Mutex // guards queue
	queue  []*entry[T]
	leader sync.Mutex
}

type entry[T any] struct {
	req T
	// err and done are written by the leader before it releases the lock.
	err  error
	done bool
}

// Do queues req and returns once a call of commit that included it has
// returned, with that call's error. commit gets the requests in the order
// they were queued; one commit runs at a time.
func (g *Group[T]) Do(req T, commit func(batch []T) error) error {
	e := &entry[T]{req: req}
	g.mu.Lock()
	g.queue = append(g.queue, e)
	g.mu.Unlock()

	g.leader.Lock()
	defer g.leader.Unlock()
	if e.done {
		return e.err
	}
	g.mu.Lock()
	batch := g.queue
	g.queue = nil
	g.mu.Unlock()
	reqs := make([]T, len(batch))
	for i, b := range batch {
		reqs[i] = b.req
	}
	err := commit(reqs)
	for _, b := range batch {
		b.done, b.err = true, err
	}
	return err
}
