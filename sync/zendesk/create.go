package zendesk

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// HeaderIdempotencyKey is the header by which Zendesk recognises a ticket
// creation sent again ("Ticketing API introduction", Idempotency): within
// about two hours, the same key and body answer the ticket made the first
// time, with "x-idempotency-lookup: hit".
const HeaderIdempotencyKey = "Idempotency-Key"

// MaxAttachment is the largest file Zendesk takes as an attachment (50 MB,
// "Ticket Attachments", Upload Files).
const MaxAttachment = 50 << 20

// newTicket is the body of Create Ticket (POST /api/v2/tickets).
type newTicket struct {
	Ticket newTicketFields `json:"ticket"`
}

type newTicketFields struct {
	Subject     string     `json:"subject,omitempty"`
	Comment     newComment `json:"comment"`
	Priority    string     `json:"priority,omitempty"`
	Status      string     `json:"status,omitempty"`
	Tags        []string   `json:"tags,omitempty"`
	ExternalID  string     `json:"external_id"`
	Requester   *requester `json:"requester,omitempty"`
	RequesterID int64      `json:"requester_id,omitempty"`
}

// newComment is a comment added by a create or update ("Ticket
// Comments"): a public comment or an internal note, its attachments by
// upload token, and its author when it is not the API user.
type newComment struct {
	Body     string   `json:"body"`
	Public   bool     `json:"public"`
	Uploads  []string `json:"uploads,omitempty"`
	AuthorID int64    `json:"author_id,omitempty"`
}

// requester is a ticket's requester given by name and email ("Creating
// and updating tickets", Creating a ticket with a new requester): Zendesk
// uses the user with that email, or makes one.
type requester struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Find returns the remote ticket whose external_id is t's UUID (List
// Tickets, GET /api/v2/tickets?external_id=...), or "". When several
// carry it, the oldest is the box's.
func (t *Target) Find(ctx context.Context, tk *sync.Ticket) (string, error) {
	if tk.UUID == "" {
		return "", nil
	}
	resp, err := t.client.Do(ctx, sync.Request{
		Method: http.MethodGet,
		Path:   "/api/v2/tickets",
		Query:  url.Values{"external_id": {tk.UUID}},
	}, nil)
	if err != nil {
		return "", fmt.Errorf("zendesk: find ticket %s: %w", tk.UUID, err)
	}
	l, err := decodeTickets(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("zendesk: find ticket %s: %w", tk.UUID, err))
	}
	var best int64
	for _, zt := range l.Tickets {
		if zt.ExternalID == tk.UUID && (best == 0 || zt.ID < best) {
			best = zt.ID
		}
	}
	if best == 0 {
		return "", nil
	}
	return strconv.FormatInt(best, 10), nil
}

// Create uploads the first message's attachments, finds or makes the
// requester, and makes the remote ticket (Create Ticket, POST
// /api/v2/tickets) with the box ticket's UUID as external_id and as
// Idempotency-Key. It returns the remote ticket's id.
func (t *Target) Create(ctx context.Context, tk *sync.Ticket, first *sync.Message) (string, error) {
	if tk.UUID == "" {
		return "", ticket.Permanent(fmt.Errorf("zendesk: ticket %s has no uuid to store as external_id", tk.Ref()))
	}
	uploads, err := t.upload(ctx, first.Files)
	if err != nil {
		return "", fmt.Errorf("zendesk: create ticket %s: %w", tk.UUID, err)
	}
	f := newTicketFields{
		Subject:    subjectOf(tk),
		Comment:    newComment{Body: first.Text(), Public: first.Public(), Uploads: uploads},
		Priority:   zendeskPriority(tk.Priority),
		Tags:       t.tagsFor(tk),
		ExternalID: tk.UUID,
	}
	if s := zendeskStatus(tk.Status); s != statusNew {
		f.Status = s
	}
	switch {
	case tk.Email() != "":
		f.Requester = &requester{Name: tk.Contact.Name, Email: tk.Email()}
	case tk.Phone() != "":
		if f.RequesterID, err = t.phoneUser(ctx, tk); err != nil {
			return "", fmt.Errorf("zendesk: create ticket %s: %w", tk.UUID, err)
		}
	}
	var out ticketEnvelope
	_, err = t.client.Do(ctx, sync.Request{
		Method: http.MethodPost,
		Path:   "/api/v2/tickets",
		JSON:   newTicket{Ticket: f},
		Header: http.Header{HeaderIdempotencyKey: {tk.UUID}},
	}, &out)
	if err != nil && (vendorSays(err, "IdempotentRequest") || isConflict(err)) {
		// An earlier attempt with this key made the ticket (or is making
		// it) with another body, such as other upload tokens: it is the
		// one to use once it exists.
		if id, ferr := t.Find(ctx, tk); ferr == nil && id != "" {
			return id, nil
		}
	}
	if err != nil {
		return "", fmt.Errorf("zendesk: create ticket %s: %w", tk.UUID, err)
	}
	if out.Ticket == nil || out.Ticket.ID <= 0 {
		return "", ticket.Permanent(fmt.Errorf("zendesk: create ticket %s: %w: no ticket id", tk.UUID, errDecode))
	}
	if out.Ticket.RequesterID > 0 {
		t.mu.Lock()
		remember(t.requesters, out.Ticket.ID, out.Ticket.RequesterID)
		t.mu.Unlock()
	}
	return strconv.FormatInt(out.Ticket.ID, 10), nil
}

