package report

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"journeylab/experiment"
)

// Catalog reads experiments, layers and metric definitions
// (experiment.Store does).
type Catalog interface {
	GetExperiment(ctx context.Context, key string) (*experiment.Experiment, error)
	ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error)
	GetLayer(ctx context.Context, key string) (experiment.Layer, error)
	ListMetrics(ctx context.Context) ([]experiment.Metric, error)
}

// Load returns the experiment and every metric definition, keyed by metric
// key. A holdout baseline key (experiment.HoldoutKey) loads the layer's
// baseline as an experiment (experiment.HoldoutExperiment). An unknown
// experiment, or a layer without a baseline, is experiment.ErrNotFound.
func Load(ctx context.Context, cat Catalog, key string) (*experiment.Experiment, map[string]experiment.Metric, error) {
	var e *experiment.Experiment
	var err error
	if layer, ok := experiment.HoldoutLayer(key); ok {
		e, err = experiment.Baseline(ctx, cat, layer)
	} else {
		e, err = cat.GetExperiment(ctx, key)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("report: %w", err)
	}
	list, err := cat.ListMetrics(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list metrics: %w", err)
	}
	metrics := make(map[string]experiment.Metric, len(list))
	for _, m := range list {
		metrics[m.Key] = m
	}
	return e, metrics, nil
}

// Handlers serve the report API under /v1.
type Handlers struct {
	cat Catalog
	src Source
	now func() time.Time
}

// NewHandlers returns the report handlers; now is the clock that stamps reports.
func NewHandlers(cat Catalog, src Source, now func() time.Time) *Handlers {
	if now == nil {
		now = time.Now
	}
	return &Handlers{cat: cat, src: src, now: now}
}

// Register mounts the routes on r behind read, the read-scope check.
func (h *Handlers) Register(r fiber.Router, read fiber.Handler) {
	r.Get("/experiments/:key/report", read, h.report)
	r.Get("/layers/:key/report", read, h.layerReport)
	r.Get("/experiments/:key/report/timeseries", read, h.timeseries)
	r.Get("/experiments/:key/report/funnel", read, h.funnel)
	r.Get("/power", read, h.power)
}

// key returns the decoded experiment key path parameter.
func key(c *fiber.Ctx) string {
	v := c.Params("key")
	if u, err := url.PathUnescape(v); err == nil {
		return u
	}
	return v
}

func (h *Handlers) report(c *fiber.Ctx) error { return h.serveReport(c, key(c)) }

// layerReport serves the report of the layer's holdout baseline.
func (h *Handlers) layerReport(c *fiber.Ctx) error {
	return h.serveReport(c, experiment.HoldoutKey(key(c)))
}

func (h *Handlers) serveReport(c *fiber.Ctx, key string) error {
	format, err := ParseFormat(c.Query("format"))
	if err != nil {
		return err
	}
	dim, err := ParseDimension(c.Query("dimension"))
	if err != nil {
		return err
	}
	e, metrics, err := Load(c.UserContext(), h.cat, key)
	if err != nil {
		return err
	}
	r, err := Build(c.UserContext(), h.src, e, metrics, Options{Dimension: dim, Now: h.now()})
	if err != nil {
		return err
	}
	if format == FormatCSV {
		c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
		c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+strings.ReplaceAll(e.Key, ":", "-")+`-report.csv"`)
		return WriteCSV(c.Response().BodyWriter(), r)
	}
	return c.JSON(r)
}

func (h *Handlers) timeseries(c *fiber.Ctx) error {
	e, metrics, err := Load(c.UserContext(), h.cat, key(c))
	if err != nil {
		return err
	}
	list, err := ParseSeriesMetrics(c.Query("metric"), e, metrics)
	if err != nil {
		return err
	}
	ts, err := BuildTimeSeries(c.UserContext(), h.src, e, list, h.now())
	if err != nil {
		return err
	}
	return c.JSON(ts)
}

func (h *Handlers) funnel(c *fiber.Ctx) error {
	e, metrics, err := Load(c.UserContext(), h.cat, key(c))
	if err != nil {
		return err
	}
	steps, err := ParseFunnel(c.Query("funnel"), e, metrics)
	if err != nil {
		return err
	}
	f, err := BuildFunnel(c.UserContext(), h.src, e, steps, h.now())
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (h *Handlers) power(c *fiber.Ctx) error {
	in, err := ParsePowerQuery(func(k string) string { return c.Query(k) })
	if err != nil {
		return err
	}
	plan, err := PlanSampleSize(in)
	if err != nil {
		return err
	}
	return c.JSON(plan)
}
