// Package hubspot is the sync target for HubSpot's help desk: each box
// ticket becomes a HubSpot ticket in the configured pipeline, holding the
// box's ticket UUID in a unique ticket property, and each later message a
// note on it. README.md maps the fields and says what the shop sets up in
// HubSpot first.
//
// Every request uses the CRM v3 objects API, the CRM search, the
// associations v4 API and the files v3 API with a private app's access
// token; the pages of HubSpot's documentation each request was checked
// against are named where it is made and listed in README.md.
package hubspot

import (
	"context"
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

// Defaults of the [[sync.targets]] settings HubSpot uses.
const (
	// DefaultBaseURL is HubSpot's API host, for accounts in every data
	// centre.
	DefaultBaseURL = "https://api.hubapi.com"
	// DefaultIDField is the ticket property that holds the box's ticket
	// UUID. The shop creates it with "hasUniqueValue": true.
	DefaultIDField = "counterdesk_id"
	// DefaultPipeline is the id of HubSpot's default support pipeline.
	DefaultPipeline = "0"
	// FolderPath is the folder of HubSpot's file manager attachments are
	// uploaded to.
	FolderPath = "/counterdesk"
)

// DefaultStages maps the box's statuses to the stage ids of HubSpot's
// default support pipeline "0": "1" New, "2" Waiting on contact, "3"
// Waiting on us, "4" Closed.
var DefaultStages = map[ticket.Status]string{
	ticket.StatusNew:      "1",
	ticket.StatusOpen:     "3",
	ticket.StatusPending:  "2",
	ticket.StatusResolved: "4",
	ticket.StatusClosed:   "4",
	ticket.StatusSpam:     "4",
	ticket.StatusArchived: "4",
}

// Target copies tickets to one HubSpot account. It is safe for concurrent
// use.
type Target struct {
	name     string
	client   *sync.Client
	idField  string
	pipeline string
	// stages maps a box status to a stage id; statuses maps a stage id
	// back to the first box status (in ticket.Statuses order) that maps
	// to it.
	stages   map[ticket.Status]string
	statuses map[string]ticket.Status
	now      func() time.Time

	mu stdsync.Mutex
	// notBefore holds every request while HubSpot's rolling rate limit
	// window is used up.
	notBefore time.Time
	// portal and uiDomain make Link's address; learnt from the account
	// details.
	portal      int64
	uiDomain    string
	portalTried time.Time
	// wrote remembers the status each ticket was last given by the box,
	// so that Changes reports that status, not another one sharing its
	// stage, when the stage is unchanged.
	wrote map[string]wrote
}

// wrote is a status the box gave a remote ticket and the stage it set.
type wrote struct {
	status ticket.Status
	stage  string
}

// maxWrote bounds Target.wrote.
const maxWrote = 50000

var _ sync.Target = (*Target)(nil)

// New returns the target configured by c; timeout bounds one request. The
// token is a private app's access token.
func New(c config.SyncTarget, timeout time.Duration) (*Target, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("hubspot target %q: token is empty: set it in [[sync.targets]] or give it as the systemd credential sync-%s", c.Name, c.Name)
	}
	base := c.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	t := &Target{
		name:     c.Name,
		idField:  c.IDField,
		pipeline: c.Pipeline,
		stages:   make(map[ticket.Status]string),
		statuses: make(map[string]ticket.Status),
		now:      time.Now,
		wrote:    make(map[string]wrote),
	}
	if t.idField == "" {
		t.idField = DefaultIDField
	}
	if strings.ContainsAny(t.idField, " /?#,") {
		return nil, fmt.Errorf("hubspot target %q: id_field %q is not a property name", c.Name, t.idField)
	}
	if t.pipeline == "" {
		t.pipeline = DefaultPipeline
	}
	for st, stage := range DefaultStages {
		t.stages[st] = stage
	}
	for name, stage := range c.Stages {
		st, err := ticket.ParseStatus(name)
		if err != nil {
			return nil, fmt.Errorf("hubspot target %q: stages: %w", c.Name, err)
		}
		if stage == "" {
			return nil, fmt.Errorf("hubspot target %q: stages: the stage id of %q is empty", c.Name, name)
		}
		t.stages[st] = stage
	}
	if t.pipeline != DefaultPipeline {
		for _, st := range ticket.Statuses {
			if _, ok := c.Stages[string(st)]; !ok {
				return nil, fmt.Errorf("hubspot target %q: stages: pipeline %q needs the stage id of every status; %q is missing", c.Name, t.pipeline, st)
			}
		}
	}
	for _, st := range ticket.Statuses {
		if _, ok := t.statuses[t.stages[st]]; !ok {
			t.statuses[t.stages[st]] = st
		}
	}
	token := c.Token
	var err error
	t.client, err = sync.NewClient(sync.ClientOptions{
		BaseURL: base,
		Auth:    func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) },
		Secrets: []string{token},
		Timeout: timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("hubspot target %q: %w", c.Name, err)
	}
	return t, nil
}

