package hubspotfake

import (
	"errors"
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"
)

// ErrNoTicket is returned by the staff methods for an unknown ticket.
var ErrNoTicket = errors.New("hubspotfake: no such ticket")

// Tickets returns every ticket, oldest first.
func (s *Server) Tickets() []Object {
	return s.all(kindTicket)
}

// Ticket returns ticket id.
func (s *Server) Ticket(id string) (Object, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[kindTicket][id]
	if !ok {
		return Object{}, false
	}
	return copyOf(o), true
}

// TicketsWithID returns the tickets whose unique property holds value,
// oldest first: more than one means the target made a duplicate (which
// HubSpot itself refuses for a unique property, so that the fake holds at
// most one).
func (s *Server) TicketsWithID(value string) []Object {
	var out []Object
	for _, t := range s.Tickets() {
		if t.Properties[s.idField] == value {
			out = append(out, t)
		}
	}
	return out
}

// Len returns the number of tickets.
func (s *Server) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.objects[kindTicket])
}

// Contacts returns every contact, oldest first.
func (s *Server) Contacts() []Object { return s.all(kindContact) }

func (s *Server) all(kind string) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Object, 0, len(s.objects[kind]))
	for _, o := range s.objects[kind] {
		out = append(out, copyOf(o))
	}
	slices.SortFunc(out, func(a, b Object) int { return byID(a.ID, b.ID) })
	return out
}

func byID(a, b string) int {
	if len(a) != len(b) {
		return len(a) - len(b)
	}
	return strings.Compare(a, b)
}

// Notes returns the notes associated with ticket id, in the order they
// were associated.
func (s *Server) Notes(ticketID string) []Object {
	return s.associated(kindTicket, ticketID, kindNote)
}

// Emails returns the emails associated with ticket id.
func (s *Server) Emails(ticketID string) []Object {
	return s.associated(kindTicket, ticketID, kindEmail)
}

// TicketContacts returns the contacts associated with ticket id.
func (s *Server) TicketContacts(ticketID string) []Object {
	return s.associated(kindTicket, ticketID, kindContact)
}

func (s *Server) associated(kind, id, to string) []Object {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Object
	for _, l := range s.assoc[kind+":"+id+">"+to] {
		if o, ok := s.objects[to][l.id]; ok {
			out = append(out, copyOf(o))
		}
	}
	return out
}

// File returns uploaded file id.
func (s *Server) File(id string) (File, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[id]
	if !ok {
		return File{}, false
	}
	c := *f
	c.Data = slices.Clone(f.Data)
	return c, true
}

// Files returns the number of uploaded files.
func (s *Server) Files() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.files)
}

// SetStage moves ticket id to stage, as staff do in HubSpot.
func (s *Server) SetStage(ticketID, stage string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	o, ok := s.objects[kindTicket][ticketID]
	if !ok {
		return fmt.Errorf("%w: %s", ErrNoTicket, ticketID)
	}
	if !slices.Contains(s.stages[o.props["hs_pipeline"]], stage) {
		return fmt.Errorf("hubspotfake: stage %s is not in pipeline %s", stage, o.props["hs_pipeline"])
	}
	o.props["hs_pipeline_stage"] = stage
	o.updated = s.tick()
	s.stamp(o)
	return nil
}

// DeleteTicket removes ticket id, as staff do in HubSpot.
func (s *Server) DeleteTicket(ticketID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o, ok := s.objects[kindTicket][ticketID]; ok {
		delete(s.unique, o.props[s.idField])
		delete(s.objects[kindTicket], ticketID)
	}
}

// Email directions (hs_email_direction) and statuses (hs_email_status).
const (
	DirectionOutgoing  = "EMAIL"
	DirectionIncoming  = "INCOMING_EMAIL"
	DirectionForwarded = "FORWARDED_EMAIL"
	EmailSent          = "SENT"
)

// EmailInput is an email logged on a ticket.
type EmailInput struct {
	Direction string // hs_email_direction
	Status    string // hs_email_status
	OwnerID   string // hubspot_owner_id: the user who sent it, "" for none
	From      string // hs_email_from_email
	Subject   string
	Text      string
}

// AddEmail logs an email on ticket id and returns the email's id. Logging
// an activity updates the ticket's activity dates, so that the ticket
// counts as modified too.
func (s *Server) AddEmail(ticketID string, in EmailInput) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.objects[kindTicket][ticketID]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNoTicket, ticketID)
	}
	now := s.tick()
	o := &object{kind: kindEmail, id: s.newID(), created: now, updated: now, props: map[string]string{
		"hs_email_direction": in.Direction,
		"hs_email_text":      in.Text,
		"hs_email_html":      "<div>" + strings.ReplaceAll(html.EscapeString(in.Text), "\n", "<br>") + "</div>",
		"hs_email_subject":   in.Subject,
		"hs_timestamp":       isoTime(now),
	}}
	for k, v := range map[string]string{"hs_email_status": in.Status, "hubspot_owner_id": in.OwnerID, "hs_email_from_email": in.From} {
		if v != "" {
			o.props[k] = v
		}
	}
	s.stamp(o)
	s.objects[kindEmail][o.id] = o
	s.associate(kindEmail, o.id, kindTicket, ticketID)
	t.props["notes_last_updated"] = isoTime(now)
	t.updated = s.tick()
	s.stamp(t)
	return o.id, nil
}

// AgentReply logs an email that staff sent to the customer from ticket
// id (direction EMAIL, status SENT, owned by AgentOwnerID) and returns the
// email's id: the public reply the target brings back.
func (s *Server) AgentReply(ticketID, text string) (string, error) {
	return s.AddEmail(ticketID, EmailInput{
		Direction: DirectionOutgoing, Status: EmailSent, OwnerID: AgentOwnerID,
		From: "alex@wingsandthings.example", Subject: "Re: your request", Text: text,
	})
}

// StaffNote adds a note written by staff (owned by AgentOwnerID) to
// ticket id and returns its id.
func (s *Server) StaffNote(ticketID, text string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.objects[kindTicket][ticketID]
	if !ok {
		return "", fmt.Errorf("%w: %s", ErrNoTicket, ticketID)
	}
	now := s.tick()
	o := &object{kind: kindNote, id: s.newID(), created: now, updated: now, props: map[string]string{
		"hs_note_body": "<p>" + html.EscapeString(text) + "</p>", "hs_timestamp": strconv.FormatInt(now.UnixMilli(), 10),
		"hubspot_owner_id": AgentOwnerID,
	}}
	s.stamp(o)
	s.objects[kindNote][o.id] = o
	s.associate(kindNote, o.id, kindTicket, ticketID)
	t.updated = s.tick()
	s.stamp(t)
	return o.id, nil
}
