package api_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/journeylab/journeylab/app"
	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/config"
	"github.com/journeylab/journeylab/experiment"
)

// BenchmarkAssignHandler is one POST /v1/assign through the whole Fiber
// stack (request id, metrics, scope check, parse, assign ten experiments,
// encode), without the network: for returning visitors (nothing new to
// record) and for new visitors (ten first exposures journaled per request;
// the merger runs beside it, as in the server).
//
//	go test ./api -run '^$' -bench AssignHandler -benchmem
func BenchmarkAssignHandler(b *testing.B) {
	a := launchTen(b)
	b.Run("returning visitors", func(b *testing.B) { benchAssign(b, a, false) })
	b.Run("new visitors", func(b *testing.B) { benchAssign(b, a, true) })
}

// launchTen is an app serving the ten experiments of bench/http-assign.sh
// on the touchpoint checkout_cta.
func launchTen(b *testing.B, opts ...func(*config.Config)) *app.App {
	a := newApp(b, opts...)
	if _, err := a.Experiment.PutLayer(context.Background(), experiment.Layer{Key: "checkout", HoldoutShare: 0.05}); err != nil {
		b.Fatal(err)
	}
	ten := []*experiment.Experiment{
		{Key: "mobile-sticky-bar", Targeting: assign.Condition(`{"device": "mobile"}`)},
		{Key: "dach-payment", Targeting: assign.Condition(`{"country": {"$in": ["DE", "AT", "CH"]}}`)},
		{Key: "layer-a", Layer: "checkout", LayerShare: 0.45},
		{Key: "layer-b", Layer: "checkout", LayerShare: 0.45},
	}
	for i := range 6 {
		ten = append(ten, &experiment.Experiment{Key: fmt.Sprintf("cta-%d", i), Variants: []experiment.Variant{
			{Key: "control", Weight: 1, Payload: []byte(`{"color":"blue"}`)}, {Key: "treatment", Weight: 1, Payload: []byte(`{"color":"green"}`)}}})
	}
	for _, e := range ten {
		e.Name, e.Touchpoint, e.GoalMetrics = e.Key, "checkout_cta", []string{"conversion"}
		launch(b, a, e)
	}
	return a
}

func benchAssign(b *testing.B, a *app.App, fresh bool) {
	body := func(i int) []byte {
		return fmt.Appendf(nil, `{"unit_id":"3f6c2a1e-9b7d-4c11-8e0f-%012d","touchpoint":"checkout_cta","attributes":{"device":"mobile","country":"DE","channel":"email","returning":true}}`, i)
	}
	bodies := make([][]byte, 4096)
	for i := range bodies {
		bodies[i] = body(i)
	}
	h := a.Server.App().Handler()
	var ctx fasthttp.RequestCtx
	post := func(body []byte) {
		ctx.Request.Reset()
		ctx.Response.Reset()
		ctx.Request.Header.SetMethod(fasthttp.MethodPost)
		ctx.Request.SetRequestURI("/v1/assign")
		ctx.Request.Header.SetContentType("application/json")
		ctx.Request.SetBody(body)
		h(&ctx)
		if ctx.Response.StatusCode() != 200 {
			b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
		}
	}
	for _, body := range bodies { // first exposures, out of the measurement
		post(body)
	}
	if fresh {
		// Bodies of new visitors, formatted before the clock starts.
		bodies = make([][]byte, b.N)
		for i := range bodies {
			bodies[i] = body(1_000_000 + i)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if fresh {
			post(bodies[i])
		} else {
			post(bodies[i&4095])
		}
	}
}
