package triage

import (
	"testing"

	"github.com/counterdesk/counterdesk/config"
)

// routedShop has three teams with different strategies, and shifts for two
// of the workshop's members.
func routedShop(c *config.Config) {
	c.Triage.Teams = []config.Team{
		{Name: "workshop", Members: []string{"bob", "carla", "dan"}, Strategy: "round_robin"},
		{Name: "sales", Members: []string{"erin", "finn"}, Strategy: "least_open"},
		{Name: "returns", Members: []string{"gina", "finn"}, Strategy: "fixed", Assignee: "gina"},
		{Name: "shop", Members: []string{}, Strategy: "round_robin"},
	}
	c.Triage.Shifts = []config.Shift{
		{Who: "bob", Days: []string{"mon", "tue", "wed"}, From: "09:00", To: "14:00"},
		{Who: "carla", Days: []string{"thu", "fri"}, From: "09:00", To: "18:00"},
		{Who: "erin", Days: []string{"sun"}, From: "12:00", To: "13:00"},
		{Who: "erin", Days: []string{"mon"}, From: "09:00", To: "18:00"},
	}
	for i, cat := range c.Triage.Categories {
		switch cat.Name {
		case "troubleshooting", "warranty":
			c.Triage.Categories[i].Team = "workshop"
		case "order_status", "shipping":
			c.Triage.Categories[i].Team = "sales"
		case "returns_refunds":
			c.Triage.Categories[i].Team = "returns"
		}
	}
	c.Hours.Holidays = []string{"2026-05-25"}
}

func TestRoute(t *testing.T) {
	e := newEngine(t, routedShop)
	tests := []struct {
		name     string
		at       string
		body     string
		last     string         // LastAssigned of the ticket's team
		open     map[string]int // OpenByStaff
		owner    string         // ContactOwner
		team     string
		assignee string
		rule     string
	}{
		{name: "round robin starts at the first", at: monday + " 10:00", body: "troubleshooting", team: "workshop", assignee: "bob", rule: "teams/workshop"},
		{name: "round robin skips who is off shift", at: monday + " 10:00", body: "troubleshooting", last: "bob", team: "workshop", assignee: "dan", rule: "teams/workshop"},
		{name: "round robin wraps around", at: monday + " 10:00", body: "troubleshooting", last: "dan", team: "workshop", assignee: "bob", rule: "teams/workshop"},
		{name: "round robin after a shift ends", at: monday + " 15:00", body: "troubleshooting", last: "dan", team: "workshop", assignee: "dan", rule: "teams/workshop"},
		{name: "round robin on thursday", at: thursday + " 10:00", body: "troubleshooting", last: "carla", team: "workshop", assignee: "dan", rule: "teams/workshop"},
		{name: "round robin with a stranger last", at: thursday + " 10:00", body: "troubleshooting", last: "zed", team: "workshop", assignee: "carla", rule: "teams/workshop"},
		{name: "least open", at: monday + " 10:00", body: "order status", open: map[string]int{"erin": 3, "finn": 1}, team: "sales", assignee: "finn", rule: "teams/sales"},
		{name: "least open tie", at: monday + " 10:00", body: "order status", open: map[string]int{"erin": 2, "finn": 2}, team: "sales", assignee: "erin", rule: "teams/sales"},
		{name: "least open among those on shift", at: thursday + " 10:00", body: "order status", open: map[string]int{"erin": 0, "finn": 5}, team: "sales", assignee: "finn", rule: "teams/sales"},
		{name: "fixed", at: monday + " 10:00", body: "I want a refund", team: "returns", assignee: "gina", rule: "teams/returns"},
		{name: "no members", at: monday + " 10:00", body: "hello", team: "shop"},
		{name: "contact owner", at: monday + " 10:00", body: "order status", owner: "bob", team: "sales", assignee: "bob", rule: "contact_owner"},
		{name: "contact owner off shift", at: monday + " 15:00", body: "order status", owner: "bob", open: map[string]int{"erin": 1}, team: "sales", assignee: "finn", rule: "teams/sales"},
		{name: "contact owner in no team", at: monday + " 10:00", body: "troubleshooting", owner: "zed", team: "workshop", assignee: "bob", rule: "teams/workshop"},
		{name: "after hours", at: saturday + " 17:00", body: "troubleshooting", owner: "dan", team: "workshop"},
		{name: "shift outside opening hours", at: sunday + " 12:30", body: "order status", team: "sales"},
		{name: "holiday", at: "2026-05-25 10:00", body: "I want a refund", owner: "bob", team: "returns"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.Triage(Input{
				Channel: "email", Body: tt.body, ReceivedAt: at(t, tt.at), NewTicket: true,
				ContactOwner: tt.owner, OpenByStaff: tt.open, LastAssigned: map[string]string{tt.team: tt.last},
			})
			if d.Team != tt.team || d.Assignee != tt.assignee {
				t.Fatalf("team %q, assignee %q; want %q, %q\n%s", d.Team, d.Assignee, tt.team, tt.assignee, formatSteps(d.Steps))
			}
			s, ok := stepOf(d, "assignee")
			if ok != (tt.assignee != "") || s.Value != tt.assignee || s.Rule != tt.rule {
				t.Errorf("assignee step %+v, want %s by %s", s, tt.assignee, tt.rule)
			}
		})
	}

	// A request that joins a ticket is not routed again.
	d := e.Triage(Input{Channel: "email", Body: "troubleshooting", ReceivedAt: at(t, monday+" 10:00"), Priority: "normal", ContactOwner: "bob"})
	if d.Team != "" || d.Assignee != "" {
		t.Errorf("joining request routed to %q, %q", d.Team, d.Assignee)
	}
}

func TestContactOwnerOff(t *testing.T) {
	e := newEngine(t, func(c *config.Config) {
		routedShop(c)
		c.Triage.ContactOwner = false
	})
	d := e.Triage(Input{Channel: "email", Body: "troubleshooting", ReceivedAt: at(t, monday+" 10:00"), NewTicket: true, ContactOwner: "dan"})
	if d.Assignee != "bob" {
		t.Errorf("assignee %q, want bob by round robin", d.Assignee)
	}
}
