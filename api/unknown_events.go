package api

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/eventnames"
)

// UnknownEvents serves GET /v1/events/unknown: the event names no metric
// uses that events arrived with, so a typo in an integration is found.
type UnknownEvents struct {
	w *eventnames.Watcher
}

// NewUnknownEvents returns the handler over w.
func NewUnknownEvents(w *eventnames.Watcher) *UnknownEvents { return &UnknownEvents{w: w} }

// Register mounts the route on r behind admin.
func (h *UnknownEvents) Register(r fiber.Router, admin fiber.Handler) {
	r.Get("/events/unknown", admin, h.list)
}

// defaultUnknownLimit is how many names a list shows without ?limit.
const defaultUnknownLimit = 100

func (h *UnknownEvents) list(c *fiber.Ctx) error {
	limit := defaultUnknownLimit
	if s := c.Query("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > eventnames.MaxNames {
			return invalid("limit", "must be a whole number from 1 to %d", eventnames.MaxNames)
		}
		limit = n
	}
	list, err := h.w.List(c.UserContext(), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"unknown_events": list})
}
