// Command ceiling serves a fixed small JSON response on 127.0.0.1 through
// one of the HTTP stacks journeylab could sit on, so that wrk can measure
// what the stack alone sustains on this machine: the upper bound of any
// endpoint built on it, /v1/assign included.
//
//	go run ./bench/ceiling -stack fiber -listen 127.0.0.1:18090 &
//	wrk -t1 -c64 -d10s --latency http://127.0.0.1:18090/
//
// bench/ceiling.sh runs every stack in turn.
package main

import (
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// body is about the size of an /v1/assign response for one experiment.
var body = []byte(`{"unit_id":"0b2c1a4e-9b7d-4c11-8e0f-000000012345","assignments":[{"experiment":"checkout_cta","variant":"treatment","payload":{"color":"green"}}]}`)

func main() {
	stack := flag.String("stack", "fiber", "HTTP stack: fiber, fasthttp or nethttp")
	listen := flag.String("listen", "127.0.0.1:18090", "address; only 127.0.0.1 is accepted")
	flag.Parse()
	if !strings.HasPrefix(*listen, "127.0.0.1:") {
		fmt.Fprintln(os.Stderr, "ceiling only listens on 127.0.0.1")
		os.Exit(2)
	}
	switch *stack {
	case "fiber":
		app := fiber.New(fiber.Config{DisableStartupMessage: true})
		app.All("/*", func(c *fiber.Ctx) error {
			c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
			return c.Send(body)
		})
		log.Fatal(app.Listen(*listen))
	case "fasthttp":
		log.Fatal(fasthttp.ListenAndServe(*listen, func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("application/json")
			ctx.SetBody(body)
		}))
	case "nethttp":
		log.Fatal(http.ListenAndServe(*listen, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body)
		})))
	default:
		fmt.Fprintf(os.Stderr, "unknown -stack %q: want fiber, fasthttp or nethttp\n", *stack)
		os.Exit(2)
	}
}
