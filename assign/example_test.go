package assign_test

import (
	"fmt"

	"github.com/journeylab/journeylab/assign"
)

func Example() {
	alloc, err := assign.Allocate([]float64{50, 50})
	if err != nil {
		panic(err)
	}
	snap, err := assign.NewSnapshot([]assign.Experiment{{
		Key:        "checkout-cta",
		Touchpoint: "checkout",
		Stage:      "checkout",
		Coverage:   1,
		Variants:   []assign.Variant{{Key: "control"}, {Key: "green-button"}},
		Allocation: alloc,
		Targeting:  assign.Condition(`{"country": {"$in": ["DE", "AT"]}}`),
		Overrides:  map[string]string{"qa-anna": "green-button"},
	}}, nil)
	if err != nil {
		panic(err)
	}

	attrs := map[string]any{"country": "DE"}
	for _, unit := range []string{"user-42", "qa-anna"} {
		for _, a := range snap.Assign(unit, "checkout", attrs, nil) {
			fmt.Printf("%s: %s=%s forced=%v\n", unit, a.Experiment, a.Variant, a.Forced)
		}
	}
	fmt.Println(len(snap.Assign("user-42", "checkout", map[string]any{"country": "FR"}, nil)), "assignments outside the target audience")
	// Output:
	// user-42: checkout-cta=control forced=false
	// qa-anna: checkout-cta=green-button forced=true
	// 0 assignments outside the target audience
}

func ExampleReallocate() {
	// Going from 50/50 to 60/40, variant 1 gives up the last 1000 buckets of
	// its range to variant 0; no other unit moves.
	a, _ := assign.Allocate([]float64{50, 50})
	b, _ := assign.Reallocate(a, []float64{60, 40})
	fmt.Println(a.Ranges)
	fmt.Println(b.Ranges)
	// Output:
	// [{0 5000 0} {5000 10000 1}]
	// [{0 5000 0} {5000 9000 1} {9000 10000 0}]
}

func ExampleAllocateLayerRange() {
	layer := assign.Layer{Key: "checkout", HoldoutShare: 0.1}
	first, _ := assign.AllocateLayerRange(nil, layer.HoldoutBuckets(), 3000)
	second, _ := assign.AllocateLayerRange([]assign.Range{first}, layer.HoldoutBuckets(), 3000)
	fmt.Println(first, second)
	// Output: {1000 4000} {4000 7000}
}

func ExampleCompileCondition() {
	personas := map[string]assign.Matcher{}
	sarah, err := assign.CompilePersona(assign.Condition(`{"returns_last_year": {"$gte": 2}, "segment": "quality-seeker"}`), assign.Env{})
	if err != nil {
		panic(err)
	}
	personas["sarah"] = sarah
	m, err := assign.CompileCondition(assign.Condition(`{
		"country": {"$in": ["DE", "AT"]},
		"app_version": {"$vgte": "4.2.0"},
		"$or": [{"$persona": "sarah"}, {"device": {"$regex": "^(ios|android)$"}}]
	}`), assign.Env{Personas: personas})
	if err != nil {
		panic(err)
	}
	fmt.Println(m.Match(map[string]any{"country": "DE", "app_version": "4.10.1", "device": "web", "returns_last_year": 3.0, "segment": "quality-seeker"}))
	fmt.Println(m.Match(map[string]any{"country": "DE", "app_version": "4.1.9", "device": "ios"}))

	_, err = assign.CompileCondition(assign.Condition(`{"$or": [{"visits": {"$gt": 3}}, {"device": {"$regx": "^ios"}}]}`), assign.Env{})
	fmt.Println(err)
	// Output:
	// true
	// false
	// targeting.$or[1].device.$regx: unknown operator "$regx"
}

func ExampleCompile() {
	_, err := assign.Compile(assign.Rule{All: []assign.Rule{
		{Attr: "country", Op: "in", Value: []any{"DE"}},
		{Any: []assign.Rule{{Attr: "device", Op: "like", Value: "mobile"}}},
	}})
	fmt.Println(err)
	// Output: targeting.all[1].any[0].op: unknown operator "like" (want eq, neq, in, nin, gt, gte, lt, lte, contains or regex)
}
