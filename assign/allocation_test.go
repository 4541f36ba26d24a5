package assign

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func mustAllocate(t testing.TB, w ...float64) Allocation {
	t.Helper()
	a, err := Allocate(w)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func mustReallocate(t testing.TB, prev Allocation, w ...float64) Allocation {
	t.Helper()
	a, err := Reallocate(prev, w)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Validate(); err != nil {
		t.Fatalf("Reallocate produced an invalid allocation: %v", err)
	}
	return a
}

func unitID(i int) string { return "unit-" + strconv.Itoa(i) }

func TestAllocate(t *testing.T) {
	tests := []struct {
		name    string
		weights []float64
		want    []int
	}{
		{"an even split gives 5000 buckets each", []float64{1, 1}, []int{5000, 5000}},
		{"weights need not sum to one", []float64{90, 10}, []int{9000, 1000}},
		{"a three-way even split gives the leftover bucket to the first variant", []float64{1, 1, 1}, []int{3334, 3333, 3333}},
		{"34/33/33 is exact", []float64{34, 33, 33}, []int{3400, 3300, 3300}},
		{"largest remainder rounding keeps the total at 10000", []float64{1, 1, 1, 1, 1, 1, 1}, []int{1429, 1429, 1429, 1429, 1428, 1428, 1428}},
		{"a zero weight gets no buckets", []float64{1, 0, 1}, []int{5000, 0, 5000}},
		{"a tiny weight still rounds to the nearest bucket", []float64{0.00004, 0.99996}, []int{0, 10000}},
		{"fractions from floating point still sum exactly", []float64{0.1, 0.2, 0.7}, []int{1000, 2000, 7000}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := mustAllocate(t, tt.weights...)
			if err := a.Validate(); err != nil {
				t.Fatal(err)
			}
			got := a.Counts()
			for len(got) < len(tt.want) {
				got = append(got, 0)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("counts = %v, want %v", got, tt.want)
			}
			// Contiguous: one range per variant with buckets.
			nonzero := 0
			for _, c := range tt.want {
				if c > 0 {
					nonzero++
				}
			}
			if len(a.Ranges) != nonzero {
				t.Errorf("%d ranges, want one per variant with buckets (%d): %v", len(a.Ranges), nonzero, a.Ranges)
			}
		})
	}
}

func TestAllocateRejectsBadWeights(t *testing.T) {
	tests := []struct {
		name    string
		weights []float64
		msg     string
	}{
		{"no weights are rejected", nil, "no weights"},
		{"a negative weight is rejected", []float64{1, -1}, "weights[1]"},
		{"a NaN weight is rejected", []float64{math.NaN(), 1}, "weights[0]"},
		{"an infinite weight is rejected", []float64{math.Inf(1), 1}, "weights[0]"},
		{"all-zero weights are rejected", []float64{0, 0}, "sum to 0"},
		{"weights overflowing to infinity are rejected", []float64{math.MaxFloat64, math.MaxFloat64}, "sum to +Inf"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Allocate(tt.weights)
			if !errors.Is(err, ErrInvalidWeights) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want ErrInvalidWeights mentioning %q", err, tt.msg)
			}
			_, err = Reallocate(mustAllocate(t, 1, 1), tt.weights)
			if !errors.Is(err, ErrInvalidWeights) {
				t.Fatalf("Reallocate err = %v, want ErrInvalidWeights", err)
			}
		})
	}
}