// Stage returns the pipeline stage id the target gives status st.
func (t *Target) Stage(st ticket.Status) string { return t.stages[st] }

// do sends r through the client, first waiting while HubSpot's rate limit
// window is used up, and notes the window HubSpot reports. The shared
// client reads X-HubSpot-RateLimit-Remaining but waits only for a reset
// header HubSpot does not send; HubSpot names the window's length in
// X-HubSpot-RateLimit-Interval-Milliseconds instead
// (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines).
func (t *Target) do(ctx context.Context, r sync.Request) (*sync.Response, error) {
	t.mu.Lock()
	wait := t.notBefore.Sub(t.now())
	t.mu.Unlock()
	if wait > 0 {
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-timer.C:
		}
	}
	resp, err := t.client.Do(ctx, r, nil)
	if err != nil {
		return nil, err
	}
	if v := resp.Header.Get("X-HubSpot-RateLimit-Remaining"); strings.TrimSpace(v) == "0" {
		window := 10 * time.Second
		if ms, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("X-HubSpot-RateLimit-Interval-Milliseconds"))); err == nil && ms > 0 {
			window = min(time.Duration(ms)*time.Millisecond, time.Minute)
		}
		t.mu.Lock()
		if until := t.now().Add(window); until.After(t.notBefore) {
			t.notBefore = until
		}
		t.mu.Unlock()
	}
	return resp, nil
}

// Probe lists one ticket, the cheapest authenticated request that needs
// the scopes the target needs (GET /crm/v3/objects/tickets,
// https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/tickets/guide),
// then learns the account's id for Link if it does not know it yet.
func (t *Target) Probe(ctx context.Context) error {
	q := url.Values{"limit": {"1"}, "properties": {"hs_object_id"}, "archived": {"false"}}
	if _, err := t.do(ctx, sync.Request{Method: http.MethodGet, Path: "/crm/v3/objects/tickets", Query: q}); err != nil {
		return fmt.Errorf("hubspot: probe: %w", err)
	}
	t.learnPortal(ctx)
	return nil
}

// portalRetry is how long the target waits before it asks again for the
// account details that failed.
const portalRetry = 10 * time.Minute

// learnPortal reads the account's id and the address of its web app once,
// for Link (GET /account-info/v3/details,
// https://developers.hubspot.com/docs/api-reference/legacy/account/account-information/get-account-details).
// Its failure (the token may lack the scope) only leaves Link without an
// address; it is tried again after portalRetry.
func (t *Target) learnPortal(ctx context.Context) {
	t.mu.Lock()
	skip := t.portal != 0 || t.now().Sub(t.portalTried) < portalRetry
	if !skip {
		t.portalTried = t.now()
	}
	t.mu.Unlock()
	if skip {
		return
	}
	resp, err := t.do(ctx, sync.Request{Method: http.MethodGet, Path: "/account-info/v3/details"})
	if err != nil {
		return
	}
	d, err := decodeAccount(resp.Body)
	if err != nil {
		return
	}
	t.mu.Lock()
	t.portal, t.uiDomain = d.PortalID, d.UIDomain
	t.mu.Unlock()
}

// Link returns the address of ticket id in HubSpot's web app, or "" until
// the target has learnt the account's id (with its first request).
func (t *Target) Link(id string) string {
	t.mu.Lock()
	portal, domain := t.portal, t.uiDomain
	t.mu.Unlock()
	if portal == 0 || id == "" {
		return ""
	}
	if domain == "" {
		domain = "app.hubspot.com"
	}
	return fmt.Sprintf("https://%s/contacts/%d/record/0-5/%s", domain, portal, id)
}

// remember notes the status the box gave ticket id.
func (t *Target) remember(id string, st ticket.Status) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.wrote[id]; !ok && len(t.wrote) >= maxWrote {
		for k := range t.wrote {
			delete(t.wrote, k)
			break
		}
	}
	t.wrote[id] = wrote{status: st, stage: t.stages[st]}
}

// statusOf maps the stage of remote ticket id back to a box status: the
// status the box last gave it when the stage is still the one the box
// set, else the first status mapping to the stage, else "".
func (t *Target) statusOf(id, stage string) ticket.Status {
	t.mu.Lock()
	w, ok := t.wrote[id]
	t.mu.Unlock()
	if ok && w.stage == stage {
		return w.status
	}
	return t.statuses[stage]
}
