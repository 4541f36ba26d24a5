package api

import (
	"fmt"
	"net/url"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
	"github.com/journeylab/journeylab/server"
	"github.com/journeylab/journeylab/warning"
)

// Experiments serves the management API under /v1: experiments, metrics,
// layers, personas and the journey stages.
type Experiments struct {
	svc *experiment.Service
}

// NewExperiments returns the management handlers for svc.
func NewExperiments(svc *experiment.Service) *Experiments { return &Experiments{svc: svc} }

// Register mounts the routes on r; read and admin are the scope checks for
// reading and changing.
func (h *Experiments) Register(r fiber.Router, read, admin fiber.Handler) {
	r.Get("/stages", read, h.stages)
	r.Get("/experiments", read, h.list)
	r.Post("/experiments", admin, h.create)
	r.Get("/experiments/:key", read, h.get)
	r.Put("/experiments/:key", admin, h.update)
	r.Get("/experiments/:key/audit", read, h.audit)
	r.Post("/experiments/:key/:action<regex(^(launch|pause|resume|stop|archive)$)>", admin, h.transition)
	r.Get("/metrics", read, h.listMetrics)
	r.Post("/metrics", admin, h.createMetric)
	r.Get("/metrics/:key", read, h.getMetric)
	r.Get("/layers", read, h.listLayers)
	r.Get("/layers/:key", read, h.getLayer)
	r.Put("/layers/:key", admin, h.putLayer)
	h.registerPersonas(r, read, admin)
}

// actor is who is calling, as the auth layer identified them; it ends up in
// audit entries.
func actor(c *fiber.Ctx) string {
	if a, ok := c.Locals(server.ActorLocal).(string); ok && a != "" {
		return a
	}
	return "anonymous"
}

// invalid is a validation error of field, for the error mapping.
func invalid(field, format string, args ...any) *experiment.ValidationError {
	return &experiment.ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// param returns a decoded path parameter (keys may arrive percent-encoded).
func param(c *fiber.Ctx, name string) string {
	v := c.Params(name)
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func (h *Experiments) stages(c *fiber.Ctx) error {
	return c.JSON(fiber.Map{"stages": experiment.Stages()})
}

func (h *Experiments) list(c *fiber.Ctx) error {
	f := experiment.Filter{Touchpoint: c.Query("touchpoint"), Layer: c.Query("layer")}
	if s := c.Query("stage"); s != "" {
		st, err := experiment.ParseStage(s)
		if err != nil {
			return invalid("stage", "%v", err)
		}
		f.Stage = st
	}
	if s := c.Query("status"); s != "" {
		switch experiment.Status(s) {
		case experiment.StatusDraft, experiment.StatusRunning, experiment.StatusPaused, experiment.StatusStopped, experiment.StatusArchived:
			f.Status = experiment.Status(s)
		default:
			return invalid("status", "unknown status %q (want draft, running, paused, stopped or archived)", s)
		}
	}
	list, err := h.svc.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	if list == nil {
		list = []*experiment.Experiment{}
	}
	if len(list) == 0 && f.Touchpoint != "" {
		w, err := h.svc.TouchpointWarning(c.UserContext(), f.Touchpoint)
		if err != nil {
			return err
		}
		if w != nil {
			return c.JSON(fiber.Map{"experiments": list, "warnings": []*warning.Warning{w}})
		}
	}
	return c.JSON(fiber.Map{"experiments": list})
}

func (h *Experiments) create(c *fiber.Ctx) error {
	var e experiment.Experiment
	if err := jsonbody.Decode(c.Body(), &e); err != nil {
		return err
	}
	out, err := h.svc.Create(c.UserContext(), actor(c), &e)
	if err != nil {
		return err
	}
	c.Location("/v1/experiments/" + out.Key)
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (h *Experiments) get(c *fiber.Ctx) error {
	e, err := h.svc.Get(c.UserContext(), param(c, "key"))
	if err != nil {
		return err
	}
	return c.JSON(e)
}

func (h *Experiments) update(c *fiber.Ctx) error {
	var e experiment.Experiment
	if err := jsonbody.Decode(c.Body(), &e); err != nil {
		return err
	}
	if e.Version == 0 {
		return invalid("version", "required: send the version you read, so concurrent edits are detected")
	}
	out, err := h.svc.Update(c.UserContext(), actor(c), param(c, "key"), &e)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (h *Experiments) transition(c *fiber.Ctx) error {
	a, err := experiment.ParseAction(c.Params("action"))
	if err != nil {
		return err
	}
	out, err := h.svc.Transition(c.UserContext(), actor(c), param(c, "key"), a)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (h *Experiments) audit(c *fiber.Ctx) error {
	entries, err := h.svc.Audit(c.UserContext(), param(c, "key"))
	if err != nil {
		return err
	}
	if entries == nil {
		entries = []experiment.AuditEntry{}
	}
	return c.JSON(fiber.Map{"audit": entries})
}

func (h *Experiments) listMetrics(c *fiber.Ctx) error {
	list, err := h.svc.Store().ListMetrics(c.UserContext())
	if err != nil {
		return err
	}
	if s := c.Query("stage"); s != "" {
		st, err := experiment.ParseStage(s)
		if err != nil {
			return invalid("stage", "%v", err)
		}
		kept := list[:0]
		for _, m := range list {
			if m.Stage == st {
				kept = append(kept, m)
			}
		}
		list = kept
	}
	if list == nil {
		list = []experiment.Metric{}
	}
	return c.JSON(fiber.Map{"metrics": list})
}

func (h *Experiments) createMetric(c *fiber.Ctx) error {
	var m experiment.Metric
	if err := jsonbody.Decode(c.Body(), &m); err != nil {
		return err
	}
	out, err := h.svc.CreateMetric(c.UserContext(), m)
	if err != nil {
		return err
	}
	c.Location("/v1/metrics/" + out.Key)
	return c.Status(fiber.StatusCreated).JSON(out)
}

func (h *Experiments) getMetric(c *fiber.Ctx) error {
	m, err := h.svc.Store().GetMetric(c.UserContext(), param(c, "key"))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (h *Experiments) listLayers(c *fiber.Ctx) error {
	list, err := h.svc.Store().ListLayers(c.UserContext())
	if err != nil {
		return err
	}
	if list == nil {
		list = []experiment.Layer{}
	}
	return c.JSON(fiber.Map{"layers": list})
}

func (h *Experiments) getLayer(c *fiber.Ctx) error {
	l, err := h.svc.Store().GetLayer(c.UserContext(), param(c, "key"))
	if err != nil {
		return err
	}
	return c.JSON(l)
}

func (h *Experiments) putLayer(c *fiber.Ctx) error {
	var l experiment.Layer
	if err := jsonbody.Decode(c.Body(), &l); err != nil {
		return err
	}
	key := param(c, "key")
	if l.Key != "" && l.Key != key {
		return invalid("key", "body key %q does not match the URL (%q)", l.Key, key)
	}
	l.Key = key
	out, err := h.svc.PutLayer(c.UserContext(), l)
	if err != nil {
		return err
	}
	return c.JSON(out)
}
