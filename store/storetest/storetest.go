// Package storetest is the conformance suite every journeylab store backend
// must pass, unchanged: Run covers experiments, audit, metrics, layers and
// keys; RunOutcomes covers events, exposures, attribution, rebuilds and the
// report's data contract. store/sqlite runs both on a temporary file and
// store/mongo against a real MongoDB; both share the benchmark bodies here.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/experiment"
)

// Backend is what the suite needs from a store.
type Backend interface {
	experiment.Store
	auth.KeyStore
}

// Run runs the whole suite. open must return a fresh, empty store for each call.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	t.Run("an experiment reads back exactly as it was stored", func(t *testing.T) { testRoundTrip(t, open(t)) })
	t.Run("creating an existing key fails with ErrAlreadyExists", func(t *testing.T) { testDuplicate(t, open(t)) })
	t.Run("a missing experiment is ErrNotFound", func(t *testing.T) { testNotFound(t, open(t)) })
	t.Run("a stale version is refused and the concurrent winner is kept", func(t *testing.T) { testOptimistic(t, open(t)) })
	t.Run("list filters by stage, touchpoint, status and layer", func(t *testing.T) { testList(t, open(t)) })
	t.Run("every write appends one audit entry, in order", func(t *testing.T) { testAudit(t, open(t)) })
	t.Run("the config version moves on every experiment or layer write", func(t *testing.T) { testConfigVersion(t, open(t)) })
	t.Run("metrics are created once and listed in journey order", func(t *testing.T) { testMetrics(t, open(t)) })
	t.Run("layers are upserted and listed by key", func(t *testing.T) { testLayers(t, open(t)) })
	t.Run("personas are created, updated and deleted with audit and version checks", func(t *testing.T) { testPersonas(t, open(t)) })
	t.Run("API keys are stored by id and never by secret", func(t *testing.T) { testKeys(t, open(t)) })
	t.Run("keys with dollar signs and dots are stored as plain data", func(t *testing.T) { testInjection(t, open(t)) })
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// Sample returns a valid experiment for tests.
func Sample(key string) *experiment.Experiment {
	e := &experiment.Experiment{
		Key: key, Name: "Sample " + key, Stage: experiment.StageCheckout, Touchpoint: "checkout_flow",
		Status: experiment.StatusDraft, Variants: []experiment.Variant{{Key: "control", Weight: 1}, {Key: "one_page", Weight: 1, Payload: []byte(`{"steps":1}`)}},
		GoalMetrics: []string{"conversion"}, Version: 1, CreatedAt: t0, UpdatedAt: t0,
	}
	e.Normalize()
	return e
}

func audit(key, action string, version int64) experiment.AuditEntry {
	return experiment.AuditEntry{ExperimentKey: key, Actor: "test", Action: action, At: t0, Version: version}
}

func testRoundTrip(t *testing.T, s Backend) {
	ctx := context.Background()
	e := Sample("roundtrip")
	e.Name = "Größe 🛒 – einseitiger Checkout"
	e.Overrides = map[string]string{"qa-user": "one_page"}
	if err := s.CreateExperiment(ctx, e, audit(e.Key, "create", 1)); err != nil {
		t.Fatalf("create: %v", err)
	}
	got, err := s.GetExperiment(ctx, e.Key)
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	if diff := experiment.Diff(e, got); len(diff) != 0 {
		t.Fatalf("read back differs: %+v", diff)
	}
	if got.Version != 1 || !got.CreatedAt.Equal(t0) {
		t.Fatalf("bookkeeping lost: version %d created %v", got.Version, got.CreatedAt)
	}
}

func testDuplicate(t *testing.T, s Backend) {
	ctx := context.Background()
	if err := s.CreateExperiment(ctx, Sample("dup"), audit("dup", "create", 1)); err != nil {
		t.Fatal(err)
	}
	err := s.CreateExperiment(ctx, Sample("dup"), audit("dup", "create", 1))
	if !errors.Is(err, experiment.ErrAlreadyExists) {
		t.Fatalf("err = %v, want ErrAlreadyExists", err)
	}
	entries, _ := s.ListAudit(ctx, "dup")
	if len(entries) != 1 {
		t.Fatalf("failed create left %d audit entries, want 1", len(entries))
	}
}

