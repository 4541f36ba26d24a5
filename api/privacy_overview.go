package api

import (
	"context"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/privacy"
)

// PrivacyReader says what the deployment keeps about units.
type PrivacyReader interface {
	PrivacyOverview(ctx context.Context) (privacy.Overview, error)
}

// PrivacyOverview serves GET /v1/privacy: the privacy settings in force
// and what the store holds, for the dashboard's privacy page.
type PrivacyOverview struct{ r PrivacyReader }

// NewPrivacyOverview returns the overview handler over r.
func NewPrivacyOverview(r PrivacyReader) *PrivacyOverview { return &PrivacyOverview{r: r} }

// Register mounts the route on r behind the admin scope check.
func (h *PrivacyOverview) Register(r fiber.Router, admin fiber.Handler) {
	r.Get("/privacy", admin, h.get)
}

func (h *PrivacyOverview) get(c *fiber.Ctx) error {
	o, err := h.r.PrivacyOverview(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(o)
}
