package assign

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"testing"
)

func TestAllocateLayerRange(t *testing.T) {
	rg := func(s, e int) Range { return Range{Start: s, End: e} }
	tests := []struct {
		name    string
		taken   []Range
		holdout int
		size    int
		want    Range
		err     string
	}{
		{"the first experiment starts right after the holdout", nil, 1000, 3000, rg(1000, 4000), ""},
		{"without a holdout the first experiment starts at 0", nil, 0, 10000, rg(0, 10000), ""},
		{"the next experiment follows the last taken range", []Range{rg(1000, 4000)}, 1000, 3000, rg(4000, 7000), ""},
		{"a freed gap that fits is reused first", []Range{rg(1000, 2000), rg(5000, 6000)}, 1000, 2500, rg(2000, 4500), ""},
		{"a gap that is too small is skipped", []Range{rg(0, 1000), rg(1500, 2000)}, 0, 1000, rg(2000, 3000), ""},
		{"taken ranges need not be sorted", []Range{rg(5000, 6000), rg(1000, 2000)}, 1000, 3000, rg(2000, 5000), ""},
		{"a block exactly filling the tail fits", []Range{rg(1000, 7000)}, 1000, 3000, rg(7000, 10000), ""},
		{"a full layer is reported", []Range{rg(1000, 7000)}, 1000, 3001, Range{}, "layer full"},
		{"the holdout is never handed out", nil, 9000, 1001, Range{}, "layer full"},
		{"a zero size is rejected", nil, 0, 0, Range{}, "size"},
		{"a size above 10000 is rejected", nil, 0, 10001, Range{}, "size"},
		{"a negative holdout is rejected", nil, -1, 10, Range{}, "holdout"},
		{"an invalid taken range is rejected with its index", []Range{rg(0, 10), rg(20, 10)}, 0, 10, Range{}, "taken[1].end"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := AllocateLayerRange(tt.taken, tt.holdout, tt.size)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.err)
				}
				if tt.err == "layer full" && !errors.Is(err, ErrLayerFull) {
					t.Fatalf("err = %v, want ErrLayerFull", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestLayerExclusion runs 100k units through a snapshot with one layer of
// three experiments, a 10% holdout and an experiment outside the layer.
func TestLayerExclusion(t *testing.T) {
	const n = 100_000
	layer := Layer{Key: "checkout-layer", HoldoutShare: 0.10}
	var taken []Range
	var exps []Experiment
	for _, key := range []string{"cta-color", "shipping-banner", "trust-badges"} {
		r, err := AllocateLayerRange(taken, layer.HoldoutBuckets(), 3000)
		if err != nil {
			t.Fatal(err)
		}
		taken = append(taken, r)
		exps = append(exps, Experiment{
			Key: key, Touchpoint: "checkout", Coverage: 1, Layer: layer.Key, LayerRange: &r,
			Variants: []Variant{{Key: "control"}, {Key: "treatment"}},
		})
	}
	if _, err := AllocateLayerRange(taken, layer.HoldoutBuckets(), 1001); !errors.Is(err, ErrLayerFull) {
		t.Fatalf("a fourth 10%% experiment should not fit, err = %v", err)
	}
	exps = append(exps, Experiment{Key: "free-shipping", Touchpoint: "checkout", Coverage: 1,
		Variants: []Variant{{Key: "control"}, {Key: "treatment"}}})
	s, err := NewSnapshot(exps, []Layer{layer})
	if err != nil {
		t.Fatal(err)
	}

	perExp := map[string]int{}
	holdout, none := 0, 0
	var dst []Assignment
	for i := range n {
		unit := unitID(i)
		dst = s.Assign(unit, "checkout", nil, dst[:0])
		inLayer, held, outside := 0, false, false
		for _, a := range dst {
			switch {
			case a.Holdout:
				held = true
				if a.Layer != layer.Key || a.Experiment != "" || a.VariantIndex != -1 {
					t.Fatalf("malformed holdout entry %+v", a)
				}
			case a.Layer == layer.Key:
				inLayer++
				perExp[a.Experiment]++
			default:
				outside = true
			}
		}
		if inLayer > 1 {
			t.Fatalf("unit %s is in %d experiments of one layer: %+v", unit, inLayer, dst)
		}
		if held && inLayer > 0 {
			t.Fatalf("unit %s is in the holdout and in an experiment: %+v", unit, dst)
		}
		if wantHeld := layer.Bucket(unit) < layer.HoldoutBuckets(); held != wantHeld {
			t.Fatalf("unit %s holdout = %v, want %v (layer bucket %d)", unit, held, wantHeld, layer.Bucket(unit))
		}
		if !outside {
			t.Fatalf("unit %s missed the experiment outside the layer", unit)
		}
		if held {
			holdout++
		} else if inLayer == 0 {
			none++
		}
	}

	t.Run("no unit is in two experiments of the layer and every unit is in one or the holdout", func(t *testing.T) {
		if none != 0 {
			t.Fatalf("%d units are in neither the holdout nor an experiment of a full layer", none)
		}
	})
	t.Run("the holdout share is about 10%", func(t *testing.T) {
		share := float64(holdout) / n
		t.Logf("holdout: %.2f%% of units", 100*share)
		if math.Abs(share-0.10) > 0.005 {
			t.Errorf("holdout share %.4f, want 0.10 ± 0.005", share)
		}
	})
	t.Run("each experiment of the layer gets about 30%", func(t *testing.T) {
		for _, key := range []string{"cta-color", "shipping-banner", "trust-badges"} {
			share := float64(perExp[key]) / n
			t.Logf("%s: %.2f%% of units", key, 100*share)
			if math.Abs(share-0.30) > 0.005 {
				t.Errorf("%s share %.4f, want 0.30 ± 0.005", key, share)
			}
		}
		if len(perExp) != 3 {
			t.Fatalf("saw %d experiments of the layer, want 3", len(perExp))
		}
	})
}

func TestLayerHoldoutReporting(t *testing.T) {
	// A unit is reported as held out only when the layer hid an experiment
	// of this touchpoint whose targeting it matches.
	layer := Layer{Key: "l", HoldoutShare: 1} // everyone is held out
	s, err := NewSnapshot([]Experiment{
		{Key: "de-only", Touchpoint: "pdp", Coverage: 1, Layer: "l", LayerRange: &Range{0, 10000},
			Variants:  []Variant{{Key: "a"}, {Key: "b"}},
			Targeting: Condition(`{"country": "DE"}`),
			Overrides: map[string]string{"qa": "b"}},
	}, []Layer{layer})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		unit, tp   string
		attrs      map[string]any
		wantHold   bool
		wantForced bool
	}{
		{"a targeted unit in the holdout is reported as held out", "u1", "pdp", map[string]any{"country": "DE"}, true, false},
		{"asking for all touchpoints reports the holdout too", "u1", "", map[string]any{"country": "DE"}, true, false},
		{"an untargeted unit is not reported, so the baseline matches the audience", "u1", "pdp", map[string]any{"country": "FR"}, false, false},
		{"another touchpoint does not report the layer", "u1", "cart", map[string]any{"country": "DE"}, false, false},
		{"a forced unit bypasses the holdout and is not reported as held out", "qa", "pdp", map[string]any{"country": "DE"}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Assign(tt.unit, tt.tp, tt.attrs, nil)
			hold, forced := false, false
			for _, a := range got {
				hold = hold || a.Holdout
				forced = forced || a.Forced
			}
			if hold != tt.wantHold || forced != tt.wantForced {
				t.Fatalf("got %+v, want holdout=%v forced=%v", got, tt.wantHold, tt.wantForced)
			}
		})
	}
}

func TestLayerBucketIsIndependentOfExperiments(t *testing.T) {
	t.Run("the layer salt defaults to the key and an explicit salt changes buckets", func(t *testing.T) {
		a := Layer{Key: "k"}
		b := Layer{Key: "k", Salt: "k"}
		c := Layer{Key: "k", Salt: "other"}
		diff := 0
		for i := range 1000 {
			u := unitID(i)
			if a.Bucket(u) != b.Bucket(u) {
				t.Fatal("empty salt must equal the key")
			}
			if a.Bucket(u) != c.Bucket(u) {
				diff++
			}
		}
		if diff < 990 {
			t.Fatalf("only %d of 1000 buckets differ with another salt", diff)
		}
	})
}

func TestLayerBaselineRecordsBothArmsOfTheSameAudience(t *testing.T) {
	base := &Baseline{Experiment: "layer:l", Variants: [2]string{"holdout", "layer"}}
	exps := []Experiment{
		{Key: "de-only", Touchpoint: "pdp", Coverage: 0.5, Layer: "l", LayerRange: &Range{2000, 6000},
			Variants:  []Variant{{Key: "a"}, {Key: "b"}},
			Targeting: Condition(`{"country": "DE"}`)},
	}
	with, err := NewSnapshot(exps, []Layer{{Key: "l", HoldoutShare: 0.2, Baseline: base}})
	if err != nil {
		t.Fatal(err)
	}
	without, err := NewSnapshot(exps, []Layer{{Key: "l", HoldoutShare: 0.2}})
	if err != nil {
		t.Fatal(err)
	}
	const n = 100_000
	var held, rest, inExp int
	de, fr := map[string]any{"country": "DE"}, map[string]any{"country": "FR"}
	for i := range n {
		unit := "u" + strconv.Itoa(i)
		got := with.Assign(unit, "pdp", de, nil)
		var entry *Assignment
		for j := range got {
			if got[j].Baseline {
				if entry != nil {
					t.Fatalf("%s: two baseline entries: %+v", unit, got)
				}
				entry = &got[j]
			} else if got[j].Experiment == "de-only" {
				inExp++
			}
		}
		if entry == nil {
			t.Fatalf("%s: an eligible unit has no baseline entry: %+v", unit, got)
		}
		if entry.Experiment != "layer:l" || entry.Layer != "l" || entry.Variant != base.Variants[entry.VariantIndex] || entry.Holdout != (entry.VariantIndex == 0) {
			t.Fatalf("%s: baseline entry %+v", unit, *entry)
		}
		if entry.Holdout {
			held++
		} else {
			rest++
		}
		// The baseline changes nothing else: without it the same unit gets
		// the same experiments and the same holdout verdict.
		plain := without.Assign(unit, "pdp", de, nil)
		if len(plain) != len(got)-btoi(!entry.Holdout) {
			t.Fatalf("%s: with baseline %+v, without %+v", unit, got, plain)
		}
		if len(with.Assign(unit, "pdp", fr, nil)) != 0 {
			t.Fatalf("%s: a unit outside the experiments' audience got a baseline entry", unit)
		}
	}
	if held+rest != n || held < 19_500 || held > 20_500 {
		t.Fatalf("held out %d, rest %d of %d: want the holdout's 20%%", held, rest, n)
	}
	// Only part of the rest enters the experiment (its block and coverage),
	// yet all of it is the layer arm: the comparison is by layer bucket.
	if inExp < 19_000 || inExp > 21_000 {
		t.Fatalf("%d units in the experiment, want about 40%% × 50%% of %d", inExp, n)
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
