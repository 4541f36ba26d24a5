package health

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeylab/journeylab/anomaly"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/stats"
)

// Experiments is what the Monitor needs from experiment management;
// *experiment.Service implements it.
type Experiments interface {
	List(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error)
	Get(ctx context.Context, key string) (*experiment.Experiment, error)
	Transition(ctx context.Context, actor, key string, a experiment.Action) (*experiment.Experiment, error)
	Reweight(ctx context.Context, actor, key string, weights []float64, note json.RawMessage) (*experiment.Experiment, error)
}

// Metrics lists metric definitions; experiment.Store implements it.
type Metrics interface {
	ListMetrics(ctx context.Context) ([]experiment.Metric, error)
}

// Activity reports when an experiment last recorded an exposure and
// whether units were seen in several variants. Both stores implement it.
type Activity interface {
	// LastExposure returns the time of the experiment's newest exposure
	// (zero when none).
	LastExposure(ctx context.Context, experimentKey string) (time.Time, error)
	// CrossVariantUnits counts the experiment's units that were reported
	// in a variant other than the one they were first exposed to.
	CrossVariantUnits(ctx context.Context, experimentKey string) (int64, error)
}

// Notifier delivers alert changes (webhooks, Slack). It must not block:
// delivery and its retries happen in the background.
type Notifier interface {
	Notify(n Notification)
}

// Notification is one alert change to deliver.
type Notification struct {
	Action Action `json:"action"`
	Alert  Alert  `json:"alert"`
	// Message says what happened (the event's message).
	Message string `json:"message"`
}

// Options configure a Monitor; zero fields take the defaults.
type Options struct {
	// Interval between scheduled passes; default DefaultInterval.
	Interval time.Duration
	// ExposureDelay and EventDelay are the default data-delay limits.
	ExposureDelay, EventDelay time.Duration
	// MaxDays is the default limit of the underpowered check.
	MaxDays float64
	// SRMAlpha is the level of the sequential SRM test; default
	// stats.SRMAlertP.
	SRMAlpha float64
	Now      func() time.Time
	Log      *slog.Logger
	// Notifier receives every opened, escalated, resolved and safeguard
	// event; nil delivers nothing.
	Notifier Notifier
	// Registerer, when set, receives the health metrics
	// (journeylab_health_open_alerts, journeylab_health_checks_total).
	Registerer prometheus.Registerer
	// Journey, when set, gives the stage KPIs over all traffic: each pass
	// then also judges every KPI's latest complete day against its
	// expected band (CheckJourney). Nil turns that check off.
	Journey JourneySource
	// Anomaly tunes the KPI bands (zero: the anomaly package's defaults;
	// Rate comes from each series).
	Anomaly anomaly.Options
}

// Defaults of Options.
const (
	DefaultInterval      = 5 * time.Minute
	DefaultExposureDelay = time.Hour
	DefaultEventDelay    = 6 * time.Hour
	DefaultMaxDays       = 42
)

