package mongo

import (
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeylab/journeylab/eventnames"
	"github.com/journeylab/journeylab/store/storetest"
)

// TestUnknownEventQueriesHaveTheirGoldenShape pins what the unknown event
// names store sends, as canonical Extended JSON in testdata/unknown_events
// (written with -update, then checked by eye against the manual's pages on
// update operators $inc, $min and $max with upsert, and find's sort, skip,
// limit, projection and hint; not run against a server here).
func TestUnknownEventQueriesHaveTheirGoldenShape(t *testing.T) {
	at := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	f, u := unknownEventUpdate(eventnames.Seen{Name: "add_to_krat", Count: 3,
		FirstSeen: at("2026-03-01T10:00:00Z"), LastSeen: at("2026-03-01T10:00:05Z")})
	queries := map[string]any{
		"upsert":      bson.D{{Key: "filter", Value: f}, {Key: "update", Value: u}, {Key: "upsert", Value: true}},
		"prune_find":  findDoc(bson.D{}, unknownEventsBeyond()),
		"prune":       bson.D{{Key: "filter", Value: bson.D{in("_id", []string{"adz_to_cart", "ordr"})}}},
		"list":        findDoc(bson.D{}, unknownEventsList(100)),
		"index_order": unknownEventsOrder,
	}
	dir := filepath.Join("testdata", "unknown_events")
	checkGoldens(t, dir, queries)
}

func TestUnknownEventsConformance(t *testing.T) {
	TestingURI(t) // skips the whole test without a server
	storetest.RunUnknownEvents(t, func(t *testing.T) eventnames.Store { return OpenTesting(t) })
}
