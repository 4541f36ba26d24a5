package app

import (
	"context"
	"errors"
	"log/slog"
	"sync"
)

// rebuilder recomputes experiments' rollups in the background when their
// metric definitions change (experiment.Service.OnRollupsStale), so a metric
// added to a running experiment shows its full history without anyone
// running `journeylab rebuild`. It runs one rebuild per experiment at a
// time; a trigger during a run queues exactly one more run.
type rebuilder struct {
	rebuild func(ctx context.Context, key string, progress func(done, total int64)) error
	log     *slog.Logger
	ctx     context.Context
	cancel  context.CancelFunc
	wg      sync.WaitGroup

	mu      sync.Mutex
	running map[string]bool
	again   map[string]bool
}

func newRebuilder(rebuild func(context.Context, string, func(done, total int64)) error, log *slog.Logger) *rebuilder {
	ctx, cancel := context.WithCancel(context.Background())
	return &rebuilder{rebuild: rebuild, log: log, ctx: ctx, cancel: cancel, running: map[string]bool{}, again: map[string]bool{}}
}

// Trigger schedules a rebuild of the experiment's rollups.
func (r *rebuilder) Trigger(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ctx.Err() != nil {
		return
	}
	if r.running[key] {
		r.again[key] = true
		return
	}
	r.running[key] = true
	r.wg.Add(1)
	go r.run(key)
}

func (r *rebuilder) run(key string) {
	defer r.wg.Done()
	for {
		r.log.Info("rebuilding rollups after a metric change", "experiment", key)
		err := r.rebuild(r.ctx, key, nil)
		switch {
		case err == nil:
			r.log.Info("rollups rebuilt", "experiment", key)
		case errors.Is(err, context.Canceled):
			r.log.Warn("rollup rebuild interrupted by shutdown; run `journeylab rebuild --experiment` to finish it", "experiment", key)
		default:
			r.log.Error("rollup rebuild failed; run `journeylab rebuild --experiment` to retry", "experiment", key, "error", err)
		}
		r.mu.Lock()
		if !r.again[key] || r.ctx.Err() != nil {
			delete(r.running, key)
			delete(r.again, key)
			r.mu.Unlock()
			return
		}
		delete(r.again, key)
		r.mu.Unlock()
	}
}

// Wait blocks until no rebuild is running.
func (r *rebuilder) Wait() { r.wg.Wait() }

// Close interrupts running rebuilds and waits for them (a rebuild works in
// transactions, so an interrupted one leaves consistent data behind).
func (r *rebuilder) Close(context.Context) error {
	r.cancel()
	r.wg.Wait()
	return nil
}
