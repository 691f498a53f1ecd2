package freshdesk

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiTicket is the part of a Freshdesk ticket the target reads (API v2,
// "Tickets" attributes).
type apiTicket struct {
	ID          int64     `json:"id"`
	Subject     string    `json:"subject"`
	Status      int       `json:"status"`
	Priority    int       `json:"priority"`
	Source      int       `json:"source"`
	RequesterID int64     `json:"requester_id"`
	Tags        []string  `json:"tags"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
	// CustomFields holds any JSON value per field: text, number,
	// boolean or null.
	CustomFields map[string]json.RawMessage `json:"custom_fields"`
}

// field returns the text of custom field name, or "" when it is empty,
// absent or not text.
func (t *apiTicket) field(name string) string {
	raw, ok := t.CustomFields[name]
	if !ok {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// apiSearch is the answer of GET /api/v2/search/tickets.
type apiSearch struct {
	Total   int         `json:"total"`
	Results []apiTicket `json:"results"`
}

// apiConversation is a reply or note of a ticket (API v2,
// "Conversations" attributes).
type apiConversation struct {
	ID        int64  `json:"id"`
	Body      string `json:"body"`
	BodyText  string `json:"body_text"`
	Incoming  bool   `json:"incoming"`
	Private   bool   `json:"private"`
	UserID    int64  `json:"user_id"`
	Source    int    `json:"source"`
	TicketID  int64  `json:"ticket_id"`
	FromEmail string `json:"from_email"`
	// ToEmails are the addresses Freshdesk emailed a reply to.
	ToEmails  []string  `json:"to_emails"`
	CreatedAt time.Time `json:"created_at"`
}

// The sources of a conversation.
const (
	convReply = 0
	convNote  = 2
)

// text returns the conversation as plain text: body_text, or the HTML
// body made plain when Freshdesk sent no body_text.
func (c *apiConversation) text() string {
	if c.BodyText != "" {
		return c.BodyText
	}
	return plain(c.Body)
}

// apiAgent is the answer of GET /api/v2/agents/me.
type apiAgent struct {
	ID      int64 `json:"id"`
	Contact struct {
		Name  string `json:"name"`
		Email string `json:"email"`
	} `json:"contact"`
}

// errNoID is an answer that names no object.
var errNoID = errors.New("the answer has no id")

// parseTicket decodes one ticket, as Create, View and Update answer it.
func parseTicket(body []byte) (*apiTicket, error) {
	var t apiTicket
	if err := decode(body, &t); err != nil {
		return nil, err
	}
	if t.ID <= 0 {
		return nil, errNoID
	}
	return &t, nil
}

// parseTickets decodes a page of List All Tickets.
func parseTickets(body []byte) ([]apiTicket, error) {
	var ts []apiTicket
	if err := decode(body, &ts); err != nil {
		return nil, err
	}
	for i := range ts {
		if ts[i].ID <= 0 {
			return nil, fmt.Errorf("ticket %d of the page: %w", i, errNoID)
		}
	}
	return ts, nil
}

// parseSearch decodes a page of Filter Tickets.
func parseSearch(body []byte) (*apiSearch, error) {
	var s apiSearch
	if err := decode(body, &s); err != nil {
		return nil, err
	}
	for i := range s.Results {
		if s.Results[i].ID <= 0 {
			return nil, fmt.Errorf("result %d: %w", i, errNoID)
		}
	}
	return &s, nil
}

// parseConversation decodes one conversation, as Create a Note answers.
func parseConversation(body []byte) (*apiConversation, error) {
	var c apiConversation
	if err := decode(body, &c); err != nil {
		return nil, err
	}
	if c.ID <= 0 {
		return nil, errNoID
	}
	return &c, nil
}

// parseConversations decodes a page of List All Conversations.
func parseConversations(body []byte) ([]apiConversation, error) {
	var cs []apiConversation
	if err := decode(body, &cs); err != nil {
		return nil, err
	}
	for i := range cs {
		if cs[i].ID <= 0 {
			return nil, fmt.Errorf("conversation %d of the page: %w", i, errNoID)
		}
	}
	return cs, nil
}

// parseAgent decodes the answer of /api/v2/agents/me.
func parseAgent(body []byte) (*apiAgent, error) {
	var a apiAgent
	if err := decode(body, &a); err != nil {
		return nil, err
	}
	if a.ID <= 0 {
		return nil, errNoID
	}
	return &a, nil
}

func decode(body []byte, v any) error {
	if len(bytes.TrimSpace(body)) == 0 {
		return errors.New("the answer is empty")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("the answer is not the JSON expected: %w", err)
	}
	return nil
}

// nextPage reports whether the answer's Link header names a next page
// (API v2, "Pagination": the header is absent on the last page).
func nextPage(h http.Header) bool {
	for _, v := range h.Values("Link") {
		for _, part := range strings.Split(v, ",") {
			if strings.Contains(strings.ReplaceAll(part, " ", ""), `rel="next"`) {
				return true
			}
		}
	}
	return false
}

// htmlOf returns text as the HTML Freshdesk stores: escaped, each line
// break a <br> (with the line break kept, so that plain text made of it
// keeps the words apart).
func htmlOf(text string) string {
	lines := strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n")
	for i, l := range lines {
		lines[i] = html.EscapeString(l)
	}
	return "<div>" + strings.Join(lines, "<br>\n") + "</div>"
}

// plain returns HTML as text: tags dropped (<br>, </p> and </div> become
// line breaks) and entities decoded.
func plain(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break // an unclosed tag: drop the rest
		}
		tag := strings.ToLower(strings.Trim(s[i+1:i+j], "/ "))
		if f := strings.Fields(tag); len(f) > 0 {
			tag = f[0]
		}
		switch tag {
		case "br", "p", "div":
			b.WriteByte('\n')
		}
		s = s[i+j+1:]
	}
	return strings.TrimSpace(html.UnescapeString(b.String()))
}

// skippedPrefix starts the line added to a message whose files did not
// fit in Freshdesk's attachment limit.
const skippedPrefix = "(Not attached, too large for Freshdesk: "

// stripSkipped removes the line added by skippedLine, so that the text
// compares equal to the box's message.
func stripSkipped(s string) string {
	t := strings.TrimSpace(s)
	if i := strings.LastIndex(t, skippedPrefix); i >= 0 && strings.HasSuffix(t, ")") {
		return strings.TrimSpace(t[:i])
	}
	return s
}

// idString formats a Freshdesk id.
func idString(id int64) string { return strconv.FormatInt(id, 10) }
