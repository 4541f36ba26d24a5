package clienttest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/open-feature/go-sdk-contrib/providers/ofrep"
	"github.com/open-feature/go-sdk/openfeature"

	"github.com/journeylab/journeylab/auth"
)

// checkout is an experiment with three variants (one with a payload), 80%
// coverage, targeting on device and a QA override: every reason and both
// value shapes occur among 1000 units.
const checkout = `{"key":"one-page-checkout","name":"One-page checkout","stage":"checkout","touchpoint":"checkout",
 "variants":[{"key":"control","weight":1},{"key":"one-page","weight":1,"payload":{"steps":1}},{"key":"express","weight":1}],
 "control":"control","coverage":0.8,"goal_metrics":["conversion"],
 "targeting":{"attr":"device","op":"neq","value":"tv"},"overrides":{"unit-13":"express"}}`

func TestOpenFeatureGoSDKGetsTheAssignVariant(t *testing.T) {
	s := start(t)
	s.launch(t, "one-page-checkout", checkout)

	provider := ofrep.NewProvider(s.url, ofrep.WithBearerToken(s.keys[auth.ScopeSDK]))
	if err := openfeature.SetNamedProviderAndWait(t.Name(), provider); err != nil {
		t.Fatal(err)
	}
	client := openfeature.NewClient(t.Name())
	ctx := context.Background()

	reasons := map[openfeature.Reason]int{}
	for i := range 1000 {
		unit := fmt.Sprintf("unit-%d", i)
		device := []string{"mobile", "desktop", "tv"}[i%3]
		details, err := client.ObjectValueDetails(ctx, "one-page-checkout", "default",
			openfeature.NewEvaluationContext(unit, map[string]any{"device": device}))
		if err != nil {
			t.Fatalf("%s: %v", unit, err)
		}
		var as struct {
			Assignments []struct {
				Experiment string          `json:"experiment"`
				Variant    string          `json:"variant"`
				Payload    json.RawMessage `json:"payload"`
			} `json:"assignments"`
		}
		body := fmt.Sprintf(`{"unit_id":%q,"touchpoint":"checkout","attributes":{"device":%q}}`, unit, device)
		if err := json.Unmarshal(s.mustCall(t, auth.ScopeSDK, 200, "POST", "/v1/assign", body), &as); err != nil {
			t.Fatal(err)
		}
		want := ""
		for _, a := range as.Assignments {
			if a.Experiment == "one-page-checkout" {
				want = a.Variant
			}
		}
		if details.Variant != want {
			t.Fatalf("%s (%s): the OpenFeature SDK got variant %q, /v1/assign %q", unit, device, details.Variant, want)
		}
		reasons[details.Reason]++
		switch {
		case want == "":
			if details.Reason != openfeature.DefaultReason || details.Value != nil {
				t.Fatalf("%s outside the experiment: reason %s, value %v; want DEFAULT and no value", unit, details.Reason, details.Value)
			}
		case want == "one-page":
			if m, ok := details.Value.(map[string]any); !ok || m["steps"] != 1.0 {
				t.Fatalf("%s: value %#v, want the payload {steps: 1}", unit, details.Value)
			}
		default:
			// Beside a variant with a payload, one without has no value:
			// the application's default applies.
			if details.Value != nil {
				t.Fatalf("%s: value %#v for %s, which has no payload; want none", unit, details.Value, want)
			}
		}
		if md := details.FlagMetadata; md["experiment"] != "one-page-checkout" || md["stage"] != "checkout" || md["touchpoint"] != "checkout" {
			t.Fatalf("%s: flag metadata %v", unit, md)
		}
	}
	if reasons[openfeature.TargetingMatchReason] != 1 || reasons[openfeature.SplitReason] < 400 || reasons[openfeature.DefaultReason] < 300 {
		t.Fatalf("reasons %v: want one TARGETING_MATCH (the override), splits and defaults", reasons)
	}

	t.Run("a typed evaluation of an unknown flag returns the default with FLAG_NOT_FOUND", func(t *testing.T) {
		d, err := client.StringValueDetails(ctx, "no-such-flag", "fallback", openfeature.NewEvaluationContext("unit-1", nil))
		if err == nil || d.Value != "fallback" || d.ErrorCode != openfeature.FlagNotFoundCode {
			t.Fatalf("value %q, error code %q, err %v", d.Value, d.ErrorCode, err)
		}
	})
	t.Run("a missing targeting key is reported as such", func(t *testing.T) {
		d, err := client.StringValueDetails(ctx, "one-page-checkout", "fallback", openfeature.NewTargetlessEvaluationContext(nil))
		if err == nil || d.ErrorCode != openfeature.TargetingKeyMissingCode {
			t.Fatalf("error code %q, err %v", d.ErrorCode, err)
		}
	})
	t.Run("in an experiment without payloads a string evaluation gets the variant key", func(t *testing.T) {
		s.launch(t, "button-copy", `{"key":"button-copy","name":"Button copy","stage":"checkout","touchpoint":"checkout",
		 "variants":[{"key":"buy","weight":1},{"key":"pay-now","weight":1}],"control":"buy","goal_metrics":["conversion"]}`)
		for _, unit := range []string{"unit-1", "unit-2", "unit-3", "unit-4"} {
			d, err := client.StringValueDetails(ctx, "button-copy", "fallback", openfeature.NewEvaluationContext(unit, nil))
			if err != nil || d.Value != d.Variant || (d.Value != "buy" && d.Value != "pay-now") {
				t.Fatalf("%s: value %q, variant %q, err %v", unit, d.Value, d.Variant, err)
			}
		}
	})
}