func TestAllocationValidate(t *testing.T) {
	r := func(s, e, v int) VariantRange { return VariantRange{Start: s, End: e, Variant: v} }
	tests := []struct {
		name   string
		ranges []VariantRange
		msg    string // "" = valid
	}{
		{"two contiguous ranges covering everything are valid", []VariantRange{r(0, 5000, 0), r(5000, 10000, 1)}, ""},
		{"fragmented ranges are valid", []VariantRange{r(0, 10, 1), r(10, 20, 0), r(20, 10000, 1)}, ""},
		{"an empty allocation is invalid", nil, "must not be empty"},
		{"a gap is invalid", []VariantRange{r(0, 4000, 0), r(5000, 10000, 1)}, "ranges[1].start: 5000 leaves a gap after 4000"},
		{"an overlap is invalid", []VariantRange{r(0, 6000, 0), r(5000, 10000, 1)}, "ranges[1].start: 5000 overlaps"},
		{"not starting at 0 is invalid", []VariantRange{r(1, 10000, 0)}, "ranges[0].start"},
		{"not reaching 10000 is invalid", []VariantRange{r(0, 9999, 0)}, "cover [0, 9999)"},
		{"exceeding 10000 is invalid", []VariantRange{r(0, 10001, 0)}, "ranges[0].end: 10001 exceeds"},
		{"an empty range is invalid", []VariantRange{r(0, 0, 0), r(0, 10000, 1)}, "ranges[0].end"},
		{"a negative variant is invalid", []VariantRange{r(0, 10000, -1)}, "ranges[0].variant"},
		{"unsorted ranges are invalid", []VariantRange{r(5000, 10000, 1), r(0, 5000, 0)}, "ranges[0].start"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Allocation{Ranges: tt.ranges}.Validate()
			if tt.msg == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.msg)
			}
		})
	}
}

func TestAllocationJSON(t *testing.T) {
	t.Run("an allocation survives a JSON round trip unchanged", func(t *testing.T) {
		a := mustReallocate(t, mustAllocate(t, 1, 1, 1), 2, 1, 1, 1)
		b, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		var back Allocation
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, back) {
			t.Fatalf("round trip changed %v into %v", a, back)
		}
		if !strings.HasPrefix(string(b), `{"ranges":[{"start":0,"end":`) {
			t.Errorf("unexpected JSON shape %s", b)
		}
	})
}

func TestAllocationVariant(t *testing.T) {
	a := Allocation{Ranges: []VariantRange{{0, 10, 2}, {10, 5000, 0}, {5000, 5001, 3}, {5001, 10000, 1}}}
	for _, tt := range []struct{ bucket, want int }{
		{0, 2}, {9, 2}, {10, 0}, {4999, 0}, {5000, 3}, {5001, 1}, {9999, 1}, {10000, -1}, {-1, -1},
	} {
		t.Run(fmt.Sprintf("bucket %d belongs to variant %d", tt.bucket, tt.want), func(t *testing.T) {
			if got := a.Variant(tt.bucket); got != tt.want {
				t.Errorf("got %d", got)
			}
		})
	}
}

// movedBuckets counts variant buckets whose owner differs.
func movedBuckets(a, b Allocation) int {
	n := 0
	for v := 0; v < Buckets; v++ {
		if a.Variant(v) != b.Variant(v) {
			n++
		}
	}
	return n
}

func halfAbsDelta(a, b []int) int {
	for len(a) < len(b) {
		a = append(a, 0)
	}
	for len(b) < len(a) {
		b = append(b, 0)
	}
	s := 0
	for i := range a {
		d := a[i] - b[i]
		if d < 0 {
			d = -d
		}
		s += d
	}
	return s / 2
}

func TestReallocateMovesTheMinimum(t *testing.T) {
	tests := []struct {
		name     string
		from, to []float64
	}{
		{"50/50 to 60/40 moves 10% of buckets", []float64{50, 50}, []float64{60, 40}},
		{"34/33/33 to 50/25/25 moves 16% of buckets", []float64{34, 33, 33}, []float64{50, 25, 25}},
		{"25/25/50 to 40/10/50 leaves the unchanged variant alone", []float64{25, 25, 50}, []float64{40, 10, 50}},
		{"adding a third variant takes buckets from both others", []float64{50, 50}, []float64{1, 1, 1}},
		{"setting a weight to 0 hands its buckets to the others", []float64{1, 1, 1}, []float64{1, 0, 1}},
		{"reviving a zero-weight variant gives it buckets back", []float64{1, 0, 1}, []float64{1, 1, 1}},
		{"unchanged weights move nothing", []float64{90, 10}, []float64{9, 1}},
		{"a full swap moves everything it must", []float64{100, 0}, []float64{0, 100}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := mustAllocate(t, tt.from...)
			next := mustReallocate(t, prev, tt.to...)
			want := mustAllocate(t, tt.to...).Counts()
			got := next.Counts()
			for len(got) < len(want) {
				got = append(got, 0)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("counts = %v, want the same as Allocate: %v", got, want)
			}
			if moved, min := movedBuckets(prev, next), halfAbsDelta(prev.Counts(), want); moved != min {
				t.Fatalf("moved %d buckets, minimum is ½·Σ|Δ| = %d", moved, min)
			}
			// A variant whose count did not change keeps every bucket, and a
			// bucket only leaves a variant that shrinks.
			prevCounts := prev.Counts()
			for v := 0; v < Buckets; v++ {
				from, to := prev.Variant(v), next.Variant(v)
				if from == to {
					continue
				}
				if from < len(want) && prevCounts[from] <= want[from] {
					t.Fatalf("bucket %d moved from variant %d, which did not shrink", v, from)
				}
			}
		})
	}
}

