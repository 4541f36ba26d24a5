package assign

import (
	"fmt"
	"strconv"
	"testing"
)

var benchUnits = func() []string {
	u := make([]string, 1024)
	for i := range u {
		u[i] = "3f6c2a1e-9b7d-4c11-8e0f-" + fmt.Sprintf("%012d", i)
	}
	return u
}()

var sinkInt int

// BenchmarkBucket measures one experiment's bucketing: hash, coverage check
// and variant lookup.
func BenchmarkBucket(b *testing.B) {
	alloc, err := Allocate([]float64{34, 33, 33})
	if err != nil {
		b.Fatal(err)
	}
	cov := ShareToBuckets(0.5)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		h := Hash("checkout-cta-2025", benchUnits[i&1023])
		if CoverageBucket(h) < cov {
			n += alloc.Variant(VariantBucket(h))
		}
	}
	sinkInt = n
}

func benchSnapshot(tb testing.TB) *Snapshot {
	tb.Helper()
	layers := []Layer{{Key: "checkout", HoldoutShare: 0.05}}
	var exps []Experiment
	for i := range 10 {
		e := Experiment{
			Key:        "exp-" + strconv.Itoa(i),
			Touchpoint: "checkout",
			Stage:      "checkout",
			Coverage:   0.8,
			Variants:   []Variant{{Key: "control"}, {Key: "treatment", Payload: []byte(`{"color":"green"}`)}},
		}
		switch i % 4 {
		case 0:
			e.Targeting = Condition(`{"country": {"$in": ["DE", "AT", "CH"]}, "$or": [{"device": "mobile"}, {"visits": {"$gt": 3}}]}`)
		case 1:
			e.Targeting = Condition(`{"channel": {"$regex": "^(email|sea)-"}}`)
		case 2:
			e.Layer = "checkout"
			e.LayerRange = &Range{Start: 500 + (i/4)*3000, End: 500 + (i/4+1)*3000}
		}
		if i == 3 {
			e.Overrides = map[string]string{"qa-1": "treatment"}
			e.Sticky = map[string]int{"u-7": 1}
		}
		exps = append(exps, e)
	}
	s, err := NewSnapshot(exps, layers)
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkAssignTenExperiments measures one /v1/assign call: ten running
// experiments on one touchpoint, some targeted, two in a layer, dst reused.
func BenchmarkAssignTenExperiments(b *testing.B) {
	s := benchSnapshot(b)
	attrs := map[string]any{"country": "DE", "device": "mobile", "visits": 5.0, "channel": "email-newsletter"}
	dst := make([]Assignment, 0, 16)
	b.ReportAllocs()
	n := 0
	for i := 0; b.Loop(); i++ {
		dst = s.Assign(benchUnits[i&1023], "checkout", attrs, dst[:0])
		n += len(dst)
	}
	sinkInt = n
}
