package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/server"
)

// Events serves POST /v1/events.
type Events struct {
	in *events.Ingestor
}

// NewEvents returns the event handlers for in.
func NewEvents(in *events.Ingestor) *Events { return &Events{in: in} }

// Register mounts the routes on r; sdk is the scope check for senders,
// which may be a browser's navigator.sendBeacon (server.RequireBeacon).
func (h *Events) Register(r fiber.Router, sdk fiber.Handler) {
	r.Post("/events", sdk, h.post)
}

// post answers 200 when every event was accepted (or was a duplicate of a
// stored one) and 207 when some were rejected; the valid ones are stored in
// both cases, durably, before the answer is sent.
func (h *Events) post(c *fiber.Ctx) error {
	resp, err := h.in.IngestBody(c.UserContext(), c.Body())
	if err != nil {
		return err
	}
	return c.Status(server.BatchStatus(resp.Rejected)).JSON(resp)
}
