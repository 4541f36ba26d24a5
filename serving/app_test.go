package serving_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/store/sqlite"
)

// TestAppFlushesExposuresOnClose checks the wiring in app.New: /v1/assign
// is served, and closing the app merges journaled exposures before the store
// closes.
func TestAppFlushesExposuresOnClose(t *testing.T) {
	ctx := context.Background()
	cfg, err := config.Load(config.New(""))
	if err != nil {
		t.Fatal(err)
	}
	cfg.DataDir, cfg.DevMode = t.TempDir(), true
	cfg.FlushInterval = time.Hour // nothing is written before Close
	a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	defer func() {
		if !closed {
			_ = a.Close(ctx)
		}
	}()
	e := &experiment.Experiment{
		Key: "cta", Name: "CTA", Stage: experiment.StageCheckout, Touchpoint: "checkout_cta",
		Variants:    []experiment.Variant{{Key: "control", Weight: 1}, {Key: "green", Weight: 1}},
		GoalMetrics: []string{"conversion"},
	}
	if _, err := a.Experiment.Create(ctx, "test", e); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Experiment.Transition(ctx, "test", "cta", experiment.ActionLaunch); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Serving.Refresh(ctx); err != nil {
		t.Fatal(err)
	}
	const n = 50
	for i := range n {
		body := `{"unit_id":"visitor-` + string(rune('a'+i%26)) + strings.Repeat("x", i/26) + `","touchpoint":"checkout_cta"}`
		resp, err := a.Server.App().Test(httptest.NewRequest(http.MethodPost, "/v1/assign", strings.NewReader(body)), -1)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(out), `"experiment":"cta"`) {
			t.Fatalf("POST /v1/assign = %d %s", resp.StatusCode, out)
		}
	}
	if err := a.Close(ctx); err != nil {
		t.Fatal(err)
	}
	closed = true

	st, err := sqlite.Open(ctx, cfg.DataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	stored := 0
	if err := st.ExposureVariants(ctx, "cta", func(unit, variant string) error {
		stored++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if stored != n {
		t.Errorf("exposures stored after Close = %d, want %d", stored, n)
	}
}
