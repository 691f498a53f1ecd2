package zendesk

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// The JSON shapes of the Zendesk Support API that the target reads and
// writes, with only the properties it uses. Zendesk answers null for an
// unset external_id, priority or time; decoding leaves those zero.

// wireTicket is a ticket as Zendesk shows it ("Tickets", JSON format).
type wireTicket struct {
	ID          int64     `json:"id"`
	ExternalID  string    `json:"external_id"`
	Subject     string    `json:"subject"`
	Status      string    `json:"status"`
	Priority    string    `json:"priority"`
	Tags        []string  `json:"tags"`
	RequesterID int64     `json:"requester_id"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// wireEvent is one event of a ticket audit ("Ticket Audits"): a Comment
// (whose id is the comment's id), a Change, a Notification...
type wireEvent struct {
	ID        int64  `json:"id"`
	Type      string `json:"type"`
	FieldName string `json:"field_name"`
}

// wireAudit is the audit a create or update answers with.
type wireAudit struct {
	ID     int64       `json:"id"`
	Events []wireEvent `json:"events"`
}

// ticketEnvelope is the answer of Create Ticket, Show Ticket and Update
// Ticket.
type ticketEnvelope struct {
	Ticket *wireTicket `json:"ticket"`
	Audit  *wireAudit  `json:"audit"`
}

// commentID returns the id of the Comment event of the answer's audit, or
// 0.
func (e *ticketEnvelope) commentID() int64 {
	if e.Audit == nil {
		return 0
	}
	for _, ev := range e.Audit.Events {
		if ev.Type == "Comment" && ev.ID > 0 {
			return ev.ID
		}
	}
	return 0
}

// ticketList is the answer of List Tickets.
type ticketList struct {
	Tickets []wireTicket `json:"tickets"`
}

// exportPage is one page of the cursor-based Incremental Ticket Export.
type exportPage struct {
	Tickets     []wireTicket `json:"tickets"`
	AfterCursor string       `json:"after_cursor"`
	EndOfStream bool         `json:"end_of_stream"`
}

// wireComment is a ticket comment ("Ticket Comments", JSON format).
type wireComment struct {
	ID        int64     `json:"id"`
	Type      string    `json:"type"`
	Body      string    `json:"body"`
	PlainBody string    `json:"plain_body"`
	Public    bool      `json:"public"`
	AuthorID  int64     `json:"author_id"`
	CreatedAt time.Time `json:"created_at"`
}

// text returns what the comment says: the body the box wrote, or the
// plain text of a comment written in the agent workspace.
func (c *wireComment) text() string {
	if c.Body != "" {
		return c.Body
	}
	return c.PlainBody
}

// replyText returns the comment as a reply for the customer: its plain
// text when Zendesk gives one (an agent's rich text stripped), its body
// otherwise.
func (c *wireComment) replyText() string {
	if c.PlainBody != "" {
		return c.PlainBody
	}
	return c.Body
}

// The user roles of Zendesk.
const (
	roleEndUser = "end-user"
	roleAgent   = "agent"
	roleAdmin   = "admin"
)

// wireUser is a user ("Users", JSON format).
type wireUser struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Role       string `json:"role"`
	ExternalID string `json:"external_id"`
}

// staff reports whether u works in the helpdesk.
func (u *wireUser) staff() bool { return u.Role == roleAgent || u.Role == roleAdmin }

// commentPage is one page of List Comments with the users sideloaded
// (include=users) and cursor pagination.
type commentPage struct {
	Comments []wireComment `json:"comments"`
	Users    []wireUser    `json:"users"`
	Meta     struct {
		HasMore     bool   `json:"has_more"`
		AfterCursor string `json:"after_cursor"`
	} `json:"meta"`
}

// userEnvelope is the answer of Show Self and Create User.
type userEnvelope struct {
	User *wireUser `json:"user"`
}

// userList is the answer of Search Users.
type userList struct {
	Users []wireUser `json:"users"`
}

// uploadEnvelope is the answer of Upload Files.
type uploadEnvelope struct {
	Upload struct {
		Token       string `json:"token"`
		Attachments []struct {
			ID          int64  `json:"id"`
			FileName    string `json:"file_name"`
			ContentType string `json:"content_type"`
			Size        int64  `json:"size"`
		} `json:"attachments"`
	} `json:"upload"`
}

// errDecode is an answer that is JSON but not the shape expected.
var errDecode = errors.New("zendesk: answer is not the shape expected")

// decodeExport decodes an Incremental Ticket Export page and checks that
// each ticket has an id.
func decodeExport(body []byte) (*exportPage, error) {
	var p exportPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: incremental export: %w", errDecode, err)
	}
	for i := range p.Tickets {
		if p.Tickets[i].ID <= 0 {
			return nil, fmt.Errorf("%w: incremental export: ticket %d has no id", errDecode, i)
		}
	}
	if !p.EndOfStream && p.AfterCursor == "" {
		return nil, fmt.Errorf("%w: incremental export: more to come but no after_cursor", errDecode)
	}
	return &p, nil
}

// decodeComments decodes a List Comments page and checks that each
// comment and user has an id and that a page with more has a cursor.
func decodeComments(body []byte) (*commentPage, error) {
	var p commentPage
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: comments: %w", errDecode, err)
	}
	for i := range p.Comments {
		if p.Comments[i].ID <= 0 {
			return nil, fmt.Errorf("%w: comments: comment %d has no id", errDecode, i)
		}
	}
	for i := range p.Users {
		if p.Users[i].ID <= 0 {
			return nil, fmt.Errorf("%w: comments: user %d has no id", errDecode, i)
		}
	}
	if p.Meta.HasMore && p.Meta.AfterCursor == "" {
		return nil, fmt.Errorf("%w: comments: has_more but no after_cursor", errDecode)
	}
	return &p, nil
}

// decodeTickets decodes a List Tickets answer and checks that each ticket
// has an id.
func decodeTickets(body []byte) (*ticketList, error) {
	var l ticketList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("%w: tickets: %w", errDecode, err)
	}
	for i := range l.Tickets {
		if l.Tickets[i].ID <= 0 {
			return nil, fmt.Errorf("%w: tickets: ticket %d has no id", errDecode, i)
		}
	}
	return &l, nil
}
