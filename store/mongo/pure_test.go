package mongo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	"go.mongodb.org/mongo-driver/bson/bsontype"
	drv "go.mongodb.org/mongo-driver/mongo"
	"go.mongodb.org/mongo-driver/x/mongo/driver/topology"

	"github.com/journeylab/journeylab/auth"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	engine "github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/store/storetest"
)

// These tests need no server: they check how requests become filters,
// pipelines and documents, and how driver errors are classified.

func marshal(t testing.TB, v any) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// checkOperands requires every top-level field of filter to be
// {field: {op: operand}} with op one of ops and the operand exactly want[field]:
// a string (or an array of strings for $in), never a document.
func checkOperands(t testing.TB, filter bson.D, want map[string]any) {
	t.Helper()
	elems, err := marshal(t, filter).Elements()
	if err != nil {
		t.Fatal(err)
	}
	if len(elems) != len(want) {
		t.Fatalf("filter has %d fields, want %d: %v", len(elems), len(want), filter)
	}
	for _, el := range elems {
		cond, ok := el.Value().DocumentOK()
		if !ok {
			t.Fatalf("field %q is not under an explicit operator: %v", el.Key(), el.Value())
		}
		ops, _ := cond.Elements()
		if len(ops) != 1 || (ops[0].Key() != "$eq" && ops[0].Key() != "$in") {
			t.Fatalf("field %q has operators %v, want exactly one $eq or $in", el.Key(), cond)
		}
		v := ops[0].Value()
		switch w := want[el.Key()].(type) {
		case string:
			if v.Type != bsontype.String || v.StringValue() != w {
				t.Fatalf("field %q: operand %v (%s), want the string %q", el.Key(), v, v.Type, w)
			}
		case []string:
			arr, ok := v.ArrayOK()
			vals, _ := arr.Values()
			if !ok || len(vals) != len(w) {
				t.Fatalf("field %q: operand %v, want the array %q", el.Key(), v, w)
			}
			for i, x := range vals {
				if x.Type != bsontype.String || x.StringValue() != w[i] {
					t.Fatalf("field %q[%d]: operand %v, want the string %q", el.Key(), i, x, w[i])
				}
			}
		default:
			t.Fatalf("unexpected field %q", el.Key())
		}
	}
}

func TestFiltersCarryRequestValuesAsPlainOperands(t *testing.T) {
	for _, v := range append(hostile, "", "u1", "日本", `{"$where": "sleep(1000)"}`) {
		t.Run(fmt.Sprintf("%q stays a string operand", v), func(t *testing.T) {
			checkOperands(t, exposureKey(v, v+"x"), map[string]any{"unit_id": v, "experiment": v + "x"})
			checkOperands(t, eventKey(v, v+"e"), map[string]any{"unit_id": v, "event_id": v + "e"})
			checkOperands(t, rollupKeyFilter(v, "exp", v), map[string]any{"unit_id": v, "experiment": "exp", "metric": v})
			checkOperands(t, bson.D{in("unit_id", []string{v, "plain"})}, map[string]any{"unit_id": []string{v, "plain"}})
			checkOperands(t, storedEventsFilter([]string{v}, []string{v + "e"}), map[string]any{"unit_id": []string{v}, "event_id": []string{v + "e"}})
			if v != "" {
				checkOperands(t, experimentFilter(experiment.Filter{Stage: experiment.Stage(v), Touchpoint: v, Status: experiment.Status(v), Layer: v}),
					map[string]any{"stage": v, "touchpoint": v, "status": v, "layer": v})
			}
		})
	}
	t.Run("an empty filter matches everything and an empty $in nothing", func(t *testing.T) {
		if f := experimentFilter(experiment.Filter{}); len(f) != 0 {
			t.Errorf("empty filter %v", f)
		}
		checkOperands(t, bson.D{in("unit_id", nil)}, map[string]any{"unit_id": []string{}})
	})
}