// Monitor runs the health checks of every running experiment, on a
// schedule (Start) or on demand (CheckExperiment), and keeps the alerts:
// it opens one per failing condition, updates it while the condition
// holds, resolves it when the condition clears, triggers safeguards and
// hands every change to the Notifier.
type Monitor struct {
	exps    Experiments
	catalog Metrics
	src     report.Source
	act     Activity
	store   Store
	opts    Options
	// metrics is nil without Options.Registerer.
	metrics *monitorMetrics

	// passMu serialises passes within the process, so an on-demand check
	// and a scheduled pass do not open the same alert twice.
	passMu sync.Mutex
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// NewMonitor returns a stopped Monitor; call Start for scheduled passes. It
// fails only when its metrics cannot be registered.
func NewMonitor(exps Experiments, metrics Metrics, src report.Source, act Activity, store Store, opts Options) (*Monitor, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.ExposureDelay <= 0 {
		opts.ExposureDelay = DefaultExposureDelay
	}
	if opts.EventDelay <= 0 {
		opts.EventDelay = DefaultEventDelay
	}
	if opts.MaxDays <= 0 {
		opts.MaxDays = DefaultMaxDays
	}
	if !(opts.SRMAlpha > 0 && opts.SRMAlpha < 1) {
		opts.SRMAlpha = stats.SRMAlertP
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	m := &Monitor{exps: exps, catalog: metrics, src: src, act: act, store: store, opts: opts}
	if opts.Registerer != nil {
		mm, err := newMonitorMetrics(opts.Registerer)
		if err != nil {
			return nil, err
		}
		m.metrics = mm
	}
	return m, nil
}

// Store returns the alert store.
func (m *Monitor) Store() Store { return m.store }

// Start runs a pass now and then every interval until Stop. Starting a
// started Monitor does nothing.
func (m *Monitor) Start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cancel != nil {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel, m.done = cancel, make(chan struct{})
	go m.loop(ctx, m.done)
	m.opts.Log.Info("health checks started", "interval", m.opts.Interval)
}

// Stop cancels the running pass and waits for it, or for ctx. It is safe
// to call on a Monitor that was never started, and more than once.
func (m *Monitor) Stop(ctx context.Context) error {
	m.mu.Lock()
	cancel, done := m.cancel, m.done
	m.cancel, m.done = nil, nil
	m.mu.Unlock()
	if cancel == nil {
		return nil
	}
	cancel()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("stop health checks: %w", ctx.Err())
	}
}

func (m *Monitor) loop(ctx context.Context, done chan struct{}) {
	defer close(done)
	t := time.NewTicker(m.opts.Interval)
	defer t.Stop()
	for {
		// A pass gets at most one interval, so a slow store cannot pile passes up.
		pctx, cancel := context.WithTimeout(ctx, m.opts.Interval)
		if _, err := m.RunOnce(pctx); err != nil && ctx.Err() == nil {
			m.opts.Log.Warn("health pass failed", "err", err)
		}
		cancel()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunOnce checks every running experiment and returns how many it checked,
// then, with a JourneySource, the journey's stage KPIs (CheckJourney).
// An error for one experiment does not stop the others; all are joined.
func (m *Monitor) RunOnce(ctx context.Context) (int, error) {
	list, err := m.exps.List(ctx, experiment.Filter{Status: experiment.StatusRunning})
	if err != nil {
		return 0, fmt.Errorf("health: list running experiments: %w", err)
	}
	var errs []error
	n := 0
	for _, e := range list {
		if ctx.Err() != nil {
			break
		}
		_, err := m.check(ctx, e)
		m.metrics.checked(err)
		if err != nil {
			errs = append(errs, err)
			m.opts.Log.Warn("health check failed", "experiment", e.Key, "err", err)
			continue
		}
		n++
	}
	if ctx.Err() == nil && m.opts.Journey != nil {
		_, err := m.CheckJourney(ctx)
		m.metrics.checked(err)
		if err != nil {
			errs = append(errs, err)
			m.opts.Log.Warn("journey KPI check failed", "err", err)
		}
	}
	if ctx.Err() == nil {
		if err := m.settleIdle(ctx, list); err != nil {
			errs = append(errs, err)
		}
		m.observeOpen(ctx)
	}
	return n, errors.Join(errs...)
}

// settleIdle resolves the open alerts that no longer apply to experiments
// that are not running: every alert of a stopped or archived experiment,
// and the data-flow alerts (no exposures, no events, underpowered) of a
// paused one, where no data is expected. Other alerts of a paused
// experiment stay open: a breach that made a safeguard pause it is still
// true.
func (m *Monitor) settleIdle(ctx context.Context, running []*experiment.Experiment) error {
	live := map[string]bool{}
	for _, e := range running {
		live[e.Key] = true
	}
	m.passMu.Lock()
	defer m.passMu.Unlock()
	open, err := m.store.OpenAlerts(ctx, "")
	if err != nil {
		return fmt.Errorf("health: open alerts: %w", err)
	}
	status := map[string]experiment.Status{}
	var errs []error
	for _, a := range open {
		if a.Experiment == "" {
			// Journey alerts belong to no experiment; CheckJourney settles
			// them, or nothing will once the check is off.
			if m.opts.Journey == nil && a.Check == CheckKPIAnomaly {
				if _, err := m.resolve(ctx, a, ActorHealth, "journey KPI checks are off", m.opts.Now().UTC()); err != nil {
					errs = append(errs, err)
				}
			}
			continue
		}
		if live[a.Experiment] {
			continue
		}
		st, ok := status[a.Experiment]
		if !ok {
			e, err := m.exps.Get(ctx, a.Experiment)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			st = e.Status
			status[a.Experiment] = st
		}
		dataFlow := a.Check == CheckNoExposures || a.Check == CheckNoEvents || a.Check == CheckUnderpowered
		if st == experiment.StatusRunning || (st == experiment.StatusPaused && !dataFlow) {
			continue
		}
		if _, err := m.resolve(ctx, a, ActorHealth, "the experiment is "+string(st), m.opts.Now().UTC()); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// CheckExperiment runs the checks of one experiment now and returns its
// open alerts. An experiment that is not running is not checked (its
// alerts are returned as they are).
func (m *Monitor) CheckExperiment(ctx context.Context, key string) ([]Alert, error) {
	e, err := m.exps.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	if e.Status != experiment.StatusRunning {
		return m.store.OpenAlerts(ctx, key)
	}
	open, err := m.check(ctx, e)
	m.metrics.checked(err)
	m.observeOpen(ctx)
	return open, err
}

// check evaluates e and reconciles its open alerts with the findings.
func (m *Monitor) check(ctx context.Context, e *experiment.Experiment) ([]Alert, error) {
	e = e.Clone()
	e.Normalize()
	in, settings, err := m.gather(ctx, e)
	if err != nil {
		return nil, fmt.Errorf("health %s: %w", e.Key, err)
	}
	findings := Evaluate(in)
	m.passMu.Lock()
	defer m.passMu.Unlock()
	open, err := m.store.OpenAlerts(ctx, e.Key)
	if err != nil {
		return nil, fmt.Errorf("health %s: open alerts: %w", e.Key, err)
	}
	return m.reconcile(ctx, e.Key, e, settings, open, findings, in.Now, nil)
}

// gather reads everything Evaluate needs about e.
func (m *Monitor) gather(ctx context.Context, e *experiment.Experiment) (Input, Settings, error) {
	now := m.opts.Now().UTC()
	settings, err := m.store.GetSettings(ctx, e.Key)
	if err != nil {
		return Input{}, Settings{}, fmt.Errorf("settings: %w", err)
	}
	list, err := m.catalog.ListMetrics(ctx)
	if err != nil {
		return Input{}, Settings{}, fmt.Errorf("list metrics: %w", err)
	}
	metrics := make(map[string]experiment.Metric, len(list))
	for _, x := range list {
		metrics[x.Key] = x
	}
	// The report's own statistics, with the anytime-valid method: the
	// checks look again every interval. The sums it reads also tell when
	// outcome events last arrived.
	seq := e.Clone()
	seq.Analysis.Method = string(stats.Sequential)
	src := &outcomeSums{Source: m.src}
	r, err := report.Build(ctx, src, seq, metrics, report.Options{Now: now})
	if err != nil {
		return Input{}, Settings{}, err
	}
	lastEv, err := m.lastOutcome(ctx, e.Key, src.fingerprint(), now)
	if err != nil {
		return Input{}, Settings{}, err
	}
	units := make([]int64, len(e.Variants))
	for i, v := range r.Variants {
		units[i] = v.Units
	}
	lastExp, err := m.act.LastExposure(ctx, e.Key)
	if err != nil {
		return Input{}, Settings{}, fmt.Errorf("newest exposure: %w", err)
	}
	cross, err := m.act.CrossVariantUnits(ctx, e.Key)
	if err != nil {
		return Input{}, Settings{}, fmt.Errorf("units in several variants: %w", err)
	}
	lim := Limits{
		ExposureDelay: minutes(settings.ExposureDelayMinutes, m.opts.ExposureDelay),
		EventDelay:    minutes(settings.EventDelayMinutes, m.opts.EventDelay),
		PlannedUnits:  settings.PlannedUnits,
		MaxDays:       settings.MaxDays,
		SRMAlpha:      m.opts.SRMAlpha,
	}
	if lim.MaxDays == 0 {
		lim.MaxDays = m.opts.MaxDays
	}
	return Input{Experiment: e, Now: now, Units: units, Report: r, LastExposure: lastExp, LastEvent: lastEv,
		CrossVariantUnits: cross, Limits: lim}, settings, nil
}

// reconcile opens, updates and resolves the alerts of experiment key ("" for
// the journey, whose e is nil) so that exactly the findings are open, and
// runs the safeguard on newly opened alerts. cleared says, by dedupe key,
// why an alert resolves (default: "the condition cleared").
func (m *Monitor) reconcile(ctx context.Context, key string, e *experiment.Experiment, settings Settings, open []Alert, findings []Finding, now time.Time, cleared map[string]string) ([]Alert, error) {
	byKey := map[string]Alert{}
	for _, a := range open {
		byKey[a.DedupeKey()] = a
	}
	var errs []error
	var out []Alert
	seen := map[string]bool{}
	for _, f := range findings {
		k := DedupeKey(key, f.Check, f.Subject)
		seen[k] = true
		detail := encodeDetail(f.Detail)
		cur, ok := byKey[k]
		if !ok {
			a := Alert{ID: newID(), Experiment: key, Check: f.Check, Subject: f.Subject, Severity: f.Severity,
				Status: Open, Summary: f.Summary, Detail: detail, OpenedAt: now, LastSeenAt: now}
			ev := AlertEvent{AlertID: a.ID, At: now, Action: ActionOpened, Actor: ActorHealth, Severity: a.Severity, Message: a.Summary}
			if err := m.store.CreateAlert(ctx, a, ev); err != nil {
				if errors.Is(err, experiment.ErrAlreadyExists) {
					// Another instance opened it first; it reports it.
					continue
				}
				errs = append(errs, fmt.Errorf("open %s alert: %w", f.Check, err))
				continue
			}
			m.opts.Log.Info("health alert opened", "experiment", key, "check", f.Check, "subject", f.Subject, "severity", f.Severity)
			m.notify(ActionOpened, a, a.Summary)
			if e != nil && settings.Safeguard.triggers(f.Check) {
				a = m.safeguard(ctx, e, settings.Safeguard, a, now)
			}
			out = append(out, a)
			continue
		}
		a := cur
		a.Summary, a.Detail, a.LastSeenAt = f.Summary, detail, now
		var ev *AlertEvent
		if f.Severity != cur.Severity {
			a.Severity = f.Severity
			ev = &AlertEvent{AlertID: a.ID, At: now, Action: ActionUpdated, Actor: ActorHealth, Severity: a.Severity,
				Message: fmt.Sprintf("severity %s -> %s: %s", cur.Severity, a.Severity, a.Summary)}
		}
		if err := m.store.UpdateAlert(ctx, a, ev); err != nil {
			errs = append(errs, fmt.Errorf("update %s alert: %w", f.Check, err))
			out = append(out, cur)
			continue
		}
		if ev != nil {
			m.notify(ActionUpdated, a, ev.Message)
		}
		// A safeguard switched on while its alert was already open acts
		// now; one that acted before does not act again.
		if e != nil && a.Safeguard == "" && settings.Safeguard.triggers(f.Check) {
			a = m.safeguard(ctx, e, settings.Safeguard, a, now)
		}
		out = append(out, a)
	}
	for _, a := range open {
		if seen[a.DedupeKey()] {
			continue
		}
		why := cleared[a.DedupeKey()]
		if why == "" {
			why = "the condition cleared"
		}
		if _, err := m.resolve(ctx, a, ActorHealth, why, now); err != nil {
			errs = append(errs, err)
			out = append(out, a)
		}
	}
	return out, errors.Join(errs...)
}

// ExperimentHealth returns the settings and open alerts of an existing
// experiment (experiment.ErrNotFound for an unknown key).
func (m *Monitor) ExperimentHealth(ctx context.Context, key string) (Settings, []Alert, error) {
	if _, err := m.exps.Get(ctx, key); err != nil {
		return Settings{}, nil, err
	}
	settings, err := m.store.GetSettings(ctx, key)
	if err != nil {
		return Settings{}, nil, fmt.Errorf("health settings of %s: %w", key, err)
	}
	open, err := m.store.OpenAlerts(ctx, key)
	if err != nil {
		return Settings{}, nil, fmt.Errorf("open alerts of %s: %w", key, err)
	}
	return settings, open, nil
}

// PutSettings validates and stores the health settings of an existing
// experiment, recording who changed them.
func (m *Monitor) PutSettings(ctx context.Context, actor, key string, s Settings) (Settings, error) {
	if err := s.Validate(); err != nil {
		return Settings{}, err
	}
	if _, err := m.exps.Get(ctx, key); err != nil {
		return Settings{}, err
	}
	now := m.opts.Now().UTC()
	s.UpdatedBy, s.UpdatedAt = actor, &now
	if err := m.store.PutSettings(ctx, key, s); err != nil {
		return Settings{}, fmt.Errorf("health settings of %s: %w", key, err)
	}
	attrs := []any{"experiment", key, "actor", actor, "planned_units", s.PlannedUnits}
	if s.Safeguard != nil {
		attrs = append(attrs, "safeguard", s.Safeguard.Action, "safeguard_on", s.Safeguard.On)
	}
	m.opts.Log.Info("health settings changed", attrs...)
	return s, nil
}

// Resolve resolves an open alert by hand (actor is the caller's API key).
// A condition that still holds opens a new alert at the next check.
func (m *Monitor) Resolve(ctx context.Context, id, actor, note string) (Alert, error) {
	m.passMu.Lock()
	defer m.passMu.Unlock()
	a, _, err := m.store.GetAlert(ctx, id)
	if err != nil {
		return Alert{}, err
	}
	if a.Status != Open {
		return Alert{}, fmt.Errorf("%w: alert %s is already resolved", experiment.ErrIllegalTransition, id)
	}
	msg := "resolved by hand"
	if note != "" {
		msg += ": " + note
	}
	a, err = m.resolve(ctx, a, actor, msg, m.opts.Now().UTC())
	if err == nil {
		m.observeOpen(ctx)
	}
	return a, err
}

func (m *Monitor) resolve(ctx context.Context, a Alert, actor, msg string, now time.Time) (Alert, error) {
	a.Status, a.ResolvedAt = Resolved, &now
	ev := AlertEvent{AlertID: a.ID, At: now, Action: ActionResolved, Actor: actor, Severity: a.Severity, Message: msg}
	if err := m.store.UpdateAlert(ctx, a, &ev); err != nil {
		return Alert{}, fmt.Errorf("resolve %s alert %s: %w", a.Check, a.ID, err)
	}
	m.opts.Log.Info("health alert resolved", "experiment", a.Experiment, "check", a.Check, "subject", a.Subject, "actor", actor)
	m.notify(ActionResolved, a, msg)
	return a, nil
}

// safeguard acts on e for alert a and records what it did on the alert,
// in its events and (through the experiment service) in the experiment's
// audit trail with the actor "safeguard".
func (m *Monitor) safeguard(ctx context.Context, e *experiment.Experiment, g *Safeguard, a Alert, now time.Time) Alert {
	action := g.Action
	if action == SafeguardControl && e.Mode == experiment.ModeOptimise {
		action = SafeguardPause
	}
	note, _ := json.Marshal(map[string]string{"alert": a.ID, "check": string(a.Check), "subject": a.Subject, "summary": a.Summary})
	var err error
	var did string
	switch action {
	case SafeguardPause:
		did = "paused the experiment"
		_, err = m.exps.Transition(ctx, ActorSafeguard, e.Key, experiment.ActionPause)
	default:
		did = "sent all traffic to control (" + e.Control + ")"
		w := make([]float64, len(e.Variants))
		w[e.VariantIndex(e.Control)] = 1
		_, err = m.exps.Reweight(ctx, ActorSafeguard, e.Key, w, note)
	}
	msg := "safeguard " + did
	if err != nil {
		msg = fmt.Sprintf("safeguard could not act (%s): %v", action, err)
		m.opts.Log.Error("safeguard failed", "experiment", e.Key, "action", action, "err", err)
	} else {
		a.Safeguard = did
		m.opts.Log.Warn("safeguard acted", "experiment", e.Key, "action", action, "alert", a.ID, "check", a.Check)
	}
	ev := AlertEvent{AlertID: a.ID, At: now, Action: ActionSafeguard, Actor: ActorSafeguard, Severity: a.Severity, Message: msg}
	if uerr := m.store.UpdateAlert(ctx, a, &ev); uerr != nil {
		m.opts.Log.Error("record safeguard action", "experiment", e.Key, "alert", a.ID, "err", uerr)
	}
	m.notify(ActionSafeguard, a, msg)
	return a
}

func (m *Monitor) notify(action Action, a Alert, msg string) {
	if m.opts.Notifier != nil {
		m.opts.Notifier.Notify(Notification{Action: action, Alert: a, Message: msg})
	}
}

// newID returns a random alert or delivery id (16 hex digits).
func newID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("health: crypto/rand failed: " + err.Error())
	}
	return hex.EncodeToString(b[:])
}

// Summary is the health of one experiment at a glance.
type Summary struct {
	// Status is the worst open alert's severity, or "ok".
	Status string `json:"status"`
	// Open counts open alerts; Checks lists their checks in the order of Checks().
	Open   int     `json:"open"`
	Checks []Check `json:"checks"`
}

// Summarise groups open alerts by experiment, leaving out the journey's
// alerts (which belong to no experiment).
func Summarise(open []Alert) map[string]Summary {
	out := map[string]Summary{}
	for _, a := range open {
		if a.Experiment == "" {
			continue
		}
		s := out[a.Experiment]
		if s.Status == "" || Severity(s.Status).rank() < a.Severity.rank() {
			s.Status = string(a.Severity)
		}
		s.Open++
		dup := false
		for _, c := range s.Checks {
			dup = dup || c == a.Check
		}
		if !dup {
			s.Checks = append(s.Checks, a.Check)
		}
		out[a.Experiment] = s
	}
	order := map[Check]int{}
	for i, c := range Checks() {
		order[c] = i
	}
	for k, s := range out {
		slices.SortFunc(s.Checks, func(a, b Check) int { return order[a] - order[b] })
		out[k] = s
	}
	return out
}
