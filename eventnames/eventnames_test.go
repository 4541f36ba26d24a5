package eventnames

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/warning"
)

type catalogue []experiment.Metric

func (c catalogue) ListMetrics(context.Context) ([]experiment.Metric, error) { return c, nil }

// memStore is an eventnames.Store in memory; fail makes writes fail.
type memStore struct {
	mu     sync.Mutex
	seen   map[string]Seen
	writes int
	fail   error
}

func (m *memStore) AddUnknownEvents(_ context.Context, xs []Seen) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.writes++
	if m.seen == nil {
		m.seen = map[string]Seen{}
	}
	for _, x := range xs {
		cur, ok := m.seen[x.Name]
		if ok {
			x.Count += cur.Count
			if cur.FirstSeen.Before(x.FirstSeen) {
				x.FirstSeen = cur.FirstSeen
			}
			if cur.LastSeen.After(x.LastSeen) {
				x.LastSeen = cur.LastSeen
			}
		}
		m.seen[x.Name] = x
	}
	return nil
}

func (m *memStore) UnknownEvents(_ context.Context, limit int) ([]Seen, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []Seen
	for _, x := range m.seen {
		out = append(out, x)
	}
	// most frequent first, then by name
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j].Count > out[i].Count || (out[j].Count == out[i].Count && out[j].Name < out[i].Name) {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out[:min(limit, len(out))], nil
}

var t0 = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)

func newWatcher(t *testing.T, st Store) *Watcher {
	t.Helper()
	w := New(catalogue(experiment.BuiltinMetrics()), st, Options{})
	if err := w.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

func batch(names ...string) ([]events.Event, []bool) {
	evs := make([]events.Event, len(names))
	stored := make([]bool, len(names))
	for i, n := range names {
		evs[i] = events.Event{EventID: fmt.Sprint(i), UnitID: "u", Event: n}
		stored[i] = true
	}
	return evs, stored
}

func TestSuggestFindsTheClosestKnownName(t *testing.T) {
	w := newWatcher(t, &memStore{})
	cases := []struct{ name, want string }{
		{"add_to_krat", "add_to_cart"},
		{"Add_To_Cart", "add_to_cart"},
		{"order_complete", "order_completed"},
		{"ordercompleted", "order_completed"},
		{"wishlist-add", "wishlist_add"},
		{"bounse", "bounce"},
		{"newsletter_signup", ""},
		{"x", ""},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("suggests %q for %q", tc.want, tc.name), func(t *testing.T) {
			if got := w.Suggest(tc.name); got != tc.want {
				t.Fatalf("Suggest(%q) = %q, want %q", tc.name, got, tc.want)
			}
		})
	}
}

func TestCheckWarnsAboutEachUnknownNameOnce(t *testing.T) {
	cases := []struct {
		name  string
		names []string
		want  []warning.Warning
	}{
		{"a batch of known names", []string{"add_to_cart", "add_to_cart", "order_completed", "nps_response"}, nil},
		{"a typo three times among known names", []string{"add_to_cart", "add_to_krat", "order_completed", "add_to_krat", "add_to_krat"}, []warning.Warning{
			{Code: "unknown_event", Event: "add_to_krat", Count: 3, Hint: "did you mean add_to_cart?",
				Message: `no metric uses the event "add_to_krat"; it is stored, and a metric defined on it later will count it`},
		}},
		{"two unknown names, one without a close match, in order of appearance", []string{"newsletter_signup", "Order_Completed", "newsletter_signup"}, []warning.Warning{
			{Code: "unknown_event", Event: "newsletter_signup", Count: 2,
				Message: `no metric uses the event "newsletter_signup"; it is stored, and a metric defined on it later will count it`},
			{Code: "unknown_event", Event: "Order_Completed", Count: 1, Hint: "did you mean order_completed?",
				Message: `no metric uses the event "Order_Completed"; it is stored, and a metric defined on it later will count it`},
		}},
	}
	for _, tc := range cases {
		t.Run("for "+tc.name, func(t *testing.T) {
			w := newWatcher(t, &memStore{})
			evs, stored := batch(tc.names...)
			got := w.Check(evs, stored, t0)
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tc.want) {
				t.Fatalf("warnings\n%+v\nwant\n%+v", got, tc.want)
			}
		})
	}
	t.Run("at most twenty names, then how many more", func(t *testing.T) {
		w := newWatcher(t, &memStore{})
		var names []string
		for i := range 25 {
			names = append(names, fmt.Sprintf("custom_event_%02d", i))
		}
		evs, stored := batch(names...)
		got := w.Check(evs, stored, t0)
		if len(got) != 21 || got[20].Message != "and 5 more event names no metric uses (see GET /v1/events/unknown)" {
			t.Fatalf("%d warnings, last %+v", len(got), got[len(got)-1])
		}
	})
}

