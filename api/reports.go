package api

import (
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/outcomes"
	"github.com/journeylab/journeylab/report"
)

// Reports serves the report API under /v1.
type Reports struct {
	cat  report.Catalog
	src  report.Source
	days outcomes.DayStore
	now  func() time.Time
}

// NewReports returns the report handlers; days is where the lift by days
// since exposure reads exposures and raw events, and now is the clock that
// stamps reports and decides which units' days have ended.
func NewReports(cat report.Catalog, src report.Source, days outcomes.DayStore, now func() time.Time) *Reports {
	if now == nil {
		now = time.Now
	}
	return &Reports{cat: cat, src: src, days: days, now: now}
}

// Register mounts the routes on r behind read, the read-scope check.
func (h *Reports) Register(r fiber.Router, read fiber.Handler) {
	r.Get("/experiments/:key/report", read, h.report)
	r.Get("/layers/:key/report", read, h.layerReport)
	r.Get("/experiments/:key/report/timeseries", read, h.timeseries)
	r.Get("/experiments/:key/report/funnel", read, h.funnel)
	r.Get("/experiments/:key/report/days", read, h.exposureDays)
	r.Get("/power", read, h.power)
}

func (h *Reports) report(c *fiber.Ctx) error { return h.serveReport(c, param(c, "key")) }

// layerReport serves the report of the layer's holdout baseline.
func (h *Reports) layerReport(c *fiber.Ctx) error {
	return h.serveReport(c, experiment.HoldoutKey(param(c, "key")))
}

func (h *Reports) serveReport(c *fiber.Ctx, key string) error {
	format, err := report.ParseFormat(c.Query("format"))
	if err != nil {
		return err
	}
	dim, err := report.ParseDimension(c.Query("dimension"))
	if err != nil {
		return err
	}
	e, metrics, err := report.Load(c.UserContext(), h.cat, key)
	if err != nil {
		return err
	}
	r, err := report.Build(c.UserContext(), h.src, e, metrics, report.Options{Dimension: dim, Now: h.now()})
	if err != nil {
		return err
	}
	if format == report.FormatCSV {
		// CSV has no place for them: each warning is a header line.
		for _, w := range r.Warnings {
			c.Response().Header.Add("X-Journeylab-Warning", w.Code+": "+w.Message)
		}
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.ReplaceAll(e.Key, ":", "-")+`-report.csv"`)
		return report.WriteCSV(c.Response().BodyWriter(), r)
	}
	return c.JSON(r)
}

// seriesMetrics loads the experiment of the path and the KPIs its
// ?metric= names (the goal KPIs when empty), for the per-KPI series routes.
func (h *Reports) seriesMetrics(c *fiber.Ctx) (*experiment.Experiment, []experiment.Metric, error) {
	e, metrics, err := report.Load(c.UserContext(), h.cat, param(c, "key"))
	if err != nil {
		return nil, nil, err
	}
	list, err := report.ParseSeriesMetrics(c.Query("metric"), e, metrics)
	return e, list, err
}

func (h *Reports) timeseries(c *fiber.Ctx) error {
	e, list, err := h.seriesMetrics(c)
	if err != nil {
		return err
	}
	ts, err := report.BuildTimeSeries(c.UserContext(), h.src, e, list, h.now())
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (h *Reports) funnel(c *fiber.Ctx) error {
	e, metrics, err := report.Load(c.UserContext(), h.cat, param(c, "key"))
	if err != nil {
		return err
	}
	steps, err := report.ParseFunnel(c.Query("funnel"), e, metrics)
	if err != nil {
		return err
	}
	f, err := report.BuildFunnel(c.UserContext(), h.src, e, steps, h.now())
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (h *Reports) power(c *fiber.Ctx) error {
	in, err := report.ParsePowerQuery(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	plan, err := report.PlanSampleSize(in)
	if err != nil {
		return err
	}
	return c.JSON(plan)
}

// exposureDays serves the lift by days since exposure.
func (h *Reports) exposureDays(c *fiber.Ctx) error {
	opts, err := report.ParseExposureDaysOptions(c.Query("view"), c.Query("days"))
	if err != nil {
		return err
	}
	e, list, err := h.seriesMetrics(c)
	if err != nil {
		return err
	}
	opts.Now = h.now()
	d, err := report.BuildExposureDays(c.UserContext(), h.days, e, list, opts)
	if err != nil {
		return err
	}
	return c.JSON(d)
}
