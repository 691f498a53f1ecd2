package ticket

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/triage"
	bolt "go.etcd.io/bbolt"
)

// shopEngine compiles the shipped default rules with staff on the team.
func shopEngine(t testing.TB, edit func(*config.Config)) *triage.Engine {
	t.Helper()
	c := config.Default()
	c.Shop.TimeZone = "Europe/London"
	if edit != nil {
		edit(&c)
	}
	if err := c.Validate(); err != nil {
		t.Fatal(err)
	}
	e, err := triage.New(c)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// A Tuesday morning in London, within the default opening hours.
var tuesdayMorning = time.Date(2026, 11, 24, 10, 0, 0, 0, time.UTC)

func eventsOf(th Thread, action string) []Event {
	var out []Event
	for _, e := range th.Events {
		if e.Action == action {
			out = append(out, e)
		}
	}
	return out
}

// TestStalePendingClosedByRuleAfterRestart: a ticket waits on the customer,
// the appliance restarts, and seven days later the shipped rule closes it,
// once, with a note and an audit event naming the rule.
func TestStalePendingClosedByRuleAfterRestart(t *testing.T) {
	clk := &clock{now: tuesdayMorning}
	engine := shopEngine(t, nil)
	dir := t.TempDir()
	opts := Options{Now: clk.Now, Triager: engine, Automator: engine}
	d, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	r := mustIngest(t, d, sms("a", "+447700900123", "where is my order 55123"))
	if _, err := d.SetStatus(ctx, Staff("ana"), r.Ticket, StatusPending, "asked for the order email"); err != nil {
		t.Fatal(err)
	}
	d.Close()

	clk.Add(6 * 24 * time.Hour)
	d, err = Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	// The SLA timers of the ticket come due first; the pending rule not yet.
	if _, err := d.RunDue(clk.Now()); err != nil {
		t.Fatal(err)
	}
	if tk, _ := d.Get(r.Ticket); tk.Status != StatusPending {
		t.Fatalf("after 6 days the ticket is %s, want still pending", tk.Status)
	}
	clk.Add(25 * time.Hour)
	if n, err := d.RunDue(clk.Now()); err != nil || n != 1 {
		t.Fatalf("after 7 days RunDue = %d, %v; want 1", n, err)
	}
	th, _ := d.Thread(r.Ticket)
	if th.Ticket.Status != StatusClosed || th.Ticket.ClosedAs != ClosedUnresolved {
		t.Fatalf("ticket = %s (%s), want closed unresolved", th.Ticket.Status, th.Ticket.ClosedAs)
	}
	st := eventsOf(th, "status")
	last := st[len(st)-1]
	if last.Actor.Kind != ActorRule || last.Actor.Name == "" || !strings.HasPrefix(last.After, "closed") {
		t.Errorf("closing event = %+v, want one by the rule", last)
	}
	if notes := slices.DeleteFunc(slices.Clone(th.Messages), func(m Message) bool { return m.Direction != Internal }); len(notes) != 1 {
		t.Errorf("%d notes, want the rule's one", len(notes))
	}
	clk.Add(30 * 24 * time.Hour)
	if n, _ := d.RunDue(clk.Now()); n != 0 {
		t.Errorf("the rule fired again: %d", n)
	}
}

// TestTriageOnIngest: the shipped rules classify, prioritise, route and
// extract, and every step is audited with its rule.
func TestTriageOnIngest(t *testing.T) {
	clk := &clock{now: tuesdayMorning}
	engine := shopEngine(t, func(c *config.Config) {
		for i := range c.Triage.Teams {
			c.Triage.Teams[i].Members = []string{"ana", "bob"}
		}
	})
	d := openDesk(t, Options{Now: clk.Now, Triager: engine, Automator: engine, StaffNotices: true})

	r := mustIngest(t, d, Inbound{Channel: ChannelVoicemail, SourceKey: "call-1", At: clk.Now(), From: From{Phone: "+447700900123"},
		Transcript: "hi its sam my lipo battery is swollen and there was smoke please call me back"})
	th, _ := d.Thread(r.Ticket)
	tk := th.Ticket
	if tk.Priority != PriorityUrgent || tk.Category != "troubleshooting" || !slices.Contains(tk.Tags, "lipo") {
		t.Fatalf("ticket = %s/%s %v, want urgent troubleshooting with lipo", tk.Priority, tk.Category, tk.Tags)
	}
	if tk.Assignee == "" || tk.FirstResponseDue.IsZero() || tk.ResolutionDue.IsZero() {
		t.Errorf("not routed or no SLA: assignee %q, due %v / %v", tk.Assignee, tk.FirstResponseDue, tk.ResolutionDue)
	}
	tri := eventsOf(th, "triage")
	if len(tri) != 1 || !slices.ContainsFunc(tri[0].Steps, func(s Step) bool {
		return s.What == "priority" && s.After == "urgent" && s.Rule == "flags/safety" && s.Why != ""
	}) || !slices.ContainsFunc(tri[0].Steps, func(s Step) bool { return s.What == "assign" && s.Rule != "" }) {
		t.Errorf("no audited urgent priority and assignment by their rules in %+v", th.Events)
	}
	rows, _ := d.Outbox(RowPending, 10)
	if !slices.ContainsFunc(rows, func(r OutboxRow) bool { return r.Kind == KindNotifyStaff && r.Ticket == tk.Number }) {
		t.Errorf("a safety request paged no one: %+v", rows)
	}

	// Round robin: the next new ticket goes to the other member.
	r2 := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "m2", From: From{Email: "kit@example.com"},
		Subject: "Warranty claim", Body: "My order 77881 arrived with a cracked wing, is it covered by warranty?"})
	t2, _ := d.Get(r2.Ticket)
	if t2.Assignee == "" || t2.Assignee == tk.Assignee && tk.Team == t2.Team {
		t.Errorf("round robin gave %q then %q", tk.Assignee, t2.Assignee)
	}
	if t2.Category != "warranty" || t2.Fields["order_number"] != "77881" {
		t.Errorf("second ticket = %s %v", t2.Category, t2.Fields)
	}
}

