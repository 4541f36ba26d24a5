package sqlite

import (
	"testing"

	"github.com/journeylab/journeylab/store/storetest"
)

// BenchmarkAppendEvents measures the store side of ingestion without HTTP
// (see storetest.BenchAppendEvents).
//
//	go test ./store/sqlite -run '^$' -bench AppendEvents -benchtime 400x
func BenchmarkAppendEvents(b *testing.B) {
	storetest.BenchAppendEvents(b, newOutcomeStore(b))
}

// BenchmarkInsertExposures measures merging exposures into the store (see
// storetest.BenchInsertExposures).
//
//	go test ./store/sqlite -run '^$' -bench InsertExposures -benchtime 40x
func BenchmarkInsertExposures(b *testing.B) {
	storetest.BenchInsertExposures(b, newOutcomeStore(b))
}
