package mongo

import (
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
)

// TestExpiryFiltersUseAnIndex pins the claim of docs/privacy.md: the
// exposure retention's filter leads an index of every collection it
// deletes from, so it never scans a collection.
func TestExpiryFiltersUseAnIndex(t *testing.T) {
	field := expiryFilter("onepage")[0].Key
	for _, coll := range []string{"exposures", "unit_metrics", exposureConflictsColl} {
		found := ""
		for _, ix := range indexes {
			if ix.coll == coll && ix.keys[0].Key == field {
				found = ix.name
			}
		}
		for _, ix := range healthIndexes {
			if k, ok := ix.ix.Keys.(bson.D); ok && ix.coll == coll && k[0].Key == field {
				found = *ix.ix.Options.Name
			}
		}
		if found == "" {
			t.Errorf("%s: no index starts with %s, the expiry filter's field", coll, field)
		}
	}
}

// privacyQueries are the privacy documents the store sends, pinned like
// goldenQueries (in their own directory). Checked by eye against the
// MongoDB manual's pages for $set, $inc, find's sort and projection: the
// field names are those the store writes (privacy.go, events.go), request
// values sit under $set/$inc or as equality values only.
func privacyQueries() map[string]any {
	at := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	return map[string]any{
		"expiry_filter":      expiryFilter("onepage"),
		"expiry_record":      expiryRecord(at, 1200, 3400),
		"unit_id_mode":       unitIDModeUpdate("hmac-sha256-128:4120ed001ea8ed4a"),
		"oldest_event":       findOneDoc(bson.D{}, oldestFirst("ts")),
		"oldest_exposure":    findOneDoc(bson.D{}, oldestFirst("at")),
		"unit_id_mode_match": bson.D{eq("_id", unitIDSetting)},
	}
}

func TestPrivacyQueriesHaveTheirGoldenShape(t *testing.T) {
	dir := filepath.Join("testdata", "privacy_queries")
	queries := privacyQueries()
	checkGoldens(t, dir, queries)
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) != len(queries) && !*update {
		t.Errorf("%d golden files for %d queries", len(files), len(queries))
	}
}
