package server

import "github.com/gofiber/fiber/v2"

// ActorLocal is the fiber.Ctx local under which the auth middleware stores
// who is calling (a key's name, or "dev-mode"); handlers put it in audit
// entries.
const ActorLocal = "actor"

// BatchStatus is the status of an answer to a batch (events, reported
// exposures): 200 when no item was rejected, 207 when some were. The items
// that were not rejected are recorded in both cases.
func BatchStatus(rejected int) int {
	if rejected > 0 {
		return fiber.StatusMultiStatus
	}
	return fiber.StatusOK
}
