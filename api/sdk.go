package api

import (
	"github.com/gofiber/fiber/v2"
)

// snapshot serves GET /v1/sdk/snapshot: the configuration SDKs evaluate
// locally, 304 when the client's If-None-Match holds the current ETag.
func (h *Assign) snapshot(c *fiber.Ctx) error {
	body, etag, err := h.svc.SDKSnapshot()
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	if inm := c.Get(fiber.HeaderIfNoneMatch); inm != "" && etagMatches(inm, etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	return c.Send(body)
}

// etagMatches reports whether an If-None-Match header names etag: "*", or
// one of a comma-separated list, weak ("W/") or not.
func etagMatches(header, etag string) bool {
	for len(header) > 0 {
		i := 0
		for i < len(header) && (header[i] == ' ' || header[i] == ',') {
			i++
		}
		header = header[i:]
		j := 0
		for j < len(header) && header[j] != ',' {
			j++
		}
		tag := header[:j]
		for len(tag) > 0 && tag[len(tag)-1] == ' ' {
			tag = tag[:len(tag)-1]
		}
		header = header[j:]
		if len(tag) > 2 && tag[:2] == "W/" {
			tag = tag[2:]
		}
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
