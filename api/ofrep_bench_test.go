package api_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/valyala/fasthttp"
)

// BenchmarkEvaluationOverTheHandler compares, in process (no sockets), an
// OFREP single-flag evaluation with /v1/assign on a touchpoint with 10
// running experiments: what the HTTP layer adds per call on each path.
func BenchmarkEvaluationOverTheHandler(b *testing.B) {
	a := newApp(b)
	for i := range 10 {
		launchJSON(b, a, fmt.Sprintf(`{"key":"cta-%d","name":"CTA","stage":"checkout","touchpoint":"checkout_cta",
		 "variants":[{"key":"control","weight":1,"payload":{"color":"blue"}},{"key":"treatment","weight":1,"payload":{"color":"green"}}],
		 "control":"control","goal_metrics":["conversion"]}`, i))
	}
	handler := a.Server.App().Handler()
	const units = 20000
	cases := []struct {
		name, path string
		body       func(unit string) string
	}{
		{"assign", "/v1/assign", func(u string) string {
			return `{"unit_id":"` + u + `","touchpoint":"checkout_cta","attributes":{"device":"mobile","country":"DE","returning":true}}`
		}},
		{"ofrep-single", "/ofrep/v1/evaluate/flags/cta-0", func(u string) string {
			return `{"context":{"targetingKey":"` + u + `","device":"mobile","country":"DE","returning":true}}`
		}},
		{"ofrep-bulk", "/ofrep/v1/evaluate/flags", func(u string) string {
			return `{"context":{"targetingKey":"` + u + `","touchpoint":"checkout_cta","device":"mobile","country":"DE","returning":true}}`
		}},
	}
	for _, c := range cases {
		bodies := make([][]byte, units)
		for i := range bodies {
			bodies[i] = []byte(c.body("visitor-" + strconv.Itoa(i)))
		}
		b.Run(c.name, func(b *testing.B) {
			var ctx fasthttp.RequestCtx
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				ctx.Request.Reset()
				ctx.Response.Reset()
				ctx.Request.Header.SetMethod("POST")
				ctx.Request.SetRequestURI(c.path)
				ctx.Request.Header.SetContentType("application/json")
				ctx.Request.SetBody(bodies[i%units])
				handler(&ctx)
				if ctx.Response.StatusCode() != 200 {
					b.Fatalf("status %d: %s", ctx.Response.StatusCode(), ctx.Response.Body())
				}
				i++
			}
		})
	}
}
