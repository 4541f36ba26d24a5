// Package server is journeylab's HTTP layer: the Fiber app, its middleware
// (request ids, structured logs, metrics, CORS, rate limits, body limits,
// API-key scopes), error mapping and the health endpoints. Feature packages
// mount their routes on V1() with the scope checks from Require.
package server

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/cors"
	"github.com/gofiber/fiber/v2/middleware/limiter"
	"github.com/gofiber/fiber/v2/middleware/recover"
	"github.com/gofiber/fiber/v2/middleware/requestid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/valyala/fasthttp/fasthttpadaptor"

	"github.com/journeylab/journeylab/auth"
)

// Options configure the server.
type Options struct {
	BodyLimit int
	// MaxInflightBytes caps the request-body bytes read and held at once
	// across all requests (see body.go); at least BodyLimit. Zero means
	// 16 x BodyLimit.
	MaxInflightBytes int64
	RateLimit        int
	CORSOrigins      []string
	// DevMode turns API-key checks off; every request acts with every scope.
	DevMode  bool
	Verifier *auth.Verifier
	Logger   *slog.Logger
	// Ready checks run on /readyz; any error turns it red (503).
	Ready map[string]func(context.Context) error
}

// Server wraps the Fiber app.
type Server struct {
	app      *fiber.App
	v1       fiber.Router
	ofrep    fiber.Router
	opts     Options
	log      *slog.Logger
	registry *prometheus.Registry
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
	series   sync.Map // routeKey -> *routeSeries
	bodies   *bodyGate
	// draining turns /readyz red before shutdown (see Drain).
	draining atomic.Bool
	// lastWriteFault is when (Unix ns) a request last failed because the
	// store or a journal could not write; /readyz is red for faultWindow
	// after it, since a small probe may still pass on a nearly full disk.
	lastWriteFault atomic.Int64
}

// faultWindow is how long a failed write keeps /readyz red.
const faultWindow = 5 * time.Second

// New builds the app with middleware and the health and metrics endpoints.
func New(opts Options) *Server {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxInflightBytes == 0 {
		opts.MaxInflightBytes = 16 * int64(opts.BodyLimit)
	}
	opts.MaxInflightBytes = max(opts.MaxInflightBytes, int64(opts.BodyLimit))
	s := &Server{opts: opts, log: opts.Logger, registry: prometheus.NewRegistry(), bodies: newBodyGate(opts.BodyLimit, opts.MaxInflightBytes)}
	s.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "journeylab_http_requests_total", Help: "HTTP requests by route, method and status.",
	}, []string{"route", "method", "status"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "journeylab_http_request_seconds", Help: "HTTP request latency by route.",
		Buckets: []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"route", "method"})
	s.registry.MustRegister(s.requests, s.latency)

	s.app = fiber.New(fiber.Config{
		AppName:               "journeylab",
		BodyLimit:             opts.BodyLimit,
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
		// Bodies are read by the gate after the key check (body.go).
		StreamRequestBody: true,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
	})
	s.app.Use(recover.New(recover.Config{EnableStackTrace: true, StackTraceHandler: func(c *fiber.Ctx, e any) {
		s.log.Error("panic in handler", "panic", e, "path", c.Path(), "request_id", c.Locals(requestid.ConfigDefault.ContextKey))
	}}))
	s.app.Use(requestid.New())
	s.app.Use(s.observe)
	s.app.Use(s.bodies.closeUnread)
	if len(opts.CORSOrigins) > 0 {
		s.app.Use(cors.New(cors.Config{
			AllowOrigins: strings.Join(opts.CORSOrigins, ","),
			AllowHeaders: "Content-Type, Authorization, X-API-Key, X-Request-Id, If-None-Match, " + ExposeHeader,
			AllowMethods: "GET,POST,PUT,OPTIONS",
			// Browser code reads ETag for If-None-Match on the next OFREP
			// bulk evaluation, and Retry-After when rate limited.
			ExposeHeaders: "ETag, Retry-After, X-Request-Id",
			MaxAge:        CORSMaxAge,
		}))
	}
	s.app.Get("/healthz", func(c *fiber.Ctx) error { return c.JSON(fiber.Map{"status": "ok"}) })
	s.app.Get("/readyz", s.ready)
	metrics := fasthttpadaptor.NewFastHTTPHandler(promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{}))
	s.app.Get("/metrics", func(c *fiber.Ctx) error { metrics(c.Context()); return nil })

	v1 := s.app.Group("/v1")
	ofrep := s.app.Group("/ofrep/v1")
	if opts.RateLimit > 0 {
		// One budget per client address across both groups: the limiter's
		// default key is the address and its storage is per instance.
		limit := limiter.New(limiter.Config{
			Max: opts.RateLimit, Expiration: time.Second,
			LimitReached: func(c *fiber.Ctx) error {
				// The limiter has set Retry-After already.
				return &Error{Status: fiber.StatusTooManyRequests, Code: "rate_limited", Message: "too many requests; slow down and retry"}
			},
		})
		v1.Use(limit)
		ofrep.Use(limit)
	}
	v1.Get("/whoami", s.whoami)
	s.v1 = v1
	s.ofrep = ofrep
	return s
}

