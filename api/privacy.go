package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/jsonbody"
	"github.com/journeylab/journeylab/privacy"
)

// UnitEraser erases units on request (privacy.Eraser).
type UnitEraser interface {
	Erase(ctx context.Context, ids []string) (privacy.Erased, error)
}

// Privacy serves erasure requests.
type Privacy struct{ eraser UnitEraser }

// NewPrivacy returns the erasure handlers over e.
func NewPrivacy(e UnitEraser) *Privacy { return &Privacy{eraser: e} }

// Register mounts the routes on r behind the admin scope check.
func (h *Privacy) Register(r fiber.Router, admin fiber.Handler) {
	r.Delete("/units/:unit_id", admin, h.eraseOne)
	r.Post("/units/erase", admin, h.eraseMany)
}

// eraseRequest is the body of the batch form.
type eraseRequest struct {
	UnitIDs []string `json:"unit_ids"`
}

func (h *Privacy) eraseOne(c *fiber.Ctx) error {
	return h.erase(c, []string{param(c, "unit_id")})
}

func (h *Privacy) eraseMany(c *fiber.Ctx) error {
	var in eraseRequest
	if err := jsonbody.Decode(c.Body(), &in); err != nil {
		return err
	}
	return h.erase(c, in.UnitIDs)
}

func (h *Privacy) erase(c *fiber.Ctx, ids []string) error {
	out, err := h.eraser.Erase(c.UserContext(), ids)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"erased": out})
}
