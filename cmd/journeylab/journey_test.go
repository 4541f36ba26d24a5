package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
)

func TestJourneyPrintsTheMapAsATableAndAsJSON(t *testing.T) {
	dir, st, _, at := seededStore(t)
	one := 1.0
	evs := []events.Event{}
	for i, name := range []string{"landing_click", "product_view", "landing_click", "product_view", "add_to_cart"} {
		ts := at
		evs = append(evs, events.Event{EventID: string(rune('a' + i)), UnitID: []string{"u1", "u1", "u2", "u2", "u2"}[i], Event: name, Value: &one, TS: &ts})
	}
	if _, err := st.AppendEvents(context.Background(), at, evs); err != nil {
		t.Fatal(err)
	}
	st.Close()
	day := at.Format(time.DateOnly)

	out, _, err := run(t, "journey", "--from", day, "--to", day, "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Journey map " + day + " to " + day + ": 2 visitor-days", "Add-to-cart rate", "50.0%", "<- pain point", "FUNNEL of the 2 units"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	out, _, err = run(t, "journey", "--from", day, "--to", day, "--json", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Funnel struct {
			Cohort    int64
			PainPoint struct{ From, To string } `json:"pain_point"`
		}
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil {
		t.Fatalf("%v:\n%s", err, out)
	}
	if m.Funnel.Cohort != 2 || m.Funnel.PainPoint.From != "consideration" || m.Funnel.PainPoint.To != "decision" {
		t.Fatalf("funnel %+v, want 2 units losing one between consideration and decision", m.Funnel)
	}
	if _, _, err := run(t, "journey", "--from", "last-week", "--data-dir", dir); err == nil || !strings.Contains(err.Error(), "--from") {
		t.Fatalf("a bad --from: err = %v, want it named", err)
	}
}
