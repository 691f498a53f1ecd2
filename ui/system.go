package ui

import (
	"cmp"
	"maps"
	"slices"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/gofiber/fiber/v2"
)

// systemData is what the system page shows.
type systemData struct {
	Subsystems []subsystem
	Tickets    uint64
	Outbox     ticket.OutboxStats
	Healthy    bool
}

type subsystem struct {
	Name string
	health.Status
}

// systemPage shows the staff how the box is doing: each subsystem (store,
// outbox, phone line, modem, ...) with its state, the sentence it reported,
// and its last error; the tickets and the outbox. Problems come first.
func (s *Server) systemPage(c *fiber.Ctx) error {
	var d systemData
	snap := map[string]health.Status{}
	if s.opts.Health != nil {
		snap = s.opts.Health.Snapshot()
	}
	rank := map[string]int{health.Down: 0, health.Degraded: 1, health.OK: 2, health.Disabled: 3}
	for _, name := range slices.Sorted(maps.Keys(snap)) {
		d.Subsystems = append(d.Subsystems, subsystem{Name: name, Status: snap[name]})
	}
	slices.SortStableFunc(d.Subsystems, func(a, b subsystem) int { return cmp.Compare(rank[a.State], rank[b.State]) })
	d.Healthy = !slices.ContainsFunc(d.Subsystems, func(x subsystem) bool { return x.State == health.Down || x.State == health.Degraded })
	var err error
	if d.Tickets, err = s.opts.Desk.Count(); err != nil {
		return err
	}
	if d.Outbox, err = s.opts.Desk.OutboxStats(); err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "system", view{Title: "System", Nav: "system", Data: d})
}
