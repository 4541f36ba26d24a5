package mongo

import (
	"bytes"
	"encoding/json"
	"flag"
	"math"
	"os"
	"path/filepath"
	"testing"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/mongo/options"

	"github.com/journeylab/journeylab/experiment"
)

// update rewrites the golden files of TestQueriesHaveTheirGoldenShape:
//
//	go test ./store/mongo -run TestQueriesHaveTheirGoldenShape -update
var update = flag.Bool("update", false, "rewrite the golden query documents in testdata/queries")

// goldenQueries are every aggregation pipeline and every non-trivial filter
// the store sends, built for fixed inputs. Each is pinned by a file in
// testdata/queries holding its exact document as canonical Extended JSON, so
// any change to what the server is asked shows up as a diff to review.
//
// How the files were checked: they were written with -update and then read
// by eye, stage by stage and operator by operator, against the MongoDB
// manual's pages for each stage and operator ($match, $project, $group,
// $sum, $multiply, $min, $first, $addToSet, $setIsSubset, $cond, $literal,
// $let, $filter, $ifNull, $arrayElemAt, $eq, $in, $lt, find's sort, skip,
// projection and hint): that every field path names a field the store
// writes (schema.go, the document types), that every request value sits in
// operand position under an explicit operator or $literal, that the $group
// accumulators follow events.Rule.Contribution (sum, sum of squares and
// cross products of the capped y, x and pre), that $min caps only mean and
// ratio metrics, and that the funnel's prefixes are cumulative. They have
// not been run against a server here (see docs/mongodb.md). The journey
// map's queries were checked the same way against the pages of $lookup
// (localField with a pipeline: MongoDB 5.0+), $getField (5.0+), $first,
// $filter, $size, $gt, $gte and $limit, and against journey.go's documents.
func goldenQueries() map[string]any {
	mean := experiment.Metric{Key: "revenue_per_visitor", Kind: experiment.KindMean}
	ratio := experiment.Metric{Key: "average_order_value", Kind: experiment.KindRatio}
	binomial := experiment.Metric{Key: "conversion", Kind: experiment.KindBinomial}
	nps := experiment.Metric{Key: "nps", Kind: experiment.KindNPS}
	cap := capFilters("onepage", "revenue_per_visitor")
	return map[string]any{
		"exposure_counts":                    exposurePipeline("onepage", false, ""),
		"exposure_counts_daily":              exposurePipeline("onepage", true, ""),
		"exposure_counts_by_segment":         exposurePipeline("onepage", false, "device"),
		"exposure_counts_daily_by_segment":   exposurePipeline("onepage", true, "device"),
		"cells_mean_uncapped":                contributionPipeline("onepage", mean, math.NaN(), false, ""),
		"cells_mean_capped":                  contributionPipeline("onepage", mean, 250, false, ""),
		"cells_ratio_capped_daily":           contributionPipeline("onepage", ratio, 250, true, ""),
		"cells_binomial_ignores_cap":         contributionPipeline("onepage", binomial, 250, false, ""),
		"cells_nps_by_segment":               contributionPipeline("onepage", nps, math.NaN(), false, "device"),
		"cells_mean_capped_daily_by_segment": contributionPipeline("onepage", mean, 250, true, "device"),
		"funnel_three_steps":                 funnelPipeline("onepage", []experiment.Metric{{Key: "add_to_cart"}, {Key: "checkout_started"}, {Key: "conversion"}}),
		"funnel_repeated_step":               funnelPipeline("onepage", []experiment.Metric{{Key: "add_to_cart"}, {Key: "add_to_cart"}}),
		"percentile_cap_exposed_count":       cap.exposed,
		"percentile_cap_rollup_count":        cap.rolled,
		"percentile_cap_negative_count":      cap.negative,
		"percentile_cap_lookup":              findOneDoc(cap.rolled, capLookup(41)),
		"percentile_cap_lookup_largest":      findOneDoc(cap.rolled, capLookupLargest()),
		"stored_events":                      storedEventsFilter([]string{"u1", "u2"}, []string{"e1", "e2", "e3"}),
		"days_exposures_after":               findDoc(exposuresAfterQuery("onepage", "u0999", 1000)),
		"days_events_named":                  findDoc(eventsNamedQuery([]string{"u1", "u2"}, []string{"purchase", "order"})),
		"stored_events_none":                 storedEventsFilter(nil, nil),
		"experiments_all":                    experimentFilter(experiment.Filter{}),
		"journey_cohorts":                    journeyCohortPipeline(20150, 20178),
		"journey_cohort_segments":            journeyCohortSegmentPipeline(20150, 20178, "jl:persona"),
		"journey_late_events":                journeyLateEventsFilter([]string{"u1", "u2"}, 20150*86400e9, 20152*86400e9),
		"journey_daily_range":                bson.D{dayRange("day", 20150, 20178)},
		"experiments_every_field": experimentFilter(experiment.Filter{Stage: experiment.StageCheckout, Touchpoint: "checkout_flow",
			Status: experiment.StatusRunning, Layer: "checkout"}),
	}
}

