package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
)

// staffBox is a desk with the shipped triage rules, staff mail on and the
// redirection rules of redirect, at a clock the test moves.
type staffBox struct {
	desk *ticket.Desk
	n    *Notifier

	mu  sync.Mutex // the desk's scheduler reads the clock too
	now time.Time
}

func (b *staffBox) clock() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.now
}

func (b *staffBox) advance(d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.now = b.now.Add(d)
}

func newStaffBox(t *testing.T, redirect []config.Redirect) *staffBox {
	t.Helper()
	c := config.Default()
	c.Notify.StaffEmails = []string{"owner@wings.example"}
	c.Notify.StaffURL = "http://counterdesk.local:8080/"
	c.Notify.Redirect = redirect
	rules, err := triage.New(c)
	if err != nil {
		t.Fatal(err)
	}
	b := &staffBox{now: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)} // a Monday, open
	b.n = New(Options{Config: c.Notify, Shop: "Wings", Location: time.UTC})
	d, err := ticket.Open(t.TempDir(), ticket.Options{
		Notifier: b.n, Triager: rules, Automator: rules, StaffNotices: true,
		Planners: []ticket.Planner{b.n}, Now: b.clock,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	b.desk = d
	return b
}

// staffRows returns the pending staff mail rows, oldest first.
func (b *staffBox) staffRows(t *testing.T) []ticket.OutboxRow {
	t.Helper()
	rows, err := b.desk.Outbox(ticket.RowPending, 500)
	if err != nil {
		t.Fatal(err)
	}
	var out []ticket.OutboxRow
	for _, r := range rows {
		if r.Kind == ticket.KindNotifyStaff || r.Kind == KindDigest {
			out = append(out, r)
		}
	}
	return out
}

func (b *staffBox) mail(t *testing.T, row ticket.OutboxRow) StaffMail {
	t.Helper()
	m, err := b.n.StaffMail(b.desk, row, b.clock())
	if err != nil {
		t.Fatalf("StaffMail(%s %s): %v", row.Kind, row.Key, err)
	}
	return m
}

func TestRedirectRules(t *testing.T) {
	ctx := context.Background()
	b := newStaffBox(t, []config.Redirect{
		{Name: "everything", Match: []string{"*"}, To: []string{"desk@wings.example"}},
		{Name: "workshop", Match: []string{"category:warranty", "tag:crash_repair"}, To: []string{"workshop@wings.example", "ana@wings.example"}},
		{Name: "batteries", Match: []string{"tag:lipo"}, To: []string{"batteries@wings.example"}},
	})
	// A warranty claim: "*" and the workshop's rule, once each.
	r, err := b.desk.Ingest(ctx, ticket.Inbound{Channel: ticket.ChannelEmail, SourceKey: "w1", From: ticket.From{Name: "Kit Pilot", Email: "kit@example.com"},
		Subject: "Warranty claim", Body: "My order 77881 arrived with a cracked wing, is it covered by warranty?"})
	if err != nil {
		t.Fatal(err)
	}
	rows := b.staffRows(t)
	var to [][]string
	for _, row := range rows {
		var sn ticket.StaffNotice
		if err := json.Unmarshal(row.Payload, &sn); err != nil {
			t.Fatal(err)
		}
		to = append(to, sn.To)
	}
	if len(rows) != 2 || !slices.Equal(to[0], []string{"desk@wings.example"}) || !slices.Equal(to[1], []string{"workshop@wings.example", "ana@wings.example"}) {
		t.Fatalf("rows to %v, want the desk's and the workshop's", to)
	}
	m := b.mail(t, rows[1])
	ref := fmt.Sprintf("#%d", r.Ticket)
	for _, want := range []string{"Ticket " + ref + ": Warranty claim", `redirection rule "workshop" (category warranty)`, "Customer:   Kit Pilot, kit@example.com",
		fmt.Sprintf("Open it:    http://counterdesk.local:8080/tickets/%d\n", r.Ticket), "> My order 77881 arrived with a cracked wing"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("mail body lacks %q:\n%s", want, m.Body)
		}
	}
	if m.Subject != "[Wings] For workshop: "+ref+" Warranty claim" || !slices.Equal(m.To, []string{"workshop@wings.example", "ana@wings.example"}) {
		t.Errorf("mail = %q to %v", m.Subject, m.To)
	}

	// The customer writes again, staff change it: no second mail.
	if _, err := b.desk.Ingest(ctx, ticket.Inbound{Channel: ticket.ChannelEmail, SourceKey: "w2", From: ticket.From{Email: "kit@example.com"}, Body: "Photos attached soon."}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.desk.SetPriority(ctx, ticket.Actor{Kind: ticket.ActorStaff, Name: "ana"}, r.Ticket, ticket.PriorityHigh, ""); err != nil {
		t.Fatal(err)
	}
	if n := len(b.staffRows(t)); n != 2 {
		t.Fatalf("%d rows after more changes, want still 2", n)
	}
	// Staff tag it lipo later: the battery rule takes it then, once.
	for range 2 {
		if _, err := b.desk.Tag(ctx, ticket.Actor{Kind: ticket.ActorStaff, Name: "ana"}, r.Ticket, []string{"lipo"}, nil, ""); err != nil {
			t.Fatal(err)
		}
		if _, err := b.desk.Tag(ctx, ticket.Actor{Kind: ticket.ActorStaff, Name: "ana"}, r.Ticket, nil, []string{"lipo"}, ""); err != nil {
			t.Fatal(err)
		}
	}
	rows = b.staffRows(t)
	if len(rows) != 3 {
		t.Fatalf("%d rows after tagging lipo twice, want 3", len(rows))
	}
	if m := b.mail(t, rows[2]); !slices.Equal(m.To, []string{"batteries@wings.example"}) || !strings.Contains(m.Body, "(tag lipo)") {
		t.Errorf("tag mail = %v\n%s", m.To, m.Body)
	}
	// A deleted ticket's mails are not sent.
	if err := b.desk.Delete(ctx, ticket.Actor{Kind: ticket.ActorStaff, Name: "boss"}, r.Ticket, "test"); err != nil {
		t.Fatal(err)
	}
	if m := b.mail(t, rows[2]); len(m.To) != 0 {
		t.Errorf("a mail about a deleted ticket goes to %v", m.To)
	}
}

// A safety term mails the staff addresses, with the flag's reason.
func TestUrgentTicketMailsStaff(t *testing.T) {
	b := newStaffBox(t, nil)
	r, err := b.desk.Ingest(context.Background(), ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "s1", From: ticket.From{Phone: "+447911123456"},
		Body: "my lipo is swollen and smoking what do i do"})
	if err != nil {
		t.Fatal(err)
	}
	rows := b.staffRows(t)
	if len(rows) != 1 {
		t.Fatalf("%d staff rows, want 1", len(rows))
	}
	m := b.mail(t, rows[0])
	if !slices.Equal(m.To, []string{"owner@wings.example"}) || !strings.HasPrefix(m.Subject, fmt.Sprintf("[Wings] Urgent: #%d ", r.Ticket)) {
		t.Errorf("mail %q to %v", m.Subject, m.To)
	}
	for _, want := range []string{"Priority:   urgent", "Channel:    sms", "Customer:   +447911123456", "> my lipo is swollen and smoking", "Answer by:  Mon 23 Nov 11:00"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.Body)
		}
	}
}

