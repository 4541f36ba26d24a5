// Package app wires journeylab together from a config.Config: the store, the
// experiment service, serving and the HTTP server. cmd/journeylab uses it to
// run the service; tests use it to start a full service on a temporary store.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/journeylab/journeylab/api"
	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/bandit"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/eventnames"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/journey"
	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/server"
	"github.com/journeylab/journeylab/serving"
	"github.com/journeylab/journeylab/store/mongo"
	"github.com/journeylab/journeylab/store/sqlite"
	"github.com/journeylab/journeylab/web"
)

// Backend is everything the app needs from a store. *sqlite.Store (the
// default) and *mongo.Store (when mongodb.uri is set) implement it.
type Backend interface {
	experiment.Store
	auth.KeyStore
	events.StagingBackend
	eventnames.Store
	serving.Store
	report.Source
	outcomes.DayStore
	health.Store
	health.Activity
	journey.Reader
	// Rebuild recomputes an experiment's rollups from raw events.
	Rebuild(ctx context.Context, experimentKey string, progress func(done, total int64)) error
	privacy.Store
	privacy.ExpiringStore
	privacy.UnitIDStore
	privacy.ExposureExpiringStore
	privacy.Inventory
	Close() error
}

// OpenStore opens the store cfg selects: MongoDB when mongodb.uri is set,
// else the SQLite file in data_dir. It also returns a description of the
// store for logs (never the URI, which may hold credentials).
func OpenStore(ctx context.Context, cfg config.Config) (Backend, string, error) {
	if cfg.MongoURI != "" {
		st, err := mongo.Open(ctx, cfg.MongoURI, cfg.MongoDB, mongo.Options{})
		if err != nil {
			return nil, "", fmt.Errorf("open store: %w", err)
		}
		return st, "mongodb database " + cfg.MongoDB, nil
	}
	st, err := sqlite.Open(ctx, cfg.DataDir)
	if err != nil {
		return nil, "", fmt.Errorf("open store: %w", err)
	}
	return st, st.Path(), nil
}

// App is a running journeylab instance.
type App struct {
	Config     config.Config
	Log        *slog.Logger
	Store      Backend
	Experiment *experiment.Service
	Server     *server.Server
	Serving    *serving.Service
	// Events stages acknowledged events and merges them into the store.
	Events *events.Staging
	// EventNames warns about and counts event names no metric uses.
	EventNames *eventnames.Watcher
	// Eraser erases units on request, after merging the journals.
	Eraser *privacy.Eraser
	// Pseudonyms replaces unit ids by keyed hashes before they are
	// journaled or stored; nil when privacy.pseudonymise_units is off.
	Pseudonyms *privacy.Pseudonymiser
	// Bandit re-weights experiments in optimise mode; Listen starts it.
	Bandit *bandit.Scheduler
	// Journey builds the journey map; its StageKPISeries feeds the
	// journey KPI anomaly checks.
	Journey *journey.Service
	// Health runs the experiment health checks; Listen starts it when
	// health.enabled is set.
	Health *health.Monitor

	closers []func(context.Context) error
	// storeDesc describes the store for logs.
	storeDesc string
	now       Now
	rebuilds  *rebuilder
	retention retentionClock
}

// Now is the clock the app uses; a variable so tests can freeze time.
type Now func() time.Time

