package mongo

import (
	"fmt"
	"reflect"
	"testing"

	"go.mongodb.org/mongo-driver/bson"

	"github.com/journeylab/journeylab/health"
)

func TestAlertFiltersCarryRequestValuesAsPlainOperands(t *testing.T) {
	for _, v := range append(hostile, "checkout") {
		t.Run(fmt.Sprintf("%q stays a string operand", v), func(t *testing.T) {
			checkOperands(t, alertFilter(health.Filter{Experiment: v, Status: health.AlertStatus(v), Check: health.Check(v)}),
				map[string]any{"experiment": v, "status": v, "check": v})
			f, _ := newestFind(v, "at")
			checkOperands(t, f, map[string]any{"experiment": v})
		})
	}
	t.Run("an empty filter matches every alert", func(t *testing.T) {
		if f := alertFilter(health.Filter{}); len(f) != 0 {
			t.Fatalf("filter %v", f)
		}
	})
}

// The exposure-delay look-up walks one step down the {experiment, at: -1}
// index that ensureHealthSchema creates.
func TestNewestFindFollowsItsIndex(t *testing.T) {
	for _, tc := range []struct{ field, coll, index string }{{"at", "exposures", "experiment_at"}} {
		t.Run(tc.coll+" by "+tc.field, func(t *testing.T) {
			_, o := newestFind("checkout", tc.field)
			want := bson.D{{Key: "experiment", Value: 1}, {Key: tc.field, Value: -1}}
			if !reflect.DeepEqual(o.Sort, want) {
				t.Fatalf("sort %v, want %v", o.Sort, want)
			}
			found := false
			for _, ix := range healthIndexes {
				if ix.coll == tc.coll && *ix.ix.Options.Name == tc.index {
					found = reflect.DeepEqual(ix.ix.Keys, want)
				}
			}
			if !found {
				t.Fatalf("no index %s on %s with keys %v", tc.index, tc.coll, want)
			}
		})
	}
	t.Run("at most one alert per condition is open", func(t *testing.T) {
		ix := healthIndexes[0]
		want := bson.D{{Key: "status", Value: bson.D{{Key: "$eq", Value: "open"}}}}
		if ix.coll != alertsColl || !*ix.ix.Options.Unique || !reflect.DeepEqual(ix.ix.Options.PartialFilterExpression, want) {
			t.Fatalf("index %+v, partial filter %v", ix, ix.ix.Options.PartialFilterExpression)
		}
	})
}

func TestConflictingExposuresAreThoseInAnotherVariant(t *testing.T) {
	docs := []exposureDoc{
		{Unit: "u1", Experiment: "e", Variant: "a"},
		{Unit: "u2", Experiment: "e", Variant: "b"},
		{Unit: "u3", Experiment: "e", Variant: "a"},
	}
	stored := map[[2]string]string{{"u1", "e"}: "a", {"u2", "e"}: "a", {"u3", "other"}: "b"}
	got := conflictingExposures(docs, stored)
	if len(got) != 1 || got[0].Unit != "u2" {
		t.Fatalf("conflicts %+v, want u2 only", got)
	}
}
