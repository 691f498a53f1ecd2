package freshdesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// maxConversationPages bounds the pages of one ticket's conversations
// read (100 each).
const maxConversationPages = 50

// noteRequest is the body of POST /api/v2/tickets/{id}/notes. Private is
// always sent: Freshdesk makes a note private unless told otherwise.
type noteRequest struct {
	Body     string `json:"body"`
	Private  bool   `json:"private"`
	Incoming bool   `json:"incoming"`
}

// Post adds m to Freshdesk ticket id as a note (POST
// /api/v2/tickets/{id}/notes) and returns the note's id:
//
//   - an internal note: a private note;
//   - the customer's message: a public note with incoming set, which
//     Freshdesk shows as coming from outside;
//   - the box's reply to the customer: a public note.
//
// The box never uses the reply endpoint: a Freshdesk reply is emailed to
// the requester, who has had the box's reply already. The note's author
// is the API key's agent, which is how Changes tells it from staff.
func (t *Target) Post(ctx context.Context, id string, tk *sync.Ticket, m *sync.Message) (string, error) {
	n, err := remoteID(id)
	if err != nil {
		return "", err
	}
	attach, skipped := fit(m.Files)
	note := noteRequest{
		Body:     htmlOf(m.Text() + skippedLine(skipped)),
		Private:  !m.Public(),
		Incoming: m.Direction == ticket.Incoming,
	}
	r := sync.Request{Method: http.MethodPost, Path: "/api/v2/tickets/" + idString(n) + "/notes"}
	if len(attach) == 0 {
		r.JSON = note
	} else {
		data, ctype, err := form([]field{
			{"body", note.Body},
			{"private", strconv.FormatBool(note.Private)},
			{"incoming", strconv.FormatBool(note.Incoming)},
		}, attach)
		if err != nil {
			return "", fmt.Errorf("freshdesk: post message %d to ticket %s: %w", m.ID, id, err)
		}
		r.Body, r.ContentType = data, ctype
	}
	resp, err := t.client.Do(ctx, r, nil)
	if err != nil {
		return "", fmt.Errorf("freshdesk: post message %d to ticket %s: %w", m.ID, id, err)
	}
	c, err := parseConversation(resp.Body)
	if err != nil {
		return "", ticket.Permanent(fmt.Errorf("freshdesk: post message %d to ticket %s: %w", m.ID, id, err))
	}
	t.remember(n, status(tk.Status))
	return idString(c.ID), nil
}

// Messages lists the conversations (replies and notes) of Freshdesk
// ticket id, oldest first, each as plain text. The ticket's description,
// which holds the first message, is not among them.
func (t *Target) Messages(ctx context.Context, id string) ([]sync.RemoteMessage, error) {
	n, err := remoteID(id)
	if err != nil {
		return nil, err
	}
	agent, err := t.agent(ctx, false)
	if err != nil {
		return nil, err
	}
	cs, err := t.conversations(ctx, n)
	if err != nil {
		return nil, err
	}
	out := make([]sync.RemoteMessage, 0, len(cs))
	for i := range cs {
		out = append(out, remoteMessage(&cs[i], agent))
	}
	return out, nil
}

// conversations reads every page of ticket n's conversations.
func (t *Target) conversations(ctx context.Context, n int64) ([]apiConversation, error) {
	var all []apiConversation
	for page := 1; page <= maxConversationPages; page++ {
		q := url.Values{"per_page": {"100"}, "page": {strconv.Itoa(page)}}
		resp, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/tickets/" + idString(n) + "/conversations", Query: q}, nil)
		if err != nil {
			return nil, fmt.Errorf("freshdesk: conversations of ticket %d: %w", n, err)
		}
		cs, err := parseConversations(resp.Body)
		if err != nil {
			return nil, ticket.Permanent(fmt.Errorf("freshdesk: conversations of ticket %d: %w", n, err))
		}
		all = append(all, cs...)
		if len(cs) == 0 || !nextPage(resp.Header) {
			break
		}
	}
	return all, nil
}

// remoteMessage returns c as the engine sees it; agent is the id of the
// box's own API agent.
func remoteMessage(c *apiConversation, agent int64) sync.RemoteMessage {
	author := c.FromEmail
	if author == "" {
		author = "user " + idString(c.UserID)
	}
	return sync.RemoteMessage{
		ID:     idString(c.ID),
		Body:   stripSkipped(c.text()),
		Public: !c.Private,
		Agent:  !c.Incoming && c.UserID != agent,
		// A reply Freshdesk emailed names its addresses in to_emails;
		// one to a requester with no email address (a caller, a texter)
		// reached no one, and the box delivers it.
		Delivered: c.Source == convReply && !c.Incoming && len(c.ToEmails) > 0,
		Author:    author,
		At:        c.CreatedAt,
	}
}

// staffReply reports whether c is a public reply written by the
// helpdesk's staff: a reply (not a note), not private, not incoming
// (the customer's), and not by the box's own API agent.
func staffReply(c *apiConversation, agent int64) bool {
	return c.Source == convReply && !c.Private && !c.Incoming && c.UserID != agent
}
