// Package freshdesk is the sync target for Freshdesk (API v2). It copies
// the box's tickets into the shop's Freshdesk account as tickets whose
// later messages are notes, and, with two_way, brings back the status
// changes and the public replies its agents write there. README.md in
// this folder has the field mapping and what the shop sets up first.
//
// Freshdesk documents no idempotency key. The box's ticket UUID is stored
// in a custom ticket field (config id_field, default "cf_counterdesk_id")
// and Find searches by it, so that a ticket whose creation may have
// happened is looked up before it is created again.
package freshdesk

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// DefaultIDField is the custom ticket field that holds the box's ticket
// UUID when the config sets no id_field. Freshdesk names custom fields
// "cf_" and the label in lower case.
const DefaultIDField = "cf_counterdesk_id"

// maxKnown bounds the remote statuses a Target remembers (see known).
const maxKnown = 100_000

// Target copies tickets to one Freshdesk account. It is safe for
// concurrent use.
type Target struct {
	client  *sync.Client
	base    string // the account's address, for links
	idField string
	tags    []string
	now     func() time.Time

	mu stdsync.Mutex
	// agentID is the id of the agent whose API key the target uses, so
	// that what the box wrote is never taken for a reply by staff; 0
	// until learned from /api/v2/agents/me.
	agentID int64
	// known holds, per remote ticket, the Freshdesk status that stands
	// for the box's status as the target last learned it (from Create,
	// Post and Update, or from a change it reported). Changes reports a
	// status only when Freshdesk's differs, so that a box ticket that is
	// "new" is not moved to "open" just because Freshdesk has no "new".
	known map[int64]knownStatus
	gen   uint64 // counts the changes of known
	// reported holds the statuses the last Changes call reported, made
	// known once the engine passes the cursor it returned (so applied
	// them); a call with an older cursor drops them.
	reported       []reportedStatus
	reportedCursor string
}

// knownStatus is a status code and the generation that set it.
type knownStatus struct {
	code int
	gen  uint64
}

// reportedStatus is a status Changes reported and the generation of
// known it was read at.
type reportedStatus struct {
	id   int64
	code int
	gen  uint64
}

var _ sync.Target = (*Target)(nil)

// New returns the target configured by c; timeout bounds one request.
// c.Token is the API key of a Freshdesk agent; c.BaseURL the account's
// address, such as "https://wingsandthings.freshdesk.com".
func New(c config.SyncTarget, timeout time.Duration) (*Target, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("freshdesk target %q: token is empty: set it in [[sync.targets]] or give it as the systemd credential sync-%s", c.Name, c.Name)
	}
	if c.BaseURL == "" {
		return nil, fmt.Errorf("freshdesk target %q: base_url is empty: set it to the account's address, such as \"https://SHOP.freshdesk.com\"", c.Name)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("freshdesk target %q: base_url: %w", c.Name, err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("freshdesk target %q: base_url: must not hold a user or password; the token is the API key", c.Name)
	}
	idField := c.IDField
	if idField == "" {
		idField = DefaultIDField
	}
	if !validFieldName(idField) {
		return nil, fmt.Errorf("freshdesk target %q: id_field: %q is not a Freshdesk custom field name such as %q (cf_ and lower-case letters, digits and _)", c.Name, idField, DefaultIDField)
	}
	// Freshdesk: Basic auth with the API key as the user and any
	// password ("X" in the documentation's examples).
	basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Token+":X"))
	client, err := sync.NewClient(sync.ClientOptions{
		BaseURL: c.BaseURL,
		Auth:    func(r *http.Request) { r.Header.Set("Authorization", basic) },
		Secrets: []string{c.Token, basic, strings.TrimPrefix(basic, "Basic ")},
		Timeout: timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("freshdesk target %q: %w", c.Name, err)
	}
	return &Target{
		client:  client,
		base:    strings.TrimRight(c.BaseURL, "/"),
		idField: idField,
		tags:    c.Tags,
		now:     time.Now,
		known:   make(map[int64]knownStatus),
	}, nil
}

// validFieldName reports whether s can name a custom ticket field in a
// search query without quoting.
func validFieldName(s string) bool {
	if !strings.HasPrefix(s, "cf_") || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '_') {
			return false
		}
	}
	return true
}

// Probe asks who the API key belongs to (GET /api/v2/agents/me), the
// cheapest authenticated request, and remembers the agent's id.
func (t *Target) Probe(ctx context.Context) error {
	_, err := t.agent(ctx, true)
	return err
}

