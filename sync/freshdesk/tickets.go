package freshdesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// findWindow is how far back Find looks through the recently updated
// tickets when the search finds nothing: Freshdesk's search index takes
// "a few minutes" to show a new ticket.
const findWindow = 30 * time.Minute

// findPages bounds the pages of recent tickets Find reads.
const findPages = 3

// createRequest is the body of POST /api/v2/tickets.
type createRequest struct {
	Name             string            `json:"name,omitempty"`
	Email            string            `json:"email,omitempty"`
	Phone            string            `json:"phone,omitempty"`
	UniqueExternalID string            `json:"unique_external_id,omitempty"`
	Subject          string            `json:"subject"`
	Description      string            `json:"description"`
	Status           int               `json:"status"`
	Priority         int               `json:"priority"`
	Source           int               `json:"source"`
	Tags             []string          `json:"tags,omitempty"`
	CustomFields     map[string]string `json:"custom_fields"`
}

// updateRequest is the body of PUT /api/v2/tickets/{id}.
type updateRequest struct {
	Status   int      `json:"status"`
	Priority int      `json:"priority"`
	Tags     []string `json:"tags"`
}

// Find returns the id of the Freshdesk ticket whose id field holds t's
// UUID, or "". It searches (GET /api/v2/search/tickets) and, since the
// search index lags behind new tickets, then looks through the tickets
// updated in the last findWindow. When there are several, the oldest
// wins.
func (t *Target) Find(ctx context.Context, tk *sync.Ticket) (string, error) {
	uuid := tk.UUID
	if !validUUID(uuid) {
		return "", ticket.Permanent(fmt.Errorf("freshdesk: find: the ticket's id %q cannot be searched for", uuid))
	}
	// "Filter Tickets": the query is enclosed in double quotes, a text
	// value in single quotes.
	q := url.Values{"query": {`"` + t.idField + `:'` + uuid + `'"`}}
	resp, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/search/tickets", Query: q}, nil)
	if err != nil {
		return "", fmt.Errorf("freshdesk: find %s: %w", tk.Ref(), err)
	}
	s, err := parseSearch(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("freshdesk: find %s: %w", tk.Ref(), err))
	}
	var best int64
	for _, r := range s.Results {
		// A search answer may leave custom fields out; trust the search
		// then, but never take a ticket whose field says otherwise.
		if r.CustomFields != nil && r.field(t.idField) != uuid {
			continue
		}
		if best == 0 || r.ID < best {
			best = r.ID
		}
	}
	if best == 0 {
		if best, err = t.findRecent(ctx, uuid); err != nil {
			return "", fmt.Errorf("freshdesk: find %s: %w", tk.Ref(), err)
		}
	}
	if best == 0 {
		return "", nil
	}
	t.remember(best, status(tk.Status))
	return idString(best), nil
}

// findRecent looks for uuid in the tickets updated in the last
// findWindow (List All Tickets with updated_since).
func (t *Target) findRecent(ctx context.Context, uuid string) (int64, error) {
	since := t.now().Add(-findWindow).UTC().Format(time.RFC3339)
	var best int64
	for page := 1; page <= findPages; page++ {
		q := url.Values{
			"updated_since": {since},
			"order_by":      {"updated_at"},
			"order_type":    {"desc"},
			"per_page":      {"100"},
			"page":          {strconv.Itoa(page)},
		}
		resp, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/tickets", Query: q}, nil)
		if err != nil {
			return 0, err
		}
		ts, err := parseTickets(resp.Body)
		if err != nil {
			return 0, ticket.Permanent(err)
		}
		for i := range ts {
			if ts[i].field(t.idField) == uuid && (best == 0 || ts[i].ID < best) {
				best = ts[i].ID
			}
		}
		if !nextPage(resp.Header) {
			break
		}
	}
	return best, nil
}

// validUUID reports whether s can stand in a search query: letters,
// digits and -, as the box's UUIDs are.
func validUUID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '-') {
			return false
		}
	}
	return true
}

