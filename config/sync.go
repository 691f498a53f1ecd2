package config

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Sync configures the copies of tickets in cloud helpdesks.
type Sync struct {
	// PollInterval is how often each target is asked for what its staff
	// changed (status, public replies).
	PollInterval Duration `toml:"poll_interval"`
	// Parallel is how many tickets are copied to one target at the same
	// time; each ticket's changes are always copied in order.
	Parallel int `toml:"parallel"`
	// Timeout bounds one request to a target.
	Timeout Duration `toml:"timeout"`
	// Targets are the helpdesks, one [[sync.targets]] table each.
	Targets []SyncTarget `toml:"targets"`
}

// SyncTarget is one cloud helpdesk.
type SyncTarget struct {
	// Type is "zendesk", "freshdesk", "hubspot" or "webhook".
	Type string `toml:"type"`
	// Name identifies the target in the UI, the audit trail, metrics and
	// the systemd credential of its token (sync-NAME): lower-case letters,
	// digits and -.
	Name string `toml:"name"`
	// BaseURL is the helpdesk's address: "https://SHOP.zendesk.com",
	// "https://SHOP.freshdesk.com", "https://api.hubapi.com", or the
	// webhook's URL.
	BaseURL string `toml:"base_url"`
	// Email is the Zendesk agent whose API token Token is.
	Email string `toml:"email"`
	// Token is the secret: a Zendesk API token or OAuth access token, a
	// Freshdesk API key, a HubSpot private app token, or a webhook's
	// signing secret. Better kept out of this file as the systemd
	// credential sync-NAME.
	Token string `toml:"token"`
	// Auth is Zendesk's authentication: "token" (Email and an API token)
	// or "bearer" (an OAuth access token).
	Auth string `toml:"auth"`
	// IDField holds the box's ticket id in the helpdesk: a Freshdesk
	// custom field (default "cf_counterdesk_id") or a HubSpot ticket
	// property with unique values (default "counterdesk_id"). Zendesk uses
	// its own external_id.
	IDField string `toml:"id_field"`
	// Pipeline is the HubSpot ticket pipeline's id (default "0", the
	// support pipeline).
	Pipeline string `toml:"pipeline"`
	// Stages maps the box's statuses to HubSpot pipeline stage ids.
	Stages map[string]string `toml:"stages"`
	// Tags are added to every ticket made in the helpdesk.
	Tags []string `toml:"tags"`
	// TwoWay brings status changes and public replies made in the
	// helpdesk back to the box.
	TwoWay bool `toml:"two_way"`
}

// syncTypes are the kinds of target.
var syncTypes = []string{"zendesk", "freshdesk", "hubspot", "webhook"}

func defaultSync() Sync {
	return Sync{
		PollInterval: Duration{time.Minute},
		Parallel:     4,
		Timeout:      Duration{30 * time.Second},
	}
}

// sync checks the [sync] table and its targets.
func (v *validator) sync(s Sync) {
	between(v, "sync.poll_interval", s.PollInterval.Duration, 10*time.Second, 24*time.Hour)
	between(v, "sync.parallel", s.Parallel, 1, 32)
	between(v, "sync.timeout", s.Timeout.Duration, time.Second, 10*time.Minute)
	names := make(map[string]bool)
	for i, t := range s.Targets {
		e := elementOf("sync.targets", i, t.Name)
		ok := t.Name != "" && len(t.Name) <= 32
		for _, r := range t.Name {
			ok = ok && ('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-')
		}
		e.check(v, "name", ok, "name: %q must be 1 to 32 lower-case letters, digits and -", t.Name)
		v.unique(e, "name", t.Name, names)
		e.check(v, "type", slices.Contains(syncTypes, t.Type), "type: must be one of %s, not %q", quoteAll(syncTypes), t.Type)
		u, err := url.Parse(t.BaseURL)
		shown := t.BaseURL
		if err == nil && u.User != nil {
			shown = u.Redacted() // never print a password
		}
		e.check(v, "base_url", err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" && u.User == nil,
			"base_url: must be an https address such as \"https://shop.zendesk.com\", without a user or password, not %q", shown)
		switch t.Type {
		case "zendesk":
			e.check(v, "auth", t.Auth == "" || t.Auth == "token" || t.Auth == "bearer", `auth: must be "token" or "bearer", not %q`, t.Auth)
			e.check(v, "email", t.Auth == "bearer" || strings.Contains(t.Email, "@"),
				"email: an API token needs the address of the agent it belongs to")
		case "webhook":
			e.check(v, "two_way", !t.TwoWay, "two_way: a webhook only receives; it cannot send changes back")
		case "hubspot":
			for status := range t.Stages {
				e.check(v, "stages", slices.Contains(boxStatuses, status),
					"stages: %q is not a status (%s)", status, quoteAll(boxStatuses))
			}
		}
		if t.IDField != "" {
			e.check(v, "id_field", t.Type == "freshdesk" || t.Type == "hubspot", "id_field: only freshdesk and hubspot targets use it")
		}
		for _, tag := range t.Tags {
			e.check(v, "tags", tag != "" && !strings.ContainsAny(tag, " \t,"), "tags: %q must be one word", tag)
		}
	}
}

// boxStatuses are the ticket statuses, as the ticket package names them.
var boxStatuses = []string{"new", "open", "pending", "resolved", "closed", "spam", "archived"}
