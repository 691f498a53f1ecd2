package triage

import (
	"reflect"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

// automatedShop adds automations to the default one.
func automatedShop(c *config.Config) {
	c.Automations = append(c.Automations,
		config.Automation{
			Name: "ack sms after hours", When: "created",
			If:   config.Conditions{Channel: []string{"sms"}, BusinessHours: "closed"},
			Then: []config.Action{{Action: "reply", Value: "Thanks, we got request #{number}. {shop} opens {hours}."}},
		},
		config.Automation{
			Name: "warranty check", When: "created",
			If:   config.Conditions{Category: []string{"warranty"}},
			Then: []config.Action{{Action: "tag", Value: "warranty-check"}, {Action: "assign", Value: "bob"}},
		},
		config.Automation{
			Name: "page on urgent lipo", When: "message",
			If:   config.Conditions{Priority: []string{"urgent"}, Tag: []string{"lipo", "esc"}, BusinessHours: "open"},
			Then: []config.Action{{Action: "notify", Value: "Ticket #{number} needs someone now"}},
		},
		config.Automation{
			Name: "nudge", When: "no_staff_reply", After: config.Duration{Duration: 48 * time.Hour},
			If:   config.Conditions{Status: []string{"new", "open"}},
			Then: []config.Action{{Action: "set_priority", Value: "high"}, {Action: "note", Value: "No reply for two days."}},
		},
		config.Automation{
			Name: "resolved", When: "status_changed",
			If:   config.Conditions{Status: []string{"resolved"}},
			Then: []config.Action{{Action: "reply", Value: "Glad we could help!"}},
		},
	)
}

func TestOnEvent(t *testing.T) {
	e := newEngine(t, automatedShop)
	tests := []struct {
		name  string
		event string
		facts Facts
		at    string
		want  []Firing
	}{
		{
			name: "sms at night", event: "created", at: saturday + " 21:00",
			facts: Facts{Number: 1042, Channel: "sms", Category: "general", Priority: "normal", Status: "new"},
			want: []Firing{{
				Rule:    "ack sms after hours",
				Actions: []Action{{Kind: "reply", Value: "Thanks, we got request #1042. Wings & Things opens Mon-Fri 09:00-18:00, Sat 10:00-16:00."}},
				Why:     "the ticket was created, with channel sms, the shop closed",
			}},
		},
		{
			name: "sms by day", event: "created", at: monday + " 10:00",
			facts: Facts{Number: 1043, Channel: "sms", Category: "general", Priority: "normal", Status: "new"},
		},
		{
			name: "warranty", event: "created", at: monday + " 10:00",
			facts: Facts{Number: 7, Channel: "email", Category: "warranty", Priority: "normal", Status: "new"},
			want: []Firing{{
				Rule:    "warranty check",
				Actions: []Action{{Kind: "tag", Value: "warranty-check"}, {Kind: "assign", Value: "bob"}},
				Why:     "the ticket was created, with category warranty",
			}},
		},
		{
			name: "urgent with a tag", event: "message", at: monday + " 10:00",
			facts: Facts{Number: 8, Channel: "email", Priority: "urgent", Status: "open", Tags: []string{"servo", "esc"}},
			want: []Firing{{
				Rule:    "page on urgent lipo",
				Actions: []Action{{Kind: "notify", Value: "Ticket #8 needs someone now"}},
				Why:     "the customer wrote, with priority urgent, tag lipo or esc, the shop open",
			}},
		},
		{
			name: "urgent without the tags", event: "message", at: monday + " 10:00",
			facts: Facts{Number: 8, Channel: "email", Priority: "urgent", Status: "open", Tags: []string{"servo"}},
		},
		{
			name: "urgent at night", event: "message", at: sunday + " 10:00",
			facts: Facts{Number: 8, Channel: "email", Priority: "urgent", Status: "open", Tags: []string{"lipo"}},
		},
		{
			name: "wrong event", event: "assigned", at: monday + " 10:00",
			facts: Facts{Number: 7, Channel: "email", Category: "warranty", Priority: "normal", Status: "new"},
		},
		{
			name: "status changed", event: "status_changed", at: monday + " 10:00",
			facts: Facts{Number: 9, Status: "resolved"},
			want: []Firing{{
				Rule:    "resolved",
				Actions: []Action{{Kind: "reply", Value: "Glad we could help!"}},
				Why:     "the status changed to resolved, with status resolved",
			}},
		},
		{
			name: "timers are not events", event: "pending_for", at: monday + " 10:00",
			facts: Facts{Number: 9, Status: "pending"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.OnEvent(tt.event, tt.facts, at(t, tt.at))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("OnEvent =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestTimers(t *testing.T) {
	e := newEngine(t, automatedShop)
	created := at(t, monday+" 10:00")
	base := Facts{
		Number: 5, Channel: "email", Priority: "normal", Status: "open",
		CreatedAt: created, StatusSince: created, LastInboundAt: created,
		FirstResponseDue: created.Add(24 * time.Hour), ResolutionDue: created.Add(72 * time.Hour),
	}
	tests := []struct {
		name   string
		change func(*Facts)
		want   []Timer
	}{
		{
			name:   "new ticket without a reply",
			change: func(*Facts) {},
			want: []Timer{
				{SLAEscalateFirstResponse, created.Add(24*time.Hour - 30*time.Minute)},
				{SLAFirstResponse, created.Add(24 * time.Hour)},
				{"nudge", created.Add(48 * time.Hour)},
				{SLAEscalateResolution, created.Add(72*time.Hour - 30*time.Minute)},
				{SLAResolution, created.Add(72 * time.Hour)},
			},
		},
		{
			name: "answered",
			change: func(f *Facts) {
				f.LastOutboundAt = created.Add(time.Hour)
				f.FirstResponseAt = created.Add(time.Hour)
			},
			want: []Timer{
				{SLAEscalateResolution, created.Add(72*time.Hour - 30*time.Minute)},
				{SLAResolution, created.Add(72 * time.Hour)},
			},
		},
		{
			name: "customer wrote again after the reply",
			change: func(f *Facts) {
				f.LastOutboundAt = created.Add(time.Hour)
				f.FirstResponseAt = created.Add(time.Hour)
				f.LastInboundAt = created.Add(2 * time.Hour)
				f.Fired = []string{SLAEscalateResolution}
			},
			want: []Timer{
				{"nudge", created.Add(50 * time.Hour)},
				{SLAResolution, created.Add(72 * time.Hour)},
			},
		},
		{
			name: "pending",
			change: func(f *Facts) {
				f.Status = "pending"
				f.StatusSince = created.Add(3 * time.Hour)
				f.LastOutboundAt = created.Add(3 * time.Hour)
				f.FirstResponseAt = created.Add(3 * time.Hour)
				f.Priority = "urgent"
			},
			want: []Timer{
				{SLAResolution, created.Add(72 * time.Hour)},
				{"close stale pending", created.Add(171 * time.Hour)},
			},
		},
		{
			name: "already fired",
			change: func(f *Facts) {
				f.Fired = []string{SLAEscalateFirstResponse, SLAFirstResponse, "nudge", SLAEscalateResolution, SLAResolution}
			},
		},
		{
			name: "closed",
			change: func(f *Facts) {
				f.Status = "closed"
				f.LastInboundAt = time.Time{}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := base
			tt.change(&f)
			got := e.Timers(f)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Timers =\n%v\nwant\n%v", got, tt.want)
			}
		})
	}
}

func TestDue(t *testing.T) {
	e := newEngine(t, automatedShop)
	created := at(t, monday+" 10:00")
	open := Facts{
		Number: 5, Channel: "email", Priority: "normal", Status: "open",
		CreatedAt: created, StatusSince: created, LastInboundAt: created,
		FirstResponseDue: created.Add(24 * time.Hour), ResolutionDue: created.Add(72 * time.Hour),
	}
	pending := open
	pending.Status = "pending"
	pending.LastOutboundAt = created.Add(time.Hour)
	pending.FirstResponseAt = created.Add(time.Hour)

	tests := []struct {
		name  string
		rule  string
		facts Facts
		now   time.Time
		want  *Firing
	}{
		{name: "not yet", rule: "nudge", facts: open, now: created.Add(47 * time.Hour)},
		{
			name: "nudge", rule: "nudge", facts: open, now: created.Add(48 * time.Hour),
			want: &Firing{
				Rule:    "nudge",
				Actions: []Action{{Kind: "set_priority", Value: "high"}, {Kind: "note", Value: "No reply for two days."}},
				Why:     "no staff reply for 48h after the customer wrote, with status new or open",
			},
		},
		{name: "nudge, conditions fail", rule: "nudge", facts: func() Facts { f := open; f.Status = "pending"; return f }(), now: created.Add(49 * time.Hour)},
		{name: "nudge, already fired", rule: "nudge", facts: func() Facts { f := open; f.Fired = []string{"nudge"}; return f }(), now: created.Add(49 * time.Hour)},
		{name: "nudge, answered since", rule: "nudge", facts: pending, now: created.Add(49 * time.Hour)},
		{
			name: "close stale pending", rule: "close stale pending", facts: pending, now: created.Add(200 * time.Hour),
			want: &Firing{
				Rule:    "close stale pending",
				Actions: []Action{{Kind: "set_status", Value: "closed"}, {Kind: "note", Value: "Closed automatically after 7 days without a reply."}},
				Why:     "pending for 168h",
			},
		},
		{name: "close stale pending, reopened", rule: "close stale pending", facts: open, now: created.Add(200 * time.Hour)},
		{name: "unknown rule", rule: "no such rule", facts: open, now: created.Add(200 * time.Hour)},
		{name: "event rule", rule: "warranty check", facts: open, now: created.Add(200 * time.Hour)},
		{
			name: "escalate first response", rule: SLAEscalateFirstResponse, facts: open, now: created.Add(24*time.Hour - 30*time.Minute),
			want: &Firing{
				Rule:    SLAEscalateFirstResponse,
				Actions: []Action{{Kind: "set_priority", Value: "high"}},
				Why:     "first response is due Tue 5 May 10:00, in 30m, and no staff reply yet",
			},
		},
		{name: "escalate too early", rule: SLAEscalateFirstResponse, facts: open, now: created.Add(23 * time.Hour)},
		{
			name: "first response breached", rule: SLAFirstResponse, facts: open, now: created.Add(25 * time.Hour),
			want: &Firing{
				Rule:    SLAFirstResponse,
				Actions: []Action{{Kind: "breach", Value: "first_response"}},
				Why:     "first response was due Tue 5 May 10:00 and no staff reply yet",
			},
		},
		{name: "first response given", rule: SLAFirstResponse, facts: pending, now: created.Add(25 * time.Hour)},
		{
			name: "resolution breached", rule: SLAResolution, facts: pending, now: created.Add(73 * time.Hour),
			want: &Firing{
				Rule:    SLAResolution,
				Actions: []Action{{Kind: "breach", Value: "resolution"}},
				Why:     "resolution was due Thu 7 May 10:00 and the ticket is not solved yet",
			},
		},
		{name: "resolved in time", rule: SLAResolution, facts: func() Facts { f := pending; f.Status = "resolved"; return f }(), now: created.Add(73 * time.Hour)},
		{name: "urgent cannot escalate", rule: SLAEscalateResolution, facts: func() Facts { f := open; f.Priority = "urgent"; return f }(), now: created.Add(73 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := e.Due(tt.rule, tt.facts, tt.now)
			if tt.want == nil {
				if ok {
					t.Errorf("Due = %+v, want nothing", got)
				}
				return
			}
			if !ok || !reflect.DeepEqual(got, *tt.want) {
				t.Errorf("Due = %+v, %v\nwant %+v", got, ok, *tt.want)
			}
		})
	}
}

// TestTimersAndDueAgree checks that every timer fires at its due time when
// the automation's conditions hold.
func TestTimersAndDueAgree(t *testing.T) {
	e := newEngine(t, automatedShop)
	created := at(t, monday+" 10:00")
	f := Facts{
		Number: 5, Channel: "email", Priority: "low", Status: "open",
		CreatedAt: created, StatusSince: created, LastInboundAt: created,
		FirstResponseDue: created.Add(48 * time.Hour), ResolutionDue: created.Add(168 * time.Hour),
	}
	for _, tm := range e.Timers(f) {
		if _, ok := e.Due(tm.Rule, f, tm.Due.Add(-time.Second)); ok {
			t.Errorf("%s fired before its due time", tm.Rule)
		}
		if _, ok := e.Due(tm.Rule, f, tm.Due); !ok {
			t.Errorf("%s did not fire at its due time", tm.Rule)
		}
	}
}
