package sqlite

import (
	"testing"

	"github.com/journeylab/journeylab/store/storetest"
)

func TestHealthConformance(t *testing.T) {
	storetest.RunHealth(t, func(t *testing.T) storetest.HealthBackend { return openTemp(t) })
}
