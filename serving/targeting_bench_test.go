package serving

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/internal/benchratio"
)

// personaStore is testStore with the SQLite store's personas, so that a
// snapshot can resolve $persona references.
type personaStore struct{ testStore }

func (s personaStore) ListPersonas(ctx context.Context) ([]*experiment.Persona, error) {
	return s.sql.ListPersonas(ctx)
}

// realisticAttrs are a visitor's attributes as a shop sends them: every
// realistic condition below matches them.
var realisticAttrs = map[string]any{
	"device": "mobile", "country": "DE", "channel": "email", "returning": true,
	"app_version": "4.10.1", "utm_source": "newsletter-2026-11", "returns_last_year": 3.0, "segment": "size-unsure",
}

// targetedService serves ten experiments on checkout_cta; with targeted,
// each has its own realistic condition (five clauses: a country list that
// differs per experiment, a $ne, a version comparison, a regular
// expression and the persona "sarah"), else none. Every returning
// visitor of benchUnits has been assigned once.
func targetedService(b *testing.B, targeted bool) *Service {
	e := newEnv(b)
	if targeted {
		_, err := e.exps.CreatePersona(context.Background(), "bench", experiment.Persona{Key: "sarah",
			Condition: assign.Condition(`{"returns_last_year": {"$gte": 2}, "segment": {"$in": ["quality-seeker", "size-unsure"]}}`)})
		if err != nil {
			b.Fatal(err)
		}
	}
	for i := range 10 {
		sp := spec{key: fmt.Sprintf("cta-%d", i), payloads: []string{`{"color":"blue"}`, `{"color":"green"}`}}
		if targeted {
			sp.targeting = assign.Condition(fmt.Sprintf(`{"country": {"$in": ["DE", "AT", "CH", "X%d"]}, "device": {"$ne": "desktop"},
				"app_version": {"$vgte": "4.2.0"}, "utm_source": {"$regex": "^(newsletter|sea)-"}, "$persona": "sarah"}`, i))
		}
		e.launch(b, sp)
	}
	s, err := New(context.Background(), personaStore{e.store}, Options{RefreshInterval: time.Hour, FlushInterval: 10 * time.Millisecond, Logger: quietLogger()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close(context.Background()) })
	for _, u := range benchUnits {
		if got := len(s.Assign(u, "checkout_cta", realisticAttrs, nil)); got != 10 {
			b.Fatalf("%d assignments, want 10", got)
		}
	}
	return s
}

// BenchmarkServiceTargetedOverUntargeted is BenchmarkServiceAssign for
// ten experiments that each have a realistic condition, against the same
// ten without targeting: blocks of calls alternate between the two
// services, so load from other processes falls on both alike, and the
// ratio of the median block times is reported.
//
//	go test ./serving -run '^$' -bench TargetedOverUntargeted -benchtime 2000x -count 6
func BenchmarkServiceTargetedOverUntargeted(b *testing.B) {
	const block = 256
	base, targeted := targetedService(b, false), targetedService(b, true)
	dst := make([]assign.Assignment, 0, 16)
	from := 0
	call := func(s *Service) func(int) {
		return func(i int) {
			if i == 0 {
				from += block
			}
			dst = s.Assign(benchUnits[(from+i)&4095], "checkout_cta", realisticAttrs, dst[:0])
		}
	}
	b.ReportAllocs()
	benchratio.Report(b, block, "untargeted", call(base), "targeted", call(targeted))
}