// agent returns the id of the API key's agent, asking Freshdesk when it
// is not known yet or when fresh is set.
func (t *Target) agent(ctx context.Context, fresh bool) (int64, error) {
	t.mu.Lock()
	id := t.agentID
	t.mu.Unlock()
	if id != 0 && !fresh {
		return id, nil
	}
	resp, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/agents/me"}, nil)
	if err != nil {
		return 0, fmt.Errorf("freshdesk: who am I: %w", err)
	}
	a, err := parseAgent(resp.Body)
	if err != nil {
		return 0, ticket.Permanent(fmt.Errorf("freshdesk: who am I: %w", err))
	}
	t.mu.Lock()
	t.agentID = a.ID
	t.mu.Unlock()
	return a.ID, nil
}

// Link returns the agent view of remote ticket id.
func (t *Target) Link(id string) string {
	if id == "" {
		return ""
	}
	return t.base + "/a/tickets/" + url.PathEscape(id)
}

// remember records that Freshdesk status code stands for the box's
// status of remote ticket id.
func (t *Target) remember(id int64, code int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.rememberLocked(id, code)
}

func (t *Target) rememberLocked(id int64, code int) {
	if _, ok := t.known[id]; !ok && len(t.known) >= maxKnown {
		clear(t.known) // forgetting costs at most one status reported again
	}
	t.gen++
	t.known[id] = knownStatus{code: code, gen: t.gen}
}

// knownOf returns the status known for remote ticket id and its
// generation (0 when none is known).
func (t *Target) knownOf(id int64) (code int, gen uint64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := t.known[id]
	return k.code, k.gen
}

// settle makes the statuses the last Changes call reported known when
// cursor is the one it returned (the engine kept it, so applied them),
// unless Create, Post or Update learned a newer status meanwhile; with
// any other cursor it drops them.
func (t *Target) settle(cursor string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if cursor == t.reportedCursor {
		for _, r := range t.reported {
			if t.known[r.id].gen == r.gen {
				t.rememberLocked(r.id, r.code)
			}
		}
	}
	t.reported, t.reportedCursor = nil, ""
}

// keepReported holds the statuses a Changes call reported until the
// next call settles them.
func (t *Target) keepReported(r []reportedStatus, cursor string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.reported, t.reportedCursor = r, cursor
}

// remoteID parses a Freshdesk ticket id.
func remoteID(id string) (int64, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, ticket.Permanent(fmt.Errorf("freshdesk: %q is not a ticket id", id))
	}
	return n, nil
}

// The sources of a Freshdesk ticket (API v2, "Ticket Properties").
const (
	sourceEmail  = 1
	sourcePortal = 2
	sourcePhone  = 3
	sourceChat   = 7
)

// source returns the Freshdesk source of a ticket that came in by c.
// Freshdesk documents no SMS source; Chat is the documented channel
// closest to a text conversation.
func source(c ticket.Channel) int {
	switch c {
	case ticket.ChannelVoicemail, ticket.ChannelMissedCall, ticket.ChannelStaff:
		return sourcePhone
	case ticket.ChannelEmail:
		return sourceEmail
	case ticket.ChannelSMS:
		return sourceChat
	default: // web_form, api, cloud
		return sourcePortal
	}
}

// The statuses of a Freshdesk ticket.
const (
	statusOpen     = 2
	statusPending  = 3
	statusResolved = 4
	statusClosed   = 5
)

// status returns the Freshdesk status for the box's s. Freshdesk has no
// "new" (Open stands for it) and no spam or archived status that the API
// can set (Closed stands for them).
func status(s ticket.Status) int {
	switch s {
	case ticket.StatusPending:
		return statusPending
	case ticket.StatusResolved:
		return statusResolved
	case ticket.StatusClosed, ticket.StatusSpam, ticket.StatusArchived:
		return statusClosed
	default: // new, open
		return statusOpen
	}
}

// boxStatus returns the box's status for Freshdesk status code, or ""
// for the account's own custom statuses, which have no equivalent.
func boxStatus(code int) ticket.Status {
	switch code {
	case statusOpen:
		return ticket.StatusOpen
	case statusPending:
		return ticket.StatusPending
	case statusResolved:
		return ticket.StatusResolved
	case statusClosed:
		return ticket.StatusClosed
	}
	return ""
}

// priority returns the Freshdesk priority (Low 1, Medium 2, High 3,
// Urgent 4) for the box's p.
func priority(p ticket.Priority) int {
	switch p {
	case ticket.PriorityLow:
		return 1
	case ticket.PriorityHigh:
		return 3
	case ticket.PriorityUrgent:
		return 4
	default: // normal
		return 2
	}
}

// tagsOf returns the configured tags and the ticket's, without repeats.
func (t *Target) tagsOf(tk *sync.Ticket) []string {
	out := make([]string, 0, len(t.tags)+len(tk.Tags))
	seen := make(map[string]bool)
	for _, s := range append(append([]string(nil), t.tags...), tk.Tags...) {
		if s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
