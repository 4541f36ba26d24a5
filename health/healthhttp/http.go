// Package healthhttp serves the health API (alerts, on-demand checks,
// per-experiment health settings, the webhook delivery log) under /v1. It
// is a thin layer over package health, kept apart so that health itself
// does not import Fiber.
package healthhttp

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"journeylab/experiment"
	"journeylab/health"
	"journeylab/jsonbody"
)

// Handlers serve the health API.
type Handlers struct {
	mon *health.Monitor
}

// New returns the handlers of mon.
func New(mon *health.Monitor) *Handlers { return &Handlers{mon: mon} }

// Register mounts the routes on r; read and admin are the scope checks.
func (h *Handlers) Register(r fiber.Router, read, admin fiber.Handler) {
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

func invalid(field, format string, args ...any) error {
	return &experiment.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

func param(c *fiber.Ctx, name string) string {
	v := c.Params(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func actor(c *fiber.Ctx) string {
	if a, ok := c.Locals(experiment.ActorLocal).(string); ok && a != "" {
		return a
	}
	return "anonymous"
}

// ParseFilter reads the alert-list query (status, experiment, check,
// limit); errors name the parameter.
func ParseFilter(q func(string) string) (health.Filter, error) {
	f := health.Filter{Experiment: q("experiment")}
	switch s := health.AlertStatus(q("status")); s {
	case "", health.Open, health.Resolved:
		f.Status = s
	default:
		return f, invalid("status", "want open or resolved, got %q", s)
	}
	if c := health.Check(q("check")); c != "" {
		known := false
		for _, k := range health.Checks() {
			known = known || k == c
		}
		if !known {
			return f, invalid("check", "unknown check %q (want one of %v)", c, health.Checks())
		}
		f.Check = c
	}
	limit, err := parseLimit(q("limit"))
	f.Limit = limit
	return f, err
}

func parseLimit(s string) (int, error) {
	if s == "" {
		return health.DefaultLimit, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > health.MaxLimit {
		return 0, invalid("limit", "want a whole number from 1 to %d", health.MaxLimit)
	}
	return n, nil
}

func (h *Handlers) overview(c *fiber.Ctx) error {
	open, err := h.mon.Store().OpenAlerts(c.UserContext(), "")
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"experiments": health.Summarise(open)})
}

func (h *Handlers) list(c *fiber.Ctx) error {
	f, err := ParseFilter(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	list, err := h.mon.Store().ListAlerts(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alerts": nonNil(list)})
}

func (h *Handlers) get(c *fiber.Ctx) error {
	a, events, err := h.mon.Store().GetAlert(c.UserContext(), param(c, "id"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alert": a, "events": nonNil(events)})
}

func (h *Handlers) resolve(c *fiber.Ctx) error {
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

func (h *Handlers) deliveries(c *fiber.Ctx) error {
	limit, err := parseLimit(c.Query("limit"))
	if err != nil {
		return err
	}
	list, err := h.mon.Store().ListDeliveries(c.UserContext(), c.Query("alert"), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"deliveries": nonNil(list)})
}

func (h *Handlers) experiment(c *fiber.Ctx) error {
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
	return c.JSON(fiber.Map{"experiment": key, "summary": sum, "settings": settings, "alerts": open})
}

func (h *Handlers) check(c *fiber.Ctx) error {
	open, err := h.mon.CheckExperiment(c.UserContext(), param(c, "key"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"alerts": nonNil(open)})
}

func (h *Handlers) putSettings(c *fiber.Ctx) error {
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