// loopRules is an Automator whose two rules keep setting each other off.
type loopRules struct{}

func (loopRules) OnEvent(event string, f triage.Facts, now time.Time) []triage.Firing {
	if event != EventStatusChanged {
		return nil
	}
	next := "open"
	if f.Status == "open" {
		next = "pending"
	}
	return []triage.Firing{{Rule: "ping-pong", Actions: []triage.Action{{Kind: "set_status", Value: next}}, Why: "test"}}
}
func (loopRules) Timers(triage.Facts) []triage.Timer { return nil }
func (loopRules) Due(string, triage.Facts, time.Time) (triage.Firing, bool) {
	return triage.Firing{}, false
}

// TestRuleLoopIsStopped: rules that retrigger each other stop after a bound,
// with an audit event, and the change itself still commits.
func TestRuleLoopIsStopped(t *testing.T) {
	d := openDesk(t, Options{Automator: loopRules{}})
	r := mustIngest(t, d, sms("a", "+447700900123", "hello"))
	if _, err := d.SetStatus(context.Background(), Staff("ana"), r.Ticket, StatusOpen, ""); err != nil {
		t.Fatal(err)
	}
	th, _ := d.Thread(r.Ticket)
	stopped := eventsOf(th, "automation")
	if len(stopped) != 1 || stopped[0].After != "stopped" {
		t.Errorf("automation events = %+v, want one stop", stopped)
	}
	if n := len(eventsOf(th, "status")); n != maxFirings+1 {
		t.Errorf("%d status events, want %d", n, maxFirings+1)
	}
}

