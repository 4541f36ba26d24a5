package privacy

import (
	"context"
	"time"

	"github.com/journeylab/journeylab/events"
)

// AllAttributes is the allow-list entry that keeps every attribute.
const AllAttributes = "*"

// AllowList names the request attributes a deployment stores with
// exposures and events; the others are dropped before anything is
// journaled or stored. A nil *AllowList keeps every attribute.
type AllowList struct{ names map[string]bool }

// NewAllowList returns the allow-list of names: nil (keep all) when names
// holds AllAttributes, an empty list (keep none) when names is empty.
func NewAllowList(names []string) *AllowList {
	a := &AllowList{names: make(map[string]bool, len(names))}
	for _, n := range names {
		if n == AllAttributes {
			return nil
		}
		a.names[n] = true
	}
	return a
}

// Allows reports whether attribute name may be stored.
func (a *AllowList) Allows(name string) bool { return a == nil || a.names[name] }

// Events is an events.Store that drops the attributes Allow does not
// allow from each event and replaces its unit id by its pseudonym (when
// Units is set), then hands the events to the next store.
type Events struct {
	Next  events.Store
	Allow *AllowList
	Units *Pseudonymiser
}

// AppendEvents implements events.Store. It changes evs' attribute maps in
// place: they belong to the request being ingested.
func (m Events) AppendEvents(ctx context.Context, received time.Time, evs []events.Event) ([]bool, error) {
	if m.Allow != nil {
		for i := range evs {
			for k := range evs[i].Attributes {
				if !m.Allow.names[k] {
					delete(evs[i].Attributes, k)
				}
			}
			if len(evs[i].Attributes) == 0 {
				evs[i].Attributes = nil
			}
		}
	}
	if m.Units != nil {
		// A batch mostly holds one unit's events: hash each run once.
		var raw, pseudonym string
		for i := range evs {
			if evs[i].UnitID != raw || pseudonym == "" {
				raw, pseudonym = evs[i].UnitID, m.Units.Unit(evs[i].UnitID)
			}
			evs[i].UnitID = pseudonym
		}
	}
	return m.Next.AppendEvents(ctx, received, evs)
}
