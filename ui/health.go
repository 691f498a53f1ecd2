package ui

import (
	"bytes"
	"strconv"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
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
	if counts, err := s.opts.Desk.Counts(); err == nil {
		for st, n := range counts.ByStatus {
			ms = append(ms, health.Metric{Name: "counterdesk_tickets_by_status", Type: "gauge",
				Help: "Live tickets by status (deleted ones under \"deleted\").", Labels: map[string]string{"status": string(st)}, Value: float64(n)})
		}
		ms = append(ms, health.Metric{Name: "counterdesk_tickets_by_status", Type: "gauge",
			Help: "Live tickets by status (deleted ones under \"deleted\").", Labels: map[string]string{"status": "deleted"}, Value: float64(counts.Deleted)})
		for ch, n := range counts.ByChannel {
			ms = append(ms, health.Metric{Name: "counterdesk_tickets_by_channel", Type: "gauge",
				Help: "Live tickets by the channel they came from.", Labels: map[string]string{"channel": string(ch)}, Value: float64(n)})
		}
		for kind, n := range counts.OutboxByKind {
			ms = append(ms, health.Metric{Name: "counterdesk_outbox_pending_by_kind", Type: "gauge",
				Help: "Outbox rows waiting for delivery, by kind (sms, sync, email, ...).", Labels: map[string]string{"kind": kind}, Value: float64(n)})
		}
	}
	is := s.opts.Desk.IngestStats()
	for result, n := range map[string]uint64{"stored": is.Stored, "duplicate": is.Duplicates, "refused": is.Refused} {
		ms = append(ms, health.Metric{Name: "counterdesk_ingest_total", Type: "counter",
			Help: "Requests handed to the store by the channels, by result.", Labels: map[string]string{"result": result}, Value: float64(n)})
	}
	const latencyHelp = "Time from a channel handing over a request to its transaction being on disk."
	for i, bound := range ticket.IngestBuckets() {
		ms = append(ms, health.Metric{Name: "counterdesk_ingest_seconds_bucket", Type: "histogram", Help: latencyHelp,
			Labels: map[string]string{"le": strconv.FormatFloat(bound.Seconds(), 'g', -1, 64)}, Value: float64(is.Buckets[i])})
	}
	ms = append(ms,
		health.Metric{Name: "counterdesk_ingest_seconds_bucket", Type: "histogram", Help: latencyHelp, Labels: map[string]string{"le": "+Inf"}, Value: float64(is.Count)},
		health.Metric{Name: "counterdesk_ingest_seconds_sum", Type: "histogram", Help: latencyHelp, Value: is.Sum.Seconds()},
		health.Metric{Name: "counterdesk_ingest_seconds_count", Type: "histogram", Help: latencyHelp, Value: float64(is.Count)})
	ms = append(ms, health.Metric{Name: "counterdesk_build_info", Type: "gauge", Help: "The running version.",
		Labels: map[string]string{"version": s.opts.Version}, Value: 1})
	var b bytes.Buffer
	if err := health.WriteText(&b, ms); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	return c.Send(b.Bytes())
}
