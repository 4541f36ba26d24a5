package bandit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/stats"
)

// Actor is the audit actor of every re-weighting the Scheduler makes.
const Actor = "bandit"

// DefaultTick is how often the Scheduler looks for experiments that are due.
const DefaultTick = time.Minute

// Experiments is what the Scheduler needs from experiment management;
// *experiment.Service implements it.
type Experiments interface {
	List(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error)
	Audit(ctx context.Context, key string) ([]experiment.AuditEntry, error)
	Reweight(ctx context.Context, actor, key string, weights []float64, note json.RawMessage) (*experiment.Experiment, error)
}

// Metrics resolves metric definitions; experiment.Store implements it.
type Metrics interface {
	GetMetric(ctx context.Context, key string) (experiment.Metric, error)
}

// Source reads a metric's sufficient statistics over all exposed units of
// an experiment, one entry per variant in the experiment's order.
// report.BanditSource adapts a report.Source to it.
type Source interface {
	ArmStats(ctx context.Context, e *experiment.Experiment, m experiment.Metric) ([]stats.ArmStats, error)
}

// Options configure a Scheduler; zero fields take the defaults.
type Options struct {
	// Tick is how often to look for due experiments; default DefaultTick.
	Tick time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
	// Log receives one line per re-weighting, per deferral and per failure;
	// default slog.Default().
	Log *slog.Logger
}

// Note is the audit note of one re-weighting: every input, so that anyone
// can recompute the weights from the audit log alone.
type Note struct {
	// At is when the weights were computed.
	At time.Time `json:"at"`
	// Metric, Kind and Direction describe the goal metric used.
	Metric    string                `json:"metric"`
	Kind      experiment.MetricKind `json:"kind"`
	Direction experiment.Direction  `json:"direction"`
	// Floor is the minimum share of each arm.
	Floor float64 `json:"floor"`
	// LastReweight is the reference time the interval was measured from
	// (previous re-weighting, launch, or switch to optimise mode).
	LastReweight time.Time `json:"last_reweight"`
	Arms         []NoteArm `json:"arms"`
}

// NoteArm is one arm's inputs and outcome in a Note.
type NoteArm struct {
	Variant string `json:"variant"`
	// N are the arm's exposed units.
	N int64 `json:"n"`
	// Mean and SD are the posterior mean and standard deviation (the arm's
	// value and its standard error).
	Mean float64 `json:"mean"`
	SD   float64 `json:"sd"`
	// PBest is the posterior probability that the arm is best.
	PBest float64 `json:"p_best"`
	// OldWeight and NewWeight are the arm's traffic share before and after.
	OldWeight float64 `json:"old_weight"`
	NewWeight float64 `json:"new_weight"`
}

// Scheduler re-weights running experiments in mode "optimise" when their
// interval (Optimise.IntervalMinutes) has passed since the last
// re-weighting. The last re-weighting is read from the audit log, the
// source of truth every serve instance shares: the newest "reweight"
// entry, or launch, or the newest change of the experiment's mode or
// optimise settings, whichever is latest. When the data are not sufficient
// (ErrNotYet) the experiment is retried one interval later; failures are
// retried on the next tick. Several serve instances may each run a
// Scheduler: they read the same audit log, so a second re-weighting in the
// same interval only happens when two passes race within seconds, and it
// recomputes the same weights from the same data.
type Scheduler struct {
	exps    Experiments
	metrics Metrics
	src     Source
	tick    time.Duration
	now     func() time.Time
	log     *slog.Logger

	// mu guards deferred and the run state.
	mu sync.Mutex
	// deferred holds, per experiment key, the earliest time to try again
	// after the data were not sufficient.
	deferred map[string]time.Time
	cancel   context.CancelFunc
	done     chan struct{}
}

// NewScheduler returns a stopped Scheduler; call Start.
func NewScheduler(exps Experiments, metrics Metrics, src Source, opts Options) *Scheduler {
	s := &Scheduler{exps: exps, metrics: metrics, src: src, tick: opts.Tick, now: opts.Now, log: opts.Log, deferred: map[string]time.Time{}}
	if s.tick <= 0 {
		s.tick = DefaultTick
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	return s
}

// Start runs a pass now and then every tick in a goroutine until Stop.
// Starting a started Scheduler does nothing.
func (s *Scheduler) Start() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel, s.done = cancel, make(chan struct{})
	go s.loop(ctx, s.done)
	s.log.Info("bandit scheduler started", "tick", s.tick)
}

// Stop cancels the running pass and waits for it to end, or for ctx. It is
// safe to call on a Scheduler that was never started, and more than once.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	cancel, done := s.cancel, s.done
	s.cancel, s.done = nil, nil
	s.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		s.log.Info("bandit scheduler stopped")
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop bandit scheduler: %w", ctx.Err())
	}
}

