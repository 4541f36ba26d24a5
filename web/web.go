// Package web serves the dashboard: a single-page application of plain ES
// modules and CSS, embedded into the binary so that journeylab serves its own
// UI with no separate front-end server, no build step and no CDN. The pages
// talk to the JSON API under /v1 with the API key the user logs in with;
// navigation is hash-based (/#/experiments/...), so the only routes this
// package adds are "/" and "/static/*" and nothing can shadow /v1, /healthz,
// /readyz or /metrics.
package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/gofiber/fiber/v2"
)

//go:embed static
var static embed.FS

// contentSecurityPolicy allows only the dashboard's own scripts, styles and
// API: user-supplied text (experiment names, hypotheses, metric names) can
// never run as script even if a page rendered it wrongly.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; " +
	"connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// asset is one embedded file, ready to send.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

// contentTypes covers the extensions the dashboard ships; the system MIME
// table is not used because it differs between machines (.mjs, .svg).
var contentTypes = map[string]string{
	".html": "text/html; charset=utf-8",
	".js":   "text/javascript; charset=utf-8",
	".css":  "text/css; charset=utf-8",
	".svg":  "image/svg+xml",
	".png":  "image/png",
	".json": "application/json",
	".txt":  "text/plain; charset=utf-8",
}

// assets are the dashboard's files, indexed by their path under static/.
type assets struct {
	files map[string]asset
}

// load reads every embedded file and computes its ETag once, so serving is a
// map lookup.
func load() (*assets, error) {
	a := &assets{files: map[string]asset{}}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read embedded %s: %w", p, err)
		}
		ct, ok := contentTypes[path.Ext(p)]
		if !ok {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		a.files[strings.TrimPrefix(p, "static/")] = asset{body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: load embedded assets: %w", err)
	}
	if _, ok := a.files["index.html"]; !ok {
		return nil, fmt.Errorf("web: embedded assets lack index.html")
	}
	return a, nil
}

// Register mounts the dashboard on app: GET / serves the page and
// GET /static/* its scripts, styles and images. The assets are compiled in,
// so failing to read them is a broken build (the package tests catch it),
// not a runtime condition: Register panics then.
func Register(app *fiber.App) {
	a, err := load()
	if err != nil {
		panic(err)
	}
	app.Get("/", func(c *fiber.Ctx) error { return a.send(c, "index.html") })
	app.Get("/static/*", func(c *fiber.Ctx) error {
		name := c.Params("*")
		if name == "index.html" {
			return fiber.ErrNotFound
		}
		return a.send(c, name)
	})
}

// send writes one asset. Assets keep their names across releases, so they
// are revalidated on every load (no-cache + ETag): a 304 costs a round trip
// but a new release can never run against a stale script.
func (a *assets) send(c *fiber.Ctx, name string) error {
	f, ok := a.files[path.Clean("/" + name)[1:]]
	if !ok {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderXFrameOptions, "DENY")
	c.Set(fiber.HeaderContentSecurityPolicy, contentSecurityPolicy)
	if match := c.Get(fiber.HeaderIfNoneMatch); match != "" && etagMatches(match, f.etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	c.Set(fiber.HeaderContentType, f.contentType)
	return c.Send(f.body)
}

// etagMatches reads an If-None-Match list ("*" or comma-separated, possibly
// weak, tags).
func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == etag {
			return true
		}
	}
	return false
}
