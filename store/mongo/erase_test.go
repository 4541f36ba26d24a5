package mongo

import "testing"

// TestEraseFiltersUseAnIndex pins the claim of docs/privacy.md: every
// erasure filter's field leads an index of its collection, so erasing a
// unit never scans a collection.
func TestEraseFiltersUseAnIndex(t *testing.T) {
	for _, coll := range erasedCollections {
		field := eraseFilter("u1")[0].Key
		found := ""
		for _, ix := range indexes {
			if ix.coll == coll && ix.keys[0].Key == field {
				found = ix.name
			}
		}
		if found == "" {
			t.Errorf("%s: no index starts with %s, the erasure filter's field", coll, field)
		}
	}
}
