package mongo

import (
	"testing"

	"github.com/journeylab/journeylab/store/storetest"
)

func TestHealthConformance(t *testing.T) {
	TestingURI(t) // skips the whole test without a server
	storetest.RunHealth(t, func(t *testing.T) storetest.HealthBackend { return OpenTesting(t) })
}
