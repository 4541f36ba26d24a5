package mongo

import (
	"context"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/sqlite"
	"github.com/journeylab/journeylab/store/storetest"
)

// TestTheReportMatchesTheSQLiteStore writes one workload into both backends
// and requires the report's every input to be identical: the same cells
// for every metric, plain, daily and by segment, the same exposure counts,
// sticky variants and funnel. Values are dyadic, so sums in any order agree
// to the last bit.
func TestTheReportMatchesTheSQLiteStore(t *testing.T) {
	ctx := context.Background()
	mg, _ := newOutcomeStore(t)
	lite, err := sqlite.OpenFile(ctx, filepath.Join(t.TempDir(), "reference.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer lite.Close()
	storetest.SetupOutcomes(t, lite)
	ops := storetest.Workload(5, true)
	storetest.Apply(t, lite, ops)
	storetest.Apply(t, mg, ops)

	e := storetest.GetExperiment(t, mg, "exp")
	for _, k := range e.AllMetrics() {
		for _, q := range []report.CellQuery{{}, {Daily: true}, {Dimension: "device"}, {Dimension: "device", Daily: true}, {Dimension: "absent"}} {
			want, got := storetest.Cells(t, lite, "exp", k, q), storetest.Cells(t, mg, "exp", k, q)
			storetest.CompareSums(t, fmt.Sprintf("%s %+v", k, q), storetest.CellSums(k, want), storetest.CellSums(k, got), 0)
		}
	}
	wantCounts, err := lite.ExposureCounts(ctx, "exp")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mg.ExposureCounts(ctx, "exp"); err != nil || !reflect.DeepEqual(got, wantCounts) {
		t.Errorf("exposure counts %v (%v), want %v", got, err, wantCounts)
	}
	variants := func(st storetest.OutcomeBackend) []string {
		var out []string
		if err := st.ExposureVariants(ctx, "exp", func(unit, variant string) error {
			out = append(out, unit+"="+variant)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got, want := variants(mg), variants(lite); !reflect.DeepEqual(got, want) {
		t.Errorf("exposure variants differ:\n got %v\nwant %v", got, want)
	}
	var steps []experiment.Metric
	for _, k := range []string{"atc_24h", "conversion", "revenue_per_visitor", "nps"} {
		steps = append(steps, storetest.GetMetric(t, mg, k))
	}
	want, err := lite.Funnel(ctx, e, steps)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := mg.Funnel(ctx, e, steps); err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("funnel %v (%v), want %v", got, err, want)
	}
}
