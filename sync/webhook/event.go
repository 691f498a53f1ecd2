package webhook

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/sync"
)

// The event types.
const (
	// TypeTicketCreated is a new ticket with its first message.
	TypeTicketCreated = "ticket.created"
	// TypeMessageAdded is a later message of a ticket: the customer's, a
	// reply of the shop, or an internal note.
	TypeMessageAdded = "message.added"
	// TypeTicketUpdated is a ticket whose status, priority, assignee or
	// tags changed; it carries the ticket as it is now.
	TypeTicketUpdated = "ticket.updated"
)

// Event is the JSON body of one request: one thing that happened to one
// ticket. README.md describes each field; receivers written in Go may
// decode it with ParseEvent.
type Event struct {
	// ID is the idempotency key, also sent as HeaderIdempotencyKey:
	// "<uuid>:created", "<uuid>:message:<message id>" or
	// "<uuid>:updated:<hash>". The same event sent again has the same id.
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OccurredAt time.Time `json:"occurred_at"`
	Ticket     Ticket    `json:"ticket"`
	// Message is set for ticket.created (the first message) and
	// message.added, nil for ticket.updated.
	Message *Message `json:"message,omitempty"`
}

// Ticket is the ticket as the box holds it when the event is sent.
type Ticket struct {
	UUID       string            `json:"uuid"`
	Number     uint64            `json:"number"`
	Ref        string            `json:"ref"` // "#1042"
	Subject    string            `json:"subject"`
	Status     string            `json:"status"`
	ClosedAs   string            `json:"closed_as"` // "resolved", "unresolved" or ""
	Priority   string            `json:"priority"`
	Channel    string            `json:"channel"`
	Category   string            `json:"category"`
	Team       string            `json:"team"`
	Assignee   string            `json:"assignee"`
	Tags       []string          `json:"tags"`
	Fields     map[string]string `json:"fields"`
	AfterHours bool              `json:"after_hours"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
	Contact    Contact           `json:"contact"`
}

// Contact is the customer who made the ticket.
type Contact struct {
	Name   string   `json:"name"`
	Phones []string `json:"phones"` // E.164
	Emails []string `json:"emails"`
}

// Message is one message of a ticket's thread.
type Message struct {
	ID         uint64    `json:"id"`
	Direction  string    `json:"direction"` // "inbound", "outbound" or "note"
	Public     bool      `json:"public"`    // false for an internal note
	Channel    string    `json:"channel"`
	Author     string    `json:"author"`
	Subject    string    `json:"subject"`
	Body       string    `json:"body"`
	Transcript string    `json:"transcript"`
	Text       string    `json:"text"` // body, transcript and flags as one text
	Flags      []string  `json:"flags"`
	At         time.Time `json:"at"`
	// Attachments are the message's files, in order.
	Attachments []Attachment `json:"attachments"`
	// DataOmitted is set when the data of at least one attachment was
	// left out because the event would have grown beyond its bound.
	DataOmitted bool `json:"data_omitted,omitempty"`
}

// Attachment is one file of a message. Data holds its bytes (base64 in
// the JSON) unless DataOmitted is set.
type Attachment struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // MIME type
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"` // lower-case hex of the file's bytes
	Data   []byte `json:"data,omitzero"`
	// DataOmitted is set when Data was left out to keep the event within
	// its bound; the file stays on the box.
	DataOmitted bool `json:"data_omitted,omitempty"`
}

// createdKey, messageKey and updatedKey are the idempotency keys.
func createdKey(uuid string) string { return uuid + ":created" }

func messageKey(uuid string, id uint64) string {
	return uuid + ":message:" + strconv.FormatUint(id, 10)
}

// updatedKey names a ticket.updated event by what it sends: the status,
// priority, assignee and tags (sorted), and the ticket's updated_at, so
// that a repeated send of the same update has the same key while a later
// change back to an earlier state (open, pending, open again) has a new
// one and is not dropped as a repeat.
func updatedKey(t *Ticket) string {
	tags := slices.Clone(t.Tags)
	slices.Sort(tags)
	h := sha256.New()
	for _, s := range []string{t.Status, t.Priority, t.Assignee, strings.Join(tags, "\x1f"), t.UpdatedAt.UTC().Format(time.RFC3339Nano)} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return t.UUID + ":updated:" + hex.EncodeToString(h.Sum(nil)[:8])
}

// ticketOf returns what an event says of t; extra are the target's tags,
// added to the ticket's own.
func ticketOf(t *sync.Ticket, extra []string) Ticket {
	tags := make([]string, 0, len(t.Tags)+len(extra))
	for _, tag := range slices.Concat(t.Tags, extra) {
		if tag != "" && !slices.Contains(tags, tag) {
			tags = append(tags, tag)
		}
	}
	fields := make(map[string]string, len(t.Fields))
	for k, v := range t.Fields {
		fields[k] = v
	}
	return Ticket{
		UUID:       t.UUID,
		Number:     t.Number,
		Ref:        t.Ref(),
		Subject:    t.Subject,
		Status:     string(t.Status),
		ClosedAs:   t.ClosedAs,
		Priority:   string(t.Priority),
		Channel:    string(t.Channel),
		Category:   t.Category,
		Team:       t.Team,
		Assignee:   t.Assignee,
		Tags:       tags,
		Fields:     fields,
		AfterHours: t.AfterHours,
		CreatedAt:  t.CreatedAt,
		UpdatedAt:  t.UpdatedAt,
		Contact: Contact{
			Name:   t.Contact.Name,
			Phones: nonNil(t.Contact.Phones),
			Emails: nonNil(t.Contact.Emails),
		},
	}
}