func testNotFound(t *testing.T, s Backend) {
	ctx := context.Background()
	if _, err := s.GetExperiment(ctx, "nope"); !errors.Is(err, experiment.ErrNotFound) {
		t.Fatalf("get: err = %v, want ErrNotFound", err)
	}
	e := Sample("nope")
	e.Version = 2
	if err := s.UpdateExperiment(ctx, e, 1, audit("nope", "update", 2)); !errors.Is(err, experiment.ErrNotFound) {
		t.Fatalf("update: err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetMetric(ctx, "nope"); !errors.Is(err, experiment.ErrNotFound) {
		t.Fatalf("metric: err = %v, want ErrNotFound", err)
	}
	if _, err := s.GetLayer(ctx, "nope"); !errors.Is(err, experiment.ErrNotFound) {
		t.Fatalf("layer: err = %v, want ErrNotFound", err)
	}
}

func testOptimistic(t *testing.T, s Backend) {
	ctx := context.Background()
	e := Sample("occ")
	if err := s.CreateExperiment(ctx, e, audit("occ", "create", 1)); err != nil {
		t.Fatal(err)
	}
	const writers = 8
	var wg sync.WaitGroup
	results := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := e.Clone()
			next.Name = fmt.Sprintf("writer %d", i)
			next.Version = 2
			results[i] = s.UpdateExperiment(ctx, next, 1, audit("occ", "update", 2))
		}()
	}
	wg.Wait()
	wins, winner := 0, -1
	for i, err := range results {
		switch {
		case err == nil:
			wins++
			winner = i
		case !errors.Is(err, experiment.ErrVersionConflict):
			t.Fatalf("writer %d: err = %v, want nil or ErrVersionConflict", i, err)
		}
	}
	if wins != 1 {
		t.Fatalf("%d writers won, want exactly 1", wins)
	}
	got, _ := s.GetExperiment(ctx, "occ")
	if got.Name != fmt.Sprintf("writer %d", winner) || got.Version != 2 {
		t.Fatalf("stored %q v%d, want writer %d v2", got.Name, got.Version, winner)
	}
	entries, _ := s.ListAudit(ctx, "occ")
	if len(entries) != 2 {
		t.Fatalf("%d audit entries, want 2 (create + the winning update)", len(entries))
	}
}

func testList(t *testing.T, s Backend) {
	ctx := context.Background()
	a := Sample("b-checkout")
	b := Sample("a-gallery")
	b.Stage, b.Touchpoint, b.Status, b.Layer = experiment.StageConsideration, "product_page", experiment.StatusRunning, "pdp"
	for _, e := range []*experiment.Experiment{a, b} {
		if err := s.CreateExperiment(ctx, e, audit(e.Key, "create", 1)); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name string
		f    experiment.Filter
		want []string
	}{
		{"no filter lists all by key", experiment.Filter{}, []string{"a-gallery", "b-checkout"}},
		{"stage", experiment.Filter{Stage: experiment.StageCheckout}, []string{"b-checkout"}},
		{"touchpoint", experiment.Filter{Touchpoint: "product_page"}, []string{"a-gallery"}},
		{"status", experiment.Filter{Status: experiment.StatusRunning}, []string{"a-gallery"}},
		{"layer", experiment.Filter{Layer: "pdp"}, []string{"a-gallery"}},
		{"no match", experiment.Filter{Stage: experiment.StageReturns}, nil},
	}
	for _, tc := range cases {
		list, err := s.ListExperiments(ctx, tc.f)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var keys []string
		for _, e := range list {
			keys = append(keys, e.Key)
		}
		if fmt.Sprint(keys) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, keys, tc.want)
		}
	}
}

