package app

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/privacy"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/server"
	"github.com/journeylab/journeylab/serving"
)

// keptOut is the store as the journals' merges see it: events and
// exposures of erased units are dropped instead of stored, so that a unit
// stays erased whatever arrives for it later (late retries, a front-end
// that keeps sending the id).
type keptOut struct {
	Backend
	eraser *privacy.Eraser
}

// AppendEvents stores the events of units that were never erased; the
// others are reported as not stored.
func (k keptOut) AppendEvents(ctx context.Context, received time.Time, evs []events.Event) ([]bool, error) {
	units := make([]string, len(evs))
	for i := range evs {
		units[i] = evs[i].UnitID
	}
	erased, err := k.eraser.ErasedUnits(ctx, units)
	if err != nil {
		return nil, err
	}
	if len(erased) == 0 {
		return k.Backend.AppendEvents(ctx, received, evs)
	}
	keep := make([]events.Event, 0, len(evs))
	at := make([]int, 0, len(evs))
	for i := range evs {
		if !erased[evs[i].UnitID] {
			keep = append(keep, evs[i])
			at = append(at, i)
		}
	}
	out := make([]bool, len(evs))
	if len(keep) == 0 {
		return out, nil
	}
	stored, err := k.Backend.AppendEvents(ctx, received, keep)
	if err != nil {
		return nil, err
	}
	for j, i := range at {
		out[i] = stored[j]
	}
	return out, nil
}

// InsertExposures stores the exposures of units that were never erased.
func (k keptOut) InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error) {
	units := make([]string, len(xs))
	for i := range xs {
		units[i] = xs[i].Unit
	}
	erased, err := k.eraser.ErasedUnits(ctx, units)
	if err != nil {
		return 0, err
	}
	if len(erased) == 0 {
		return k.Backend.InsertExposures(ctx, xs)
	}
	keep := make([]experiment.Exposure, 0, len(xs))
	for _, x := range xs {
		if !erased[x.Unit] {
			keep = append(keep, x)
		}
	}
	if len(keep) == 0 {
		return 0, nil
	}
	return k.Backend.InsertExposures(ctx, keep)
}

// keptOut must keep every optional interface serving looks for.
var _ serving.PersonaReader = keptOut{}

// storedAttributes is serving's filter for the allow-list (nil: keep all).
func storedAttributes(a *privacy.AllowList) func(string) bool {
	if a == nil {
		return nil
	}
	return a.Allows
}

// retentionTick is how often the retentions are applied.
const retentionTick = time.Hour

// retentionClock remembers when the retention job runs next, for the
// privacy overview.
type retentionClock struct {
	mu   sync.Mutex
	next time.Time
}

func (c *retentionClock) set(t time.Time) {
	c.mu.Lock()
	c.next = t
	c.mu.Unlock()
}

func (c *retentionClock) get() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.next
}

// ExpireEvents applies privacy.event_retention once and returns how many
// raw events it deleted (none when the retention is 0).
func (a *App) ExpireEvents(ctx context.Context) (int64, error) {
	if a.Config.PrivacyEventRetention <= 0 {
		return 0, nil
	}
	list, err := a.Experiment.List(ctx, experiment.Filter{})
	if err != nil {
		return 0, err
	}
	return privacy.ExpireEvents(ctx, a.Store, list, a.Config.PrivacyEventRetention, a.now())
}

// ExpireExposures applies privacy.exposure_retention once and returns the
// experiments whose exposures it deleted, with counts.
func (a *App) ExpireExposures(ctx context.Context) ([]privacy.ExposureExpiry, error) {
	if a.Config.PrivacyExposureRetention <= 0 {
		return nil, nil
	}
	list, err := a.Experiment.List(ctx, experiment.Filter{})
	if err != nil {
		return nil, err
	}
	return privacy.ExpireExposures(ctx, a.Store, list, a.Config.PrivacyExposureRetention, a.now())
}

// applyRetention runs both retentions once and logs what they deleted
// (counts and experiment keys, never unit ids).
func (a *App) applyRetention(ctx context.Context) {
	start := time.Now()
	if a.Config.PrivacyEventRetention > 0 {
		if n, err := a.ExpireEvents(ctx); err != nil {
			a.Log.Error("applying the event retention", "error", err)
		} else {
			a.Log.Info("event retention applied", "deleted_events", n, "retention", a.Config.PrivacyEventRetention, "took", time.Since(start).Round(time.Millisecond))
		}
	}
	xs, err := a.ExpireExposures(ctx)
	for _, x := range xs {
		a.Log.Info("exposure retention applied", "experiment", x.Experiment, "deleted_exposures", x.Exposures, "deleted_rollups", x.Rollups, "retention", a.Config.PrivacyExposureRetention)
	}
	if err != nil {
		a.Log.Error("applying the exposure retention", "error", err)
	}
}

