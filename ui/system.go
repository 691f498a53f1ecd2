package ui

import (
	"cmp"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// systemData is what the system page shows.
type systemData struct {
	Subsystems []subsystem
	Tickets    uint64
	Outbox     ticket.OutboxStats
	Parked     []ticket.OutboxRow // the first parked rows, with their errors
	Healthy    bool
	Uptime     string
	Database   string // the database file's size
	Disk       string // free and total space where the data folder is
	DiskLow    bool   // less than a tenth, or 500 MB, free
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
	if d.Outbox.Dead > 0 {
		if d.Parked, err = s.opts.Desk.Outbox(ticket.RowDead, 20); err != nil {
			return err
		}
	}
	d.Uptime = roughDuration(s.now().Sub(s.started))
	dir := s.opts.Desk.Dir()
	if st, err := os.Stat(filepath.Join(dir, ticket.DBFile)); err == nil {
		d.Database = byteSize(uint64(st.Size()))
	}
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err == nil {
		free, total := fs.Bavail*uint64(fs.Bsize), fs.Blocks*uint64(fs.Bsize)
		d.Disk = fmt.Sprintf("%s free of %s", byteSize(free), byteSize(total))
		d.DiskLow = free < total/10 || free < 500<<20
	}
	return s.render(c, fiber.StatusOK, "system", view{Title: "System", Nav: "system", Data: d})
}

// retryOutboxForm puts a parked outbox row back in the queue (admins).
func (s *Server) retryOutboxForm(c *fiber.Ctx) error {
	if staff(c).user.Role != auth.RoleAdmin {
		return httpError(fiber.StatusForbidden, "Only an admin may retry a parked delivery.")
	}
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil || id == 0 {
		return httpError(fiber.StatusBadRequest, "%q is not an outbox row.", c.Params("id"))
	}
	if err := s.desk.Retry(staffActor(c), id); err != nil {
		if msg, ok := formError(err); ok {
			return httpError(fiber.StatusConflict, "Row %d cannot be retried: %s", id, msg)
		}
		return err
	}
	return c.Redirect("/system", fiber.StatusSeeOther)
}

// byteSize writes n bytes for a person: "1.4 GB".
func byteSize(n uint64) string {
	const unit = 1000
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := uint64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "kMGTPE"[exp])
}

// roughDuration writes d the way a person says it: "3 days 4 hours".
func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return "less than a minute"
	case d < time.Hour:
		return fmt.Sprintf("%d minutes", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours %d minutes", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%d days %d hours", int(d.Hours())/24, int(d.Hours())%24)
}
