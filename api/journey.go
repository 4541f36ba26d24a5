package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/journey"
)

// Journey serves the journey map under /v1.
type Journey struct {
	svc *journey.Service
	now func() time.Time
}

// NewJourney returns the journey map handler; now sets the default range.
func NewJourney(svc *journey.Service, now func() time.Time) *Journey {
	if now == nil {
		now = time.Now
	}
	return &Journey{svc: svc, now: now}
}

// Register mounts the route on r behind read, the read-scope check.
func (h *Journey) Register(r fiber.Router, read fiber.Handler) {
	r.Get("/journey", read, h.get)
}

func (h *Journey) get(c *fiber.Ctx) error {
	q, err := journey.ParseQuery(func(k string) string { return c.Query(k) }, h.now())
	if err != nil {
		return err
	}
	m, err := h.svc.Build(c.UserContext(), q)
	if err != nil {
		return err
	}
	return c.JSON(m)
}