// runRetention applies the retentions at start and every retentionTick
// until ctx ends; the returned channel closes when it has stopped.
func (a *App) runRetention(ctx context.Context) <-chan struct{} {
	done := make(chan struct{})
	if a.Config.PrivacyEventRetention <= 0 && a.Config.PrivacyExposureRetention <= 0 {
		close(done)
		return done
	}
	go func() {
		defer close(done)
		t := time.NewTicker(retentionTick)
		defer t.Stop()
		for {
			a.retention.set(a.now().Add(retentionTick))
			a.applyRetention(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return done
}

// rebuild is the store's Rebuild, refused for an experiment whose raw
// events are past the retention or whose exposures were deleted.
func (a *App) rebuild(ctx context.Context, key string, progress func(done, total int64)) error {
	if err := CheckRebuild(ctx, a.Config, a.Store, key, a.now()); err != nil {
		return err
	}
	return a.Store.Rebuild(ctx, key, progress)
}

// CheckRebuild refuses a rebuild of experiment key that could only lose
// data: its raw events are past privacy.event_retention
// (privacy.ErrExpired), or its exposures were deleted under
// privacy.exposure_retention (privacy.ErrExposuresExpired).
func CheckRebuild(ctx context.Context, cfg config.Config, st Backend, key string, now time.Time) error {
	if err := privacy.CheckRebuild(ctx, st, key, cfg.PrivacyEventRetention, now); err != nil {
		return err
	}
	return CheckExposuresKept(ctx, st, key)
}

// CheckExposuresKept returns privacy.ErrExposuresExpired (410 Gone over
// HTTP) when experiment key's exposures were deleted under the exposure
// retention: its report can no longer be read.
func CheckExposuresKept(ctx context.Context, st privacy.ExposureExpiringStore, key string) error {
	xs, err := st.ExposureExpiries(ctx)
	if err != nil {
		return err
	}
	if x, ok := xs[key]; ok {
		return &expiredError{key: key, at: x.At}
	}
	return nil
}

// expiredError says that an experiment's exposures were deleted: it is
// privacy.ErrExposuresExpired, and 410 Gone over HTTP.
type expiredError struct {
	key string
	at  time.Time
}

func (e *expiredError) Error() string {
	return fmt.Sprintf("%s: %v on %s, so its report cannot be read or rebuilt any more (export reports before the retention ends)", e.key, privacy.ErrExposuresExpired, e.at.Format(time.DateOnly))
}

// Unwrap makes it both the sentinel and an HTTP error.
func (e *expiredError) Unwrap() []error {
	return []error{privacy.ErrExposuresExpired, &server.Error{Status: http.StatusGone, Code: "expired", Message: e.Error()}}
}

// expiredReports refuses the report of an experiment whose exposures were
// deleted under the exposure retention, instead of showing an empty one.
type expiredReports struct {
	report.Source
	st privacy.ExposureExpiringStore
}

// ExposureCounts implements report.Source.
func (r expiredReports) ExposureCounts(ctx context.Context, key string) (map[string]int64, error) {
	if err := CheckExposuresKept(ctx, r.st, key); err != nil {
		return nil, err
	}
	return r.Source.ExposureCounts(ctx, key)
}

// MetricCells implements report.Source.
func (r expiredReports) MetricCells(ctx context.Context, e *experiment.Experiment, m experiment.Metric, q report.CellQuery) ([]report.Cell, error) {
	if err := CheckExposuresKept(ctx, r.st, e.Key); err != nil {
		return nil, err
	}
	return r.Source.MetricCells(ctx, e, m, q)
}

// Funnel implements report.Source.
func (r expiredReports) Funnel(ctx context.Context, e *experiment.Experiment, steps []experiment.Metric) (map[string][]int64, error) {
	if err := CheckExposuresKept(ctx, r.st, e.Key); err != nil {
		return nil, err
	}
	return r.Source.Funnel(ctx, e, steps)
}

// OpenPseudonyms returns the pseudonymiser privacy.pseudonymise_units asks
// for (nil when off) after checking that st's unit ids are written the
// same way (privacy.CheckUnitIDs): a missing key, or a store holding ids
// written another way, refuses the start.
func OpenPseudonyms(ctx context.Context, cfg config.Config, st privacy.UnitIDStore) (*privacy.Pseudonymiser, error) {
	var p *privacy.Pseudonymiser
	if cfg.PrivacyPseudonymise {
		key, err := privacy.LoadPseudonymKey(cfg.PrivacyPseudonymKey, cfg.PrivacyPseudonymKeyFile)
		if err != nil {
			return nil, err
		}
		p = privacy.NewPseudonymiser(key)
	}
	if err := privacy.CheckUnitIDs(ctx, st, p); err != nil {
		return nil, err
	}
	return p, nil
}

// storedUnit is serving's pseudonym function (nil: ids are stored as sent).
func storedUnit(p *privacy.Pseudonymiser) func(string) string {
	if p == nil {
		return nil
	}
	return p.Unit
}

// PrivacyOverview says what the deployment keeps about units, where and
// for how long (GET /v1/privacy).
func (a *App) PrivacyOverview(ctx context.Context) (privacy.Overview, error) {
	list, err := a.Experiment.List(ctx, experiment.Filter{})
	if err != nil {
		return privacy.Overview{}, err
	}
	stored, err := a.Store.StoredData(ctx)
	if err != nil {
		return privacy.Overview{}, err
	}
	expiries, err := a.Store.ExposureExpiries(ctx)
	if err != nil {
		return privacy.Overview{}, err
	}
	o := privacy.NewOverview(privacy.Settings{
		Attributes:        a.Config.PrivacyAttributes,
		EventRetention:    a.Config.PrivacyEventRetention,
		ExposureRetention: a.Config.PrivacyExposureRetention,
		Pseudonyms:        a.Pseudonyms,
	}, list, stored, expiries)
	if next := a.retention.get(); !next.IsZero() {
		o.NextRetentionRun = &next
	}
	return o, nil
}

// expiredDays refuses the days-since-exposure view of an experiment whose
// exposures were deleted under the exposure retention, as the report does.
type expiredDays struct {
	outcomes.DayStore
	st privacy.ExposureExpiringStore
}

// ExposuresAfter implements outcomes.DayStore.
func (d expiredDays) ExposuresAfter(ctx context.Context, exp, after string, limit int) ([]*outcomes.Exposure, error) {
	if err := CheckExposuresKept(ctx, d.st, exp); err != nil {
		return nil, err
	}
	return d.DayStore.ExposuresAfter(ctx, exp, after, limit)
}