// isConflict reports whether err is a 409 answer (Zendesk: a request with
// the same idempotency key is still being carried out).
func isConflict(err error) bool {
	var h *sync.HTTPError
	return errors.As(err, &h) && h.Status == http.StatusConflict
}

// phoneExternalID is the external_id the box gives the Zendesk user it
// makes for a contact known only by phone number.
func phoneExternalID(phone string) string { return Tag + "-phone-" + phone }

// phoneUser returns the id of the Zendesk user for a contact with a phone
// number and no email address. Zendesk documents a user made from a
// caller's number alone ("Creating a user profile in Support for a
// caller": POST /api/v2/users with name and an E.164 phone); the box
// gives that user the external_id phoneExternalID, finds it again by it
// (Search Users, GET /api/v2/users/search?external_id=...), and makes it
// only when there is none, so that a name staff set in Zendesk is kept.
func (t *Target) phoneUser(ctx context.Context, tk *sync.Ticket) (int64, error) {
	phone := tk.Phone()
	ext := phoneExternalID(phone)
	t.mu.Lock()
	id := t.phoneUsers[ext]
	t.mu.Unlock()
	if id != 0 {
		return id, nil
	}
	find := func() (int64, error) {
		var l userList
		if _, err := t.client.Do(ctx, sync.Request{
			Method: http.MethodGet,
			Path:   "/api/v2/users/search",
			Query:  url.Values{"external_id": {ext}},
		}, &l); err != nil {
			return 0, fmt.Errorf("search user %s: %w", ext, err)
		}
		for _, u := range l.Users {
			if u.ID > 0 {
				return u.ID, nil
			}
		}
		return 0, nil
	}
	id, err := find()
	if err != nil {
		return 0, err
	}
	if id == 0 {
		name := tk.Contact.Name
		if name == "" {
			name = "Caller " + phone
		}
		var out userEnvelope
		_, err = t.client.Do(ctx, sync.Request{
			Method: http.MethodPost,
			Path:   "/api/v2/users",
			JSON: map[string]any{"user": map[string]any{
				"name": name, "phone": phone, "external_id": ext, "role": roleEndUser,
			}},
		}, &out)
		if err != nil {
			// Another request may have made it in between: its external
			// id is taken then.
			if again, ferr := find(); ferr == nil && again != 0 {
				id, err = again, nil
			} else {
				return 0, fmt.Errorf("create user for %s: %w", phone, err)
			}
		} else if out.User == nil || out.User.ID <= 0 {
			return 0, ticket.Permanent(fmt.Errorf("create user for %s: %w: no user id", phone, errDecode))
		} else {
			id = out.User.ID
		}
	}
	t.mu.Lock()
	remember(t.phoneUsers, ext, id)
	t.mu.Unlock()
	return id, nil
}

// upload sends files to Zendesk (Upload Files, POST
// /api/v2/uploads?filename=NAME with the file's bytes and MIME type) and
// returns the token to reference them by: the first upload's token is
// passed with each further file, so that one token holds them all.
func (t *Target) upload(ctx context.Context, files []sync.File) ([]string, error) {
	token := ""
	for _, f := range files {
		name := f.Name
		if name == "" {
			name = filepath.Base(f.Path)
		}
		fi, err := os.Stat(f.Path)
		if err != nil {
			return nil, fmt.Errorf("attachment %s: %w", name, err)
		}
		if fi.Size() > MaxAttachment {
			return nil, ticket.Permanent(fmt.Errorf("attachment %s is %d bytes; Zendesk takes at most %d", name, fi.Size(), MaxAttachment))
		}
		data, err := os.ReadFile(f.Path)
		if err != nil {
			return nil, fmt.Errorf("attachment %s: %w", name, err)
		}
		ctype := f.Type
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		q := url.Values{"filename": {name}}
		if token != "" {
			q.Set("token", token)
		}
		var out uploadEnvelope
		if _, err := t.client.Do(ctx, sync.Request{
			Method:      http.MethodPost,
			Path:        "/api/v2/uploads",
			Query:       q,
			Body:        data,
			ContentType: ctype,
		}, &out); err != nil {
			return nil, fmt.Errorf("upload %s: %w", name, err)
		}
		if out.Upload.Token == "" {
			return nil, ticket.Permanent(fmt.Errorf("upload %s: %w: no token", name, errDecode))
		}
		token = out.Upload.Token
	}
	if token == "" {
		return nil, nil
	}
	return []string{token}, nil
}