// findOneDoc describes a FindOne call as one document: the filter and the
// options the driver sends with it.
func findOneDoc(filter bson.D, o *options.FindOneOptions) bson.D {
	d := bson.D{{Key: "filter", Value: filter}, {Key: "sort", Value: o.Sort}}
	if o.Skip != nil {
		d = append(d, bson.E{Key: "skip", Value: *o.Skip})
	}
	return append(d, bson.E{Key: "projection", Value: o.Projection}, bson.E{Key: "hint", Value: o.Hint})
}

// findDoc describes a Find call as one document: the filter and the options
// the driver sends with it.
func findDoc(filter bson.D, o *options.FindOptions) bson.D {
	d := bson.D{{Key: "filter", Value: filter}, {Key: "sort", Value: o.Sort}}
	if o.Skip != nil {
		d = append(d, bson.E{Key: "skip", Value: *o.Skip})
	}
	if o.Limit != nil {
		d = append(d, bson.E{Key: "limit", Value: *o.Limit})
	}
	return append(d, bson.E{Key: "projection", Value: o.Projection}, bson.E{Key: "hint", Value: o.Hint})
}

// canonical renders v as indented canonical Extended JSON: every number
// carries its BSON type ($numberInt, $numberLong, $numberDouble), so a
// change from an int32 to a double is a diff too.
func canonical(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := bson.MarshalExtJSON(bson.D{{Key: "query", Value: v}}, true, false)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, raw, "", "  "); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('\n')
	return out.Bytes()
}

// checkGolden compares q, as canonical Extended JSON, with dir/name.json
// (or writes that file with -update).
func checkGolden(t *testing.T, dir, name string, q any) {
	t.Helper()
	path := filepath.Join(dir, name+".json")
	got := canonical(t, q)
	if *update {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (write it with -update, then review it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s changed:\n got: %s\nwant: %s", path, got, want)
	}
}

func TestQueriesHaveTheirGoldenShape(t *testing.T) {
	dir := filepath.Join("testdata", "queries")
	queries := goldenQueries()
	checkGoldens(t, dir, queries)
	t.Run("every golden file belongs to a query", func(t *testing.T) {
		files, err := filepath.Glob(filepath.Join(dir, "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if _, ok := queries[filepath.Base(f[:len(f)-len(".json")])]; !ok {
				t.Errorf("%s pins no query: remove it", f)
			}
		}
		if len(files) != len(queries) && !*update {
			t.Errorf("%d golden files for %d queries", len(files), len(queries))
		}
	})
}

// checkGoldens compares each query with its file in dir (writes it with
// -update).
func checkGoldens(t *testing.T, dir string, queries map[string]any) {
	for name, q := range queries {
		t.Run(name, func(t *testing.T) { checkGolden(t, dir, name, q) })
	}
}
