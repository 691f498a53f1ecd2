package ui

import (
	"bytes"

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

// metrics answers GET /metrics in the Prometheus text format, for any API
// token (Prometheus sends it with bearer_token): the state of each
// subsystem, the store's tickets and outbox, and what each channel counts.
func (s *Server) metrics(c *fiber.Ctx) error {
	var ms []health.Metric
	if s.opts.Health != nil {
		ms = s.opts.Health.Metrics()
	}
	if n, err := s.opts.Desk.Count(); err == nil {
		ms = append(ms, health.Metric{Name: "counterdesk_tickets", Type: "gauge", Help: "Tickets in the store, deleted ones included.", Value: float64(n)})
	}
	if st, err := s.opts.Desk.OutboxStats(); err == nil {
		for state, n := range map[string]int{"pending": st.Pending, "dead": st.Dead} {
			ms = append(ms, health.Metric{Name: "counterdesk_outbox_rows", Type: "gauge",
				Help:   "Outbox rows waiting for delivery (pending) and parked after failing (dead).",
				Labels: map[string]string{"state": state}, Value: float64(n)})
		}
		ms = append(ms, health.Metric{Name: "counterdesk_outbox_max_rows", Type: "gauge", Help: "The outbox's bound (outbox.max_pending).", Value: float64(st.Max)})
	}
	ms = append(ms, health.Metric{Name: "counterdesk_build_info", Type: "gauge", Help: "The running version.",
		Labels: map[string]string{"version": s.opts.Version}, Value: 1})
	var b bytes.Buffer
	if err := health.WriteText(&b, ms); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	return c.Send(b.Bytes())
}
