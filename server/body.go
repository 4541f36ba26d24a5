package server

import (
	"context"
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"
	"golang.org/x/sync/semaphore"
)

// Request bodies are streamed (fasthttp reads at most the first 8 KiB with
// the headers), so the key is checked before the rest of a body is read and
// the bytes of bodies being read or handled are capped:
//
//	memory held by request bodies <= MaxInflightBytes + open connections x 8 KiB
//
// Chunked bodies are refused (411), so every body's size is known before it
// is read. A body waits up to inflightWait for room under the cap, then the
// request is answered 503 with Retry-After. A request refused before its
// body was read (bad key, too large, no room) closes its connection, so the
// unread bytes are never parsed as a next request.
const inflightWait = 5 * time.Second

// prefetched is how much of a body fasthttp reads with the headers.
const prefetched = 8 << 10

// bodyReadLocal marks a request whose body the gate has read.
const bodyReadLocal = "journeylab.body_read"

// bodyGate caps the request-body bytes in flight across all requests.
type bodyGate struct {
	limit int
	room  *semaphore.Weighted
}

func newBodyGate(limit int, inflight int64) *bodyGate {
	return &bodyGate{limit: limit, room: semaphore.NewWeighted(inflight)}
}

// read reads the request's body within the limits and returns the room it
// takes, to give back with done once the handler is finished with the body.
// Call it only after the request is authenticated. It allocates nothing for
// a body read with the headers (the assignment hot path).
func (g *bodyGate) read(c *fiber.Ctx) (weight int64, err error) {
	n := c.Request().Header.ContentLength()
	// 0: no body; -2: a request without Content-Length or chunked encoding,
	// which has no body in HTTP/1.1.
	if n == 0 || n == -2 {
		c.Locals(bodyReadLocal, true)
		return 0, nil
	}
	if len(c.Request().Header.Peek(fiber.HeaderContentEncoding)) > 0 && c.Get(fiber.HeaderContentEncoding) != "identity" {
		c.Context().SetConnectionClose()
		return 0, &Error{Status: fiber.StatusUnsupportedMediaType, Code: "unsupported_encoding", Message: "compressed request bodies are not accepted; send the JSON uncompressed"}
	}
	if n > g.limit {
		return 0, g.tooLarge(c)
	}
	weight = int64(n)
	if !g.room.TryAcquire(weight) {
		ctx, cancel := context.WithTimeout(c.UserContext(), inflightWait)
		err := g.room.Acquire(ctx, weight)
		cancel()
		if err != nil {
			c.Context().SetConnectionClose()
			return 0, &Error{Status: fiber.StatusServiceUnavailable, Code: "busy", Message: "too many request bodies in flight; retry shortly", RetryAfter: 1}
		}
	}
	switch stream := c.Context().RequestBodyStream(); {
	case stream == nil:
		// Not streamed: already in memory.
	case n <= prefetched:
		// Read with the headers into fasthttp's pooled buffer; no copy.
		c.Request().Body()
	default:
		// One buffer of the announced size: growing fasthttp's buffer by
		// appending would leave about as much again as garbage.
		buf := make([]byte, n)
		if _, err := io.ReadFull(stream, buf); err != nil {
			g.done(c, weight)
			c.Context().SetConnectionClose()
			return 0, &Error{Status: fiber.StatusBadRequest, Code: "bad_request", Message: "the request body ended before its Content-Length"}
		}
		c.Request().SetBodyRaw(buf)
	}
	c.Locals(bodyReadLocal, true)
	return weight, nil
}

// done gives back the room a body took (see read) and lets go of the body.
func (g *bodyGate) done(c *fiber.Ctx, weight int64) {
	if weight > 0 {
		c.Request().ResetBody()
		g.room.Release(weight)
	}
}

func (g *bodyGate) tooLarge(c *fiber.Ctx) error {
	c.Context().SetConnectionClose()
	return &Error{Status: fiber.StatusRequestEntityTooLarge, Code: "body_too_large", Message: "the request body is larger than " + strconv.Itoa(g.limit) + " bytes"}
}

// closeUnread closes the connection after any request whose body was not
// read by the gate: a route without a key check, or a request refused
// before its body was read. Bodies larger than the limit, and chunked
// bodies (whose size is unknown until read), are refused before routing.
func (g *bodyGate) closeUnread(c *fiber.Ctx) error {
	n := c.Request().Header.ContentLength()
	switch {
	case n == 0 || n == -2:
		return c.Next()
	case n == -1:
		c.Context().SetConnectionClose()
		return &Error{Status: fiber.StatusLengthRequired, Code: "length_required", Message: "send the request body with a Content-Length header (chunked bodies are not accepted)"}
	case n > g.limit:
		return g.tooLarge(c)
	}
	err := c.Next()
	if read, _ := c.Locals(bodyReadLocal).(bool); !read {
		c.Context().SetConnectionClose()
	}
	return err
}
