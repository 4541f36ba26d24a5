package api

import (
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/report"
)

// ExposureDays serves the lift by days since exposure under /v1.
type ExposureDays struct {
	cat report.Catalog
	src outcomes.DayStore
	now func() time.Time
}

// NewExposureDays returns the handler; now is the clock that decides which
// units' days have ended.
func NewExposureDays(cat report.Catalog, src outcomes.DayStore, now func() time.Time) *ExposureDays {
	if now == nil {
		now = time.Now
	}
	return &ExposureDays{cat: cat, src: src, now: now}
}

// Register mounts the route on r behind read, the read-scope check.
func (h *ExposureDays) Register(r fiber.Router, read fiber.Handler) {
	r.Get("/experiments/:key/report/days", read, h.days)
}

func (h *ExposureDays) days(c *fiber.Ctx) error {
	opts, err := report.ParseExposureDaysOptions(c.Query("view"), c.Query("days"))
	if err != nil {
		return err
	}
	e, metrics, err := report.Load(c.UserContext(), h.cat, param(c, "key"))
	if err != nil {
		return err
	}
	list, err := report.ParseSeriesMetrics(c.Query("metric"), e, metrics)
	if err != nil {
		return err
	}
	opts.Now = h.now()
	d, err := report.BuildExposureDays(c.UserContext(), h.src, e, list, opts)
	if err != nil {
		return err
	}
	return c.JSON(d)
}
