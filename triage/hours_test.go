package triage

import (
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

func TestOpen(t *testing.T) {
	e := newEngine(t, func(c *config.Config) {
		c.Hours.Holidays = []string{"2026-12-25", "2026-12-26", "2026-05-25"}
	})
	tests := []struct {
		at   string
		want bool
	}{
		{monday + " 08:59", false},
		{monday + " 09:00", true},
		{monday + " 17:59", true},
		{monday + " 18:00", false},
		{friday + " 12:00", true},
		{saturday + " 09:59", false},
		{saturday + " 10:00", true},
		{saturday + " 16:00", false},
		{sunday + " 12:00", false},
		{"2026-05-25 12:00", false}, // a Monday holiday
		{"2026-12-24 12:00", true},
		{"2026-12-25 12:00", false},
	}
	for _, tt := range tests {
		if got := e.Open(at(t, tt.at)); got != tt.want {
			t.Errorf("Open(%s) = %v, want %v", tt.at, got, tt.want)
		}
	}
	// The zone of the instant does not matter: 08:30 UTC is 09:30 in London.
	if !e.Open(time.Date(2026, 5, 4, 8, 30, 0, 0, time.UTC)) {
		t.Errorf("Open(08:30 UTC on a Monday in summer) = false, want true")
	}
}

func TestNextOpen(t *testing.T) {
	e := newEngine(t, func(c *config.Config) {
		c.Hours.Holidays = []string{"2026-12-25", "2026-12-26", "2026-05-25"}
	})
	tests := []struct{ at, want string }{
		{monday + " 10:00", monday + " 10:00"},
		{monday + " 07:00", monday + " 09:00"},
		{friday + " 18:30", saturday + " 10:00"},
		{saturday + " 16:30", "2026-05-11 09:00"},
		{sunday + " 23:59", "2026-05-11 09:00"},
		{"2026-05-22 18:00", "2026-05-23 10:00"}, // Friday before the bank holiday
		{"2026-05-23 17:00", "2026-05-26 09:00"}, // Saturday: Monday is a holiday
		{"2026-12-24 18:00", "2026-12-28 09:00"}, // Christmas Eve: Friday and Saturday are holidays
		{"2026-03-28 17:00", "2026-03-30 09:00"}, // the clocks go forward on Sunday 29 March
		{"2026-10-24 17:00", "2026-10-26 09:00"}, // and back on Sunday 25 October
	}
	for _, tt := range tests {
		got := e.NextOpen(at(t, tt.at))
		if want := at(t, tt.want); !got.Equal(want) {
			t.Errorf("NextOpen(%s) = %v, want %v", tt.at, got, want)
		}
	}
}

func TestSchedule(t *testing.T) {
	tests := []struct {
		name string
		open []config.OpenHours
		text string
		at   string // an instant
		next string // when the shop next opens from it
	}{
		{
			name: "default",
			open: config.Default().Hours.Open,
			text: "Mon-Fri 09:00-18:00, Sat 10:00-16:00",
			at:   sunday + " 10:00", next: "2026-05-11 09:00",
		},
		{
			name: "lunch break and overlaps",
			open: []config.OpenHours{
				{Days: []string{"mon", "tue"}, From: "09:00", To: "12:00"},
				{Days: []string{"mon", "tue"}, From: "13:00", To: "17:00"},
				{Days: []string{"tue"}, From: "11:00", To: "13:00"},
				{Days: []string{"thu"}, From: "09:00", To: "12:00"},
				{Days: []string{"thu"}, From: "13:00", To: "17:00"},
			},
			text: "Mon 09:00-12:00 and 13:00-17:00, Tue 09:00-17:00, Thu 09:00-12:00 and 13:00-17:00",
			at:   monday + " 12:30", next: monday + " 13:00",
		},
		{
			name: "around the clock at weekends",
			open: []config.OpenHours{
				{Days: []string{"sat", "sun"}, From: "00:00", To: "24:00"},
			},
			text: "Sat-Sun 00:00-24:00",
			at:   friday + " 23:00", next: saturday + " 00:00",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, func(c *config.Config) { c.Hours.Open = tt.open })
			if got := e.HoursText(); got != tt.text {
				t.Errorf("HoursText() = %q, want %q", got, tt.text)
			}
			if got, want := e.NextOpen(at(t, tt.at)), at(t, tt.next); !got.Equal(want) {
				t.Errorf("NextOpen(%s) = %v, want %v", tt.at, got, want)
			}
		})
	}
}

func TestAfterHoursReply(t *testing.T) {
	e := newEngine(t, nil)
	want := "Thanks for contacting Wings & Things. We're closed now and will answer when we open: Mon-Fri 09:00-18:00, Sat 10:00-16:00."
	if got := e.AfterHoursReply(); got != want {
		t.Errorf("AfterHoursReply() = %q, want %q", got, want)
	}
	e = newEngine(t, func(c *config.Config) { c.Hours.AfterHoursReply = "" })
	if got := e.AfterHoursReply(); got != "" {
		t.Errorf("AfterHoursReply() = %q, want none", got)
	}
}

func TestSLADue(t *testing.T) {
	tests := []struct {
		name          string
		business      bool
		at            string
		channel, body string
		first, done   string
	}{
		{name: "urgent on a friday evening", at: friday + " 17:00", body: "battery on fire",
			first: friday + " 18:00", done: saturday + " 01:00"},
		{name: "normal on a friday evening", at: friday + " 17:00",
			first: saturday + " 17:00", done: "2026-05-11 17:00"},
		{name: "high, business hours, across the weekend", business: true, at: friday + " 17:00", channel: "voicemail",
			first: saturday + " 13:00", done: "2026-05-12 17:00"},
		{name: "normal, business hours, across the weekend", business: true, at: friday + " 17:00",
			first: "2026-05-12 17:00", done: "2026-05-19 14:00"},
		{name: "normal, business hours, after hours", business: true, at: saturday + " 20:00",
			first: "2026-05-13 15:00", done: "2026-05-20 12:00"},
		{name: "urgent, business hours, ending at closing", business: true, at: saturday + " 15:00", body: "smoke",
			first: saturday + " 16:00", done: "2026-05-11 16:00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, func(c *config.Config) { c.SLA.BusinessHours = tt.business })
			ch := tt.channel
			if ch == "" {
				ch = "email"
			}
			d := e.Triage(Input{Channel: ch, Body: tt.body, ReceivedAt: at(t, tt.at), NewTicket: true})
			if want := at(t, tt.first); !d.FirstResponseDue.Equal(want) {
				t.Errorf("FirstResponseDue = %v, want %v (priority %s)", d.FirstResponseDue, want, d.Priority)
			}
			if want := at(t, tt.done); !d.ResolutionDue.Equal(want) {
				t.Errorf("ResolutionDue = %v, want %v (priority %s)", d.ResolutionDue, want, d.Priority)
			}
			if s, ok := stepOf(d, "sla"); !ok || s.Rule != "sla/"+d.Priority {
				t.Errorf("sla step %+v for priority %s", s, d.Priority)
			}
		})
	}
	// A request that joins a ticket keeps the ticket's due times.
	e := newEngine(t, nil)
	if d := e.Triage(Input{Channel: "email", Body: "fire", ReceivedAt: at(t, monday+" 10:00"), Priority: "normal"}); !d.FirstResponseDue.IsZero() || !d.ResolutionDue.IsZero() {
		t.Errorf("joining request got due times %v, %v", d.FirstResponseDue, d.ResolutionDue)
	}
}
