// Package openfeature is an OpenFeature provider for Go built on the
// journeylab Go SDK: every running experiment is a flag, evaluated locally
// (no request per evaluation), and an evaluation that puts the unit in an
// experiment records its exposure, as the SDK's Variant does.
//
// A flag's value is the variant's payload; in an experiment without
// payloads it is the variant key (a string flag). The evaluation context's
// targeting key is the unit id; its other fields are the targeting
// attributes. Reasons: SPLIT (the hash split or a sticky variant),
// TARGETING_MATCH (a QA override), DEFAULT (the unit is not in the
// experiment: the caller's default applies).
package openfeature

import (
	"context"
	"encoding/json"
	"fmt"

	of "github.com/open-feature/go-sdk/openfeature"

	"github.com/journeylab/journeylab/assign"
	journeylab "github.com/journeylab/journeylab/sdk/go"
)

// Provider resolves flags with a journeylab SDK client.
type Provider struct {
	c *journeylab.Client
}

// New returns a provider on c; closing c stays the caller's job.
func New(c *journeylab.Client) *Provider { return &Provider{c: c} }

// Metadata names the provider.
func (p *Provider) Metadata() of.Metadata { return of.Metadata{Name: "journeylab"} }

// Hooks returns none.
func (p *Provider) Hooks() []of.Hook { return nil }

// BooleanEvaluation resolves a flag whose payloads are booleans.
func (p *Provider) BooleanEvaluation(ctx context.Context, flag string, def bool, fc of.FlattenedContext) of.BoolResolutionDetail {
	v, d := resolve(p, ctx, flag, def, fc)
	return of.BoolResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

// StringEvaluation resolves a flag whose payloads are strings, or an
// experiment without payloads (the value is the variant key).
func (p *Provider) StringEvaluation(ctx context.Context, flag string, def string, fc of.FlattenedContext) of.StringResolutionDetail {
	v, d := resolve(p, ctx, flag, def, fc)
	return of.StringResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

// FloatEvaluation resolves a flag whose payloads are numbers.
func (p *Provider) FloatEvaluation(ctx context.Context, flag string, def float64, fc of.FlattenedContext) of.FloatResolutionDetail {
	v, d := resolve(p, ctx, flag, def, fc)
	return of.FloatResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

// IntEvaluation resolves a flag whose payloads are integers.
func (p *Provider) IntEvaluation(ctx context.Context, flag string, def int64, fc of.FlattenedContext) of.IntResolutionDetail {
	v, d := resolve(p, ctx, flag, def, fc)
	return of.IntResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

// ObjectEvaluation resolves a flag to its payload decoded as JSON (maps,
// slices, float64, string, bool).
func (p *Provider) ObjectEvaluation(ctx context.Context, flag string, def any, fc of.FlattenedContext) of.InterfaceResolutionDetail {
	v, d := resolve(p, ctx, flag, def, fc)
	return of.InterfaceResolutionDetail{Value: v, ProviderResolutionDetail: d}
}

// resolve evaluates flag for the context's unit and decodes the value as T.
func resolve[T any](p *Provider, ctx context.Context, flag string, def T, fc of.FlattenedContext) (T, of.ProviderResolutionDetail) {
	info, ok := p.c.Experiment(flag)
	if !ok {
		return def, failure(of.NewFlagNotFoundResolutionError(fmt.Sprintf("no running experiment %q", flag)))
	}
	unit, _ := fc[of.TargetingKey].(string)
	if unit == "" {
		return def, failure(of.NewTargetingKeyMissingResolutionError("the evaluation context needs a targeting key: the unit id"))
	}
	attrs := make(map[string]any, len(fc))
	for k, v := range fc {
		if k != of.TargetingKey {
			attrs[k] = v
		}
	}
	meta := of.FlagMetadata{"experiment": info.Key, "touchpoint": info.Touchpoint}
	if info.Stage != "" {
		meta["stage"] = info.Stage
	}
	if info.Layer != "" {
		meta["layer"] = info.Layer
	}
	a, in := p.c.Evaluate(unit, flag, attrs)
	if !in {
		return def, of.ProviderResolutionDetail{Reason: of.DefaultReason, FlagMetadata: meta}
	}
	d := of.ProviderResolutionDetail{Reason: of.SplitReason, Variant: a.Variant, FlagMetadata: meta}
	if a.Forced {
		d.Reason = of.TargetingMatchReason
	}
	raw := value(a, info)
	if raw == nil {
		// A variant without a payload where others have one stands for what
		// the code does by default.
		d.Reason = of.DefaultReason
		return def, d
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		d.Reason, d.ResolutionError = of.ErrorReason, of.NewTypeMismatchResolutionError(fmt.Sprintf("variant %q of %q: payload %s is not a %T", a.Variant, flag, raw, def))
		return def, d
	}
	// Recorded only now that the value reaches the caller.
	p.c.Variant(ctx, unit, flag, attrs)
	return v, d
}

// value is the flag value of an assignment: the payload, or the variant key
// in an experiment without payloads (as the server's OFREP answers).
func value(a assign.Assignment, info journeylab.Info) json.RawMessage {
	if len(a.Payload) > 0 {
		return a.Payload
	}
	if !info.Payloads {
		b, _ := json.Marshal(a.Variant)
		return b
	}
	return nil
}

func failure(err of.ResolutionError) of.ProviderResolutionDetail {
	return of.ProviderResolutionDetail{Reason: of.ErrorReason, ResolutionError: err}
}
