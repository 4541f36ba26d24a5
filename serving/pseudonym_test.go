package serving

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
)

// pseudonym stands in for privacy.Pseudonymiser.Unit: serving only needs
// a function from the id to the stored id.
func pseudonym(unit string) string { return "p~" + strings.ToUpper(unit) }

func TestPseudonymisedUnitIDs(t *testing.T) {
	ctx := context.Background()
	old := units("old", 2000)
	t.Run("assignment uses the raw id and only the pseudonym is stored", func(t *testing.T) {
		e := newEnv(t)
		e.launch(t, spec{key: "cta"})
		raw := e.start(t, Options{RefreshInterval: time.Hour})
		s := e.start(t, Options{RefreshInterval: time.Hour, StoredUnit: pseudonym})
		for _, u := range old[:200] {
			if got, want := variantOf(s, "cta", u), variantOf(raw, "cta", u); got != want {
				t.Fatalf("%s: variant %q with pseudonyms, %q without", u, got, want)
			}
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		for _, u := range old[:200] {
			if x, ok := e.mem.get("cta", pseudonym(u)); !ok || x.Unit != pseudonym(u) {
				t.Fatalf("no exposure stored under the pseudonym of %s", u)
			}
		}
	})
	t.Run("a reported exposure is checked on the raw id and stored under the pseudonym", func(t *testing.T) {
		e := newEnv(t)
		e.launch(t, spec{key: "cta"})
		s := e.start(t, Options{RefreshInterval: time.Hour, StoredUnit: pseudonym})
		v := s.Evaluate("shopper-1", "", nil, nil)[0].Variant
		resp, err := s.RecordExposures([]Claim{{Experiment: "cta", Unit: "shopper-1", Variant: v}, {Experiment: "cta", Unit: "shopper-1", Variant: v}}, time.Minute)
		if err != nil || resp.Accepted != 1 || resp.Duplicates != 1 || resp.Results[0].Status != events.StatusAccepted {
			t.Fatalf("claims: %+v, %v", resp, err)
		}
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		if _, ok := e.mem.get("cta", pseudonym("shopper-1")); !ok || e.mem.count() != 1 {
			t.Errorf("stored %d exposures, want the pseudonym's only", e.mem.count())
		}
	})
	for _, restart := range []bool{false, true} {
		name := map[bool]string{false: "exposed units stay on their variant after a reweight", true: "a restarted instance pins units from the stored pseudonyms"}[restart]
		t.Run(name, func(t *testing.T) {
			e := newEnv(t)
			e.launch(t, spec{key: "cta"})
			o := Options{RefreshInterval: time.Hour, StoredUnit: pseudonym, DedupeSize: 1000}
			s := e.start(t, o)
			before := map[string]string{}
			for _, u := range old {
				before[u] = variantOf(s, "cta", u)
			}
			if err := s.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			if _, err := e.exps.Reweight(ctx, "bandit", "cta", []float64{0.1, 0.9}, nil); err != nil {
				t.Fatal(err)
			}
			if restart {
				if err := s.Close(ctx); err != nil {
					t.Fatal(err)
				}
				s = e.start(t, o)
			} else {
				refreshNow(t, s)
			}
			for _, u := range old {
				if got := s.Evaluate(u, "", nil, nil)[0].Variant; got != before[u] {
					t.Fatalf("%s moved from %s to %s", u, before[u], got)
				}
			}
			if cfg := s.cur.Load().sdk.cfg; len(cfg.Experiments[0].Sticky) != 0 {
				t.Errorf("the SDK configuration carries %d pins keyed by pseudonyms", len(cfg.Experiments[0].Sticky))
			}
		})
	}
}

func TestPseudonymisedFlagEvaluation(t *testing.T) {
	e := newEnv(t)
	e.launch(t, spec{key: "cta"})
	s := e.start(t, Options{RefreshInterval: time.Hour, StoredUnit: pseudonym})
	a, ok := s.EvaluateFlag("cta", "shopper-1", nil, true)
	if raw := e.start(t, Options{RefreshInterval: time.Hour}).Evaluate("shopper-1", "", nil, nil); !ok || a.Variant != raw[0].Variant {
		t.Fatalf("flag %+v, %v", a, ok)
	}
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.mem.get("cta", pseudonym("shopper-1")); !ok || e.mem.count() != 1 {
		t.Errorf("stored %d exposures, want the pseudonym's only", e.mem.count())
	}
}
