package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
)

// personaView is a persona as the API shows it: with the experiments
// (archived ones excepted) whose targeting references it.
type personaView struct {
	*experiment.Persona
	UsedBy []string `json:"used_by"`
}

// personaInput is a create or update body; used_by, as read from GET, is
// accepted and ignored so that a client can send back what it read.
type personaInput struct {
	experiment.Persona
	UsedBy []string `json:"used_by"`
}

func (h *Experiments) registerPersonas(r fiber.Router, read, admin fiber.Handler) {
	r.Get("/personas", read, h.listPersonas)
	r.Post("/personas", admin, h.createPersona)
	r.Get("/personas/:key", read, h.getPersona)
	r.Put("/personas/:key", admin, h.updatePersona)
	r.Delete("/personas/:key", admin, h.deletePersona)
	r.Get("/personas/:key/audit", read, h.personaAudit)
}

func (h *Experiments) listPersonas(c *fiber.Ctx) error {
	list, err := h.svc.ListPersonas(c.UserContext())
	if err != nil {
		return err
	}
	if list == nil {
		list = []*experiment.Persona{}
	}
	return c.JSON(fiber.Map{"personas": list})
}

func (h *Experiments) createPersona(c *fiber.Ctx) error {
	var in personaInput
	if err := jsonbody.Decode(c.Body(), &in); err != nil {
		return err
	}
	out, err := h.svc.CreatePersona(c.UserContext(), actor(c), in.Persona)
	if err != nil {
		return err
	}
	c.Location("/v1/personas/" + out.Key)
	return c.Status(fiber.StatusCreated).JSON(personaView{out, []string{}})
}

func (h *Experiments) getPersona(c *fiber.Ctx) error {
	key := param(c, "key")
	p, err := h.svc.GetPersona(c.UserContext(), key)
	if err != nil {
		return err
	}
	users, err := h.svc.PersonaUsers(c.UserContext(), key)
	if err != nil {
		return err
	}
	if users == nil {
		users = []string{}
	}
	return c.JSON(personaView{p, users})
}

func (h *Experiments) updatePersona(c *fiber.Ctx) error {
	var in personaInput
	if err := jsonbody.Decode(c.Body(), &in); err != nil {
		return err
	}
	if in.Version == 0 {
		return invalid("version", "required: send the version you read, so concurrent edits are detected")
	}
	out, err := h.svc.UpdatePersona(c.UserContext(), actor(c), param(c, "key"), in.Persona)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (h *Experiments) deletePersona(c *fiber.Ctx) error {
	if err := h.svc.DeletePersona(c.UserContext(), actor(c), param(c, "key")); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (h *Experiments) personaAudit(c *fiber.Ctx) error {
	entries, err := h.svc.PersonaAudit(c.UserContext(), param(c, "key"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"audit": entries})
}