func testAudit(t *testing.T, s Backend) {
	ctx := context.Background()
	e := Sample("aud")
	if err := s.CreateExperiment(ctx, e, audit("aud", "create", 1)); err != nil {
		t.Fatal(err)
	}
	for v := int64(2); v <= 4; v++ {
		next := e.Clone()
		next.Version = v
		a := audit("aud", fmt.Sprintf("update-%d", v), v)
		a.Changes = []experiment.Change{{Field: "name", From: []byte(`"x"`), To: []byte(`"y"`)}}
		if err := s.UpdateExperiment(ctx, next, v-1, a); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := s.ListAudit(ctx, "aud")
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, a := range entries {
		actions = append(actions, a.Action)
	}
	if fmt.Sprint(actions) != "[create update-2 update-3 update-4]" {
		t.Fatalf("audit actions %v", actions)
	}
	if len(entries[1].Changes) != 1 || string(entries[1].Changes[0].To) != `"y"` {
		t.Fatalf("changes not kept: %+v", entries[1].Changes)
	}
}

func testConfigVersion(t *testing.T, s Backend) {
	ctx := context.Background()
	v0, err := s.ConfigVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateExperiment(ctx, Sample("cv"), audit("cv", "create", 1)); err != nil {
		t.Fatal(err)
	}
	v1, _ := s.ConfigVersion(ctx)
	if err := s.PutLayer(ctx, experiment.Layer{Key: "l", Salt: "l", Version: 1}); err != nil {
		t.Fatal(err)
	}
	v2, _ := s.ConfigVersion(ctx)
	if !(v0 < v1 && v1 < v2) {
		t.Fatalf("config versions %d, %d, %d do not increase", v0, v1, v2)
	}
}

func testMetrics(t *testing.T, s Backend) {
	ctx := context.Background()
	for _, m := range experiment.BuiltinMetrics() {
		if err := s.CreateMetric(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateMetric(ctx, experiment.BuiltinMetrics()[0]); !errors.Is(err, experiment.ErrAlreadyExists) {
		t.Fatalf("duplicate metric: err = %v", err)
	}
	list, err := s.ListMetrics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(experiment.BuiltinMetrics()) {
		t.Fatalf("%d metrics, want %d", len(list), len(experiment.BuiltinMetrics()))
	}
	for i := 1; i < len(list); i++ {
		if list[i-1].Stage.Order() > list[i].Stage.Order() {
			t.Fatalf("metric %s (%s) listed before %s (%s)", list[i-1].Key, list[i-1].Stage, list[i].Key, list[i].Stage)
		}
	}
	got, err := s.GetMetric(ctx, "average_order_value")
	if err != nil || got.Kind != experiment.KindRatio || got.DenominatorEvent != "order_completed" {
		t.Fatalf("ratio metric read back as %+v, %v", got, err)
	}
}

func testLayers(t *testing.T, s Backend) {
	ctx := context.Background()
	for _, l := range []experiment.Layer{{Key: "z", Salt: "z", Version: 1}, {Key: "a", Salt: "a", HoldoutShare: 0.1, Version: 1}, {Key: "a", Salt: "a", HoldoutShare: 0.2, Version: 2}} {
		if err := s.PutLayer(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	list, err := s.ListLayers(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].Key != "a" || list[0].HoldoutShare != 0.2 || list[0].Version != 2 {
		t.Fatalf("layers %+v", list)
	}
}

func testKeys(t *testing.T, s Backend) {
	ctx := context.Background()
	k, token, err := auth.Generate("ci", auth.ScopeRead, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetKey(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, secret, _ := auth.Split(token)
	// Another secret differs in its last character (which may be "0" itself).
	last := "0"
	if strings.HasSuffix(secret, last) {
		last = "1"
	}
	if !got.Matches(secret) || got.Matches(secret[:len(secret)-1]+last) || got.Scope != auth.ScopeRead {
		t.Fatalf("stored key does not verify its own secret only: %+v", got)
	}
	if _, err := s.GetKey(ctx, "000000000000"); !errors.Is(err, auth.ErrUnknownKey) {
		t.Fatalf("unknown key: err = %v", err)
	}
}

func testInjection(t *testing.T, s Backend) {
	ctx := context.Background()
	e := Sample("inj")
	e.Overrides = map[string]string{`{"$ne": null}`: "control", "a.b.c": "one_page", "$where": "control"}
	if err := s.CreateExperiment(ctx, e, audit("inj", "create", 1)); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetExperiment(ctx, "inj")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Overrides) != 3 || got.Overrides["$where"] != "control" || got.Overrides["a.b.c"] != "one_page" {
		t.Fatalf("overrides read back as %v", got.Overrides)
	}
	if _, err := s.GetExperiment(ctx, `{"$ne": null}`); !errors.Is(err, experiment.ErrNotFound) {
		t.Fatalf("operator-looking key must match nothing, got err %v", err)
	}
}