// Drain turns /readyz red (503, "draining") so that load balancers stop
// sending new requests while the server still answers them; the caller
// waits its drain period, then shuts the listener down.
func (s *Server) Drain() { s.draining.Store(true) }

// CORSMaxAge is how long, in seconds, a browser may cache a CORS preflight
// answer (Access-Control-Max-Age): two hours, the most Chromium honours, so
// a single-page app pays the extra OPTIONS round trip once per two hours
// per endpoint instead of before every assign or evaluation call.
const CORSMaxAge = 7200

// ExposeHeader is the request header with which an OFREP single-flag
// evaluation asks to be recorded as an exposure ("true").
const ExposeHeader = "X-Journeylab-Expose"

// OFREP returns the /ofrep/v1 router (OpenFeature Remote Evaluation
// Protocol), rate limited like /v1.
func (s *Server) OFREP() fiber.Router { return s.ofrep }

// whoami tells a client (the dashboard) which scope its key has, so it can
// hide what the key may not do. Any valid key may ask; in dev mode the
// answer is admin.
func (s *Server) whoami(c *fiber.Ctx) error {
	if s.opts.DevMode {
		return c.JSON(fiber.Map{"scope": auth.ScopeAdmin, "actor": "dev-mode", "dev_mode": true})
	}
	scope, actor, err := s.authenticate(c, false)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"scope": scope, "actor": actor, "dev_mode": false})
}

// App returns the Fiber app (for Listen, Test and Shutdown).
func (s *Server) App() *fiber.App { return s.app }

// V1 returns the /v1 router for feature packages to mount routes on.
func (s *Server) V1() fiber.Router { return s.v1 }

// Registry returns the Prometheus registry served at /metrics.
func (s *Server) Registry() *prometheus.Registry { return s.registry }

// routeKey identifies one series pair of the request metrics.
type routeKey struct {
	route, method string
	status        int
}

// routeSeries holds the resolved series of one routeKey.
type routeSeries struct {
	count   prometheus.Counter
	latency prometheus.Observer
}

// routeMetrics returns the series for a request, resolving labels once per
// key: label hashing on every call is measurable on the assignment hot path.
func (s *Server) routeMetrics(route, method string, status int) *routeSeries {
	k := routeKey{route, method, status}
	if m, ok := s.series.Load(k); ok {
		return m.(*routeSeries)
	}
	m := &routeSeries{
		count:   s.requests.WithLabelValues(route, method, strconv.Itoa(status)),
		latency: s.latency.WithLabelValues(route, method),
	}
	actual, _ := s.series.LoadOrStore(k, m)
	return actual.(*routeSeries)
}

// observe records metrics for every request and logs it: errors loudly,
// client mistakes at info, successes at debug (the assign path is too hot to
// log every call at info).
func (s *Server) observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	if err != nil {
		if herr := s.app.ErrorHandler(c, err); herr != nil {
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	status := c.Response().StatusCode()
	elapsed := time.Since(start)
	// The route's own strings, not c.Method()/c.Path(): those alias the
	// request buffer, which fasthttp reuses, and the label must not change
	// under the map and the registry later. Route paths also keep the label
	// count bounded (one per registered route, not per requested URL).
	route := c.Route()
	m := s.routeMetrics(route.Path, route.Method, status)
	m.count.Inc()
	m.latency.Observe(elapsed.Seconds())
	level := slog.LevelDebug
	switch {
	case status >= 500 && route.Path == "/readyz":
		// Not a failed request: readiness reporting a drain or a store
		// fault (which the store's own errors log).
		level = slog.LevelWarn
	case status >= 500:
		level = slog.LevelError
	case status >= 400:
		level = slog.LevelInfo
	}
	if s.log.Enabled(c.UserContext(), level) {
		attrs := []any{"method", c.Method(), "path", c.Path(), "status", status, "duration", elapsed,
			"request_id", c.Locals(requestid.ConfigDefault.ContextKey)}
		if err != nil {
			attrs = append(attrs, "error", err.Error())
		}
		s.log.Log(c.UserContext(), level, "http request", attrs...)
	}
	return nil
}

func (s *Server) ready(c *fiber.Ctx) error {
	if s.draining.Load() {
		c.Set(fiber.HeaderRetryAfter, "5")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "draining"})
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 2*time.Second)
	defer cancel()
	failed := fiber.Map{}
	if at := s.lastWriteFault.Load(); at != 0 {
		if ago := time.Since(time.Unix(0, at)); ago < faultWindow {
			failed["writes"] = "a request failed " + ago.Round(time.Millisecond).String() + " ago because the store or a journal could not write"
		}
	}
	for name, check := range s.opts.Ready {
		if err := check(ctx); err != nil {
			failed[name] = err.Error()
		}
	}
	if len(failed) > 0 {
		c.Set(fiber.HeaderRetryAfter, "5")
		return c.Status(fiber.StatusServiceUnavailable).JSON(fiber.Map{"status": "unavailable", "failed": failed})
	}
	return c.JSON(fiber.Map{"status": "ready"})
}

