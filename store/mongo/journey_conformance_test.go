package mongo

import (
	"testing"

	"github.com/journeylab/journeylab/store/storetest"
)

func TestJourneyConformance(t *testing.T) {
	TestingURI(t) // skips the whole test without a server
	storetest.RunJourney(t, func(t *testing.T) storetest.JourneyBackend { return OpenTesting(t) })
}
