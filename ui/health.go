package ui

import (
	"github.com/counterdesk/counterdesk/health"
	"github.com/gofiber/fiber/v2"
)

// healthResponse answers GET /healthz.
type healthResponse struct {
	// Status is "ok" when every subsystem is ok (or disabled), else
	// "degraded".
	Status     string                   `json:"status"`
	Version    string                   `json:"version"`
	Subsystems map[string]health.Status `json:"subsystems"`
}

// healthz reports the health of every subsystem, without authentication,
// for monitors and for systemd. The status is 503 when any subsystem is
// down, so a plain HTTP check sees it.
func (s *Server) healthz(c *fiber.Ctx) error {
	subs := s.opts.Health.Snapshot()
	if subs == nil {
		subs = map[string]health.Status{}
	}
	resp := healthResponse{Status: health.OK, Version: s.opts.Version, Subsystems: subs}
	code := fiber.StatusOK
	for _, st := range subs {
		switch st.State {
		case health.OK, health.Disabled:
		case health.Down:
			resp.Status, code = health.Degraded, fiber.StatusServiceUnavailable
		default:
			resp.Status = health.Degraded
		}
	}
	return c.Status(code).JSON(resp)
}
