// Package zendesk is the sync target for Zendesk Support. It copies each
// box ticket to a Zendesk ticket whose external_id is the box ticket's
// UUID, adds the later messages as comments (internal notes as private
// comments), keeps status, priority and tags in step, and with two_way
// brings back the public replies the shop's agents write in Zendesk and
// the status they set. README.md holds the field mapping and the setup
// the shop does in Zendesk first.
//
// Every request shape is the one of the Zendesk Support API reference
// (developer.zendesk.com/api-reference/ticketing/), cited at each request.
package zendesk

import (
	"context"
	"encoding/base64"
	"errors"
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

// The auth settings of a Zendesk target.
const (
	// AuthToken authenticates with an API token: HTTP Basic of
	// "EMAIL/token:TOKEN". It is the default.
	AuthToken = "token"
	// AuthBearer authenticates with an OAuth access token:
	// "Authorization: Bearer TOKEN".
	AuthBearer = "bearer"
)

// Tag is set on every ticket the box makes, so that the shop's triggers
// can tell them apart (see README.md on notifications). The channel of
// the ticket's first message is recorded as the tag Tag + "_" + channel,
// such as "counterdesk_voicemail".
const Tag = "counterdesk"

// Target copies tickets to one Zendesk account. It is safe for concurrent
// use.
type Target struct {
	client *sync.Client
	base   string // the account's address, without a trailing slash
	tags   []string
	twoWay bool
	now    func() time.Time

	mu stdsync.Mutex
	// me is the id of the API user, learnt from /api/v2/users/me: its
	// comments are the box's own, never staff replies.
	me int64
	// requesters caches each remote ticket's requester id, the author of
	// the customer's later messages.
	requesters map[int64]int64
	// phoneUsers caches the user id made for each phone-only contact.
	phoneUsers map[string]int64
}

var _ sync.Target = (*Target)(nil)

// maxCached bounds each of the target's caches; a cache that reaches it
// starts again empty (each entry can be fetched again).
const maxCached = 4096

// New returns the target configured by c; timeout bounds one request
// (an attachment's upload included).
func New(c config.SyncTarget, timeout time.Duration) (*Target, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("zendesk target %q: token is empty: set it in [[sync.targets]] or give it as the systemd credential sync-%s", c.Name, c.Name)
	}
	if c.BaseURL == "" {
		return nil, fmt.Errorf("zendesk target %q: base_url is empty: set it to the account's address, such as \"https://SHOP.zendesk.com\"", c.Name)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("zendesk target %q: base_url: %w", c.Name, err)
	}
	if u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("zendesk target %q: base_url: give only the account's address, such as \"https://SHOP.zendesk.com\", without a user, password or query", c.Name)
	}
	secrets := []string{c.Token}
	var auth func(*http.Request)
	switch c.Auth {
	case "", AuthToken:
		if !strings.Contains(c.Email, "@") {
			return nil, fmt.Errorf("zendesk target %q: email: an API token needs the address of the agent it belongs to", c.Name)
		}
		basic := "Basic " + base64.StdEncoding.EncodeToString([]byte(c.Email+"/token:"+c.Token))
		secrets = append(secrets, basic[len("Basic "):])
		auth = func(r *http.Request) { r.Header.Set("Authorization", basic) }
	case AuthBearer:
		bearer := "Bearer " + c.Token
		auth = func(r *http.Request) { r.Header.Set("Authorization", bearer) }
	default:
		return nil, fmt.Errorf("zendesk target %q: auth: must be %q or %q, not %q", c.Name, AuthToken, AuthBearer, c.Auth)
	}
	base := strings.TrimRight(u.String(), "/")
	client, err := sync.NewClient(sync.ClientOptions{
		BaseURL: base,
		Auth:    auth,
		Secrets: secrets,
		Timeout: timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("zendesk target %q: %w", c.Name, err)
	}
	return &Target{
		client:     client,
		base:       base,
		tags:       c.Tags,
		twoWay:     c.TwoWay,
		now:        time.Now,
		requesters: make(map[int64]int64),
		phoneUsers: make(map[string]int64),
	}, nil
}

// Link returns the address of remote ticket id in the agent workspace.
func (t *Target) Link(id string) string {
	return t.base + "/agent/tickets/" + url.PathEscape(id)
}

// Probe asks who the API user is (GET /api/v2/users/me, "Show Self") and
// remembers its id. An answer without a user id (Show Self is allowed to
// anonymous users) or an end user is refused as the credentials' fault.
func (t *Target) Probe(ctx context.Context) error {
	_, err := t.self(ctx)
	return err
}

// self returns the API user's id, asking Zendesk once.
func (t *Target) self(ctx context.Context) (int64, error) {
	t.mu.Lock()
	me := t.me
	t.mu.Unlock()
	if me != 0 {
		return me, nil
	}
	var out userEnvelope
	if _, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/users/me"}, &out); err != nil {
		return 0, fmt.Errorf("zendesk: show self: %w", err)
	}
	u := out.User
	switch {
	case u == nil || u.ID <= 0:
		return 0, &sync.HTTPError{Op: "GET /api/v2/users/me", Status: http.StatusUnauthorized,
			Text: "Zendesk answered as the anonymous user: check email, token and auth"}
	case u.Role == roleEndUser:
		return 0, &sync.HTTPError{Op: "GET /api/v2/users/me", Status: http.StatusForbidden,
			Text: fmt.Sprintf("the API user %q is an end user: use the token of an admin (or an agent, without two_way)", u.Email)}
	}
	t.mu.Lock()
	t.me = u.ID
	t.mu.Unlock()
	return u.ID, nil
}

// ticketPath returns the path of remote ticket id, checking that id is
// one of Zendesk's numeric ids.
func ticketPath(id string, tail string) (int64, string, error) {
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil || n <= 0 {
		return 0, "", ticket.Permanent(fmt.Errorf("zendesk: %q is not a Zendesk ticket id", id))
	}
	return n, "/api/v2/tickets/" + strconv.FormatInt(n, 10) + tail, nil
}

// remember stores v under k in m, starting m again when it is full. The
// caller holds t.mu.
func remember[K comparable](m map[K]int64, k K, v int64) {
	if len(m) >= maxCached {
		clear(m)
	}
	m[k] = v
}

// vendorSays reports whether err is a Zendesk answer whose text holds s
// (case folded).
func vendorSays(err error, s string) bool {
	var h *sync.HTTPError
	return errors.As(err, &h) && strings.Contains(strings.ToLower(h.Text), strings.ToLower(s))
}