// New opens the store and builds every component. It does not listen; call
// Listen (or use Server.App().Test in tests).
func New(ctx context.Context, cfg config.Config, log *slog.Logger, now Now) (*App, error) {
	if now == nil {
		now = time.Now
	}
	st, desc, err := OpenStore(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a := &App{Config: cfg, Log: log, Store: st, storeDesc: desc, now: now}
	a.closers = append(a.closers, func(context.Context) error { return st.Close() })

	a.Experiment = experiment.NewService(st, now)
	// Closed before the store (closers run in reverse).
	a.rebuilds = newRebuilder(a.rebuild, log)
	a.Experiment.OnRollupsStale(a.rebuilds.Trigger)
	a.closers = append(a.closers, a.rebuilds.Close)
	if err := a.Experiment.SeedBuiltinMetrics(ctx); err != nil {
		_ = st.Close()
		return nil, err
	}
	if cfg.DevMode {
		log.Warn("DEV MODE: API-key checks are OFF; every caller has every scope. Never run like this in production.")
	}
	verifier := auth.NewVerifier(st, cfg.AuthCacheTTL)
	a.Server = server.New(server.Options{
		BodyLimit:   cfg.BodyLimit,
		RateLimit:   cfg.RateLimit,
		CORSOrigins: cfg.CORSOrigins,
		DevMode:     cfg.DevMode,
		Verifier:    verifier,
		Logger:      log,
		Ready:       readyChecks(st, cfg.DataDir),

		MaxInflightBytes: cfg.MaxInflightBytes,
	})
	v1 := a.Server.V1()
	read, admin := a.Server.Require(auth.ScopeRead), a.Server.Require(auth.ScopeAdmin)
	api.NewExperiments(a.Experiment).Register(v1, read, admin)
	api.NewKeys(st, verifier, now, log).Register(v1, admin)
	if cfg.MongoURI != "" && cfg.PrivacyHashSecret == "" {
		log.Warn("privacy.hash_secret is unset: each instance keys the erasure audit's hashes with its own data_dir/privacy.key; set the same secret on every instance")
	}
	secret, err := privacy.LoadSecret(cfg.PrivacyHashSecret, cfg.DataDir)
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	if a.Pseudonyms, err = OpenPseudonyms(ctx, cfg, st); err != nil {
		_ = st.Close()
		return nil, err
	}
	// Erasures merge the journals first; the merges keep erased units out.
	a.Eraser = privacy.NewEraser(st, func(ctx context.Context) error { return a.Flush(ctx) }, secret, now).WithPseudonyms(a.Pseudonyms)
	merged := keptOut{Backend: st, eraser: a.Eraser}
	// Events are acknowledged once journaled and merged into the store in
	// the background; closed before the store (closers run in reverse).
	a.Events, err = events.OpenStaging(filepath.Join(cfg.DataDir, "journal", "events"), merged, events.StagingOptions{
		MaxBytes: cfg.EventJournalMaxBytes, MergeInterval: cfg.FlushInterval, Logger: log,
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	a.closers = append(a.closers, a.Events.Close)
	allow := privacy.NewAllowList(cfg.PrivacyAttributes)
	a.EventNames = eventnames.New(st, st, eventnames.Options{Logger: log})
	if err := a.EventNames.Start(ctx); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	a.closers = append(a.closers, a.EventNames.Stop)
	api.NewUnknownEvents(a.EventNames).Register(v1, admin)
	ingest := events.NewIngestor(privacy.Events{Next: a.Events, Allow: allow, Units: a.Pseudonyms}, now, events.Options{MaxBatch: cfg.MaxEventBatch, MaxFutureSkew: cfg.MaxFutureSkew, Names: a.EventNames})
	api.NewEvents(ingest).Register(v1, a.Server.RequireBeacon())
	// Serving is closed before the store (closers run in reverse), so the
	// exposure journal is merged on shutdown as far as the deadline allows.
	a.Serving, err = serving.New(ctx, merged, serving.Options{
		RefreshInterval: cfg.RefreshInterval, FlushInterval: cfg.FlushInterval, BatchSize: cfg.BatchSize,
		JournalDir: filepath.Join(cfg.DataDir, "journal", "exposures"), JournalMaxBytes: cfg.JournalMaxBytes, MergeShare: float64(cfg.MergePercent) / 100, JournalSync: journalSync(cfg.JournalSync),
		DedupeSize: cfg.DedupeSize, StoredAttributes: storedAttributes(allow), StoredUnit: storedUnit(a.Pseudonyms), Logger: log, Registerer: a.Server.Registry(), Now: now,
	})
	if err != nil {
		_ = st.Close()
		return nil, err
	}
	a.closers = append(a.closers, a.Serving.Close)
	api.NewAssign(a.Serving, cfg.MaxFutureSkew).Register(v1, a.Server.Require(auth.ScopeSDK), a.Server.RequireBeacon())
	api.NewReports(st, expiredReports{Source: st, st: st}, expiredDays{DayStore: st, st: st}, now).Register(v1, read)
	a.Journey = journey.NewService(st, st, st, now)
	api.NewJourney(a.Journey, now).Register(v1, read)
	api.NewPrivacy(a.Eraser).Register(v1, admin)
	api.NewPrivacyOverview(a).Register(v1, admin)
	api.NewOFREP(a.Serving, st, log).Register(a.Server.OFREP(), a.Server.Require(auth.ScopeSDK))
	api.RegisterOpenAPI(a.Server.App())
	// Closed first (closers run in reverse): no re-weighting races shutdown.
	a.Bandit = bandit.NewScheduler(a.Experiment, st, report.BanditSource{Source: st}, bandit.Options{Now: now, Log: log})
	a.closers = append(a.closers, a.Bandit.Stop)
	if err := a.newHealth(st, log, now); err != nil {
		_ = a.Close(ctx)
		return nil, err
	}
	api.NewHealth(a.Health).Register(v1, read, admin)
	web.Register(a.Server.App())
	return a, nil
}

// newHealth builds the health monitor and its webhook dispatcher. Both
// stop before the store closes (closers run in reverse): the monitor
// first, then the deliveries in flight drain.
func (a *App) newHealth(st Backend, log *slog.Logger, now Now) error {
	mon, closeHooks, err := NewHealthMonitor(a.Config, st, a.Experiment, log, now, a.Server.Registry())
	if err != nil {
		return err
	}
	a.closers = append(a.closers, closeHooks)
	a.Health = mon
	a.closers = append(a.closers, a.Health.Stop)
	return nil
}

// NewHealthMonitor builds the health monitor cfg describes over st and
// exps and, when webhooks are configured, the dispatcher that delivers its
// alerts; reg (optional) receives their metrics. The returned close
// function drains the deliveries in flight; call it after the last check.
func NewHealthMonitor(cfg config.Config, st Backend, exps *experiment.Service, log *slog.Logger, now Now, reg prometheus.Registerer) (*health.Monitor, func(context.Context) error, error) {
	hc := cfg.Health
	var hooks []health.Webhook
	for _, u := range hc.Webhooks {
		hooks = append(hooks, health.Webhook{URL: u, Format: health.FormatJSON})
	}
	for _, u := range hc.SlackWebhooks {
		hooks = append(hooks, health.Webhook{URL: u, Format: health.FormatSlack})
	}
	opts := health.Options{Interval: hc.Interval, ExposureDelay: hc.ExposureDelay, EventDelay: hc.EventDelay,
		MaxDays: float64(hc.MaxDays), Now: now, Log: log, Registerer: reg}
	closeHooks := func(context.Context) error { return nil }
	if len(hooks) > 0 {
		d, err := health.NewDispatcher(hooks, st, health.DispatcherOptions{Secret: hc.WebhookSecret, Log: log, Now: now, Registerer: reg})
		if err != nil {
			return nil, nil, fmt.Errorf("health webhooks: %w", err)
		}
		closeHooks, opts.Notifier = d.Close, d
	}
	// The journey KPI anomaly check reads the same stage KPI series as the
	// journey map.
	opts.Journey = journey.NewService(st, st, st, now)
	mon, err := health.NewMonitor(exps, st, st, st, st, opts)
	if err != nil {
		_ = closeHooks(context.Background())
		return nil, nil, err
	}
	return mon, closeHooks, nil
}

// Listen serves HTTP until ctx is cancelled, then shuts down gracefully:
// in-flight requests finish, buffered work is flushed, the store is closed.
func (a *App) Listen(ctx context.Context) error {
	// Bind first, so "listening" is only logged once it is true and a taken
	// port is an error before anything starts.
	ln, err := net.Listen("tcp", a.Config.Listen)
	if err != nil {
		_ = a.Close(context.Background())
		return fmt.Errorf("listen on %s: %w", a.Config.Listen, err)
	}
	errc := make(chan error, 1)
	a.Bandit.Start()
	if a.Config.Health.Enabled {
		a.Health.Start()
	}
	scheduleDone := a.runSchedule(ctx)
	retentionDone := a.runRetention(ctx)
	go func() { errc <- a.Server.App().Listener(ln) }()
	a.Log.Info("journeylab listening", "addr", "http://"+ln.Addr().String(), "store", a.storeDesc, "config_file", a.Config.ConfigFileUsed)
	select {
	case err := <-errc:
		_ = a.Close(context.Background())
		return fmt.Errorf("listen on %s: %w", a.Config.Listen, err)
	case <-ctx.Done():
	}
	<-scheduleDone
	<-retentionDone
	// Readiness turns red first and the server keeps answering for the
	// drain period, so load balancers stop sending traffic before the
	// listener closes.
	a.Server.Drain()
	a.Log.Info("draining", "period", a.Config.DrainPeriod)
	time.Sleep(a.Config.DrainPeriod)
	a.Log.Info("shutting down", "timeout", a.Config.ShutdownWait)
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownWait)
	defer cancel()
	err = a.Server.App().ShutdownWithContext(sctx)
	return errors.Join(err, a.Close(sctx))
}

// Flush merges every exposure and event recorded so far into the store, so
// that reports read them (they otherwise do within exposures.flush_interval).
func (a *App) Flush(ctx context.Context) error {
	return errors.Join(a.Serving.Flush(ctx), a.Events.Flush(ctx))
}

// Close releases everything in reverse order of creation (flushers before the store).
func (a *App) Close(ctx context.Context) error {
	var errs []error
	for i := len(a.closers) - 1; i >= 0; i-- {
		errs = append(errs, a.closers[i](ctx))
	}
	a.closers = nil
	return errors.Join(errs...)
}

// journalSync maps the setting (0 = sync on every request) to serving's
// option (negative = every request).
func journalSync(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}
