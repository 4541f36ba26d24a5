package mongo

import (
	"context"
	"errors"
	"reflect"
	"sort"
	"testing"
	"time"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/storetest"
)

// hostile are request values shaped like MongoDB operators and paths.
var hostile = []string{`{"$ne": null}`, `{"$gt": ""}`, "$where", "a.b.c", "$$ROOT", `{"$regex": ".*"}`}

func TestOperatorLookingValuesAreOnlyData(t *testing.T) {
	ctx := context.Background()
	st, _ := newOutcomeStore(t)
	var xs []experiment.Exposure
	for i, u := range hostile {
		xs = append(xs, storetest.Exposure(u, []string{"control", "treatment"}[i%2], 0, map[string]string{"device": u, "$where": "x", "a.b": "dotted"}))
	}
	xs = append(xs, storetest.Exposure("plain", "control", 0, nil))
	if n := storetest.MustExpose(t, st, xs...); n != len(xs) {
		t.Fatalf("inserted %d exposures, want %d: an operator-looking unit id matched another unit", n, len(xs))
	}
	if n := storetest.MustExpose(t, st, storetest.Exposure(`{"$ne": null}`, "treatment", time.Hour, nil)); n != 0 {
		t.Errorf("re-exposing an operator-looking unit inserted %d, want 0", n)
	}
	var units []string
	if err := st.ExposureVariants(ctx, "exp", func(unit, variant string) error {
		units = append(units, unit)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := append([]string{"plain"}, hostile...)
	sort.Strings(want)
	if !reflect.DeepEqual(units, want) {
		t.Errorf("exposed units %q, want %q", units, want)
	}

	t.Run("an event of an operator-looking unit counts for that unit only", func(t *testing.T) {
		storetest.MustAppend(t, st, storetest.Event("e1", `{"$ne": null}`, "order_completed", 10, time.Hour))
		cells := storetest.Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{})
		if cells[0].Stats.Sum != 10 || cells[1].Stats.Sum != 0 {
			t.Errorf("revenue %v / %v, want 10 for the control unit that sent it and nothing else", cells[0].Stats.Sum, cells[1].Stats.Sum)
		}
		if stored := storetest.MustAppend(t, st, storetest.Event("e1", "plain", "order_completed", 10, time.Hour)); !stored[0] {
			t.Errorf("the same event id for another unit was taken for a duplicate")
		}
	})
	t.Run("attribute names and values with dollars and dots are segments as sent", func(t *testing.T) {
		segs := map[string]int64{}
		for _, dim := range []string{"device", "a.b"} {
			for _, c := range storetest.Cells(t, st, "exp", "conversion", report.CellQuery{Dimension: dim}) {
				segs[dim+"="+c.Segment] += c.Stats.N
			}
		}
		for _, u := range hostile {
			if segs["device="+u] != 1 {
				t.Errorf("segment device=%q has %d units, want 1", u, segs["device="+u])
			}
		}
		if segs["a.b=dotted"] != int64(len(hostile)) || segs["a.b=(none)"] != 1 {
			t.Errorf("segments of a.b: %v", segs)
		}
	})
	t.Run("look-ups by operator-looking keys find nothing", func(t *testing.T) {
		for _, v := range hostile {
			if _, err := st.GetKey(ctx, v); !errors.Is(err, auth.ErrUnknownKey) {
				t.Errorf("GetKey(%q): err = %v, want ErrUnknownKey", v, err)
			}
			if _, err := st.GetMetric(ctx, v); !errors.Is(err, experiment.ErrNotFound) {
				t.Errorf("GetMetric(%q): err = %v, want ErrNotFound", v, err)
			}
			list, err := st.ListExperiments(ctx, experiment.Filter{Touchpoint: v, Layer: v})
			if err != nil || len(list) != 0 {
				t.Errorf("ListExperiments(touchpoint %q) = %d experiments, %v; want none", v, len(list), err)
			}
			if audit, err := st.ListAudit(ctx, v); err != nil || len(audit) != 0 {
				t.Errorf("ListAudit(%q) = %d entries, %v; want none", v, len(audit), err)
			}
		}
	})
}
