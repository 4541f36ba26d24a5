package mongo

import (
	"context"
	"reflect"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/bson"
	drv "go.mongodb.org/mongo-driver/mongo"

	"github.com/journeylab/journeylab/events"
	engine "github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/report"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestOutcomes(t *testing.T) {
	TestingURI(t) // skips the whole suite, not each case, without a server
	storetest.RunOutcomes(t, outcomeHarness)
}

func TestAppendEventsKeepsAttributesRaw(t *testing.T) {
	st, _ := newOutcomeStore(t)
	e := storetest.Event("e1", "u1", "order_completed", 10, 0)
	e.Attributes = map[string]any{"sku": "A-1", "qty": 2.0, "$set": nil, "a.b": true}
	storetest.MustAppend(t, st, e)
	var d eventDoc
	if err := st.c.events.FindOne(context.Background(), bson.D{eq("event_id", "e1")}).Decode(&d); err != nil {
		t.Fatal(err)
	}
	want := []eventAttr{{"$set", nil}, {"a.b", true}, {"qty", 2.0}, {"sku", "A-1"}}
	if !reflect.DeepEqual(d.Attrs, want) {
		t.Errorf("attributes %+v, want %+v", d.Attrs, want)
	}
}

func TestOutOfOrderCommitsRefoldInStorageOrder(t *testing.T) {
	// Two instances may commit batches of one unit in the opposite order of
	// their storage positions. Simulate it: reserve a position, let a later
	// batch commit first, then commit the earlier one.
	st, _ := newOutcomeStore(t)
	ctx := context.Background()
	storetest.MustExpose(t, st, storetest.Exposure("u1", "control", 0, nil))
	early := storetest.Event("early", "u1", "order_completed", 0.1, time.Hour)
	base, err := st.reserveSeq(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	storetest.MustAppend(t, st, storetest.Event("late", "u1", "order_completed", 0.2, 2*time.Hour), storetest.Event("later", "u1", "order_completed", 0.3, 3*time.Hour))
	// Store "early" at the position reserved before the others, as its
	// instance would have, through the same transaction code.
	err = st.inTx(ctx, "append early", func(sc drv.SessionContext) error {
		cfg, err := st.attribution(sc)
		if err != nil {
			return err
		}
		if _, err := st.c.events.InsertOne(sc, eventDoc{Unit: "u1", EventID: early.EventID, Seq: base, Event: early.Event, Value: *early.Value, TS: early.TS.UnixNano()}); err != nil {
			return err
		}
		cs, err := engine.Attribute(sc, engineTx{st, sc}, cfg, []engine.Event{{Unit: "u1", Seq: base, Point: events.Point{ID: early.EventID, Event: early.Event, TS: early.TS.UnixNano(), Value: *early.Value}}})
		if err != nil {
			return err
		}
		return writeChanges(sc, st.c.unitMetrics, cs)
	})
	if err != nil {
		t.Fatal(err)
	}
	before := stored(t, st, "exp")
	wipeRollups(t, st, "exp")
	if err := st.Rebuild(ctx, "exp", nil); err != nil {
		t.Fatal(err)
	}
	storetest.CompareStored(t, before, stored(t, st, "exp"), 0)
	// 0.1 + 0.2 + 0.3 in storage order differs from 0.2 + 0.3 + 0.1 in the last bit.
	// Variables, not constants: Go folds constant expressions exactly.
	a, b, c := 0.1, 0.2, 0.3
	if got := storetest.Cells(t, st, "exp", "revenue_per_visitor", report.CellQuery{})[0].Stats.Sum; got != (a+b)+c {
		t.Errorf("revenue %v, want %v (folded in storage order)", got, (a+b)+c)
	}
}