// Create makes the Freshdesk ticket for t with its first message as the
// description (POST /api/v2/tickets), as JSON, or as multipart/form-data
// with the message's files as attachments[].
func (t *Target) Create(ctx context.Context, tk *sync.Ticket, first *sync.Message) (string, error) {
	body := ""
	var files []sync.File
	if first != nil {
		body = first.Text()
		files = first.Files
	}
	attach, skipped := fit(files)
	body += skippedLine(skipped)
	subject := tk.Subject
	if subject == "" {
		subject = fmt.Sprintf("%s %s", tk.Ref(), tk.Channel)
	}
	c := createRequest{
		Subject:      subject,
		Description:  htmlOf(body),
		Status:       status(tk.Status),
		Priority:     priority(tk.Priority),
		Source:       source(tk.Channel),
		Tags:         t.tagsOf(tk),
		CustomFields: map[string]string{t.idField: tk.UUID},
	}
	requester(&c, tk)

	r := sync.Request{Method: http.MethodPost, Path: "/api/v2/tickets"}
	if len(attach) == 0 {
		r.JSON = c
	} else {
		fields := []field{
			{"subject", c.Subject}, {"description", c.Description},
			{"status", strconv.Itoa(c.Status)}, {"priority", strconv.Itoa(c.Priority)},
			{"source", strconv.Itoa(c.Source)},
			{"custom_fields[" + t.idField + "]", tk.UUID},
		}
		for _, f := range []field{{"name", c.Name}, {"email", c.Email}, {"phone", c.Phone}, {"unique_external_id", c.UniqueExternalID}} {
			if f.value != "" {
				fields = append(fields, f)
			}
		}
		for _, tag := range c.Tags {
			fields = append(fields, field{"tags[]", tag})
		}
		data, ctype, err := form(fields, attach)
		if err != nil {
			return "", fmt.Errorf("freshdesk: create %s: %w", tk.Ref(), err)
		}
		r.Body, r.ContentType = data, ctype
	}
	resp, err := t.client.Do(ctx, r, nil)
	if err != nil {
		return "", fmt.Errorf("freshdesk: create %s: %w", tk.Ref(), err)
	}
	made, err := parseTicket(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("freshdesk: create %s: %w", tk.Ref(), err))
	}
	t.remember(made.ID, c.Status)
	return idString(made.ID), nil
}

// requester sets who asked: by email when the contact has one, else by
// phone (Freshdesk then needs a name), else by an external id made of
// the box's contact, which Freshdesk turns into a new contact.
func requester(c *createRequest, tk *sync.Ticket) {
	name := tk.Contact.Name
	switch {
	case tk.Email() != "":
		c.Email, c.Name = tk.Email(), name
	case tk.Phone() != "":
		c.Phone = tk.Phone()
		c.Name = name
		if c.Name == "" {
			c.Name = tk.Phone()
		}
	default:
		if tk.Contact.ID != 0 {
			c.UniqueExternalID = fmt.Sprintf("counterdesk-contact-%d", tk.Contact.ID)
		} else {
			c.UniqueExternalID = "counterdesk-ticket-" + tk.UUID
		}
		c.Name = name
		if c.Name == "" {
			c.Name = "Unknown (" + string(tk.Channel) + ")"
		}
	}
}

// Update brings the Freshdesk ticket's status, priority and tags to t's
// (PUT /api/v2/tickets/{id}). The tags replace the ticket's.
func (t *Target) Update(ctx context.Context, id string, tk *sync.Ticket) error {
	n, err := remoteID(id)
	if err != nil {
		return err
	}
	u := updateRequest{Status: status(tk.Status), Priority: priority(tk.Priority), Tags: t.tagsOf(tk)}
	if _, err := t.client.Do(ctx, sync.Request{Method: http.MethodPut, Path: "/api/v2/tickets/" + idString(n), JSON: u}, nil); err != nil {
		return fmt.Errorf("freshdesk: update ticket %s (%s): %w", id, tk.Ref(), err)
	}
	t.remember(n, u.Status)
	return nil
}