func TestDigest(t *testing.T) {
	ctx := context.Background()
	b := newStaffBox(t, nil)
	staff := ticket.Actor{Kind: ticket.ActorStaff, Name: "ana"}
	in := func(key, phone, body string) ticket.Result {
		r, err := b.desk.Ingest(ctx, ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: key, From: ticket.From{Phone: phone}, Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	urgent := in("a", "+447911000001", "battery is swollen and smoking") // urgent: answer due in 1 h
	normal := in("b", "+447911000002", "where is my order 55123")        // normal: 24 h
	waiting := in("c", "+447911000003", "do you stock 9g servos")
	if _, err := b.desk.SetStatus(ctx, staff, waiting.Ticket, ticket.StatusPending, ""); err != nil {
		t.Fatal(err)
	}
	done := in("d", "+447911000004", "thanks")
	if _, err := b.desk.SetStatus(ctx, staff, done.Ticket, ticket.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	b.advance(3 * time.Hour)
	if err := b.desk.Enqueue(ticket.Effect{Kind: KindDigest, Key: "digest:2026-11-23", Payload: DigestRequest{Day: "2026-11-23", To: []string{"owner@wings.example"}}}); err != nil {
		t.Fatal(err)
	}
	rows := b.staffRows(t)
	var digest *ticket.OutboxRow
	for i := range rows {
		if rows[i].Kind == KindDigest {
			digest = &rows[i]
		}
	}
	if digest == nil {
		t.Fatal("no digest row")
	}
	m := b.mail(t, *digest)
	if m.Subject != "[Wings] Daily digest 2026-11-23: 3 open, 1 overdue" {
		t.Errorf("subject = %q", m.Subject)
	}
	overdue := m.Body[strings.Index(m.Body, "Overdue"):strings.Index(m.Body, "Urgent and high")]
	if !strings.Contains(overdue, fmt.Sprintf("#%d ", urgent.Ticket)) || strings.Contains(overdue, fmt.Sprintf("#%d ", normal.Ticket)) {
		t.Errorf("overdue part:\n%s", overdue)
	}
	for _, want := range []string{"Open tickets on 2026-11-23 at Mon 23 Nov 13:00: 3 (new 2, open 0, waiting on the customer 1)",
		"All tickets: http://counterdesk.local:8080/tickets"} {
		if !strings.Contains(m.Body, want) {
			t.Errorf("digest lacks %q:\n%s", want, m.Body)
		}
	}
	if strings.Contains(m.Body, fmt.Sprintf("#%d ", done.Ticket)) {
		t.Errorf("a resolved ticket is in the digest:\n%s", m.Body)
	}
}

// RunDigest queues one digest a day at its time, again after a restart
// only when the day's was not queued, and none while the clock is not
// trusted.
func TestRunDigest(t *testing.T) {
	type clock struct {
		sync.Mutex
		now time.Time
	}
	c := &clock{now: time.Date(2026, 11, 23, 7, 58, 0, 0, time.UTC)}
	now := func() time.Time { c.Lock(); defer c.Unlock(); return c.now }
	set := func(t time.Time) { c.Lock(); c.now = t; c.Unlock() }
	var mu sync.Mutex
	queued := map[string]int{}
	trusted := true
	enqueue := func(e ticket.Effect) error {
		mu.Lock()
		defer mu.Unlock()
		queued[e.Key]++
		return nil
	}
	count := func() map[string]int {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(queued)
	}
	run := func() (stop func()) {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() {
			defer close(done)
			RunDigest(ctx, DigestOptions{At: "08:00", Location: time.UTC, To: []string{"owner@wings.example"}, Enqueue: enqueue, Now: now,
				Trusted: func() bool { mu.Lock(); defer mu.Unlock(); return trusted }, Tick: time.Millisecond})
		}()
		return func() { cancel(); <-done }
	}
	wait := func(want map[string]int) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if got := count(); maps.Equal(got, want) {
				return
			}
			time.Sleep(time.Millisecond)
		}
		t.Fatalf("queued %v, want %v", count(), want)
	}
	stop := run()
	time.Sleep(20 * time.Millisecond)
	wait(map[string]int{}) // before 08:00
	set(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	wait(map[string]int{"digest:2026-11-23": 1})
	set(time.Date(2026, 11, 23, 17, 0, 0, 0, time.UTC))
	time.Sleep(20 * time.Millisecond)
	wait(map[string]int{"digest:2026-11-23": 1}) // once a day
	stop()
	// Off through the next morning; started at noon with an untrusted
	// clock, then trusted.
	mu.Lock()
	trusted = false
	mu.Unlock()
	set(time.Date(2026, 11, 24, 12, 0, 0, 0, time.UTC))
	stop = run()
	defer stop()
	time.Sleep(20 * time.Millisecond)
	wait(map[string]int{"digest:2026-11-23": 1})
	mu.Lock()
	trusted = true
	mu.Unlock()
	wait(map[string]int{"digest:2026-11-23": 1, "digest:2026-11-24": 1})
}
