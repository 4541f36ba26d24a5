package openfeature_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	of "github.com/open-feature/go-sdk/openfeature"

	journeylab "github.com/journeylab/journeylab/sdk/go"
	provider "github.com/journeylab/journeylab/sdk/go/openfeature"
)

// snapshot has a string flag (no payloads), a number flag and a targeted
// flag whose control has no payload.
const snapshot = `{"version":1,"layers":[],"personas":[],"experiments":[
 {"key":"cta-copy","touchpoint":"checkout","coverage":1,"variants":[{"key":"buy-now"},{"key":"pay-securely"}],
  "allocation":{"ranges":null},"overrides":{"qa":"pay-securely"}},
 {"key":"free-shipping","touchpoint":"checkout","coverage":1,"variants":[{"key":"low","payload":49},{"key":"high","payload":79}],
  "allocation":{"ranges":null}},
 {"key":"banner","touchpoint":"home","coverage":1,"targeting":{"device":"mobile"},
  "variants":[{"key":"control"},{"key":"big","payload":{"size":"big"}}],"allocation":{"ranges":null}}]}`

func TestProvider(t *testing.T) {
	var mu sync.Mutex
	exposed := map[string]string{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet {
			_, _ = io.WriteString(w, snapshot)
			return
		}
		var body struct {
			Exposures []struct{ Experiment, Unit_ID, Variant string }
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		mu.Lock()
		for _, x := range body.Exposures {
			exposed[x.Experiment+"/"+x.Unit_ID] = x.Variant
		}
		mu.Unlock()
		_, _ = io.WriteString(w, `{"rejected":0}`)
	}))
	defer srv.Close()
	ctx := context.Background()
	c, err := journeylab.New(ctx, journeylab.Options{BaseURL: srv.URL, RefreshInterval: -1, FlushInterval: time.Hour,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	if err := of.SetNamedProviderAndWait("journeylab-test", provider.New(c)); err != nil {
		t.Fatal(err)
	}
	client := of.NewClient("journeylab-test")
	unitCtx := func(unit string, attrs map[string]any) of.EvaluationContext {
		return of.NewEvaluationContext(unit, attrs)
	}

	t.Run("a flag without payloads is the variant key, as the SDK assigns it", func(t *testing.T) {
		for i := range 50 {
			unit := fmt.Sprint("visitor-", i)
			d, err := client.StringValueDetails(ctx, "cta-copy", "default", unitCtx(unit, nil))
			want, _ := c.Evaluate(unit, "cta-copy", nil)
			if err != nil || d.Value != want.Variant || d.Variant != want.Variant || d.Reason != of.SplitReason {
				t.Fatalf("%s: %+v %v, want %s", unit, d, err, want.Variant)
			}
		}
	})
	t.Run("a number payload decodes into a number flag", func(t *testing.T) {
		d, err := client.IntValueDetails(ctx, "free-shipping", 0, unitCtx("visitor-1", nil))
		if err != nil || (d.Value != 49 && d.Value != 79) || d.FlagMetadata["touchpoint"] != "checkout" {
			t.Fatalf("%+v %v", d, err)
		}
	})
	t.Run("a QA override is a targeting match and is not recorded", func(t *testing.T) {
		d, err := client.StringValueDetails(ctx, "cta-copy", "default", unitCtx("qa", nil))
		if err != nil || d.Value != "pay-securely" || d.Reason != of.TargetingMatchReason {
			t.Fatalf("%+v %v", d, err)
		}
	})
	t.Run("a unit outside the targeting gets the default", func(t *testing.T) {
		d, err := client.ObjectValueDetails(ctx, "banner", "none", unitCtx("visitor-1", map[string]any{"device": "desktop"}))
		if err != nil || d.Value != "none" || d.Reason != of.DefaultReason {
			t.Fatalf("%+v %v", d, err)
		}
	})
	t.Run("errors are the protocol's codes", func(t *testing.T) {
		d, _ := client.StringValueDetails(ctx, "no-such-flag", "default", unitCtx("visitor-1", nil))
		if d.ErrorCode != of.FlagNotFoundCode || d.Value != "default" {
			t.Errorf("unknown flag: %+v", d)
		}
		d, _ = client.StringValueDetails(ctx, "cta-copy", "default", unitCtx("", nil))
		if d.ErrorCode != of.TargetingKeyMissingCode {
			t.Errorf("no targeting key: %+v", d)
		}
		b, _ := client.BooleanValueDetails(ctx, "free-shipping", false, unitCtx("visitor-2", nil))
		if b.ErrorCode != of.TypeMismatchCode || b.Value {
			t.Errorf("number flag read as a boolean: %+v", b)
		}
	})
	t.Run("evaluations record each exposure once", func(t *testing.T) {
		if err := c.Flush(ctx); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		want, _ := c.Evaluate("visitor-7", "cta-copy", nil)
		if exposed["cta-copy/visitor-7"] != want.Variant {
			t.Errorf("visitor-7 exposed to %q, want %q", exposed["cta-copy/visitor-7"], want.Variant)
		}
		if _, ok := exposed["cta-copy/qa"]; ok {
			t.Error("the QA override was recorded")
		}
		if _, ok := exposed["banner/visitor-1"]; ok {
			t.Error("a unit outside the targeting was recorded")
		}
		if got := c.Stats().ExposuresSent; got != 51 {
			t.Errorf("%d exposures sent, want 50 + 1", got)
		}
		if _, ok := exposed["free-shipping/visitor-2"]; ok {
			t.Error("an evaluation that failed with a type mismatch was recorded")
		}
	})
	_ = c.Close(ctx)
}
