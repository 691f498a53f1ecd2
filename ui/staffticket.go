package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/gofiber/fiber/v2"
)

// newTicketData is the form of a ticket staff enter by hand.
type newTicketData struct {
	Nonce    string
	Name     string
	Phone    string
	Email    string
	Subject  string
	Body     string
	Priority string
}

// newTicketPage shows the form for a request staff took in person or on
// the phone.
func (s *Server) newTicketPage(c *fiber.Ctx) error {
	nonce, err := randomString(16)
	if err != nil {
		return err
	}
	return s.render(c, fiber.StatusOK, "newticket", view{Title: "New ticket", Nav: "new", Data: newTicketData{Nonce: nonce}})
}

// newTicketForm opens the ticket. The form's nonce is the source key, so
// a form sent twice makes one ticket.
func (s *Server) newTicketForm(c *fiber.Ctx) error {
	d := newTicketData{
		Nonce:    c.FormValue("nonce"),
		Name:     strings.TrimSpace(c.FormValue("name")),
		Phone:    strings.TrimSpace(c.FormValue("phone")),
		Email:    strings.TrimSpace(c.FormValue("email")),
		Subject:  strings.TrimSpace(c.FormValue("subject")),
		Body:     c.FormValue("body"),
		Priority: c.FormValue("priority"),
	}
	refuse := func(msg string) error {
		return s.render(c, fiber.StatusUnprocessableEntity, "newticket", view{Title: "New ticket", Nav: "new", Error: msg, Data: d})
	}
	if !validNonce(d.Nonce) {
		return httpError(fiber.StatusBadRequest, "The form is incomplete. Reload the page and try again.")
	}
	if d.Phone == "" && d.Email == "" {
		return refuse("Give the customer's phone number or email address, so the reply can reach them.")
	}
	var p ticket.Patch
	if d.Priority != "" {
		pr, err := ticket.ParsePriority(d.Priority)
		if err != nil {
			return refuse(fmt.Sprintf("Unknown priority %q.", d.Priority))
		}
		p.Priority = &pr
	}
	actor := staffActor(c)
	res, err := s.desk.Ingest(c.UserContext(), ticket.Inbound{
		Channel:   ticket.ChannelStaff,
		SourceKey: "staff:" + actor.Name + ":" + d.Nonce,
		From:      ticket.From{Name: d.Name, Phone: d.Phone, Email: d.Email},
		Subject:   d.Subject,
		Body:      d.Body,
		Meta:      ticket.Meta{"entered_by": actor.Name},
		NewTicket: true,
	})
	if err != nil {
		if msg, ok := formError(err); ok {
			return refuse(fieldMessage(err, msg))
		}
		return err
	}
	if !res.Duplicate && p.Priority != nil {
		p.Why = "set when the ticket was entered"
		if _, err := s.desk.Update(c.UserContext(), actor, res.Ticket, p); err != nil {
			return fmt.Errorf("ticket #%d was created, but its priority was not set: %w", res.Ticket, err)
		}
	}
	return c.Redirect(fmt.Sprintf("/tickets/%d", res.Ticket), fiber.StatusSeeOther)
}

// fieldMessage words a Desk field error for a person at a form.
func fieldMessage(err error, fallback string) string {
	var fe *ticket.FieldError
	if !errors.As(err, &fe) {
		return fallback
	}
	switch fe.Field {
	case "from.phone":
		return "The phone number is not valid: " + fe.Msg + "."
	case "from.email":
		return "The email address is not valid: " + fe.Msg + "."
	case "from.name":
		return "The name is not valid: " + fe.Msg + "."
	case "body":
		return "The message " + fe.Msg + "."
	case "subject":
		return "The subject " + fe.Msg + "."
	case "attachments", "attachments.name", "attachments.content_type":
		return "The photo " + fe.Msg + "."
	}
	return fallback
}
