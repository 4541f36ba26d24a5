package events

import (
	"github.com/gofiber/fiber/v2"

	"journeylab/server"
)

// Handlers serves POST /v1/events.
type Handlers struct {
	in *Ingestor
}

// NewHandlers returns the HTTP handlers for in.
func NewHandlers(in *Ingestor) *Handlers { return &Handlers{in: in} }

// Register mounts the routes on r; sdk is the scope check for senders.
func (h *Handlers) Register(r fiber.Router, sdk fiber.Handler) {
	r.Post("/events", sdk, h.post)
}

// post answers 200 when every event was accepted (or was a duplicate of a
// stored one) and 207 when some were rejected; the valid ones are stored in
// both cases, durably, before the answer is sent.
func (h *Handlers) post(c *fiber.Ctx) error {
	resp, err := h.in.IngestBody(c.UserContext(), c.Body())
	if err != nil {
		return err
	}
	return c.Status(server.BatchStatus(resp.Rejected)).JSON(resp)
}
