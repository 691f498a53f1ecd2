package ticket

import (
	"fmt"
	"time"
)

// Channel names a way a request reaches the shop. The same words are used in
// the API, the config file and the UI.
type Channel string

// The channels.
const (
	ChannelVoicemail  Channel = "voicemail"
	ChannelMissedCall Channel = "missed_call"
	ChannelSMS        Channel = "sms"
	ChannelWebForm    Channel = "web_form"
	ChannelEmail      Channel = "email"
	ChannelStaff      Channel = "staff"
	ChannelAPI        Channel = "api"
	ChannelCloud      Channel = "cloud"
)

// Channels lists every channel in display order.
var Channels = []Channel{
	ChannelVoicemail, ChannelMissedCall, ChannelSMS, ChannelWebForm,
	ChannelEmail, ChannelStaff, ChannelAPI, ChannelCloud,
}

// Valid reports whether c is one of the known channels.
func (c Channel) Valid() bool {
	for _, k := range Channels {
		if c == k {
			return true
		}
	}
	return false
}

// ParseChannel returns the channel named s.
func ParseChannel(s string) (Channel, error) {
	c := Channel(s)
	if !c.Valid() {
		return "", fmt.Errorf("%w: %q", ErrUnknownChannel, s)
	}
	return c, nil
}

// Priority is how urgent a ticket is.
type Priority string

// The priorities, lowest first.
const (
	PriorityLow    Priority = "low"
	PriorityNormal Priority = "normal"
	PriorityHigh   Priority = "high"
	PriorityUrgent Priority = "urgent"
)

// Priorities lists every priority, lowest first.
var Priorities = []Priority{PriorityLow, PriorityNormal, PriorityHigh, PriorityUrgent}