func TestCountsOnlyStoredEventsAndWritesThemInOneGo(t *testing.T) {
	st := &memStore{}
	w := newWatcher(t, st)
	ctx := context.Background()
	evs, stored := batch("add_to_krat", "add_to_krat", "ordr", "add_to_cart")
	stored[1] = false // a duplicate: warned about, not counted again
	w.Check(evs, stored, t0)
	evs, stored = batch("add_to_krat")
	w.Check(evs, stored, t0.Add(time.Minute))
	if st.writes != 0 {
		t.Fatal("counting must not write to the store")
	}
	list, err := w.List(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	want := []Seen{
		{Name: "add_to_krat", Count: 2, FirstSeen: t0, LastSeen: t0.Add(time.Minute), Suggestion: "add_to_cart"},
		{Name: "ordr", Count: 1, FirstSeen: t0, LastSeen: t0},
	}
	if fmt.Sprint(list) != fmt.Sprint(want) || st.writes != 1 {
		t.Fatalf("list %v after %d writes, want %v after one", list, st.writes, want)
	}
	t.Run("a name leaves the list once a metric uses it", func(t *testing.T) {
		w.metrics = catalogue(append(experiment.BuiltinMetrics(), experiment.Metric{Key: "orders_short", Event: "ordr"}))
		list, err := w.List(ctx, 10)
		if err != nil || len(list) != 1 || list[0].Name != "add_to_krat" {
			t.Fatalf("list %v, %v; want add_to_krat only", list, err)
		}
	})
}

func TestAFailedWriteKeepsTheCountsForTheNext(t *testing.T) {
	st := &memStore{fail: errors.New("disk full")}
	w := newWatcher(t, st)
	evs, stored := batch("add_to_krat", "add_to_krat")
	w.Check(evs, stored, t0)
	if err := w.Flush(context.Background()); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("flush: %v, want the store's error", err)
	}
	evs, stored = batch("add_to_krat")
	w.Check(evs, stored, t0.Add(time.Second))
	st.fail = nil
	if err := w.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := st.seen["add_to_krat"]; got.Count != 3 || !got.FirstSeen.Equal(t0) || !got.LastSeen.Equal(t0.Add(time.Second)) {
		t.Fatalf("stored %+v, want 3 events from t0 to t0+1s", got)
	}
}

func TestDistinctNamesInMemoryAreBounded(t *testing.T) {
	w := newWatcher(t, &memStore{})
	for i := range MaxNames + 10 {
		evs, stored := batch(fmt.Sprintf("name-%d", i))
		w.Check(evs, stored, t0)
	}
	if len(w.pending) != MaxNames || w.dropped != 10 {
		t.Fatalf("%d names pending, %d events dropped; want %d and 10", len(w.pending), w.dropped, MaxNames)
	}
}

func TestBeforeTheFirstRefreshEveryNameIsKnown(t *testing.T) {
	w := New(catalogue(nil), &memStore{}, Options{})
	evs, stored := batch("anything")
	if got := w.Check(evs, stored, t0); got != nil || !w.Known("anything") {
		t.Fatalf("warnings %v before the catalogue was read", got)
	}
}