func FuzzFiltersNeverTurnValuesIntoOperators(f *testing.F) {
	for _, v := range hostile {
		f.Add(v, v)
	}
	f.Add("", "\x00")
	f.Fuzz(func(t *testing.T, unit, other string) {
		checkOperands(t, exposureKey(unit, other), map[string]any{"unit_id": unit, "experiment": other})
		checkOperands(t, eventKey(other, unit), map[string]any{"unit_id": other, "event_id": unit})
		checkOperands(t, rollupKeyFilter(unit, other, unit), map[string]any{"unit_id": unit, "experiment": other, "metric": unit})
		checkOperands(t, bson.D{in("unit_id", []string{unit, other})}, map[string]any{"unit_id": []string{unit, other}})
		checkOperands(t, storedEventsFilter([]string{unit}, []string{other}), map[string]any{"unit_id": []string{unit}, "event_id": []string{other}})
		for _, p := range []any{segmentExpr(unit), exposurePipeline(other, true, unit), funnelPipeline(other, []experiment.Metric{{Key: unit}})} {
			checkNoUserKeys(t, marshalAny(t, p), unit, other)
		}
	})
}

func marshalAny(t testing.TB, v any) bson.Raw {
	t.Helper()
	if p, ok := v.(drv.Pipeline); ok {
		v = bson.D{{Key: "p", Value: p}}
	}
	return marshal(t, v)
}

// checkNoUserKeys requires that no key anywhere in doc is a user value,
// unless that value is also one of the constant names the code uses.
func checkNoUserKeys(t testing.TB, doc bson.Raw, values ...string) {
	t.Helper()
	var walk func(d bson.Raw)
	walk = func(d bson.Raw) {
		elems, err := d.Elements()
		if err != nil {
			t.Fatal(err)
		}
		for _, el := range elems {
			for _, v := range values {
				if el.Key() == v && !constantKey(v) {
					t.Fatalf("the user value %q became a key in %v", v, doc)
				}
			}
			if sub, ok := el.Value().DocumentOK(); ok {
				walk(sub)
			}
			if arr, ok := el.Value().ArrayOK(); ok {
				walk(bson.Raw(arr))
			}
		}
	}
	walk(doc)
}

// constantKey reports whether k is a key the code itself writes.
func constantKey(k string) bool {
	if _, err := fmt.Sscanf(k, "%d", new(int)); err == nil {
		return true // array indexes
	}
	switch k {
	case "p", "$match", "$group", "$project", "$eq", "$in", "$gt", "$sum", "$cond", "$setIsSubset", "$literal", "$first", "$addToSet",
		"$let", "$filter", "$ifNull", "$arrayElemAt", "_id", "v", "d", "s", "n", "vars", "in", "m", "input", "as", "cond",
		"experiment", "metric", "count", "ms", "s0":
		return true
	}
	return false
}

func TestSegmentExpressionTakesTheDimensionLiterally(t *testing.T) {
	for _, dim := range []string{"device", "$where", "a.b", "$$ROOT"} {
		raw := marshal(t, segmentExpr(dim))
		cond := raw.Lookup("$let", "vars", "m", "$arrayElemAt")
		arr, _ := cond.ArrayOK()
		filter, _ := arr.Index(0).Value().DocumentOK()
		eqArgs, _ := filter.Lookup("$filter", "cond", "$eq").ArrayOK()
		lit, _ := eqArgs.Index(1).Value().DocumentOK()
		if v := lit.Lookup("$literal"); v.Type != bsontype.String || v.StringValue() != dim {
			t.Errorf("dimension %q is compared as %v, want {$literal: %q}", dim, eqArgs, dim)
		}
	}
}

