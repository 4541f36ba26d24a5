package api

import (
	"github.com/gofiber/fiber/v2"

	"github.com/journeylab/journeylab/openapi"
)

// RegisterOpenAPI serves the OpenAPI document at GET /openapi.json, without
// an API key (it describes the API; it holds no data). The document is
// compiled in, so failing to read it is a broken build: it panics then.
func RegisterOpenAPI(app *fiber.App) {
	doc, err := openapi.JSON()
	if err != nil {
		panic(err)
	}
	app.Get("/openapi.json", func(c *fiber.Ctx) error {
		c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
		c.Set(fiber.HeaderCacheControl, "no-cache")
		return c.Send(doc)
	})
}
