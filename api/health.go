package api

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/health"
	"github.com/journeylab/journeylab/jsonbody"
)

// Health serves the health API: alerts, on-demand checks, per-experiment
// health settings and the webhook delivery log.
type Health struct {
	mon *health.Monitor
}

// NewHealth returns the health handlers of mon.
func NewHealth(mon *health.Monitor) *Health { return &Health{mon: mon} }

// Register mounts the routes on r; read and admin are the scope checks.
func (h *Health) Register(r fiber.Router, read, admin fiber.Handler) {
	r.Get("/health", read, h.overview)
	r.Get("/alerts", read, h.list)
	r.Get("/alerts/:id", read, h.get)
	r.Post("/alerts/:id/resolve", admin, h.resolve)
	r.Get("/deliveries", admin, h.deliveries)
	r.Get("/experiments/:key/health", read, h.experiment)
	r.Post("/experiments/:key/health/check", admin, h.check)
	r.Put("/experiments/:key/health/settings", admin, h.putSettings)
}

// nonNil makes an empty list encode as [] rather than null.
func nonNil[T any](xs []T) []T {
	if xs == nil {
		return []T{}
	}
	return xs
}

func (h *Health) overview(c *fiber.Ctx) error {
	open, err := h.mon.Store().OpenAlerts(c.UserContext(), "")
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"experiments": health.Summarise(open)})
}

func (h *Health) list(c *fiber.Ctx) error {
	f, err := health.ParseFilter(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	list, err := h.mon.Store().ListAlerts(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alerts": nonNil(list)})
}

func (h *Health) get(c *fiber.Ctx) error {
	a, events, err := h.mon.Store().GetAlert(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alert": a, "events": nonNil(events)})
}

func (h *Health) resolve(c *fiber.Ctx) error {
	var body struct {
		Note string `json:"note"`
	}
	if len(strings.TrimSpace(string(c.Body()))) > 0 {
		if err := jsonbody.Decode(c.Body(), &body); err != nil {
			return err
		}
	}
	if len(body.Note) > 1000 {
		return invalid("note", "at most 1000 characters")
	}
	a, err := h.mon.Resolve(c.UserContext(), param(c, "id"), actor(c), body.Note)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (h *Health) deliveries(c *fiber.Ctx) error {
	limit, err := health.ParseLimit(c.Query("limit"))
	if err != nil {
		return err
	}
	list, err := h.mon.Store().ListDeliveries(c.UserContext(), c.Query("alert"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"deliveries": nonNil(list)})
}

func (h *Health) experiment(c *fiber.Ctx) error {
	key := param(c, "key")
	settings, open, err := h.mon.ExperimentHealth(c.UserContext(), key)
	if err != nil {
		return err
	}
	open = nonNil(open)
	sum, ok := health.Summarise(open)[key]
	if !ok {
		sum = health.Summary{Status: "ok", Checks: []health.Check{}}
	}
	out := fiber.Map{"experiment": key, "summary": sum, "settings": settings, "alerts": open}
	progress, ok, err := h.mon.ExperimentProgress(c.UserContext(), key, settings)
	if err != nil {
		return err
	}
	if ok {
		out["progress"] = progress
	}
	return c.JSON(out)
}

func (h *Health) check(c *fiber.Ctx) error {
	open, err := h.mon.CheckExperiment(c.UserContext(), param(c, "key"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alerts": nonNil(open)})
}

func (h *Health) putSettings(c *fiber.Ctx) error {
	var s health.Settings
	if err := jsonbody.Decode(c.Body(), &s); err != nil {
		return err
	}
	out, err := h.mon.PutSettings(c.UserContext(), actor(c), param(c, "key"), s)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
