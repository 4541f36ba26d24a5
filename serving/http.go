package serving

import (
	"fmt"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/gofiber/fiber/v2"

	"journeylab/assign"
	"journeylab/experiment"
	"journeylab/jsonbody"
)

// Handlers serves POST and GET /v1/assign and POST /v1/exposures.
type Handlers struct {
	svc *Service
	// maxSkew bounds how far ahead of the server clock a reported
	// exposure's ts may be.
	maxSkew time.Duration
}

// NewHandlers returns the assign handlers for svc; maxSkew is the clock
// rule of reported exposures (events.max_future_skew).
func NewHandlers(svc *Service, maxSkew time.Duration) *Handlers {
	return &Handlers{svc: svc, maxSkew: maxSkew}
}

// Register mounts the routes on r (the /v1 router); sdk is the scope check.
func (h *Handlers) Register(r fiber.Router, sdk fiber.Handler) {
	r.Post("/assign", sdk, h.post)
	r.Get("/assign", sdk, h.get)
	r.Post("/exposures", sdk, h.exposures)
}

// exposures answers 200 when every claim was recorded (or was recorded
// before) and 207 when some were rejected; accepted ones are journaled
// before the answer in both cases.
func (h *Handlers) exposures(c *fiber.Ctx) error {
	var body struct {
		Exposures []Claim `json:"exposures"`
	}
	if err := jsonbody.Decode(c.Body(), &body); err != nil {
		return err
	}
	switch {
	case body.Exposures == nil:
		return &experiment.ValidationError{Field: "exposures", Message: `required: a list of {"experiment", "unit_id", "variant"} objects`}
	case len(body.Exposures) > MaxClaims:
		return &experiment.ValidationError{Field: "exposures", Message: fmt.Sprintf("at most %d per request, got %d", MaxClaims, len(body.Exposures))}
	}
	resp, err := h.svc.RecordExposures(body.Exposures, h.maxSkew)
	if err != nil {
		return err
	}
	status := fiber.StatusOK
	if resp.Rejected > 0 {
		status = fiber.StatusMultiStatus
	}
	return c.Status(status).JSON(resp)
}

// work is the per-request scratch space, pooled so that a request
// allocates little beyond its own strings.
type work struct {
	req request
	dst []assign.Assignment
	out []byte
}

var workPool = sync.Pool{New: func() any {
	return &work{dst: make([]assign.Assignment, 0, 16), out: make([]byte, 0, 1024)}
}}

func (h *Handlers) post(c *fiber.Ctx) error {
	w := workPool.Get().(*work)
	defer w.release()
	if err := parseBody(c.Body(), &w.req); err != nil {
		return err
	}
	return h.respond(c, w)
}

func (h *Handlers) get(c *fiber.Ctx) error {
	w := workPool.Get().(*work)
	defer w.release()
	if err := parseQuery(c.Request().URI().QueryArgs(), &w.req); err != nil {
		return err
	}
	return h.respond(c, w)
}

func (h *Handlers) respond(c *fiber.Ctx, w *work) error {
	if w.req.records() {
		w.dst = h.svc.Assign(w.req.unit, w.req.touchpoint, w.req.attrs, w.dst[:0])
	} else {
		w.dst = h.svc.Evaluate(w.req.unit, w.req.touchpoint, w.req.attrs, w.dst[:0])
	}
	w.out = appendResponse(w.out[:0], w.req.unit, w.dst)
	c.Response().Header.SetContentType(fiber.MIMEApplicationJSON)
	// SetBody copies, so w.out can go back to the pool.
	c.Response().SetBody(w.out)
	return nil
}

// maxPooledOut keeps one huge response from pinning its buffer in the pool.
const maxPooledOut = 64 << 10

func (w *work) release() {
	w.req.reset()
	clear(w.dst) // drop references to payloads of old snapshots
	w.dst = w.dst[:0]
	if cap(w.out) > maxPooledOut {
		w.out = make([]byte, 0, 1024)
	}
	workPool.Put(w)
}

// appendResponse writes the response body:
//
//	{"unit_id":"u-1","assignments":[{"experiment":"e","variant":"v","payload":{…},"stage":"checkout","touchpoint":"checkout-cta"}],"holdouts":["layer"]}
//
// by hand, because it is the hottest serialisation in the service and its
// shape is fixed. payload is null when the variant has none; "forced":true
// marks a QA override.
func appendResponse(b []byte, unit string, as []assign.Assignment) []byte {
	b = append(b, `{"unit_id":`...)
	b = appendJSONString(b, unit)
	b = append(b, `,"assignments":[`...)
	n := 0
	for i := range as {
		a := &as[i]
		if a.Holdout || a.Baseline {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = append(b, `{"experiment":`...)
		b = appendJSONString(b, a.Experiment)
		b = append(b, `,"variant":`...)
		b = appendJSONString(b, a.Variant)
		b = append(b, `,"payload":`...)
		if len(a.Payload) == 0 {
			b = append(b, "null"...)
		} else {
			b = append(b, a.Payload...)
		}
		b = append(b, `,"stage":`...)
		b = appendJSONString(b, a.Stage)
		b = append(b, `,"touchpoint":`...)
		b = appendJSONString(b, a.Touchpoint)
		if a.Forced {
			b = append(b, `,"forced":true`...)
		}
		b = append(b, '}')
	}
	b = append(b, `],"holdouts":[`...)
	n = 0
	for i := range as {
		if !as[i].Holdout {
			continue
		}
		if n > 0 {
			b = append(b, ',')
		}
		n++
		b = appendJSONString(b, as[i].Layer)
	}
	return append(b, "]}"...)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes
// U+FFFD; U+2028 and U+2029 are escaped so the output is also valid
// JavaScript.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
