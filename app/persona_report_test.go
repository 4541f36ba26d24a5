package app

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/report"
)

// TestReportByPersona records exposures of units matching two overlapping
// personas and reads the report broken down by persona: every unit is in
// the segment of the personas its attributes matched.
func TestReportByPersona(t *testing.T) {
	a := testApp(t, true)
	ctx := context.Background()
	for _, p := range []string{
		`{"key":"sarah","name":"Sarah","condition":{"segment":"size-unsure"}}`,
		`{"key":"bargain","name":"Bargain hunter","condition":{"coupon":true}}`,
	} {
		if r := do(t, a, "POST", "/v1/personas", p); r.status != 201 {
			t.Fatalf("create persona: %d %s", r.status, r.raw)
		}
	}
	exp := `{"key":"size-chart","name":"Size chart","stage":"consideration","touchpoint":"pdp_size",
	  "variants":[{"key":"control","weight":1},{"key":"chart","weight":1}],"goal_metrics":["conversion"]}`
	if r := do(t, a, "POST", "/v1/experiments", exp); r.status != 201 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	if r := do(t, a, "POST", "/v1/experiments/size-chart/launch", ""); r.status != 200 {
		t.Fatalf("launch: %d %s", r.status, r.raw)
	}
	if _, err := a.Serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	attrs := []string{
		`{"segment":"size-unsure"}`,                // sarah
		`{"coupon":true}`,                          // bargain
		`{"segment":"size-unsure","coupon":true}`,  // both
		`{"segment":"loyal","jl:persona":"sarah"}`, // none: a client cannot set the dimension
	}
	const visitors = 400
	var evs []string
	for i := range visitors {
		unit := fmt.Sprintf("v-%d", i)
		if r := do(t, a, "POST", "/v1/assign", `{"unit_id":"`+unit+`","touchpoint":"pdp_size","attributes":`+attrs[i%4]+`}`); r.status != 200 {
			t.Fatalf("assign: %d %s", r.status, r.raw)
		}
		if i%3 == 0 {
			evs = append(evs, fmt.Sprintf(`{"event_id":"o-%d","unit_id":"%s","event":"order_completed","value":40,"ts":"2026-11-23T12:00:30Z"}`, i, unit))
		}
	}
	if err := a.Serving.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if r := do(t, a, "POST", "/v1/events", `{"events":[`+strings.Join(evs, ",")+`]}`); r.status != 200 {
		t.Fatalf("events: %d %s", r.status, r.raw)
	}

	r := do(t, a, "GET", "/v1/experiments/size-chart/report?dimension=jl:persona", "")
	var rep report.Report
	if r.status != 200 || json.Unmarshal([]byte(r.raw), &rep) != nil {
		t.Fatalf("report: %d %s", r.status, r.raw)
	}
	units := map[string]int64{}
	for _, s := range rep.Segments {
		for _, u := range s.Units {
			units[s.Value] += u.Units
		}
	}
	want := map[string]int64{"sarah": visitors / 4, "bargain": visitors / 4, "bargain,sarah": visitors / 4, report.NoSegment: visitors / 4}
	if fmt.Sprint(units) != fmt.Sprint(want) {
		t.Fatalf("units by persona %v, want %v", units, want)
	}

	csv := do(t, a, "GET", "/v1/experiments/size-chart/report?dimension=jl:persona&format=csv", "")
	if csv.status != 200 || !strings.Contains(csv.raw, "bargain,sarah") && !strings.Contains(csv.raw, `"bargain,sarah"`) {
		t.Fatalf("csv: %d\n%s", csv.status, csv.raw)
	}
}