// Require returns middleware admitting requests whose API key has scope
// need. It checks the key from the headers before the body is read, then
// reads the body under the in-flight cap (body.go).
func (s *Server) Require(need auth.Scope) fiber.Handler { return s.require(need, false) }

// BeaconKeyParam is the query parameter that may carry an sdk key on the
// routes a browser SDK beacons to (see RequireBeacon).
const BeaconKeyParam = "key"

// RequireBeacon is Require(auth.ScopeSDK) for the routes a browser sends
// navigator.sendBeacon requests to (POST /v1/events, POST /v1/exposures):
// a beacon cannot set headers, so without a key header the sdk key may
// come in the query parameter BeaconKeyParam. sdk keys are public (they
// ship in page code and can only assign and record), but no other key
// may travel in a URL, where logs, proxies and histories keep it: one of
// another scope is refused with 403 and logged by id, to be revoked.
// Access logs show the path without the query string.
func (s *Server) RequireBeacon() fiber.Handler { return s.require(auth.ScopeSDK, true) }

func (s *Server) require(need auth.Scope, queryKey bool) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if s.opts.DevMode {
			c.Locals(ActorLocal, "dev-mode")
		} else {
			scope, actor, err := s.authenticate(c, queryKey)
			if err != nil {
				return err
			}
			if !scope.Allows(need) {
				return &Error{Status: fiber.StatusForbidden, Code: "forbidden", Message: "this key has scope " + string(scope) + "; the endpoint needs " + string(need)}
			}
			c.Locals(ActorLocal, actor)
		}
		weight, err := s.bodies.read(c)
		if err != nil {
			return err
		}
		defer s.bodies.done(c, weight)
		return c.Next()
	}
}

// authenticate verifies the request's API key, from "Authorization: Bearer
// <key>" or "X-API-Key: <key>" or, when queryKey allows it and no header
// carries one, from the query parameter BeaconKeyParam (sdk keys only),
// and returns its scope and the actor name recorded in audit entries.
func (s *Server) authenticate(c *fiber.Ctx, queryKey bool) (auth.Scope, string, error) {
	token := c.Get("X-API-Key")
	if token == "" {
		token, _ = strings.CutPrefix(c.Get(fiber.HeaderAuthorization), "Bearer ")
	}
	inURL := false
	if token == "" && queryKey {
		token, inURL = c.Query(BeaconKeyParam), true
	}
	if token == "" {
		msg := "missing API key: send Authorization: Bearer <key> or X-API-Key"
		if c.Query(BeaconKeyParam) != "" {
			msg += " (a key in the URL, ?" + BeaconKeyParam + "=, is accepted only by POST /v1/events and POST /v1/exposures, and only for sdk keys)"
		}
		return "", "", &Error{Status: fiber.StatusUnauthorized, Code: "unauthenticated", Message: msg}
	}
	scope, err := s.opts.Verifier.Verify(c.UserContext(), token)
	if err != nil {
		if errors.Is(err, auth.ErrMalformedKey) || errors.Is(err, auth.ErrUnknownKey) {
			return "", "", &Error{Status: fiber.StatusUnauthorized, Code: "unauthenticated", Message: "invalid API key"}
		}
		return "", "", err
	}
	id, _, _ := auth.Split(token)
	if inURL && scope != auth.ScopeSDK {
		s.log.Warn("a key of scope "+string(scope)+" was sent in a URL, which logs and browser histories may keep: revoke it and create a new one",
			"key_id", id, "scope", scope, "path", c.Path(), "request_id", c.Locals(requestid.ConfigDefault.ContextKey))
		return "", "", &Error{Status: fiber.StatusForbidden, Code: "key_in_url",
			Message: "a key of scope " + string(scope) + " must never be sent in a URL (?" + BeaconKeyParam + "= is for public sdk keys only): revoke key " + id + ", create a new one and send it in the Authorization header"}
	}
	return scope, "key:" + id, nil
}
