package sqlite

import (
	"testing"

	"github.com/journeylab/journeylab/store/storetest"
)

func TestAppendEventsKeepsAttributesRaw(t *testing.T) {
	st := newOutcomeStore(t)
	e := storetest.Event("e1", "u1", "order_completed", 10, 0)
	e.Attributes = map[string]any{"sku": "A-1", "qty": 2.0}
	storetest.MustAppend(t, st, e)
	var attrs string
	if err := st.r.QueryRow(`SELECT attributes FROM events WHERE event_id = 'e1'`).Scan(&attrs); err != nil {
		t.Fatal(err)
	}
	if attrs != `{"qty":2,"sku":"A-1"}` {
		t.Errorf("attributes %s", attrs)
	}
}