// ParsePriority returns the priority named s.
func ParsePriority(s string) (Priority, error) {
	for _, p := range Priorities {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("%w: %q", ErrUnknownPriority, s)
}

// Direction tells who wrote a message.
type Direction string

// The directions of a message.
const (
	Incoming Direction = "inbound"  // from the customer
	Outgoing Direction = "outbound" // from the shop to the customer
	Internal Direction = "note"     // internal note, never sent
)

// Ticket is one customer request and everything that followed it.
type Ticket struct {
	Number    uint64    `json:"number"` // human number, shown as #1042
	UUID      string    `json:"uuid"`   // stable id, used as external id by sync targets
	Subject   string    `json:"subject"`
	Status    Status    `json:"status"`
	ClosedAs  string    `json:"closed_as,omitempty"` // "resolved" or "unresolved" once closed
	Priority  Priority  `json:"priority"`
	Channel   Channel   `json:"channel"` // the channel of the first message
	ContactID uint64    `json:"contact_id"`
	Category  string    `json:"category,omitempty"`
	Team      string    `json:"team,omitempty"`
	Assignee  string    `json:"assignee,omitempty"`
	Tags      []string  `json:"tags,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`

	// Service-level targets of the ticket's priority: when the first answer
	// and the resolution are due.
	FirstResponseDue time.Time `json:"first_response_due,omitzero"`
	ResolutionDue    time.Time `json:"resolution_due,omitzero"`
	FirstResponseAt  time.Time `json:"first_response_at,omitzero"`
	ResolvedAt       time.Time `json:"resolved_at,omitzero"`
	StatusSince      time.Time `json:"status_since,omitzero"`
	LastInboundAt    time.Time `json:"last_inbound_at,omitzero"`  // the customer's latest message
	LastOutboundAt   time.Time `json:"last_outbound_at,omitzero"` // the shop's latest reply
	Messages         int       `json:"messages"`                  // number of messages, notes included

	// Fields holds what triage extracted from the text: order_number,
	// tracking_number, product_code.
	Fields map[string]string `json:"fields,omitempty"`
	// AfterHours is set when the request arrived outside opening hours.
	AfterHours bool `json:"after_hours,omitempty"`
	// Fired lists the time rules that fired for this ticket; none fires
	// twice.
	Fired []string `json:"fired,omitempty"`

	// Remote holds the id of this ticket in each sync target, by target name.
	Remote map[string]string `json:"remote,omitempty"`

	MergedInto uint64    `json:"merged_into,omitempty"`
	Deleted    bool      `json:"deleted,omitempty"`
	DeletedAt  time.Time `json:"deleted_at,omitzero"`
}

// Ref returns the ticket number as people write it: "#1042".
func (t *Ticket) Ref() string { return fmt.Sprintf("#%d", t.Number) }

// Contact is a customer, found again by phone number or email address.
type Contact struct {
	ID        uint64    `json:"id"`
	Name      string    `json:"name,omitempty"`
	Phones    []string  `json:"phones,omitempty"` // E.164
	Emails    []string  `json:"emails,omitempty"` // lower case
	CreatedAt time.Time `json:"created_at"`
	// Owner is the staff user who last worked this contact's tickets.
	Owner string `json:"owner,omitempty"`
	// Recent holds the times of the contact's latest requests, newest
	// first, for the repeat-contact rule.
	Recent []time.Time `json:"recent,omitempty"`
	// LastAckAt is when the contact was last told that a request arrived,
	// for the one-acknowledgement-per-window guard.
	LastAckAt time.Time `json:"last_ack_at,omitzero"`
	// NoSMS is set when the contact texted STOP: nothing is sent to them
	// by SMS until they text START.
	NoSMS bool `json:"no_sms,omitempty"`
	// Calls holds the contact's latest calls that someone at the shop
	// answered (so that no missed-call ticket was opened), newest first.
	Calls []CallLog `json:"calls,omitempty"`
}

// CallLog is one answered call on a contact.
type CallLog struct {
	At time.Time `json:"at"`
	// Ring is how long the call rang before someone answered it.
	Ring time.Duration `json:"ring"`
	// Outcome says who took the call, such as "answered elsewhere".
	Outcome string `json:"outcome"`
	// Key is the channel's own id for the call (the SIP Call-ID), so that
	// recording it twice records it once.
	Key string `json:"key"`
}

// maxRecent bounds Contact.Recent; maxCalls bounds Contact.Calls.
const (
	maxRecent = 16
	maxCalls  = 32
)

// Message is one entry of a ticket's thread: something the customer sent,
// something the shop sent, or an internal note.
type Message struct {
	ID          uint64       `json:"id"`
	Ticket      uint64       `json:"ticket"`
	Direction   Direction    `json:"direction"`
	Channel     Channel      `json:"channel"`
	Author      string       `json:"author"` // staff user, contact name, or channel
	Subject     string       `json:"subject,omitempty"`
	Body        string       `json:"body"`
	Transcript  string       `json:"transcript,omitempty"`
	Attachments []Attachment `json:"attachments,omitempty"`
	SourceKey   string       `json:"source_key,omitempty"`
	Flags       []string     `json:"flags,omitempty"` // e.g. "incomplete", "raw"
	Meta        Meta         `json:"meta,omitempty"`
	At          time.Time    `json:"at"` // when the peer handed it over, or when staff wrote it
	// Delivery is the state of an outbound message: queued, sent, delivered, failed.
	Delivery string `json:"delivery,omitempty"`
}

// Meta holds small channel-specific facts about a message (a call's ring
// time, a mail's Message-ID). Keys and values are bounded by Inbound.Validate.
type Meta map[string]string

// Attachment is a file stored on the box, named by the SHA-256 of its bytes.
type Attachment struct {
	ID          string `json:"id"` // hex SHA-256 of the content
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// Actor is who made a change.
type Actor struct {
	Kind string `json:"kind"` // staff, channel, rule, remote, system, api
	Name string `json:"name"`
}

// The kinds of actor.
const (
	ActorStaff   = "staff"
	ActorChannel = "channel"
	ActorRule    = "rule"
	ActorRemote  = "remote"
	ActorSystem  = "system"
	ActorAPI     = "api"
)

// Staff returns the actor for a staff user.
func Staff(name string) Actor { return Actor{Kind: ActorStaff, Name: name} }

// System is the actor for changes the appliance makes by itself.
var System = Actor{Kind: ActorSystem, Name: "counterdesk"}

func (a Actor) String() string { return a.Kind + ":" + a.Name }

// Event is one entry of the audit trail: who changed what, from what to
// what, and why.
type Event struct {
	ID     uint64    `json:"id"`
	Ticket uint64    `json:"ticket"`
	At     time.Time `json:"at"`
	Actor  Actor     `json:"actor"`
	Action string    `json:"action"` // created, message, reply, note, status, priority, assign, tag, merge, delete, triage, outbox
	Before string    `json:"before,omitempty"`
	After  string    `json:"after,omitempty"`
	Why    string    `json:"why,omitempty"`
	// Steps holds the decisions of a triage event, each with the rule
	// that made it.
	Steps []Step `json:"steps,omitempty"`
}

// Step is one decision within a triage event: what it set, from what to
// what, the rule that decided, and why.
type Step struct {
	What   string `json:"what"` // priority, category, team, assign, tag, field, after_hours, notify, sla
	Before string `json:"before,omitempty"`
	After  string `json:"after,omitempty"`
	Rule   string `json:"rule"`
	Why    string `json:"why,omitempty"`
}

// Thread is a ticket with its contact, messages and audit events, as the
// API and the UI show it.
type Thread struct {
	Ticket   Ticket    `json:"ticket"`
	Contact  Contact   `json:"contact"`
	Messages []Message `json:"messages"`
	Events   []Event   `json:"events"`
}
