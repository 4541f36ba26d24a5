package mongo

import (
	"context"
	"fmt"
	"sort"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/storetest"
)

// outcomeHarness runs storetest's outcome suite on a fresh database of the
// test server, looking at the collections where an assertion needs to.
var outcomeHarness = storetest.Outcomes{
	Open: func(t testing.TB) storetest.OutcomeBackend { return OpenTesting(t) },
	RawEvents: func(t testing.TB, st storetest.OutcomeBackend) int64 {
		return countDocs(t, st.(*Store), "events", bson.D{})
	},
	Stored: func(t testing.TB, st storetest.OutcomeBackend, exp string) storetest.Stored {
		return stored(t, st.(*Store), exp)
	},
	WipeRollups: func(t testing.TB, st storetest.OutcomeBackend, exp string) { wipeRollups(t, st.(*Store), exp) },
	// The cells are aggregations on the server, which adds the rollups up
	// in no fixed order: a rebuild may change the last bit.
	UpToDateTolerance: 1e-12,
}

// newOutcomeStore opens a fresh MongoDB store set up by
// storetest.SetupOutcomes.
func newOutcomeStore(t testing.TB) (*Store, *experiment.Service) {
	t.Helper()
	st := OpenTesting(t)
	return st, storetest.SetupOutcomes(t, st)
}

func countDocs(t testing.TB, st *Store, coll string, filter bson.D) int64 {
	t.Helper()
	n, err := st.db.Collection(coll).CountDocuments(context.Background(), filter)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// rollupRow is a stored per-unit rollup, for comparisons.
type rollupRow struct {
	Unit, Metric, Variant string
	Day, Seq              int64
	events.Rollup
}

// stored reads everything the incremental path maintains for one
// experiment, and the daily cells of its every metric that the report
// reads from it.
func stored(t testing.TB, st *Store, exp string) storetest.Stored {
	t.Helper()
	ctx := context.Background()
	var docs []rollupDoc
	if err := st.findAll(ctx, st.c.unitMetrics, bson.D{eq("experiment", exp)}, options.Find().SetSort(bson.D{{Key: "unit_id", Value: 1}, {Key: "metric", Value: 1}}), &docs); err != nil {
		t.Fatal(err)
	}
	var s storetest.Stored
	for i := range docs {
		d := &docs[i]
		s.Rollups = append(s.Rollups, rollupRow{Unit: d.Unit, Metric: d.Metric, Variant: d.Variant, Day: d.Day, Seq: d.Seq, Rollup: d.rollup()})
	}
	for _, k := range storetest.GetExperiment(t, st, exp).AllMetrics() {
		s.Sums = append(s.Sums, storetest.CellSums(k, storetest.Cells(t, st, exp, k, report.CellQuery{Daily: true}))...)
	}
	rows, err := st.exposureGroups(ctx, exp, true, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		s.Counts = append(s.Counts, fmt.Sprintf("%s/%d=%d", r.ID.Variant, *r.ID.Day, r.N))
	}
	sort.Strings(s.Counts)
	return s
}

// wipeRollups deletes what the incremental path maintains, as if the
// experiment's metrics had never been attributed.
func wipeRollups(t testing.TB, st *Store, exp string) {
	t.Helper()
	if _, err := st.c.unitMetrics.DeleteMany(context.Background(), bson.D{eq("experiment", exp)}); err != nil {
		t.Fatal(err)
	}
}