func TestContributionPipelineCapsOnlyMeanAndRatioMetrics(t *testing.T) {
	cases := []struct {
		kind experiment.MetricKind
		cap  float64
		want bool
	}{
		{experiment.KindMean, 100, true},
		{experiment.KindRatio, 100, true},
		{experiment.KindMean, math.NaN(), false},
		{experiment.KindBinomial, 100, false},
		{experiment.KindNPS, 100, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%s capped at %v", tc.kind, tc.cap), func(t *testing.T) {
			raw := marshalAny(t, contributionPipeline("exp", experiment.Metric{Key: "m", Kind: tc.kind}, tc.cap, false, ""))
			if got := strings.Contains(raw.String(), `"$min"`); got != tc.want {
				t.Errorf("pipeline caps: %v, want %v: %s", got, tc.want, raw)
			}
			if m := raw.Lookup("p", "0", "$match", "metric", "$eq"); m.StringValue() != "m" {
				t.Errorf("match on metric %v", m)
			}
		})
	}
}

func TestRollupDocumentsRoundTripExactly(t *testing.T) {
	awkward := events.Rollup{Count: 3, Sum: 0.1 + 0.2, DenCount: 2, DenSum: math.SmallestNonzeroFloat64, PreCount: 1, PreSum: -1e15,
		Last: events.Score{TS: storetest.T0.UnixNano() + 1, ID: `{"$ne": null}`, Value: 9}, PreLast: events.Score{TS: 7, ID: "a.b", Value: 0}}
	rule := events.NewRule(experiment.Metric{Key: "m", Kind: experiment.KindMean, Aggregation: experiment.AggSum}, 14)
	c := &engine.Change{Key: engine.Key{Experiment: "exp", Unit: "u", Metric: "m"}, Rule: &rule, New: awkward, Seq: 42,
		Exposure: &engine.Exposure{Unit: "u", Experiment: "exp", Variant: "v", At: 20148*events.DayNanos + 1, Attrs: toAttrs(map[string]string{"$where": "x"})}}
	var back rollupDoc
	if err := bson.Unmarshal(marshal(t, newRollupDoc(c)), &back); err != nil {
		t.Fatal(err)
	}
	got := back.rollup()
	if got != awkward || math.Float64bits(got.Sum) != math.Float64bits(awkward.Sum) {
		t.Errorf("rollup read back as %+v, want %+v", got, awkward)
	}
	if back.Seq != 42 || back.Day != 20148 || back.Variant != "v" || !reflect.DeepEqual(fromAttrs(back.Attrs), map[string]string{"$where": "x"}) {
		t.Errorf("bookkeeping read back as %+v", back)
	}
}

func TestRollupDocumentsCarryTheUnitsValues(t *testing.T) {
	metric := func(kind experiment.MetricKind, agg experiment.Aggregation) *events.Rule {
		r := events.NewRule(experiment.Metric{Key: "m", Kind: kind, Aggregation: agg, DenominatorAggregation: experiment.AggCount}, 14)
		return &r
	}
	cases := []struct {
		name       string
		rule       *events.Rule
		u          events.Rollup
		y, x, pre  float64
		respondent int64
	}{
		{"a binomial unit that converted is 1", metric(experiment.KindBinomial, ""), events.Rollup{Count: 3, Sum: 3, PreCount: 1}, 1, 0, 1, 0},
		{"a mean of sums is the sum", metric(experiment.KindMean, experiment.AggSum), events.Rollup{Count: 2, Sum: 150, PreSum: 30, PreCount: 1}, 150, 0, 30, 0},
		{"a mean of counts is the count", metric(experiment.KindMean, experiment.AggCount), events.Rollup{Count: 2, Sum: 150}, 2, 0, 0, 0},
		{"a ratio carries its denominator", metric(experiment.KindRatio, experiment.AggSum), events.Rollup{Count: 2, Sum: 150, DenCount: 2, DenSum: 2}, 150, 2, 0, 0},
		{"an NPS respondent is counted with its class", metric(experiment.KindNPS, ""), events.Rollup{Count: 1, Last: events.Score{ID: "a", Value: 3}, PreCount: 1, PreLast: events.Score{ID: "b", Value: 10}}, -1, 0, 1, 1},
		{"a pre-exposure NPS answer alone counts for nothing", metric(experiment.KindNPS, ""), events.Rollup{PreCount: 1, PreLast: events.Score{ID: "b", Value: 10}}, 0, 0, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := newRollupDoc(&engine.Change{Key: engine.Key{Experiment: "exp", Unit: "u", Metric: "m"}, Rule: tc.rule, Exposure: &engine.Exposure{}, New: tc.u})
			if d.Y != tc.y || d.X != tc.x || d.Pre != tc.pre || d.N != tc.respondent {
				t.Errorf("y %v x %v pre %v n %d, want %v %v %v %d", d.Y, d.X, d.Pre, d.N, tc.y, tc.x, tc.pre, tc.respondent)
			}
			// The pipeline sums exactly what events.Rule.Contribution gives.
			c := tc.rule.Contribution(tc.u, math.NaN())
			if c.Sum != d.Y || c.DenSum != d.X || c.PreSum != d.Pre || c.N != d.N {
				t.Errorf("document values %+v disagree with the contribution %+v", d, c)
			}
		})
	}
}