func TestReallocateRepeatedly(t *testing.T) {
	t.Run("a sequence of bandit-style weight changes always moves the minimum", func(t *testing.T) {
		a := mustAllocate(t, 1, 1, 1, 1)
		steps := [][]float64{{4, 3, 2, 1}, {1, 2, 3, 4}, {0.7, 0.1, 0.1, 0.1}, {0.25, 0.25, 0.25, 0.25}, {1, 1, 1, 1, 1}, {0, 1, 0, 1, 3}}
		for i, w := range steps {
			next := mustReallocate(t, a, w...)
			if moved, min := movedBuckets(a, next), halfAbsDelta(a.Counts(), next.Counts()); moved != min {
				t.Fatalf("step %d: moved %d, minimum %d", i, moved, min)
			}
			a = next
		}
	})
	t.Run("an empty previous allocation is the same as Allocate", func(t *testing.T) {
		if got, want := mustReallocate(t, Allocation{}, 3, 1), mustAllocate(t, 3, 1); !reflect.DeepEqual(got, want) {
			t.Fatalf("got %v, want %v", got, want)
		}
	})
	t.Run("fewer weights than variants is rejected", func(t *testing.T) {
		_, err := Reallocate(mustAllocate(t, 1, 1, 1), []float64{1, 1})
		if !errors.Is(err, ErrInvalidWeights) || !strings.Contains(err.Error(), "weight to 0") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("an invalid previous allocation is rejected", func(t *testing.T) {
		_, err := Reallocate(Allocation{Ranges: []VariantRange{{0, 10, 0}}}, []float64{1, 1})
		if err == nil {
			t.Fatal("no error")
		}
	})
}

// TestReallocationOverUnits measures the share of 100k units that change
// variant when weights change, against the theoretical minimum ½·Σ|Δw|.
func TestReallocationOverUnits(t *testing.T) {
	const n = 100_000
	tests := []struct {
		name      string
		from, to  []float64
		unchanged int // index of a variant whose weight does not change, or -1
	}{
		{"50/50 to 60/40 moves about 10% of units", []float64{50, 50}, []float64{60, 40}, -1},
		{"34/33/33 to 50/25/25 moves about 16% of units", []float64{34, 33, 33}, []float64{50, 25, 25}, -1},
		{"25/25/50 to 40/10/50 moves about 15% of units and none of the 50% variant", []float64{25, 25, 50}, []float64{40, 10, 50}, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			prev := mustAllocate(t, tt.from...)
			next := mustReallocate(t, prev, tt.to...)
			minShare := 0.0
			sumFrom, sumTo := sum(tt.from), sum(tt.to)
			for i := range tt.to {
				minShare += math.Abs(tt.to[i]/sumTo-tt.from[i]/sumFrom) / 2
			}
			changed := 0
			for i := range n {
				vb := VariantBucket(Hash("realloc-test", unitID(i)))
				before, after := prev.Variant(vb), next.Variant(vb)
				if before != after {
					changed++
					if before == tt.unchanged || after == tt.unchanged {
						t.Fatalf("unit %d moved %d -> %d although variant %d kept its weight", i, before, after, tt.unchanged)
					}
				}
			}
			share := float64(changed) / n
			t.Logf("changed variant: %.3f%% of units, minimum ½Σ|Δw| = %.3f%%", 100*share, 100*minShare)
			if math.Abs(share-minShare) > 0.005 {
				t.Errorf("share moved %.4f, want %.4f ± 0.005", share, minShare)
			}
		})
	}
}

func sum(w []float64) float64 {
	s := 0.0
	for _, x := range w {
		s += x
	}
	return s
}
