package sqlite

import (
	"testing"

	"github.com/journeylab/journeylab/eventnames"
	"github.com/journeylab/journeylab/store/storetest"
)

func TestUnknownEventsConformance(t *testing.T) {
	storetest.RunUnknownEvents(t, func(t *testing.T) eventnames.Store { return openTemp(t) })
}
