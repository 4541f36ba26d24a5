package sqlite

import (
	"testing"

	"github.com/journeylab/journeylab/store/storetest"
)

func TestJourney(t *testing.T) {
	storetest.RunJourney(t, func(t *testing.T) storetest.JourneyBackend { return openTemp(t) })
}
