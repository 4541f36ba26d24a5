package api_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/events"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/privacy"
)

// pseudonymKey and the pseudonym of customer-4711 under it, computed with
// openssl (see privacy/pseudonym_test.go).
const (
	pseudonymKey  = "a-pseudonym-key-16"
	pseudonym4711 = "VCC2pzxSUdkavHuOEmew1Q"
)

func pseudonymised(c *config.Config) {
	c.PrivacyPseudonymise, c.PrivacyPseudonymKey = true, pseudonymKey
}

func TestPseudonymisedUnitIDs(t *testing.T) {
	ctx := context.Background()
	a := newApp(t, pseudonymised)
	plain := newApp(t)
	exp := &experiment.Experiment{Key: "pseudo", Name: "Pseudo", Touchpoint: "checkout_flow", GoalMetrics: []string{"conversion"}}
	for _, x := range []*app.App{a, plain} {
		e := *exp
		launch(t, x, &e)
	}
	assignBody := `{"unit_id":"customer-4711","touchpoint":"checkout_flow","attributes":{"device":"mobile"}}`
	got := must(t, a, 200, "POST", "/v1/assign", assignBody)
	want := must(t, plain, 200, "POST", "/v1/assign", assignBody)
	t.Run("assignment is the same as without pseudonyms", func(t *testing.T) {
		if string(got.raw) != string(want.raw) {
			t.Errorf("with pseudonyms %s, without %s", got.raw, want.raw)
		}
	})
	must(t, a, 200, "POST", "/v1/events", `{"events":[{"event_id":"o1","unit_id":"customer-4711","event":"order_completed","value":5}]}`)
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	t.Run("exposures and events are stored under the pseudonym only", func(t *testing.T) {
		var units []string
		if err := a.Store.ExposureVariants(ctx, "pseudo", func(u, _ string) error { units = append(units, u); return nil }); err != nil {
			t.Fatal(err)
		}
		if len(units) != 1 || units[0] != pseudonym4711 {
			t.Errorf("exposed units %v, want [%s]", units, pseudonym4711)
		}
		stored, err := a.Store.StoredEvents(ctx, []events.Key{{Unit: pseudonym4711, ID: "o1"}, {Unit: "customer-4711", ID: "o1"}})
		if err != nil || !stored[0] || stored[1] {
			t.Errorf("stored %v, %v; want the pseudonym's event only", stored, err)
		}
	})
	t.Run("the report attributes the event to the exposure", func(t *testing.T) {
		r := must(t, a, 200, "GET", "/v1/experiments/pseudo/report", "")
		if !strings.Contains(string(r.raw), `"units":1`) {
			t.Errorf("report: %.600s", r.raw)
		}
	})
	t.Run("the overview says ids are pseudonymised", func(t *testing.T) {
		r := must(t, a, 200, "GET", "/v1/privacy", "")
		if r.body["pseudonymised_units"] != true || r.body["unit_ids"] != "hmac-sha256-128:4120ed001ea8ed4a" {
			t.Errorf("overview %s", r.raw)
		}
	})
	t.Run("erasure by the raw id erases the pseudonym's records", func(t *testing.T) {
		r := must(t, a, 200, "DELETE", "/v1/units/customer-4711", "")
		e, _ := r.body["erased"].(map[string]any)
		if e["exposures"] != 1.0 || e["events"] != 1.0 {
			t.Errorf("erased %s, want its exposure and event", r.raw)
		}
	})
}

func TestPseudonymisationRefusesToStart(t *testing.T) {
	ctx := context.Background()
	load := func(dir string, pseudo bool, key string) error {
		cfg, err := config.Load(config.New(""))
		if err != nil {
			t.Fatal(err)
		}
		cfg.DataDir, cfg.DevMode, cfg.PrivacyPseudonymise, cfg.PrivacyPseudonymKey = dir, true, pseudo, key
		a, err := app.New(ctx, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
		if err == nil {
			err = a.Close(ctx)
		}
		return err
	}
	t.Run("without a key", func(t *testing.T) {
		var ve *experiment.ValidationError
		if err := load(t.TempDir(), true, ""); !errors.As(err, &ve) || ve.Field != "privacy.pseudonym_key" {
			t.Errorf("err %v, want a validation error on privacy.pseudonym_key", err)
		}
	})
	t.Run("on a store that holds raw ids, and the reverse", func(t *testing.T) {
		raw := newApp(t)
		must(t, raw, 200, "POST", "/v1/events", `{"events":[{"event_id":"o1","unit_id":"customer-4711","event":"order_completed","value":5}]}`)
		dir := raw.Config.DataDir
		if err := raw.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := load(dir, true, pseudonymKey); !errors.Is(err, privacy.ErrUnitIDMode) {
			t.Errorf("pseudonyms on raw ids: %v, want ErrUnitIDMode", err)
		}
		if err := load(dir, false, ""); err != nil {
			t.Errorf("raw ids again: %v", err)
		}
		pseudo := t.TempDir()
		a := newApp(t, pseudonymised, func(c *config.Config) { c.DataDir = pseudo })
		must(t, a, 200, "POST", "/v1/events", `{"events":[{"event_id":"o1","unit_id":"customer-4711","event":"order_completed","value":5}]}`)
		if err := a.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if err := load(pseudo, false, ""); !errors.Is(err, privacy.ErrUnitIDMode) {
			t.Errorf("raw ids on pseudonyms: %v, want ErrUnitIDMode", err)
		}
		if err := load(pseudo, true, "a-rotated-key-of-16-chars"); !errors.Is(err, privacy.ErrUnitIDMode) {
			t.Errorf("a rotated key: %v, want ErrUnitIDMode", err)
		}
	})
}

func TestPrivacyOverview(t *testing.T) {
	a := newApp(t, func(c *config.Config) { c.PrivacyAttributes = []string{"device"} })
	must(t, a, 200, "POST", "/v1/events", `{"events":[{"event_id":"o1","unit_id":"u1","event":"order_completed","value":5,"ts":"2026-01-02T03:04:05Z"}]}`)
	if err := a.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	r := must(t, a, 200, "GET", "/v1/privacy", "")
	stored, _ := r.body["stored"].(map[string]any)
	for k, want := range map[string]any{"pseudonymised_units": false, "unit_ids": "raw", "ip_addresses": false, "user_agents": false,
		"event_retention_days": 0.0, "exposure_retention_days": 0.0, "next_retention_run": nil} {
		if r.body[k] != want {
			t.Errorf("%s = %v, want %v", k, r.body[k], want)
		}
	}
	if attrs, _ := r.body["stored_attributes"].([]any); len(attrs) != 1 || attrs[0] != "device" {
		t.Errorf("stored_attributes %v", r.body["stored_attributes"])
	}
	if stored["events"] != 1.0 || stored["oldest_event"] != "2026-01-02T03:04:05Z" || stored["oldest_exposure"] != nil {
		t.Errorf("stored %v", stored)
	}
}
