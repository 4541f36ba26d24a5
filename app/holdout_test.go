package app

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/report"
)

// TestALayersHoldoutIsReportedAsItsOwnBaseline drives the holdout baseline
// through the API: visitors are assigned, those the layer held out convert
// at 10% and the others at 20%, and the layer's report compares the two arms
// with the units each visitor was actually put in. Its split is then fixed,
// where a layer without a baseline may change its split between experiments.
func TestALayersHoldoutIsReportedAsItsOwnBaseline(t *testing.T) {
	a := testApp(t, true)
	ctx := context.Background()

	for _, bad := range []struct{ body, field string }{
		{`{"holdout_share":0.2,"metrics":["no_such_metric"]}`, "metrics[0]"},
		{`{"metrics":["conversion"]}`, "metrics"},
		{`{"holdout_share":0.2,"metrics":["conversion","conversion"]}`, "metrics[1]"},
	} {
		if r := do(t, a, "PUT", "/v1/layers/checkout", bad.body); r.status != 400 || r.errField() != bad.field {
			t.Fatalf("PUT layer %s = %d field %q, want 400 naming %s: %s", bad.body, r.status, r.errField(), bad.field, r.raw)
		}
	}
	if r := do(t, a, "PUT", "/v1/layers/checkout", `{"holdout_share":0.2,"metrics":["conversion"]}`); r.status != 200 {
		t.Fatalf("PUT layer = %d %s", r.status, r.raw)
	}
	if r := do(t, a, "GET", "/v1/layers/checkout/report", ""); r.status != 200 {
		t.Fatalf("report of a layer with no experiment yet = %d %s", r.status, r.raw)
	}
	if r := do(t, a, "GET", "/v1/layers/nope/report", ""); r.status != 404 {
		t.Fatalf("report of an unknown layer = %d, want 404: %s", r.status, r.raw)
	}
	exp := `{"key":"one-page","name":"One-page checkout","stage":"checkout","touchpoint":"checkout_cta",
	 "layer":"checkout","layer_share":0.8,
	 "variants":[{"key":"control","weight":1},{"key":"one_page","weight":1}],"goal_metrics":["conversion"]}`
	if r := do(t, a, "POST", "/v1/experiments", exp); r.status != 201 {
		t.Fatalf("create = %d %s", r.status, r.raw)
	}
	if r := do(t, a, "POST", "/v1/experiments/one-page/launch", ""); r.status != 200 {
		t.Fatalf("launch = %d %s", r.status, r.raw)
	}
	if r := do(t, a, "PUT", "/v1/layers/checkout", `{"holdout_share":0.3,"metrics":["conversion"]}`); r.status != 400 || r.errField() != "holdout_share" {
		t.Fatalf("changing a live layer's holdout = %d field %q, want 400 naming holdout_share", r.status, r.errField())
	}
	if _, err := a.Serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}

	const visitors = 4000
	held := map[string]bool{}
	var evs []string
	for i := range visitors {
		unit := fmt.Sprintf("visitor-%d", i)
		r := do(t, a, "POST", "/v1/assign", `{"unit_id":"`+unit+`","touchpoint":"checkout_cta"}`)
		var got struct {
			Assignments []struct{ Experiment string } `json:"assignments"`
			Holdouts    []string                      `json:"holdouts"`
		}
		if r.status != 200 || json.Unmarshal([]byte(r.raw), &got) != nil {
			t.Fatalf("assign %s = %d %s", unit, r.status, r.raw)
		}
		held[unit] = len(got.Holdouts) == 1 && got.Holdouts[0] == "checkout"
		// The baseline is recorded, never shown: a held-out visitor gets
		// nothing, any other the layer's one experiment (it has the whole
		// rest of the layer).
		if held[unit] != (len(got.Assignments) == 0) || !held[unit] && got.Assignments[0].Experiment != "one-page" {
			t.Fatalf("assign %s: %s", unit, r.raw)
		}
		rate := 20
		if held[unit] {
			rate = 10
		}
		if (i*7919)%100 < rate {
			evs = append(evs, fmt.Sprintf(`{"event_id":"o-%d","unit_id":"%s","event":"order_completed","value":50,"ts":"2026-11-23T12:00:30Z"}`, i, unit))
		}
	}
	if err := a.Serving.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	for len(evs) > 0 {
		n := min(len(evs), 500)
		if r := do(t, a, "POST", "/v1/events", `{"events":[`+strings.Join(evs[:n], ",")+`]}`); r.status != 200 {
			t.Fatalf("events = %d %s", r.status, r.raw)
		}
		evs = evs[n:]
	}
	// Acknowledged events reach the report once merged from the journal.
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	r := do(t, a, "GET", "/v1/layers/checkout/report", "")
	var rep report.Report
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &rep) != nil {
		t.Fatalf("layer report = %d %s", r.status, r.raw)
	}
	nHeld := 0
	for _, h := range held {
		if h {
			nHeld++
		}
	}
	if rep.Experiment != "layer:checkout" || rep.Control != "holdout" || rep.Status != "running" || len(rep.Variants) != 2 ||
		rep.Variants[0].Units != int64(nHeld) || rep.Variants[1].Units != int64(visitors-nHeld) {
		t.Fatalf("baseline arms = %+v (control %q, status %q), want holdout %d and layer %d units", rep.Variants, rep.Control, rep.Status, nHeld, visitors-nHeld)
	}
	if nHeld < 700 || nHeld > 900 {
		t.Fatalf("%d of %d visitors held out, want about 20%%", nHeld, visitors)
	}
	if rep.SRM.PValue < 0.001 {
		t.Fatalf("SRM p = %v on a correct split", rep.SRM.PValue)
	}
	if len(rep.Stages) != 1 || len(rep.Stages[0].KPIs) != 1 {
		t.Fatalf("stages = %+v, want one KPI", rep.Stages)
	}
	k := rep.Stages[0].KPIs[0]
	if k.Metric != "conversion" || len(k.Arms) != 2 || len(k.Comparisons) != 1 {
		t.Fatalf("KPI = %+v", k)
	}
	if h, l := k.Arms[0].Value, k.Arms[1].Value; h < 0.07 || h > 0.13 || l < 0.17 || l > 0.23 {
		t.Fatalf("conversion holdout %.3f, layer %.3f, want about 0.10 and 0.20", h, l)
	}
	if c := k.Comparisons[0]; c.Variant != "layer" || c.Verdict != report.Improves {
		t.Fatalf("layer vs holdout = %+v, want the layer to improve conversion", c)
	}
	// A metric added now counts the events already stored: the baseline's
	// rollups are rebuilt from raw events, as an experiment's are.
	if r := do(t, a, "PUT", "/v1/layers/checkout", `{"holdout_share":0.2,"metrics":["conversion","revenue_per_visitor"]}`); r.status != 200 {
		t.Fatalf("adding a metric to a live layer = %d %s", r.status, r.raw)
	}
	a.rebuilds.Wait()
	r = do(t, a, "GET", "/v1/layers/checkout/report", "")
	rep = report.Report{}
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &rep) != nil || len(rep.Stages) != 1 || len(rep.Stages[0].KPIs) != 2 {
		t.Fatalf("layer report after adding a metric = %d %s", r.status, r.raw)
	}
	rpv := rep.Stages[0].KPIs[1]
	same := func(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Abs(b) }
	if rpv.Metric != "revenue_per_visitor" || !same(rpv.Arms[0].Value, 50*k.Arms[0].Value) || !same(rpv.Arms[1].Value, 50*k.Arms[1].Value) {
		t.Fatalf("revenue per visitor = %+v, want 50 × the conversion rates %v, %v", rpv.Arms, k.Arms[0].Value, k.Arms[1].Value)
	}
	// Once the baseline has data its split is fixed for good, even with no
	// experiment live: a new share would mix two splits under one key.
	if r := do(t, a, "POST", "/v1/experiments/one-page/stop", `{"reason":"done"}`); r.status != 200 {
		t.Fatalf("stop = %d %s", r.status, r.raw)
	}
	for _, body := range []string{`{"holdout_share":0.3,"metrics":["conversion"]}`, `{"holdout_share":0.2,"salt":"other","metrics":["conversion"]}`} {
		if r := do(t, a, "PUT", "/v1/layers/checkout", body); r.status != 400 || !strings.Contains(r.raw, "baseline has data") {
			t.Fatalf("changing the split of a layer whose baseline has data: %s = %d %s", body, r.status, r.raw)
		}
	}
	// A layer without a baseline records nothing, so its split may change
	// once none of its experiments is live.
	if r := do(t, a, "PUT", "/v1/layers/plain", `{"holdout_share":0.1}`); r.status != 200 {
		t.Fatalf("PUT plain layer = %d %s", r.status, r.raw)
	}
	plain := strings.NewReplacer(`"one-page"`, `"plain-exp"`, `"layer":"checkout"`, `"layer":"plain"`).Replace(exp)
	for _, step := range [][3]string{{"POST", "/v1/experiments", plain}, {"POST", "/v1/experiments/plain-exp/launch", ""}} {
		if r := do(t, a, step[0], step[1], step[2]); r.status/100 != 2 {
			t.Fatalf("%s %s = %d %s", step[0], step[1], r.status, r.raw)
		}
	}
	if r := do(t, a, "PUT", "/v1/layers/plain", `{"holdout_share":0.2}`); r.status != 400 || r.errField() != "holdout_share" || !strings.Contains(r.raw, "live") {
		t.Fatalf("changing a live plain layer's holdout = %d %s", r.status, r.raw)
	}
	if r := do(t, a, "POST", "/v1/experiments/plain-exp/stop", `{"reason":"done"}`); r.status != 200 {
		t.Fatalf("stop = %d %s", r.status, r.raw)
	}
	if r := do(t, a, "PUT", "/v1/layers/plain", `{"holdout_share":0.2}`); r.status != 200 {
		t.Fatalf("changing a stopped plain layer's holdout = %d %s", r.status, r.raw)
	}
	// The same baseline is the experiment "layer:checkout" everywhere a key is taken.
	if r := do(t, a, "GET", "/v1/experiments/layer:checkout/report?format=csv", ""); r.status != 200 || !strings.Contains(r.raw, "conversion") {
		t.Fatalf("CSV of the baseline = %d %s", r.status, r.raw)
	}
}
