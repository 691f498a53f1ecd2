package triage

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

// FuzzTriage feeds arbitrary text to the default rules: triage never panics
// and decides only known priorities, categories, teams and steps.
func FuzzTriage(f *testing.F) {
	seeds := []struct {
		channel, subject, body, voice string
	}{
		{"email", "WHERE IS MY ORDER??", "Order #10452", ""},
		{"voicemail", "", "", "hi this is sam my battery is swollen can you call me back"},
		{"sms", "", "Pil şişti ve duman çıkıyor, acil!", ""},
		{"web_form", "", "BATERIA INCHADA e saindo fumaça", ""},
		{"missed_call", "", "", ""},
		{"fax", "\xff\xfe", "e\u0301\u0301\u0301 İ ı ß \u200d", "RR123456785GB 1Z999AA10123456784 SKU-1 HK-1234"},
		{"", strings.Repeat("a", 200), strings.Repeat("where is my order ", 50), strings.Repeat("é", 100)},
	}
	for i, s := range seeds {
		f.Add(s.channel, s.subject, s.body, s.voice, int64(i)*7919, i%2 == 0, priorityOf(i))
	}
	c := config.Default()
	c.Shop.TimeZone = "Europe/London"
	c.SLA.BusinessHours = true
	c.Hours.Holidays = []string{"2026-12-25"}
	e, err := New(c)
	if err != nil {
		f.Fatal(err)
	}
	categories := make([]string, 0, len(c.Triage.Categories))
	for _, cat := range c.Triage.Categories {
		categories = append(categories, cat.Name)
	}
	base := time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)
	whats := []string{"priority", "category", "team", "assignee", "tag", "after_hours", "notify", "sla"}

	f.Fuzz(func(t *testing.T, channel, subject, body, voice string, minutes int64, newTicket bool, current string) {
		received := base.Add(time.Duration(minutes%(60*24*400)) * time.Minute)
		in := Input{
			Channel: channel, Subject: subject, Body: body, Transcript: voice,
			ReceivedAt: received, NewTicket: newTicket, Priority: current,
			Recent: []time.Time{received.Add(-time.Hour), received.Add(-2 * time.Hour), received.Add(time.Hour)},
		}
		d := e.Triage(in)
		if d.Priority != "" && rank(d.Priority) < 0 || newTicket && d.Priority == "" {
			t.Errorf("priority %q", d.Priority)
		}
		if d.Category != "" && !slices.Contains(categories, d.Category) || newTicket && d.Category == "" {
			t.Errorf("category %q", d.Category)
		}
		if !newTicket && (d.Category != "" || d.Team != "" || d.Assignee != "") {
			t.Errorf("a joining request was classified or routed: %+v", d)
		}
		if d.Notify && d.AfterHours {
			t.Errorf("paged after hours")
		}
		if d.AfterHours == e.Open(received) {
			t.Errorf("AfterHours %v at %v", d.AfterHours, received)
		}
		if newTicket && (d.FirstResponseDue.Before(received) || d.ResolutionDue.Before(d.FirstResponseDue)) {
			t.Errorf("due times %v, %v for %v", d.FirstResponseDue, d.ResolutionDue, received)
		}
		for i, tag := range d.Tags {
			if tag == "" || slices.Contains(d.Tags[:i], tag) {
				t.Errorf("tags %q", d.Tags)
			}
		}
		for _, s := range d.Steps {
			if !slices.Contains(whats, s.What) && !strings.HasPrefix(s.What, "field:") || s.Rule == "" || s.Why == "" {
				t.Errorf("step %+v", s)
			}
		}
	})
}

// FuzzNew checks that every configuration that parses compiles: what
// config.Validate accepts, New accepts.
func FuzzNew(f *testing.F) {
	f.Add(config.Example())
	for _, seed := range []string{
		"[[triage.categories]]\nname = \"a\"\npatterns = ['\\bx\\b', '(?i)y']\n",
		"[[triage.extract]]\nfield = \"a\"\npattern = '(x)|y'\n",
		"[hours]\nholidays = [\"2026-02-29\"]\n[[hours.open]]\ndays = [\"sun\"]\nfrom = \"00:00\"\nto = \"24:00\"\n",
		"[[triage.teams]]\nname = \"t\"\nmembers = [\"a\"]\nstrategy = \"fixed\"\nassignee = \"a\"\n[[triage.shifts]]\nwho = \"a\"\ndays = [\"mon\"]\nfrom = \"23:59\"\nto = \"24:00\"\n",
		"[[automations]]\nname = \"x\"\nwhen = \"no_staff_reply\"\nafter = \"1ns\"\n[[automations.then]]\naction = \"set_priority\"\nvalue = \"low\"\n",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := config.Parse(data)
		if err != nil {
			return
		}
		e, err := New(c)
		if err != nil {
			t.Fatalf("Parse accepted the configuration but New = %v", err)
		}
		e.Triage(Input{Channel: "sms", Body: "order 1234 lipo fire", ReceivedAt: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC), NewTicket: true})
	})
}
