package report

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gofiber/fiber/v2"

	"journeylab/experiment"
	"journeylab/server"
)

type fakeCatalog struct {
	experiments map[string]*experiment.Experiment
	layers      map[string]experiment.Layer
}

func (c fakeCatalog) ListExperiments(ctx context.Context, f experiment.Filter) ([]*experiment.Experiment, error) {
	var out []*experiment.Experiment
	for _, e := range c.experiments {
		if f.Layer == "" || e.Layer == f.Layer {
			out = append(out, e)
		}
	}
	return out, nil
}

func (c fakeCatalog) GetLayer(ctx context.Context, key string) (experiment.Layer, error) {
	if l, ok := c.layers[key]; ok {
		return l, nil
	}
	return experiment.Layer{}, fmt.Errorf("layer %q: %w", key, experiment.ErrNotFound)
}

func (c fakeCatalog) GetExperiment(ctx context.Context, key string) (*experiment.Experiment, error) {
	if e, ok := c.experiments[key]; ok {
		return e, nil
	}
	return nil, fmt.Errorf("experiment %q: %w", key, experiment.ErrNotFound)
}

func (c fakeCatalog) ListMetrics(ctx context.Context) ([]experiment.Metric, error) {
	return experiment.BuiltinMetrics(), nil
}

func newTestServer(t *testing.T) *server.Server {
	t.Helper()
	s := server.New(server.Options{DevMode: true, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	e := testExperiment()
	cat := fakeCatalog{experiments: map[string]*experiment.Experiment{e.Key: e}}
	NewHandlers(cat, &fakeSource{units: simulateUnits(7, 1000)}, func() time.Time { return fixedNow }).Register(s.V1(), func(c *fiber.Ctx) error { return c.Next() })
	return s
}

func get(t *testing.T, s *server.Server, path string) (int, http.Header, string) {
	t.Helper()
	resp, err := s.App().Test(httptest.NewRequest(http.MethodGet, path, nil), -1)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func TestHTTPServesTheReportViews(t *testing.T) {
	s := newTestServer(t)
	for _, tc := range []struct {
		name, path, contentType, contains string
	}{
		{"the report is JSON by default", "/v1/experiments/one-page-checkout/report", "application/json", `"stages":[{"stage":"awareness"`},
		{"the report breaks down by a dimension", "/v1/experiments/one-page-checkout/report?dimension=device", "application/json", `"dimension":"device","segments":[{"value":"mobile"`},
		{"the report is CSV on request", "/v1/experiments/one-page-checkout/report?format=csv", "text/csv", "segment,stage,metric,"},
		{"the time series defaults to the goal metrics", "/v1/experiments/one-page-checkout/report/timeseries", "application/json", `"series":[{"metric":"conversion"`},
		{"the time series takes chosen metrics", "/v1/experiments/one-page-checkout/report/timeseries?metric=nps", "application/json", `"series":[{"metric":"nps"`},
		{"the funnel defaults to the experiment's binomial metrics", "/v1/experiments/one-page-checkout/report/funnel", "application/json", `"steps":[{"metric":"add_to_cart_rate"`},
		{"the funnel takes chosen steps", "/v1/experiments/one-page-checkout/report/funnel?funnel=conversion", "application/json", `"steps":[{"metric":"conversion"`},
		{"the power calculator answers", "/v1/power?baseline=0.1&mde=0.01&mde_scale=absolute", "application/json", `"per_arm":14749`},
		{"the power calculator reads percentages and answers a power question", "/v1/power?baseline=5%25&mde=10%25&units_per_arm=20000", "application/json", `"power_achieved":0.61104028327`},
		{"the power calculator answers an MDE question", "/v1/power?baseline=0.05&units_per_arm=31231", "application/json", `"question":"mde"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := get(t, s, tc.path)
			if status != http.StatusOK || !strings.HasPrefix(h.Get("Content-Type"), tc.contentType) || !strings.Contains(body, tc.contains) {
				t.Fatalf("status %d, content type %q, body %.400s", status, h.Get("Content-Type"), body)
			}
		})
	}
}

func TestHTTPRejectsBadRequestsNamingTheParameter(t *testing.T) {
	s := newTestServer(t)
	for _, tc := range []struct {
		name, path string
		status     int
		field      string
	}{
		{"an unknown experiment is 404", "/v1/experiments/nope/report", 404, ""},
		{"an unknown experiment's funnel is 404", "/v1/experiments/nope/report/funnel", 404, ""},
		{"an unknown format is 400", "/v1/experiments/one-page-checkout/report?format=xml", 400, "format"},
		{"a malformed dimension is 400", "/v1/experiments/one-page-checkout/report?dimension=%24where", 400, "dimension"},
		{"a non-binomial funnel step is 400", "/v1/experiments/one-page-checkout/report/funnel?funnel=nps", 400, "funnel"},
		{"a foreign time-series metric is 400", "/v1/experiments/one-page-checkout/report/timeseries?metric=wishlist_rate", 400, "metric"},
		{"a non-numeric power input is 400", "/v1/power?baseline=abc&mde=0.1", 400, "baseline"},
		{"an impossible power input is 400", "/v1/power?baseline=0.1&mde=0.1&alpha=0.7", 400, "alpha"},
		{"an unknown planning method is 400", "/v1/power?baseline=0.1&mde=0.1&method=bayesian", 400, "method"},
		{"a sample of one unit per arm is 400", "/v1/power?baseline=0.1&units_per_arm=1", 400, "units_per_arm"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := get(t, s, tc.path)
			var e struct {
				Error struct{ Code, Message, Field string }
			}
			if err := json.Unmarshal([]byte(body), &e); err != nil {
				t.Fatalf("body %s: %v", body, err)
			}
			if status != tc.status || e.Error.Field != tc.field || e.Error.Message == "" {
				t.Fatalf("status %d, error %+v; want %d naming %q", status, e.Error, tc.status, tc.field)
			}
		})
	}
}
