package api

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/assign"
	"github.com/journeylab/journeylab/experiment"
	"github.com/journeylab/journeylab/jsonbody"
	"github.com/journeylab/journeylab/server"
	"github.com/journeylab/journeylab/serving"
)

// Assign serves POST and GET /v1/assign, POST /v1/exposures and the SDK
// snapshot, GET /v1/sdk/snapshot.
type Assign struct {
	svc *serving.Service
	// maxSkew bounds how far ahead of the server clock a reported
	// exposure's ts may be.
	maxSkew time.Duration
}

// NewAssign returns the assignment handlers for svc; maxSkew is the clock
// rule of reported exposures (events.max_future_skew).
func NewAssign(svc *serving.Service, maxSkew time.Duration) *Assign {
	return &Assign{svc: svc, maxSkew: maxSkew}
}

// Register mounts the routes on r (the /v1 router); sdk is the scope
// check, and beacon the one of POST /v1/exposures, which a browser SDK
// also reaches with navigator.sendBeacon (server.RequireBeacon).
func (h *Assign) Register(r fiber.Router, sdk, beacon fiber.Handler) {
	r.Post("/assign", sdk, h.post)
	r.Get("/assign", sdk, h.get)
	r.Post("/exposures", beacon, h.exposures)
	r.Get("/sdk/snapshot", sdk, h.snapshot)
}

// exposures answers 200 when every claim was recorded (or was recorded
// before) and 207 when some were rejected; accepted ones are journaled
// before the answer in both cases.
func (h *Assign) exposures(c *fiber.Ctx) error {
	var body struct {
		Exposures []serving.Claim `json:"exposures"`
	}
	if err := jsonbody.Decode(c.Body(), &body); err != nil {
		if singleClaim(c.Body()) {
			return &experiment.ValidationError{Field: "exposures", Message: `this is one exposure on its own: send it in a list, {"exposures": [{"experiment": ..., "unit_id": ..., "variant": ...}]}`}
		}
		return err
	}
	switch {
	case body.Exposures == nil:
		return &experiment.ValidationError{Field: "exposures", Message: `required: a list of {"experiment", "unit_id", "variant"} objects`}
	case len(body.Exposures) > serving.MaxClaims:
		return &experiment.ValidationError{Field: "exposures", Message: fmt.Sprintf("at most %d per request, got %d", serving.MaxClaims, len(body.Exposures))}
	}
	resp, err := h.svc.RecordExposures(body.Exposures, h.maxSkew)
	if err != nil {
		return err
	}
	return c.Status(server.BatchStatus(resp.Rejected)).JSON(resp)
}

// work is the per-request scratch space, pooled so that a request
// allocates little beyond its own strings.
type work struct {
	req serving.Request
	dst []assign.Assignment
	out []byte
}

var workPool = sync.Pool{New: func() any {
	return &work{dst: make([]assign.Assignment, 0, 16), out: make([]byte, 0, 1024)}
}}

func (h *Assign) post(c *fiber.Ctx) error {
	w := workPool.Get().(*work)
	defer w.release()
	if err := w.req.ParseBody(c.Body()); err != nil {
		return err
	}
	return h.respond(c, w)
}

func (h *Assign) get(c *fiber.Ctx) error {
	w := workPool.Get().(*work)
	defer w.release()
	if err := w.req.ParseQuery(c.Request().URI().QueryArgs()); err != nil {
		return err
	}
	return h.respond(c, w)
}

func (h *Assign) respond(c *fiber.Ctx, w *work) error {
	w.dst = h.svc.Answer(&w.req, w.dst[:0])
	w.out = h.svc.AppendTouchpointWarning(serving.AppendResponse(w.out[:0], w.req.Unit(), w.dst), &w.req)
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	// SetBody copies, so w.out can go back to the pool.
	c.Response().SetBody(w.out)
	return nil
}

// maxPooledOut keeps one huge response from pinning its buffer in the pool.
const maxPooledOut = 64 << 10

func (w *work) release() {
	w.req.Reset()
	clear(w.dst) // drop references to payloads of old snapshots
	w.dst = w.dst[:0]
	if cap(w.out) > maxPooledOut {
		w.out = make([]byte, 0, 1024)
	}
	workPool.Put(w)
}

// singleClaim reports whether body is one exposure claim sent without the
// "exposures" list around it, the most common first mistake.
func singleClaim(body []byte) bool {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return false
	}
	_, list := top["exposures"]
	_, exp := top["experiment"]
	_, variant := top["variant"]
	return !list && (exp || variant)
}
