// Package sync copies the box's tickets to the shop's cloud helpdesks and
// brings back what staff did there. It is the outbox consumer for the
// kinds "sync.<target name>"; each helpdesk is a Target in a folder of its
// own below this one.
//
// The box is the source of truth. For each target and ticket the engine
// keeps how far the copy has got (the remote id, the last message copied,
// the status, priority and tags the remote last saw) and brings the remote
// up to date in order: the ticket first, then each later message, then its
// fields. An outbox row only says "ticket N changed"; however many rows
// pile up while the internet is down, each ticket is copied once, in
// order, when it comes back.
package sync

import (
	"context"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

// Target is one cloud helpdesk. Its methods make one or a few HTTP
// requests each and return the errors of [Client.Do] (wrapped or as they
// are), so that the engine can tell an outage from a rate limit from a
// request the vendor refused.
type Target interface {
	// Probe makes the cheapest authenticated request the vendor offers,
	// to learn whether the target is reachable again.
	Probe(ctx context.Context) error
	// Find returns the remote id of the ticket that was made for t, found
	// by the box's id stored in the target (Zendesk external_id, a
	// Freshdesk custom field, a HubSpot unique property), or "" when the
	// target holds none. The engine calls it before creating a ticket
	// whose creation may have been tried before, so that a crash after
	// the remote made it leaves no duplicate.
	Find(ctx context.Context, t *Ticket) (string, error)
	// Create makes the remote ticket with t's first message (its
	// attachments uploaded as the vendor requires) and returns its id.
	Create(ctx context.Context, t *Ticket, first *Message) (string, error)
	// Post adds a later message to remote ticket id: a public comment or
	// reply for inbound and outbound messages, a private note for an
	// internal one. It returns the remote id of what it made.
	Post(ctx context.Context, id string, t *Ticket, m *Message) (string, error)
	// Messages lists the comments, conversations or notes of remote
	// ticket id, oldest first.
	Messages(ctx context.Context, id string) ([]RemoteMessage, error)
	// Update brings the remote ticket's status, priority and tags to t's.
	Update(ctx context.Context, id string, t *Ticket) error
	// Changes returns the tickets changed in the target since the cursor
	// (empty the first time), each with its status and the public replies
	// its staff wrote, and the cursor to pass next time.
	Changes(ctx context.Context, cursor string) ([]RemoteChange, string, error)
	// Link returns the address at which staff open remote ticket id.
	Link(id string) string
}

// Ticket is what a target is told of a ticket: the ticket and its contact.
type Ticket struct {
	ticket.Ticket
	Contact ticket.Contact
	// Shop is the shop's name, for text that names it.
	Shop string
}

// Phone returns the contact's first phone number (E.164), or "".
func (t *Ticket) Phone() string {
	if len(t.Contact.Phones) > 0 {
		return t.Contact.Phones[0]
	}
	return ""
}

// Email returns the contact's first email address, or "".
func (t *Ticket) Email() string {
	if len(t.Contact.Emails) > 0 {
		return t.Contact.Emails[0]
	}
	return ""
}

// Message is one message of a ticket's thread, with its attachments on
// disk.
type Message struct {
	ticket.Message
	// Files are the message's attachments, readable at their paths.
	Files []File
}

// Public reports whether the message is one the customer sees or wrote
// (false for an internal note).
func (m *Message) Public() bool { return m.Direction != ticket.Internal }

// Text returns the message as the remote shows it: the body, the
// voicemail transcript under it, and flags such as "incomplete".
func (m *Message) Text() string {
	s := m.Body
	if m.Transcript != "" {
		if s != "" {
			s += "\n\n"
		}
		s += "Transcript: " + m.Transcript
	}
	if s == "" {
		s = "(" + string(m.Channel) + " with no text)"
	}
	return s
}

// File is an attachment stored on the box.
type File struct {
	Name string // file name shown to people, such as "voicemail.wav"
	Type string // MIME type
	Size int64
	Path string // where the box stores it
}

// RemoteMessage is a comment, conversation or note of a remote ticket.
type RemoteMessage struct {
	ID     string
	Body   string // plain text
	Public bool   // seen by the customer
	// Agent is set for a message written by the helpdesk's staff (as
	// opposed to the customer or the box's own API user).
	Agent bool
	// Delivered is set when the helpdesk itself delivered the reply to
	// the customer (it emailed it): the box records it and sends nothing,
	// so the customer does not get it twice. Otherwise the box delivers
	// it, as an SMS to a customer who texted or called.
	Delivered bool
	// Author names who wrote it, for the audit trail.
	Author string
	At     time.Time
}

// RemoteChange is the state of one remote ticket that changed.
type RemoteChange struct {
	// ID is the remote ticket's id.
	ID string
	// ExternalID is the box's ticket UUID stored in the remote, or "".
	ExternalID string
	// Status is the remote status mapped to the box's, or "" when it has
	// no equivalent.
	Status ticket.Status
	// Replies are the public replies the helpdesk's staff wrote, oldest
	// first; the engine applies each once.
	Replies []RemoteMessage
	At      time.Time
}
