package journeylab_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/assign"
	journeylab "github.com/journeylab/journeylab/sdk/go"
)

// TestTheSDKAssignsAsTheServer sets up what makes assignment non-trivial —
// targeting with a persona, a layer with a holdout, a coverage ramp, QA
// overrides and, after a weight change and a bandit re-weighting, units
// pinned to the variant they were first exposed to — and compares the SDK's local evaluation with the
// server's for 100k units on every experiment.
func TestTheSDKAssignsAsTheServer(t *testing.T) {
	if testing.Short() {
		t.Skip("100k units against a real server")
	}
	s := startServer(t)
	ctx := context.Background()
	s.admin(t, 201, "POST", "/v1/personas", `{"key":"mobile-shopper","name":"Mobile shopper","condition":{"device":"mobile"}}`)
	s.admin(t, 200, "PUT", "/v1/layers/checkout", `{"holdout_share":0.1}`)
	s.launch(t, "one-page", `{"key":"one-page","name":"One-page checkout","stage":"checkout","touchpoint":"checkout",
	 "layer":"checkout","layer_share":0.5,"targeting":{"$persona":"mobile-shopper"},
	 "variants":[{"key":"control","weight":1},{"key":"one-page","weight":1,"payload":{"steps":1}}],"goal_metrics":["conversion"]}`)
	s.launch(t, "express-pay", `{"key":"express-pay","name":"Express pay","stage":"checkout","touchpoint":"checkout",
	 "layer":"checkout","layer_share":0.4,
	 "variants":[{"key":"control","weight":1},{"key":"express","weight":1}],"goal_metrics":["conversion"]}`)
	s.launch(t, "gallery", `{"key":"gallery","name":"Gallery","stage":"consideration","touchpoint":"product-page",
	 "targeting":{"visits":{"$gte":3}},"coverage":0.3,"overrides":{"qa-1":"grid","qa-2":"control"},
	 "variants":[{"key":"control","weight":1},{"key":"grid","weight":1}],"goal_metrics":["conversion"]}`)
	s.launch(t, "reviews", `{"key":"reviews","name":"Reviews first","stage":"consideration","touchpoint":"product-page",
	 "variants":[{"key":"control","weight":1},{"key":"top","weight":1},{"key":"newest","weight":1}],"goal_metrics":["conversion"]}`)
	s.launch(t, "badge", `{"key":"badge","name":"Badge","stage":"decision","touchpoint":"product-page",
	 "variants":[{"key":"none","weight":1},{"key":"bestseller","weight":1}],"goal_metrics":["conversion"]}`)
	s.refresh(t)

	c, err := journeylab.New(ctx, journeylab.Options{BaseURL: s.url, APIKey: s.sdk, RefreshInterval: -1, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)

	attrsOf := func(i int) map[string]any {
		return map[string]any{"device": []string{"mobile", "desktop", "tablet"}[i%3], "visits": float64(i % 7)}
	}
	// Expose 3000 units to reviews through the SDK, then move its weights:
	// the server pins the units whose variant the new weights would change.
	for i := range 3000 {
		c.Variant(ctx, fmt.Sprintf("u%d", i), "reviews", attrsOf(i))
		c.Variant(ctx, fmt.Sprintf("u%d", i), "badge", attrsOf(i))
	}
	if err := c.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if st := c.Stats(); st.ExposuresSent != 6000 || st.ExposuresDropped != 0 || st.ExposuresRejected != 0 {
		t.Fatalf("after 3000 exposures: %+v", st)
	}
	if err := s.app.Serving.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	update(t, s, "reviews", func(e map[string]any) {
		vs := e["variants"].([]any)
		vs[0].(map[string]any)["weight"] = 4
	})
	update(t, s, "gallery", func(e map[string]any) { e["coverage"] = 0.7 })
	// The bandit's way of moving weights.
	if _, err := s.app.Experiment.Reweight(ctx, "bandit", "badge", []float64{0.2, 0.8}, json.RawMessage(`{"metric":"conversion"}`)); err != nil {
		t.Fatal(err)
	}
	s.refresh(t)
	if err := c.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	experiments := []string{"one-page", "express-pay", "gallery", "reviews", "badge"}
	var dst []assign.Assignment
	diffs, in, sticky, forced, held := 0, map[string]int{}, map[string]int{}, 0, 0
	const units = 100_000
	for i := range units + 2 {
		unit := fmt.Sprintf("u%d", i)
		if i >= units {
			unit = fmt.Sprintf("qa-%d", i-units+1)
		}
		attrs := attrsOf(i)
		for _, key := range experiments {
			got, ok := c.Evaluate(unit, key, attrs)
			want, wantOK := assign.Assignment{}, false
			tp := map[string]string{"one-page": "checkout", "express-pay": "checkout", "gallery": "product-page", "reviews": "product-page", "badge": "product-page"}[key]
			dst = s.app.Serving.Evaluate(unit, tp, attrs, dst[:0])
			for _, a := range dst {
				if a.Holdout && key == "one-page" {
					held++
				}
				if a.Experiment == key && !a.Holdout && !a.Baseline {
					want, wantOK = a, true
				}
			}
			if ok != wantOK || got.Variant != want.Variant || got.Sticky != want.Sticky || got.Forced != want.Forced || string(got.Payload) != string(want.Payload) {
				if diffs++; diffs <= 5 {
					t.Errorf("%s in %s: SDK %v %+v, server %v %+v", unit, key, ok, got, wantOK, want)
				}
			}
			if ok {
				in[key]++
				if got.Sticky {
					sticky[key]++
				}
				if got.Forced {
					forced++
				}
			}
		}
	}
	if diffs != 0 {
		t.Fatalf("%d differences between the SDK and the server", diffs)
	}
	// The set-up must exercise what it claims to.
	t.Logf("units in: %v; sticky %v, forced %d, held out of the layer %d", in, sticky, forced, held)
	if sticky["reviews"] == 0 || sticky["badge"] == 0 || forced != 2 || held == 0 || in["gallery"] < units*7/10*4/7*9/10 || in["one-page"] == 0 || in["express-pay"] == 0 {
		t.Errorf("set-up too weak: in %v, sticky %v, forced %d, held %d", in, sticky, forced, held)
	}
}

// update reads an experiment, lets change edit its JSON and writes it back.
func update(t *testing.T, s *server, key string, change func(map[string]any)) {
	t.Helper()
	var e map[string]any
	if err := jsonUnmarshal(s.admin(t, 200, "GET", "/v1/experiments/"+key, ""), &e); err != nil {
		t.Fatal(err)
	}
	change(e)
	s.admin(t, 200, "PUT", "/v1/experiments/"+key, jsonMarshal(t, e))
}
