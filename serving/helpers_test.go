package serving

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/store/sqlite"
)

// pairKey identifies an (experiment, unit) pair.
type pairKey struct {
	experiment, unit string
}

// memExposures is an in-memory exposure store with the unique (experiment,
// unit) rule of the real ones, plus knobs to make writes fail or stall.
type memExposures struct {
	mu        sync.Mutex
	rows      map[pairKey]experiment.Exposure
	attempted int  // rows passed to InsertExposures, duplicates included
	failNext  int  // fail this many calls
	refuse    bool // refuse every batch as invalid
	block     chan struct{}
	delay     time.Duration
}

func newMemExposures() *memExposures {
	return &memExposures{rows: map[pairKey]experiment.Exposure{}}
}

var errInjected = errors.New("injected write failure")

func (m *memExposures) InsertExposures(ctx context.Context, xs []experiment.Exposure) (int, error) {
	m.mu.Lock()
	block, delay := m.block, m.delay
	if m.refuse {
		m.mu.Unlock()
		return 0, &experiment.ValidationError{Field: "exposures[0]", Message: "refused"}
	}
	if m.failNext > 0 {
		m.failNext--
		m.mu.Unlock()
		return 0, errInjected
	}
	m.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for _, x := range xs {
		m.attempted++
		k := pairKey{x.Experiment, x.Unit}
		if _, dup := m.rows[k]; dup {
			continue
		}
		m.rows[k] = x
		n++
	}
	return n, nil
}

func (m *memExposures) ExposureVariants(ctx context.Context, key string, fn func(unit, variant string) error) error {
	m.mu.Lock()
	var list []experiment.Exposure
	for k, x := range m.rows {
		if k.experiment == key {
			list = append(list, x)
		}
	}
	m.mu.Unlock()
	for _, x := range list {
		if err := fn(x.Unit, x.Variant); err != nil {
			return err
		}
	}
	return nil
}

func (m *memExposures) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.rows)
}

func (m *memExposures) get(exp, unit string) (experiment.Exposure, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	x, ok := m.rows[pairKey{exp, unit}]
	return x, ok
}

func (m *memExposures) set(f func(m *memExposures)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f(m)
}

// testStore reads configuration from a real SQLite store and keeps
// exposures in memory.
type testStore struct {
	*memExposures
	sql *sqlite.Store
}

func (s testStore) ConfigVersion(ctx context.Context) (int64, error) {
	return s.sql.ConfigVersion(ctx)
}

func (s testStore) ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error) {
	return s.sql.ListExperiments(ctx, f)
}

func (s testStore) ListLayers(ctx context.Context) ([]experiment.Layer, error) {
	return s.sql.ListLayers(ctx)
}

func (s testStore) ListAudit(ctx context.Context, key string) ([]experiment.AuditEntry, error) {
	return s.sql.ListAudit(ctx, key)
}

// env is an experiment service on a temporary SQLite store, with an
// in-memory exposure store.
type env struct {
	sql   *sqlite.Store
	mem   *memExposures
	store testStore
	exps  *experiment.Service
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st, err := sqlite.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	svc := experiment.NewService(st, time.Now)
	if err := svc.SeedBuiltinMetrics(ctx); err != nil {
		t.Fatal(err)
	}
	mem := newMemExposures()
	return &env{sql: st, mem: mem, store: testStore{memExposures: mem, sql: st}, exps: svc}
}

func quietLogger() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// start runs a serving Service on the env, closed at the end of the test.
func (e *env) start(t testing.TB, o Options) *Service {
	t.Helper()
	if o.RefreshInterval == 0 {
		o.RefreshInterval = 20 * time.Millisecond
	}
	if o.FlushInterval == 0 {
		o.FlushInterval = 10 * time.Millisecond
	}
	if o.Logger == nil {
		o.Logger = quietLogger()
	}
	s, err := New(context.Background(), e.store, o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s
}

// spec describes a test experiment.
type spec struct {
	key, touchpoint string
	weights         []float64
	payloads        []string
	overrides       map[string]string
	layer           string
	layerShare      float64
	coverage        float64
	targeting       assign.Condition
}

// create stores a draft experiment; launch also starts it.
func (e *env) create(t testing.TB, sp spec) *experiment.Experiment {
	t.Helper()
	if sp.touchpoint == "" {
		sp.touchpoint = "checkout_cta"
	}
	if sp.weights == nil {
		sp.weights = []float64{1, 1}
	}
	x := &experiment.Experiment{
		Key: sp.key, Name: "Test " + sp.key, Stage: experiment.StageCheckout, Touchpoint: sp.touchpoint,
		GoalMetrics: []string{"conversion"}, Overrides: sp.overrides, Layer: sp.layer, LayerShare: sp.layerShare,
		Coverage: sp.coverage, Targeting: sp.targeting,
	}
	for i, w := range sp.weights {
		v := experiment.Variant{Key: fmt.Sprintf("v%d", i), Weight: w}
		if i < len(sp.payloads) {
			v.Payload = []byte(sp.payloads[i])
		}
		x.Variants = append(x.Variants, v)
	}
	out, err := e.exps.Create(context.Background(), "test", x)
	if err != nil {
		t.Fatalf("create %s: %v", sp.key, err)
	}
	return out
}

func (e *env) launch(t testing.TB, sp spec) *experiment.Experiment {
	t.Helper()
	e.create(t, sp)
	return e.act(t, sp.key, experiment.ActionLaunch)
}

func (e *env) act(t testing.TB, key string, a experiment.Action) *experiment.Experiment {
	t.Helper()
	out, err := e.exps.Transition(context.Background(), "test", key, a)
	if err != nil {
		t.Fatalf("%s %s: %v", a, key, err)
	}
	return out
}

// refreshNow makes s serve the store's current configuration without waiting for
// the poll.
func refreshNow(t testing.TB, s *Service) {
	t.Helper()
	if _, err := s.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// variantOf returns the variant s gives unit in experiment exp, or "".
func variantOf(s *Service, exp, unit string) string {
	for _, a := range s.Assign(unit, "", nil, nil) {
		if a.Experiment == exp {
			return a.Variant
		}
	}
	return ""
}

func units(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%06d", prefix, i)
	}
	return out
}

// launchTen starts the ten experiments of the HTTP benchmark
// (bench/http-assign.sh) on touchpoint checkout_cta: six for everyone, two
// targeted and two sharing a layer with a 5% holdout; layerMetrics, when
// given, make that holdout the layer's recorded baseline.
func (e *env) launchTen(t testing.TB, layerMetrics ...string) {
	t.Helper()
	if _, err := e.exps.PutLayer(context.Background(), experiment.Layer{Key: "checkout", HoldoutShare: 0.05, Metrics: layerMetrics}); err != nil {
		t.Fatal(err)
	}
	for i := range 6 {
		e.launch(t, spec{key: fmt.Sprintf("cta-%d", i), payloads: []string{`{"color":"blue"}`, `{"color":"green"}`}})
	}
	e.launch(t, spec{key: "mobile-sticky-bar", targeting: assign.Condition(`{"device": "mobile"}`)})
	e.launch(t, spec{key: "dach-payment", targeting: assign.Condition(`{"country": {"$in": ["DE", "AT", "CH"]}}`), weights: []float64{1, 1, 1}})
	e.launch(t, spec{key: "layer-a", layer: "checkout", layerShare: 0.45})
	e.launch(t, spec{key: "layer-b", layer: "checkout", layerShare: 0.45})
}
