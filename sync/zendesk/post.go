package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// maxCommentPages bounds the pages of comments read for one ticket: 100
// a page, and Zendesk keeps at most 5,000 comments on a ticket.
const maxCommentPages = 51

// Post adds m to remote ticket id as a comment (Update Ticket, PUT
// /api/v2/tickets/{id} with a comment): a public comment for the
// customer's and the shop's messages, a private one for an internal note.
// The customer's messages are written in the requester's name (the
// comment's author_id), so that Zendesk shows them as the customer's and
// never takes them for staff replies. It returns the comment's id.
func (t *Target) Post(ctx context.Context, id string, tk *sync.Ticket, m *sync.Message) (string, error) {
	n, path, err := ticketPath(id, "")
	if err != nil {
		return "", err
	}
	c := newComment{Body: m.Text(), Public: m.Public()}
	if m.Direction == ticket.Incoming {
		if c.AuthorID, err = t.requester(ctx, n); err != nil {
			return "", fmt.Errorf("zendesk: post message %d to ticket %s: %w", m.ID, id, err)
		}
	}
	if c.Uploads, err = t.upload(ctx, m.Files); err != nil {
		return "", fmt.Errorf("zendesk: post message %d to ticket %s: %w", m.ID, id, err)
	}
	var out ticketEnvelope
	_, err = t.client.Do(ctx, sync.Request{
		Method: http.MethodPut,
		Path:   path,
		JSON:   map[string]any{"ticket": map[string]any{"comment": c}},
	}, &out)
	if err != nil {
		return "", fmt.Errorf("zendesk: post message %d to ticket %s: %w", m.ID, id, err)
	}
	if cid := out.commentID(); cid > 0 {
		return strconv.FormatInt(cid, 10), nil
	}
	return "", nil
}

// requester returns the requester of remote ticket n (Show Ticket, GET
// /api/v2/tickets/{id}), asking Zendesk once per ticket.
func (t *Target) requester(ctx context.Context, n int64) (int64, error) {
	t.mu.Lock()
	r := t.requesters[n]
	t.mu.Unlock()
	if r != 0 {
		return r, nil
	}
	var out ticketEnvelope
	if _, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/tickets/" + strconv.FormatInt(n, 10)}, &out); err != nil {
		return 0, fmt.Errorf("show ticket: %w", err)
	}
	if out.Ticket == nil || out.Ticket.RequesterID <= 0 {
		return 0, nil // no requester known: the API user writes it
	}
	t.mu.Lock()
	remember(t.requesters, n, out.Ticket.RequesterID)
	t.mu.Unlock()
	return out.Ticket.RequesterID, nil
}

// Messages lists the comments of remote ticket id, oldest first (List
// Comments, GET /api/v2/tickets/{id}/comments with cursor pagination and
// the authors sideloaded). Body is the text as written, so a comment the
// box posted reads back as Message.Text(); Agent marks comments of staff
// other than the API user.
func (t *Target) Messages(ctx context.Context, id string) ([]sync.RemoteMessage, error) {
	_, path, err := ticketPath(id, "/comments")
	if err != nil {
		return nil, err
	}
	me, err := t.self(ctx)
	if err != nil {
		return nil, err
	}
	var out []sync.RemoteMessage
	err = t.comments(ctx, path, func(c *wireComment, author *wireUser) {
		out = append(out, remoteMessage(c, author, me, c.text()))
	})
	if err != nil {
		return nil, fmt.Errorf("zendesk: list comments of ticket %s: %w", id, err)
	}
	return out, nil
}

// remoteMessage returns comment c as the engine sees it, with body as its
// text.
func remoteMessage(c *wireComment, author *wireUser, me int64, body string) sync.RemoteMessage {
	rm := sync.RemoteMessage{
		ID:     strconv.FormatInt(c.ID, 10),
		Body:   body,
		Public: c.Public,
		At:     c.CreatedAt,
		Author: "user " + strconv.FormatInt(c.AuthorID, 10),
	}
	if author != nil {
		if author.Name != "" {
			rm.Author = author.Name
		}
		rm.Agent = author.staff() && author.ID != me
	}
	return rm
}

// comments calls fn for each comment at path (a ticket's comments) with
// its author when Zendesk sideloads it, page after page.
func (t *Target) comments(ctx context.Context, path string, fn func(*wireComment, *wireUser)) error {
	q := url.Values{"page[size]": {"100"}, "include": {"users"}}
	for range maxCommentPages {
		resp, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: path, Query: q}, nil)
		if err != nil {
			return err
		}
		p, err := decodeComments(resp.Body)
		if err != nil {
			return ticket.Permanent(err)
		}
		users := make(map[int64]*wireUser, len(p.Users))
		for i := range p.Users {
			users[p.Users[i].ID] = &p.Users[i]
		}
		for i := range p.Comments {
			c := &p.Comments[i]
			fn(c, users[c.AuthorID])
		}
		if !p.Meta.HasMore {
			return nil
		}
		q.Set("page[after]", p.Meta.AfterCursor)
	}
	return nil
}

// Update brings the remote ticket's status and priority to t's (Update
// Ticket, PUT /api/v2/tickets/{id}) and adds t's tags (Add Tags, PUT
// /api/v2/tickets/{id}/tags) when some are missing. Tags are only added:
// a tag removed on the box stays in Zendesk, where triggers and staff
// also set tags the box does not know. The box's new is never sent to a
// ticket that exists (Zendesk does not move a ticket back to new), and a
// ticket Zendesk has closed is left alone when the box is done with it
// too.
func (t *Target) Update(ctx context.Context, id string, tk *sync.Ticket) error {
	_, path, err := ticketPath(id, "")
	if err != nil {
		return err
	}
	fields := map[string]any{}
	if s := zendeskStatus(tk.Status); s != "" && s != statusNew {
		fields["status"] = s
	}
	if p := zendeskPriority(tk.Priority); p != "" {
		fields["priority"] = p
	}
	var have []string
	if len(fields) > 0 {
		var out ticketEnvelope
		_, err := t.client.Do(ctx, sync.Request{Method: http.MethodPut, Path: path, JSON: map[string]any{"ticket": fields}}, &out)
		if err != nil {
			if closedTicket(err) && done(tk.Status) {
				return nil
			}
			return fmt.Errorf("zendesk: update ticket %s: %w", id, err)
		}
		if out.Ticket != nil {
			have = out.Ticket.Tags
		}
	} else {
		var out ticketEnvelope
		if _, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: path}, &out); err != nil {
			return fmt.Errorf("zendesk: show ticket %s: %w", id, err)
		}
		if out.Ticket != nil {
			have = out.Ticket.Tags
		}
	}
	var missing []string
	for _, tag := range t.tagsFor(tk) {
		if !slices.Contains(have, tag) {
			missing = append(missing, tag)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = t.client.Do(ctx, sync.Request{Method: http.MethodPut, Path: path + "/tags", JSON: map[string]any{"tags": missing}}, nil)
	if err != nil {
		if closedTicket(err) && done(tk.Status) {
			return nil
		}
		return fmt.Errorf("zendesk: add tags to ticket %s: %w", id, err)
	}
	return nil
}

// closedTicket reports whether err is Zendesk refusing to change a closed
// ticket (422, "Status: closed prevents ticket update").
func closedTicket(err error) bool { return vendorSays(err, "closed prevents ticket update") }
