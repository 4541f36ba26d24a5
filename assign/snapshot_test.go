package assign

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
)

func twoVariants() []Variant {
	return []Variant{{Key: "control"}, {Key: "treatment", Payload: json.RawMessage(`{"color":"green"}`)}}
}

func keys(as []Assignment) []string {
	var k []string
	for _, a := range as {
		if a.Holdout {
			k = append(k, "holdout:"+a.Layer)
		} else {
			k = append(k, a.Experiment)
		}
	}
	return k
}

func TestSnapshotAssign(t *testing.T) {
	exps := []Experiment{
		{Key: "zeta", Touchpoint: "pdp", Stage: "consideration", Coverage: 1, Variants: twoVariants()},
		{Key: "alpha", Touchpoint: "pdp", Stage: "consideration", Coverage: 1, Variants: twoVariants()},
		{Key: "mid", Touchpoint: "checkout", Stage: "checkout", Coverage: 1, Variants: twoVariants()},
		{Key: "dark", Touchpoint: "pdp", Coverage: 0, Variants: twoVariants(), Overrides: map[string]string{"qa-anna": "treatment"}},
		{Key: "de", Touchpoint: "pdp", Coverage: 1, Variants: twoVariants(),
			Targeting: Condition(`{"country": "DE"}`)},
	}
	s, err := NewSnapshot(exps, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Len() != 5 {
		t.Fatalf("Len = %d", s.Len())
	}
	tests := []struct {
		name  string
		unit  string
		tp    string
		attrs map[string]any
		want  []string
	}{
		{"results on one touchpoint are sorted by experiment key", "u1", "pdp", nil, []string{"alpha", "zeta"}},
		{"targeting adds the experiment only for matching attributes", "u1", "pdp", map[string]any{"country": "DE"}, []string{"alpha", "de", "zeta"}},
		{"an empty touchpoint returns every touchpoint's experiments", "u1", "", nil, []string{"alpha", "mid", "zeta"}},
		{"an unknown touchpoint returns nothing", "u1", "search", nil, nil},
		{"an override bypasses zero coverage and targeting", "qa-anna", "pdp", nil, []string{"alpha", "dark", "zeta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := keys(s.Assign(tt.unit, tt.tp, tt.attrs, nil))
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("a result carries touchpoint, stage, variant key, index and payload", func(t *testing.T) {
		for i := range 50 {
			for _, a := range s.Assign(unitID(i), "checkout", nil, nil) {
				v := twoVariants()[a.VariantIndex]
				if a.Experiment != "mid" || a.Touchpoint != "checkout" || a.Stage != "checkout" ||
					a.Variant != v.Key || string(a.Payload) != string(v.Payload) || a.Forced || a.Sticky || a.Holdout {
					t.Fatalf("unexpected %+v", a)
				}
			}
		}
	})
	t.Run("a forced result is flagged so it is never recorded as an exposure", func(t *testing.T) {
		for _, a := range s.Assign("qa-anna", "pdp", nil, nil) {
			if a.Experiment == "dark" && (!a.Forced || a.Variant != "treatment" || a.VariantIndex != 1) {
				t.Fatalf("unexpected %+v", a)
			}
			if a.Experiment != "dark" && a.Forced {
				t.Fatalf("override leaked to %+v", a)
			}
		}
	})
	t.Run("a nil snapshot assigns nothing", func(t *testing.T) {
		var nilSnap *Snapshot
		if got := nilSnap.Assign("u", "pdp", nil, nil); got != nil {
			t.Fatal(got)
		}
	})
	t.Run("Assign appends to dst and reuses its capacity without allocating", func(t *testing.T) {
		dst := make([]Assignment, 0, 8)
		attrs := map[string]any{"country": "DE"}
		if n := testing.AllocsPerRun(100, func() { dst = s.Assign("u1", "pdp", attrs, dst[:0]) }); n != 0 {
			t.Fatalf("Assign allocates %v times", n)
		}
		pre := []Assignment{{Experiment: "earlier"}}
		if got := s.Assign("u1", "checkout", nil, pre); len(got) != 2 || got[0].Experiment != "earlier" {
			t.Fatalf("dst not appended to: %+v", got)
		}
	})
}

func TestSticky(t *testing.T) {
	// Find a unit whose variant flips when 50/50 becomes 90/10, then pin it.
	before := mustAllocate(t, 50, 50)
	after := mustReallocate(t, before, 10, 90)
	var flipped, stable string
	for i := 0; flipped == "" || stable == ""; i++ {
		vb := VariantBucket(Hash("sticky-exp", unitID(i)))
		if before.Variant(vb) != after.Variant(vb) {
			flipped = unitID(i)
		} else {
			stable = unitID(i)
		}
	}
	prevVariant := before.Variant(VariantBucket(Hash("sticky-exp", flipped)))
	exp := Experiment{Key: "sticky-exp", Touchpoint: "pdp", Coverage: 1, Variants: twoVariants(), Allocation: after,
		Sticky: map[string]int{flipped: prevVariant}}

	t.Run("an exposed unit keeps its variant after a weight change", func(t *testing.T) {
		s, err := NewSnapshot([]Experiment{exp}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := s.Assign(flipped, "pdp", nil, nil)
		if len(got) != 1 || got[0].VariantIndex != prevVariant || !got[0].Sticky {
			t.Fatalf("got %+v, want sticky variant %d", got, prevVariant)
		}
		got = s.Assign(stable, "pdp", nil, nil)
		if len(got) != 1 || got[0].Sticky {
			t.Fatalf("unit without a sticky entry flagged sticky: %+v", got)
		}
	})
	t.Run("sticky does not bring back a unit that coverage now excludes", func(t *testing.T) {
		e := exp
		e.Coverage = 0
		s, err := NewSnapshot([]Experiment{e}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := s.Assign(flipped, "pdp", nil, nil); len(got) != 0 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("an override wins over sticky", func(t *testing.T) {
		e := exp
		e.Overrides = map[string]string{flipped: twoVariants()[1-prevVariant].Key}
		s, err := NewSnapshot([]Experiment{e}, nil)
		if err != nil {
			t.Fatal(err)
		}
		got := s.Assign(flipped, "pdp", nil, nil)
		if len(got) != 1 || !got[0].Forced || got[0].Sticky || got[0].VariantIndex != 1-prevVariant {
			t.Fatalf("got %+v", got)
		}
	})
}

func TestSnapshotIsImmutable(t *testing.T) {
	t.Run("changing the inputs after NewSnapshot does not change results", func(t *testing.T) {
		e := Experiment{Key: "e", Touchpoint: "pdp", Coverage: 1, Variants: twoVariants(),
			Overrides: map[string]string{"qa": "control"}, Sticky: map[string]int{"u": 1}}
		s, err := NewSnapshot([]Experiment{e}, nil)
		if err != nil {
			t.Fatal(err)
		}
		e.Overrides["qa"] = "treatment"
		e.Sticky["u"] = 0
		e.Variants[0].Key = "mutated"
		if got := s.Assign("qa", "pdp", nil, nil); got[0].Variant != "control" {
			t.Fatalf("got %+v", got)
		}
		if got := s.Assign("u", "pdp", nil, nil); got[0].VariantIndex != 1 {
			t.Fatalf("got %+v", got)
		}
	})
	t.Run("concurrent Assign calls agree with a sequential run", func(t *testing.T) {
		s := benchSnapshot(t)
		attrs := map[string]any{"country": "DE", "device": "mobile", "channel": "sea-x"}
		want := make([][]Assignment, 200)
		for i := range want {
			want[i] = s.Assign(unitID(i), "checkout", attrs, nil)
		}
		var wg sync.WaitGroup
		errs := make(chan string, 4)
		for range 4 {
			wg.Go(func() {
				var dst []Assignment
				for i := range want {
					dst = s.Assign(unitID(i), "checkout", attrs, dst[:0])
					if !reflect.DeepEqual(dst, want[i]) && !(len(dst) == 0 && len(want[i]) == 0) {
						errs <- fmt.Sprintf("unit %d: %+v != %+v", i, dst, want[i])
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Fatal(e)
		}
	})
}

func TestNewSnapshotRejectsInvalidConfig(t *testing.T) {
	valid := func() Experiment {
		return Experiment{Key: "e", Touchpoint: "pdp", Coverage: 0.5, Variants: twoVariants()}
	}
	layer := []Layer{{Key: "l", HoldoutShare: 0.1}}
	tests := []struct {
		name   string
		mutate func(*Experiment)
		layers []Layer
		extra  []Experiment
		want   string
	}{
		{"a missing key is rejected", func(e *Experiment) { e.Key = "" }, nil, nil, "experiments[0].key: required"},
		{"a duplicate key is rejected", func(*Experiment) {}, nil, []Experiment{valid()}, `experiment "e": duplicate key`},
		{"a missing touchpoint is rejected", func(e *Experiment) { e.Touchpoint = "" }, nil, nil, "touchpoint: required"},
		{"coverage above 1 is rejected", func(e *Experiment) { e.Coverage = 1.5 }, nil, nil, "coverage: 1.5 outside [0, 1]"},
		{"no variants are rejected", func(e *Experiment) { e.Variants = nil }, nil, nil, "variants: must not be empty"},
		{"a duplicate variant key is rejected", func(e *Experiment) { e.Variants[1].Key = "control" }, nil, nil, `variants[1].key: duplicate "control"`},
		{"an empty variant key is rejected", func(e *Experiment) { e.Variants[0].Key = "" }, nil, nil, "variants[0].key: required"},
		{"an invalid allocation is rejected", func(e *Experiment) { e.Allocation = Allocation{Ranges: []VariantRange{{0, 10, 0}}} }, nil, nil, "allocation.ranges"},
		{"an allocation naming a missing variant is rejected", func(e *Experiment) { e.Allocation = mustAllocate(t, 1, 1, 1) }, nil, nil, "allocation.ranges[2].variant: 2 but the experiment has 2 variants"},
		{"an invalid targeting rule names its field", func(e *Experiment) { e.Targeting = Condition(`{"a": {"$like": 1}}`) }, nil, nil, `experiment "e": targeting.a.$like: unknown operator "$like"`},
		{"an unknown layer is rejected", func(e *Experiment) { e.Layer = "nope"; e.LayerRange = &Range{1000, 2000} }, layer, nil, `layer: unknown layer "nope"`},
		{"a layer without a range is rejected", func(e *Experiment) { e.Layer = "l" }, layer, nil, "layer_range: required"},
		{"a range without a layer is rejected", func(e *Experiment) { e.LayerRange = &Range{1000, 2000} }, layer, nil, "layer: required"},
		{"an invalid layer range is rejected", func(e *Experiment) { e.Layer = "l"; e.LayerRange = &Range{2000, 1000} }, layer, nil, "layer_range.end"},
		{"overlapping ranges in one layer are rejected", func(e *Experiment) { e.Layer = "l"; e.LayerRange = &Range{1000, 3000} }, layer,
			[]Experiment{{Key: "f", Touchpoint: "cart", Coverage: 1, Variants: twoVariants(), Layer: "l", LayerRange: &Range{2999, 4000}}}, `overlaps experiment "e"`},
		{"an override to an unknown variant is rejected", func(e *Experiment) { e.Overrides = map[string]string{"qa": "nope"} }, nil, nil, `overrides["qa"]: unknown variant "nope"`},
		{"a sticky index out of range is rejected", func(e *Experiment) { e.Sticky = map[string]int{"u": 2} }, nil, nil, `sticky["u"]: variant index 2 outside 0..1`},
		{"a layer without a key is rejected", func(*Experiment) {}, []Layer{{HoldoutShare: 0.1}}, nil, "layers[0].key: required"},
		{"a duplicate layer is rejected", func(*Experiment) {}, []Layer{{Key: "l"}, {Key: "l"}}, nil, `layer "l": duplicate key`},
		{"a holdout share above 1 is rejected", func(*Experiment) {}, []Layer{{Key: "l", HoldoutShare: 2}}, nil, "holdout_share"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := valid()
			tt.mutate(&e)
			_, err := NewSnapshot(append([]Experiment{e}, tt.extra...), tt.layers)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	t.Run("an empty allocation means an even split", func(t *testing.T) {
		s, err := NewSnapshot([]Experiment{{Key: "e", Touchpoint: "pdp", Coverage: 1,
			Variants: []Variant{{Key: "a"}, {Key: "b"}, {Key: "c"}}}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := mustAllocate(t, 1, 1, 1)
		for i := range 200 {
			got := s.Assign(unitID(i), "pdp", nil, nil)
			if v := want.Variant(VariantBucket(Hash("e", unitID(i)))); got[0].VariantIndex != v {
				t.Fatalf("unit %d: variant %d, want %d", i, got[0].VariantIndex, v)
			}
		}
	})
	t.Run("an explicit salt replaces the key in the hash", func(t *testing.T) {
		a := mustAllocate(t, 1, 1)
		s, err := NewSnapshot([]Experiment{{Key: "e", Salt: "renamed-from-x", Touchpoint: "pdp", Coverage: 1, Variants: twoVariants(), Allocation: a}}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 200 {
			got := s.Assign(unitID(i), "pdp", nil, nil)
			if v := a.Variant(VariantBucket(Hash("renamed-from-x", unitID(i)))); got[0].VariantIndex != v {
				t.Fatalf("unit %d: variant %d, want %d", i, got[0].VariantIndex, v)
			}
		}
	})
}

func TestExperimentJSON(t *testing.T) {
	t.Run("an experiment config survives a JSON round trip", func(t *testing.T) {
		e := Experiment{Key: "e", Salt: "s", Touchpoint: "pdp", Stage: "decision", Coverage: 0.25,
			Variants: twoVariants(), Allocation: mustAllocate(t, 3, 1),
			Targeting: Condition(`{"country":{"$in":["DE"]}}`),
			Layer:     "l", LayerRange: &Range{Start: 100, End: 200},
			Overrides: map[string]string{"qa": "control"}, Sticky: map[string]int{"u": 1}}
		b, err := json.Marshal(e)
		if err != nil {
			t.Fatal(err)
		}
		var back Experiment
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(e, back) {
			t.Fatalf("got %+v\nwant %+v", back, e)
		}
	})
}
