package api_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/journeylab/journeylab/assign"
)

func TestSDKSnapshot(t *testing.T) {
	a := newApp(t)
	launchJSON(t, a, checkoutExperiment)
	launchJSON(t, a, galleryExperiment)

	first := must(t, a, 200, "GET", "/v1/sdk/snapshot", "")
	etag := first.header.Get("ETag")
	var cfg assign.Config
	if err := json.Unmarshal(first.raw, &cfg); err != nil {
		t.Fatalf("%v: %s", err, first.raw)
	}

	t.Run("it holds the running experiments with their overrides and nothing of analysis", func(t *testing.T) {
		if len(cfg.Experiments) != 2 || cfg.Experiments[0].Key != "gallery" || cfg.Experiments[1].Key != "one-page-checkout" {
			t.Fatalf("experiments %+v", cfg.Experiments)
		}
		if got := cfg.Experiments[1].Overrides["qa-tester"]; got != "express" {
			t.Errorf("override of qa-tester %q, want express", got)
		}
		var raw struct{ Experiments []map[string]any }
		if err := json.Unmarshal(first.raw, &raw); err != nil {
			t.Fatal(err)
		}
		for _, field := range []string{"goal_metrics", "control", "name", "analysis", "owner"} {
			if _, ok := raw.Experiments[0][field]; ok {
				t.Errorf("snapshot carries %q", field)
			}
		}
	})
	t.Run("a snapshot built from it assigns as the server does", func(t *testing.T) {
		snap, err := cfg.Snapshot()
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			unit := fmt.Sprintf("visitor-%d", i)
			as := must(t, a, 200, "POST", "/v1/assign", `{"unit_id":"`+unit+`","touchpoint":"checkout","expose":false}`)
			want := assignVariant(t, as, "one-page-checkout")
			got := ""
			for _, r := range snap.Assign(unit, "checkout", nil, nil) {
				if r.Experiment == "one-page-checkout" {
					got = r.Variant
				}
			}
			if got != want {
				t.Fatalf("%s: snapshot %q, server %q", unit, got, want)
			}
		}
	})
	t.Run("the ETag answers 304 until the configuration changes", func(t *testing.T) {
		if etag == "" {
			t.Fatal("no ETag")
		}
		r := must(t, a, 304, "GET", "/v1/sdk/snapshot", "", "If-None-Match", etag)
		if len(r.raw) != 0 {
			t.Errorf("304 with a body: %s", r.raw)
		}
		must(t, a, 304, "GET", "/v1/sdk/snapshot", "", "If-None-Match", `"other", W/`+etag)
		must(t, a, 200, "GET", "/v1/sdk/snapshot", "", "If-None-Match", `"other"`)
		must(t, a, 200, "POST", "/v1/experiments/gallery/pause", "")
		refresh(t, a)
		r = must(t, a, 200, "GET", "/v1/sdk/snapshot", "", "If-None-Match", etag)
		if r.header.Get("ETag") == etag {
			t.Errorf("ETag unchanged after a pause")
		}
	})
}
