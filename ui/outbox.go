package ui

import (
	"strconv"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/gofiber/fiber/v2"
)

// outboxResponse answers GET /api/v1/outbox.
type outboxResponse struct {
	Rows []ticket.OutboxRow `json:"rows"`
}

// listOutbox lists the rows waiting for delivery (state=pending, the
// default) or parked after their last attempt (state=dead), oldest
// first. Only admins may: the rows carry customers' addresses.
func (s *Server) listOutbox(c *fiber.Ctx) error {
	if err := requireAdmin(c, "reading the outbox"); err != nil {
		return err
	}
	q, err := queryParams(c, "state", "limit")
	if err != nil {
		return err
	}
	state := ticket.RowPending
	if v, ok := q["state"]; ok {
		if v != ticket.RowPending && v != ticket.RowDead {
			return badRequest("state", "state must be %s or %s, not %q", ticket.RowPending, ticket.RowDead, v)
		}
		state = v
	}
	limit := ticket.MaxPageSize
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ticket.MaxPageSize {
			return badRequest("limit", "limit must be a number from 1 to %d, not %q", ticket.MaxPageSize, v)
		}
		limit = n
	}
	rows, err := s.desk.Outbox(state, limit)
	if err != nil {
		return err
	}
	if rows == nil {
		rows = []ticket.OutboxRow{}
	}
	return c.JSON(outboxResponse{Rows: rows})
}

// retryOutbox puts a parked row back in the queue.
func (s *Server) retryOutbox(c *fiber.Ctx) error {
	if err := requireAdmin(c, "retrying an outbox row"); err != nil {
		return err
	}
	id, err := strconv.ParseUint(c.Params("id"), 10, 64)
	if err != nil || id == 0 {
		return badRequest("id", "%q is not an outbox row id", c.Params("id"))
	}
	if err := s.desk.Retry(actor(c), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// outboxStats counts the rows waiting and parked.
func (s *Server) outboxStats(c *fiber.Ctx) error {
	st, err := s.desk.OutboxStats()
	if err != nil {
		return err
	}
	return c.JSON(st)
}
