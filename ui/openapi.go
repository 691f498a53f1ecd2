package ui

import (
	_ "embed"

	"github.com/gofiber/fiber/v2"
)

// openapiDoc is the OpenAPI 3.1 description of the JSON API
// (https://spec.openapis.org/oas/v3.1.1): every route under /api/v1, with
// /healthz, /metrics and the document itself. openapi_test.go checks it
// against the routes the server registers and the answers it gives, so
// a route added without its description fails the tests.
//
//go:embed openapi.json
var openapiDoc []byte

// openapi serves the API's description without authentication, so that
// integrators can read it on the box without a token. The security
// headers, Cache-Control: no-store included, are set by around as on every
// answer.
func (s *Server) openapi(c *fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(openapiDoc)
}
