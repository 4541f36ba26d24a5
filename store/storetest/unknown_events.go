package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/journeylab/journeylab/eventnames"
)

// RunUnknownEvents checks an eventnames.Store: counts add up across
// writes (as from several instances), the seen times widen, the list is
// most frequent first, and only eventnames.MaxNames names are kept.
func RunUnknownEvents(t *testing.T, open func(t *testing.T) eventnames.Store) {
	ctx := context.Background()
	at := func(sec int) time.Time { return t0.Add(time.Duration(sec) * time.Second) }
	t.Run("counts add up and the seen times widen", func(t *testing.T) {
		s := open(t)
		writes := [][]eventnames.Seen{
			{{Name: "add_to_krat", Count: 3, FirstSeen: at(10), LastSeen: at(20)}, {Name: "ordr", Count: 1, FirstSeen: at(5), LastSeen: at(5)}},
			{{Name: "add_to_krat", Count: 4, FirstSeen: at(8), LastSeen: at(15)}},
			{{Name: "add_to_krat", Count: 1, FirstSeen: at(30), LastSeen: at(30)}, {Name: "Order_Completed", Count: 8, FirstSeen: at(1), LastSeen: at(2)}},
		}
		for _, w := range writes {
			if err := s.AddUnknownEvents(ctx, w); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.UnknownEvents(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		want := []eventnames.Seen{
			{Name: "Order_Completed", Count: 8, FirstSeen: at(1), LastSeen: at(2)},
			{Name: "add_to_krat", Count: 8, FirstSeen: at(8), LastSeen: at(30)},
			{Name: "ordr", Count: 1, FirstSeen: at(5), LastSeen: at(5)},
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("stored\n%v\nwant\n%v", got, want)
		}
		if got, _ := s.UnknownEvents(ctx, 1); len(got) != 1 || got[0].Name != "Order_Completed" {
			t.Fatalf("limit 1: %v", got)
		}
	})
	t.Run("only the most frequent names are kept", func(t *testing.T) {
		s := open(t)
		batch := make([]eventnames.Seen, eventnames.MaxNames+5)
		for i := range batch {
			// name-0000 is the most frequent; the last five are the rarest.
			batch[i] = eventnames.Seen{Name: fmt.Sprintf("name-%04d", i), Count: int64(2*eventnames.MaxNames - i), FirstSeen: at(1), LastSeen: at(1)}
		}
		if err := s.AddUnknownEvents(ctx, batch); err != nil {
			t.Fatal(err)
		}
		got, err := s.UnknownEvents(ctx, 2*eventnames.MaxNames)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != eventnames.MaxNames || got[0].Name != "name-0000" || got[len(got)-1].Name != fmt.Sprintf("name-%04d", eventnames.MaxNames-1) {
			t.Fatalf("%d names kept, first %v, last %v; want the %d most frequent", len(got), got[0], got[len(got)-1], eventnames.MaxNames)
		}
	})
}