// messageOf returns what an event says of m, without its attachments.
func messageOf(m *sync.Message) *Message {
	return &Message{
		ID:          m.ID,
		Direction:   string(m.Direction),
		Public:      m.Public(),
		Channel:     string(m.Channel),
		Author:      m.Author,
		Subject:     m.Subject,
		Body:        m.Body,
		Transcript:  m.Transcript,
		Text:        m.Text(),
		Flags:       nonNil(m.Flags),
		At:          m.At,
		Attachments: []Attachment{},
	}
}

// nonNil returns s, or an empty slice for nil, so that the JSON holds []
// rather than null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return slices.Clone(s)
}

// eventTypes are the types ParseEvent accepts.
var eventTypes = []string{TypeTicketCreated, TypeMessageAdded, TypeTicketUpdated}

// maxKeyLen bounds an event id, as receivers that store keys expect.
const maxKeyLen = 255

// ParseEvent decodes a request body into an event and checks it against
// the contract: a known type; an id that matches the type, the ticket's
// uuid and the message's id; a message where the type needs one; for each
// attachment either its data, of its size and SHA-256, or data_omitted.
// Fields it does not know are ignored, so that receivers keep working
// when later versions add some. Call it after Verify, on the same bytes.
func ParseEvent(body []byte) (*Event, error) {
	d := json.NewDecoder(bytes.NewReader(body))
	var e Event
	if err := d.Decode(&e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	if _, err := d.Token(); err == nil {
		return nil, fmt.Errorf("%w: data after the JSON object", ErrInvalidEvent)
	}
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidEvent, err)
	}
	return &e, nil
}

// check reports the first way e breaks the contract.
func (e *Event) check() error {
	switch {
	case e.ID == "":
		return fmt.Errorf("id is empty")
	case len(e.ID) > maxKeyLen:
		return fmt.Errorf("id is longer than %d bytes", maxKeyLen)
	case !slices.Contains(eventTypes, e.Type):
		return fmt.Errorf("type %q is not one of %s", shorten(e.Type), strings.Join(eventTypes, ", "))
	case e.OccurredAt.IsZero():
		return fmt.Errorf("occurred_at is missing")
	case e.Ticket.UUID == "" || strings.Contains(e.Ticket.UUID, ":"):
		return fmt.Errorf("ticket.uuid %q is empty or holds a colon", shorten(e.Ticket.UUID))
	}
	rest, ok := strings.CutPrefix(e.ID, e.Ticket.UUID+":")
	if !ok {
		return fmt.Errorf("id %q does not start with the ticket's uuid", shorten(e.ID))
	}
	switch e.Type {
	case TypeTicketCreated:
		if rest != "created" {
			return fmt.Errorf("id %q of a %s event must end in :created", shorten(e.ID), e.Type)
		}
	case TypeMessageAdded:
		if e.Message == nil {
			return fmt.Errorf("a %s event needs a message", e.Type)
		}
		if rest != "message:"+strconv.FormatUint(e.Message.ID, 10) {
			return fmt.Errorf("id %q does not end in :message:%d", shorten(e.ID), e.Message.ID)
		}
	case TypeTicketUpdated:
		if e.Message != nil {
			return fmt.Errorf("a %s event carries no message", e.Type)
		}
		h, ok := strings.CutPrefix(rest, "updated:")
		if _, err := hex.DecodeString(h); !ok || h == "" || err != nil {
			return fmt.Errorf("id %q of a %s event must end in :updated:<hex>", shorten(e.ID), e.Type)
		}
	}
	if e.Message == nil {
		return nil
	}
	omitted := false
	for i, a := range e.Message.Attachments {
		if err := a.check(); err != nil {
			return fmt.Errorf("attachment %d: %v", i, err)
		}
		omitted = omitted || a.DataOmitted
	}
	if omitted != e.Message.DataOmitted {
		return fmt.Errorf("message.data_omitted is %t but attachments say %t", e.Message.DataOmitted, omitted)
	}
	return nil
}

// check reports whether a's data agrees with its size and SHA-256.
func (a *Attachment) check() error {
	if a.Size < 0 {
		return fmt.Errorf("size %d is negative", a.Size)
	}
	if b, err := hex.DecodeString(a.SHA256); err != nil || len(b) != sha256.Size {
		return fmt.Errorf("sha256 %q is not 64 hex digits", shorten(a.SHA256))
	}
	if a.DataOmitted {
		if len(a.Data) > 0 {
			return fmt.Errorf("data_omitted is set but data is present")
		}
		return nil
	}
	if int64(len(a.Data)) != a.Size {
		return fmt.Errorf("data holds %d bytes, size says %d", len(a.Data), a.Size)
	}
	if sum := sha256.Sum256(a.Data); hex.EncodeToString(sum[:]) != strings.ToLower(a.SHA256) {
		return fmt.Errorf("data does not match its sha256")
	}
	return nil
}