func TestOpenCountsFollowAssignment(t *testing.T) {
	d := openDesk(t, Options{})
	ctx := context.Background()
	a := mustIngest(t, d, sms("a", "+447700900123", "one"))
	b := mustIngest(t, d, sms("b", "+447700900999", "two"))
	for _, n := range []uint64{a.Ticket, b.Ticket} {
		if _, err := d.Assign(ctx, Staff("ana"), n, "bob", ""); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.SetStatus(ctx, Staff("bob"), a.Ticket, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	var counts map[string]int
	if err := d.db.View(func(tx *bolt.Tx) error { counts = openCounts(tx); return nil }); err != nil {
		t.Fatal(err)
	}
	if counts["bob"] != 1 {
		t.Errorf("open counts = %v, want bob 1", counts)
	}
	if err := d.Delete(ctx, Staff("admin"), b.Ticket, ""); err != nil {
		t.Fatal(err)
	}
	_ = d.db.View(func(tx *bolt.Tx) error { counts = openCounts(tx); return nil })
	if counts["bob"] != 0 {
		t.Errorf("after delete: %v", counts)
	}
}

// TestEventRuleRepliesAndPages: a rule on new SMS after hours answers the
// customer through the outbox and pages staff, each action audited with the
// rule's name; during opening hours it stays quiet.
func TestEventRuleRepliesAndPages(t *testing.T) {
	engine := shopEngine(t, func(c *config.Config) {
		c.Automations = append(c.Automations, config.Automation{
			Name: "after-hours sms",
			When: "created",
			If:   config.Conditions{Channel: []string{"sms"}, BusinessHours: "closed"},
			Then: []config.Action{
				{Action: "reply", Value: "Thanks, we are closed now; we answer {number} when we open."},
				{Action: "notify", Value: "SMS {number} arrived after hours"},
			},
		})
	})
	sunday := time.Date(2026, 11, 22, 3, 0, 0, 0, time.UTC)
	clk := &clock{now: sunday}
	d := openDesk(t, Options{Now: clk.Now, Triager: engine, Automator: engine, StaffNotices: true})
	r := mustIngest(t, d, Inbound{Channel: ChannelSMS, SourceKey: "night", At: sunday, From: From{Phone: "+447700900123"}, Body: "is the shop open tomorrow?"})
	th, _ := d.Thread(r.Ticket)
	var reply *Message
	for i, m := range th.Messages {
		if m.Direction == Outgoing {
			reply = &th.Messages[i]
		}
	}
	if reply == nil || !strings.Contains(reply.Body, "we are closed") || reply.Author != "after-hours sms" {
		t.Fatalf("no automatic reply by the rule in %+v", th.Messages)
	}
	if !strings.Contains(reply.Body, "1001") || strings.Contains(reply.Body, "{number}") {
		t.Errorf("placeholder not filled: %q", reply.Body)
	}
	if !th.Ticket.FirstResponseAt.IsZero() || !th.Ticket.LastOutboundAt.IsZero() {
		t.Error("an automatic reply counted as the staff's first response")
	}
	rows, _ := d.Outbox(RowPending, 10)
	kinds := map[string]int{}
	for _, row := range rows {
		kinds[row.Kind]++
	}
	if kinds[DeliverKind(RouteSMS)] != 1 || kinds[KindNotifyStaff] != 1 {
		t.Errorf("outbox kinds = %v, want one SMS delivery and one staff page", kinds)
	}
	for _, action := range []string{"reply", "notify"} {
		evs := eventsOf(th, action)
		if len(evs) != 1 || evs[0].Actor != (Actor{Kind: ActorRule, Name: "after-hours sms"}) {
			t.Errorf("%s events = %+v, want one by the rule", action, evs)
		}
	}

	clk.now = tuesdayMorning
	r2 := mustIngest(t, d, Inbound{Channel: ChannelSMS, SourceKey: "day", At: tuesdayMorning, From: From{Phone: "+447700900999"}, Body: "hello"})
	if th2, _ := d.Thread(r2.Ticket); len(th2.Messages) != 1 {
		t.Errorf("the rule fired during opening hours: %d messages", len(th2.Messages))
	}
}

// TestChangedRulesReschedule: when the owner shortens a time rule, tickets
// already waiting follow the new rule after the restart.
func TestChangedRulesReschedule(t *testing.T) {
	clk := &clock{now: tuesdayMorning}
	dir := t.TempDir()
	week := shopEngine(t, nil)
	d, err := Open(dir, Options{Now: clk.Now, Triager: week, Automator: week})
	if err != nil {
		t.Fatal(err)
	}
	r := mustIngest(t, d, sms("a", "+447700900123", "where is my order"))
	// A staff reply ends the first-response target; what is left to come
	// due is the resolution target (72 h) and the pending rule (7 days).
	if _, err := d.Reply(context.Background(), Staff("ana"), r.Ticket, Reply{Body: "Which order number?", Status: StatusPending}); err != nil {
		t.Fatal(err)
	}
	d.Close()

	day := shopEngine(t, func(c *config.Config) { c.Automations[0].After = config.Duration{Duration: 24 * time.Hour} })
	d, err = Open(dir, Options{Now: clk.Now, Triager: day, Automator: day})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	clk.Add(25 * time.Hour)
	if _, err := d.RunDue(clk.Now()); err != nil {
		t.Fatal(err)
	}
	if tk, _ := d.Get(r.Ticket); tk.Status != StatusClosed {
		t.Errorf("after a day under the one-day rule the ticket is %s, want closed", tk.Status)
	}
}