func TestExperimentDocumentsKeepEveryValue(t *testing.T) {
	e := storetest.Sample("exact")
	e.Overrides = map[string]string{`{"$ne": null}`: "control", "a.b.c": "one_page", "$where": "control"}
	e.CreatedAt = time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)
	d, err := newExperimentDoc(e)
	if err != nil {
		t.Fatal(err)
	}
	raw := marshal(t, d)
	checkNoUserKeys(t, raw, "$where", "a.b.c", `{"$ne": null}`)
	var back experimentDoc
	if err := bson.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	got, err := back.experiment()
	if err != nil {
		t.Fatal(err)
	}
	if diff := experiment.Diff(e, got); len(diff) != 0 || !got.CreatedAt.Equal(e.CreatedAt) || back.Touchpoint != e.Touchpoint {
		t.Errorf("read back differs: %+v (created %v)", diff, got.CreatedAt)
	}
}

func TestKeyDocumentsKeepNanosecondsAndRevocation(t *testing.T) {
	k, _, err := auth.Generate("ci", auth.ScopeAdmin, time.Date(2026, 1, 2, 3, 4, 5, 987654321, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	rev := time.Date(2026, 2, 1, 0, 0, 0, 1, time.UTC)
	for _, revoked := range []*time.Time{nil, &rev} {
		k.RevokedAt = revoked
		var back keyDoc
		if err := bson.Unmarshal(marshal(t, newKeyDoc(k)), &back); err != nil {
			t.Fatal(err)
		}
		if got := back.key(); !reflect.DeepEqual(got, k) {
			t.Errorf("key read back as %+v, want %+v", got, k)
		}
	}
}

func TestEventAttributesAreStoredAsPairs(t *testing.T) {
	attrs := map[string]any{"$set": nil, "a.b": true, "qty": 2.0, "sku": "A-1"}
	raw := marshal(t, eventDoc{Unit: "u", EventID: "e", Attrs: toEventAttrs(attrs)})
	checkNoUserKeys(t, raw, "$set", "a.b", "qty", "sku")
	var back eventDoc
	if err := bson.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	got := map[string]any{}
	for _, a := range back.Attrs {
		got[a.K] = a.V
	}
	if !reflect.DeepEqual(got, attrs) {
		t.Errorf("attributes read back as %v, want %v", got, attrs)
	}
	if toEventAttrs(nil) != nil || toAttrs(nil) != nil || fromAttrs(nil) != nil {
		t.Errorf("no attributes must store nothing")
	}
}

func TestUniqueIndexesStartWithTheShardKey(t *testing.T) {
	// The collections that grow with traffic are sharded on
	// { unit_id: "hashed" } (docs/mongodb.md); a sharded cluster enforces
	// only unique indexes that the shard key prefixes.
	sharded := map[string]bool{"exposures": true, "events": true, "unit_metrics": true}
	names := map[string]bool{}
	uniques := map[string]int{}
	for _, ix := range indexes {
		if names[ix.coll+"."+ix.name] {
			t.Errorf("index %s.%s declared twice", ix.coll, ix.name)
		}
		names[ix.coll+"."+ix.name] = true
		if !strings.Contains(strings.Join(collectionNames, " "), ix.coll) {
			t.Errorf("index on %s, which is not created", ix.coll)
		}
		if ix.unique && sharded[ix.coll] {
			uniques[ix.coll]++
			if ix.keys[0].Key != "unit_id" {
				t.Errorf("unique index %s.%s starts with %s, not the shard key unit_id", ix.coll, ix.name, ix.keys[0].Key)
			}
		}
	}
	for coll := range sharded {
		if uniques[coll] != 1 {
			t.Errorf("%s has %d unique indexes, want 1 (its idempotency key)", coll, uniques[coll])
		}
	}
}

func TestOutagesAreUnavailableAndConflictsRetried(t *testing.T) {
	transient := []string{"TransientTransactionError"}
	cases := []struct {
		name        string
		err         error
		unavailable bool
		retry       bool
	}{
		{"a server selection timeout", topology.ServerSelectionError{Wrapped: topology.ErrServerSelectionTimeout}, true, false},
		{"a network error", drv.CommandError{Message: "connection reset", Labels: []string{"NetworkError"}}, true, false},
		{"a network error inside a transaction", drv.CommandError{Message: "reset", Labels: []string{"NetworkError", "TransientTransactionError"}}, true, false},
		{"a primary that stepped down", drv.CommandError{Code: 10107, Message: "not primary"}, true, false},
		{"majority write concern not reached", drv.WriteException{WriteConcernError: &drv.WriteConcernError{Code: 64, Message: "waiting for replication timed out"}}, true, false},
		{"a deadline", fmt.Errorf("find: %w", context.DeadlineExceeded), true, false},
		{"a disconnected client", drv.ErrClientDisconnected, true, false},
		{"a write conflict", drv.CommandError{Code: 112, Message: "WriteConflict", Labels: transient}, true, true},
		{"a cancelled request", context.Canceled, false, false},
		{"a duplicate key from a concurrent upsert", drv.WriteException{WriteErrors: []drv.WriteError{{Code: 11000, Message: "E11000 duplicate key"}}}, false, true},
		{"a domain error", fmt.Errorf("experiment %q: %w", "x", experiment.ErrVersionConflict), false, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := unavailable(tc.err); got != tc.unavailable {
				t.Errorf("unavailable = %v, want %v", got, tc.unavailable)
			}
			if got := retryableConflict(tc.err); got != tc.retry {
				t.Errorf("retryable conflict = %v, want %v", got, tc.retry)
			}
			wrapped := wrap("op", tc.err)
			if errors.Is(wrapped, experiment.ErrUnavailable) != tc.unavailable || !strings.Contains(wrapped.Error(), tc.err.Error()) {
				t.Errorf("wrap gave %v", wrapped)
			}
		})
	}
	if wrap("op", nil) != nil {
		t.Errorf("wrap(nil) is not nil")
	}
}

func TestOpenFailsFastWhenNothingListens(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close() // nothing listens there now
	_, err = Open(context.Background(), "mongodb://"+addr+"/?directConnection=true", "x", Options{ServerSelectionTimeout: 200 * time.Millisecond})
	if !errors.Is(err, experiment.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable", err)
	}
}

func TestOpenRefusesBadInput(t *testing.T) {
	for _, tc := range []struct{ uri, db string }{
		{"mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=notanumber", "x"},
		{"mongodb://127.0.0.1:1/", ""},
	} {
		if _, err := Open(context.Background(), tc.uri, tc.db, Options{}); err == nil || errors.Is(err, experiment.ErrUnavailable) {
			t.Errorf("Open(%q, %q): err = %v, want a configuration error", tc.uri, tc.db, err)
		}
	}
}