func (s *Scheduler) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(s.tick)
	defer t.Stop()
	for {
		// A pass gets at most one tick, so a slow store cannot pile passes up.
		pctx, cancel := context.WithTimeout(ctx, s.tick)
		if _, err := s.RunOnce(pctx); err != nil && ctx.Err() == nil {
			s.log.Warn("bandit pass failed", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce makes one pass: it re-weights every running optimise-mode
// experiment that is due and returns the keys it re-weighted. An error for
// one experiment does not stop the others; all errors are joined.
func (s *Scheduler) RunOnce(ctx context.Context) ([]string, error) {
	now := s.now().UTC()
	list, err := s.exps.List(ctx, experiment.Filter{Status: experiment.StatusRunning})
	if err != nil {
		return nil, fmt.Errorf("bandit: list running experiments: %w", err)
	}
	live := map[string]bool{}
	var done []string
	var errs []error
	for _, e := range list {
		if e.Mode != experiment.ModeOptimise || e.Optimise == nil {
			continue
		}
		live[e.Key] = true
		ok, err := s.consider(ctx, e, now)
		if err != nil {
			errs = append(errs, err)
			s.log.Warn("bandit re-weighting failed", "experiment", e.Key, "err", err)
		}
		if ok {
			done = append(done, e.Key)
		}
	}
	s.mu.Lock()
	for k := range s.deferred {
		if !live[k] {
			delete(s.deferred, k)
		}
	}
	s.mu.Unlock()
	return done, errors.Join(errs...)
}

// consider re-weights e if it is due, reporting whether it did.
func (s *Scheduler) consider(ctx context.Context, e *experiment.Experiment, now time.Time) (bool, error) {
	e = e.Clone()
	e.Normalize()
	interval := time.Duration(e.Optimise.IntervalMinutes) * time.Minute
	s.mu.Lock()
	retry, deferred := s.deferred[e.Key]
	s.mu.Unlock()
	if deferred && now.Before(retry) {
		return false, nil
	}
	audit, err := s.exps.Audit(ctx, e.Key)
	if err != nil {
		return false, fmt.Errorf("bandit %s: read audit: %w", e.Key, err)
	}
	last := lastReweight(e, audit)
	if now.Sub(last) < interval {
		return false, nil
	}
	m, err := s.metrics.GetMetric(ctx, e.Optimise.Metric)
	if err != nil {
		return false, fmt.Errorf("bandit %s: goal metric %s: %w", e.Key, e.Optimise.Metric, err)
	}
	arms, err := s.src.ArmStats(ctx, e, m)
	if err != nil {
		return false, fmt.Errorf("bandit %s: statistics of %s: %w", e.Key, m.Key, err)
	}
	if len(arms) != len(e.Variants) {
		return false, fmt.Errorf("bandit %s: statistics of %s: got %d arms for %d variants", e.Key, m.Key, len(arms), len(e.Variants))
	}
	u, err := Weights(arms, stats.Kind(m.Kind), m.Direction, e.Optimise.Floor)
	if notYet := (*NotYetError)(nil); errors.As(err, &notYet) {
		s.mu.Lock()
		s.deferred[e.Key] = now.Add(interval)
		s.mu.Unlock()
		attrs := []any{"experiment", e.Key, "metric", m.Key, "reason", notYet.Reason, "retry_at", now.Add(interval)}
		if notYet.Arm >= 0 && notYet.Arm < len(e.Variants) {
			attrs = append(attrs, "variant", e.Variants[notYet.Arm].Key, "units", notYet.Units)
		}
		s.log.Info("bandit not re-weighting yet", attrs...)
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("bandit %s: %w", e.Key, err)
	}
	note := s.note(e, m, u, now, last)
	raw, err := json.Marshal(note)
	if err != nil {
		return false, fmt.Errorf("bandit %s: encode note: %w", e.Key, err)
	}
	if _, err := s.exps.Reweight(ctx, Actor, e.Key, u.Weights(), raw); err != nil {
		return false, fmt.Errorf("bandit %s: %w", e.Key, err)
	}
	s.mu.Lock()
	delete(s.deferred, e.Key)
	s.mu.Unlock()
	s.log.Info("bandit re-weighted", "experiment", e.Key, "metric", m.Key, "weights", u.Weights(), "p_best", probBest(u))
	return true, nil
}

// lastReweight is the time e's interval runs from: the newest re-weighting,
// launch, or change of mode or optimise settings.
func lastReweight(e *experiment.Experiment, audit []experiment.AuditEntry) time.Time {
	last := e.UpdatedAt
	if e.StartedAt != nil {
		last = *e.StartedAt
	}
	for _, a := range audit {
		if a.At.After(last) && (a.Action == "reweight" || changes(a, "mode", "optimise")) {
			last = a.At
		}
	}
	return last
}

// changes reports whether the audit entry changed any of the fields.
func changes(a experiment.AuditEntry, fields ...string) bool {
	for _, c := range a.Changes {
		for _, f := range fields {
			if c.Field == f {
				return true
			}
		}
	}
	return false
}

func (s *Scheduler) note(e *experiment.Experiment, m experiment.Metric, u Update, now, last time.Time) Note {
	old := e.Weights()
	total := 0.0
	for _, w := range old {
		total += w
	}
	n := Note{At: now, Metric: m.Key, Kind: m.Kind, Direction: m.Direction, Floor: e.Optimise.Floor,
		LastReweight: last.UTC(), Arms: make([]NoteArm, len(u.Arms))}
	for a, arm := range u.Arms {
		n.Arms[a] = NoteArm{Variant: e.Variants[a].Key, N: arm.Units, Mean: arm.Mean, SD: arm.SD,
			PBest: arm.ProbBest, OldWeight: old[a] / total, NewWeight: arm.Weight}
	}
	return n
}

func probBest(u Update) []float64 {
	p := make([]float64, len(u.Arms))
	for a, arm := range u.Arms {
		p[a] = arm.ProbBest
	}
	return p
}
