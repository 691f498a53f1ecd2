package ticket

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/triage"
	bolt "go.etcd.io/bbolt"
)

// clock is a settable time source for tests.
type clock struct {
	mu  stdsync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// openDesk opens a desk in a temporary folder and checks the database's
// consistency when the test ends.
func openDesk(t testing.TB, opts Options) *Desk {
	t.Helper()
	dir := t.TempDir()
	d, err := Open(dir, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		// bbolt's check reads the live freelist, so no write may run
		// beside it: stop the word-index merge first.
		d.stopWordIndex()
		if err := d.db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		}); err != nil {
			t.Errorf("database check: %v", err)
		}
		d.Close()
	})
	return d
}

func sms(key, phone, body string) Inbound {
	return Inbound{Channel: ChannelSMS, SourceKey: key, From: From{Phone: phone}, Body: body}
}

func mustIngest(t testing.TB, d *Desk, in Inbound) Result {
	t.Helper()
	r, err := d.Ingest(context.Background(), in)
	if err != nil {
		t.Fatalf("ingest %q: %v", in.SourceKey, err)
	}
	return r
}

func TestIngestCreatesAndThreads(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	d := openDesk(t, Options{Now: clk.Now, ThreadWindow: time.Hour, Region: "PT"})
	ctx := context.Background()

	r1 := mustIngest(t, d, sms("a", "912 345 678", "Is my order 55123 shipped?"))
	if !r1.Created || r1.Ticket != FirstNumber || r1.Duplicate {
		t.Fatalf("first ingest = %+v, want new ticket #%d", r1, FirstNumber)
	}
	th, err := d.Thread(r1.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if got := th.Contact.Phones; len(got) != 1 || got[0] != "+351912345678" {
		t.Errorf("contact phones = %v, want [+351912345678]", got)
	}
	if th.Ticket.Priority != PriorityNormal || th.Ticket.Status != StatusNew {
		t.Errorf("ticket = %s/%s, want normal/new", th.Ticket.Priority, th.Ticket.Status)
	}
	if th.Ticket.Subject != "Is my order 55123 shipped?" {
		t.Errorf("subject = %q", th.Ticket.Subject)
	}

	// The same person, written another way, within the window: same ticket.
	clk.Add(10 * time.Minute)
	r2 := mustIngest(t, d, sms("b", "+351 912 345 678", "hello?"))
	if r2.Created || r2.Ticket != r1.Ticket {
		t.Fatalf("second ingest = %+v, want to join #%d", r2, r1.Ticket)
	}
	// Resolved, then the customer writes again: reopened.
	if _, err := d.SetStatus(ctx, Staff("ana"), r1.Ticket, StatusResolved, "answered"); err != nil {
		t.Fatal(err)
	}
	r3 := mustIngest(t, d, sms("c", "912345678", "thanks, one more thing"))
	if r3.Ticket != r1.Ticket {
		t.Fatalf("reply to resolved ticket opened #%d", r3.Ticket)
	}
	tk, _ := d.Get(r1.Ticket)
	if tk.Status != StatusOpen || tk.Messages != 3 {
		t.Errorf("after reopen: status %s messages %d, want open 3", tk.Status, tk.Messages)
	}
	// After the window: a new ticket.
	clk.Add(2 * time.Hour)
	r4 := mustIngest(t, d, sms("d", "912345678", "new question"))
	if !r4.Created || r4.Ticket != r1.Ticket+1 {
		t.Fatalf("after window = %+v, want new #%d", r4, r1.Ticket+1)
	}
	// Quoting the ticket number threads onto it whatever the window.
	r5 := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "<m1@x>", From: From{Email: "Pilot@Example.COM"}, Body: "about #1001", TicketNumber: r1.Ticket})
	if r5.Ticket != r1.Ticket {
		t.Fatalf("quoted ticket: got #%d", r5.Ticket)
	}
	c, _ := d.Contact(th.Contact.ID + 1)
	if len(c.Emails) != 1 || c.Emails[0] != "pilot@example.com" {
		t.Errorf("email contact = %+v", c)
	}
}

func TestIngestDuplicateConcurrent(t *testing.T) {
	d := openDesk(t, Options{})
	const n = 64
	var wg stdsync.WaitGroup
	results := make([]Result, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = d.Ingest(context.Background(), sms("same-key", "+447700900123", "battery puffed"))
		}()
	}
	wg.Wait()
	created := 0
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if results[i].Created {
			created++
		}
		if results[i].Ticket != results[0].Ticket || results[i].MessageID != results[0].MessageID {
			t.Fatalf("result %d = %+v, differs from %+v", i, results[i], results[0])
		}
	}
	if created != 1 {
		t.Errorf("%d ingests created a ticket, want 1", created)
	}
	th, _ := d.Thread(results[0].Ticket)
	if len(th.Messages) != 1 {
		t.Errorf("%d messages, want 1", len(th.Messages))
	}
	if cnt, _ := d.Count(); cnt != 1 {
		t.Errorf("%d tickets, want 1", cnt)
	}
}

func TestIngestRejectsBadInputAndWritesNothing(t *testing.T) {
	d := openDesk(t, Options{Limits: Limits{MaxMessageBytes: 100, MaxAttachmentBytes: 10, MaxAttachments: 1}})
	mustIngest(t, d, sms("ok", "+447700900123", "fine"))
	before := dbDigest(t, d)
	tests := []struct {
		name string
		in   Inbound
		want error
	}{
		{"unknown channel", Inbound{Channel: "fax", SourceKey: "k", Body: "x"}, ErrInvalid},
		{"no source key", Inbound{Channel: ChannelSMS, Body: "x"}, ErrInvalid},
		{"empty request", Inbound{Channel: ChannelWebForm, SourceKey: "k"}, ErrInvalid},
		{"body too long", Inbound{Channel: ChannelSMS, SourceKey: "k", Body: string(make([]byte, 101))}, ErrTooLarge},
		{"bad utf8", Inbound{Channel: ChannelSMS, SourceKey: "k", Body: "\xff\xfe"}, ErrInvalid},
		{"nul in body", Inbound{Channel: ChannelSMS, SourceKey: "k", Body: "a\x00b"}, ErrInvalid},
		{"newline in subject", Inbound{Channel: ChannelEmail, SourceKey: "k", Subject: "a\nb", Body: "x"}, ErrInvalid},
		{"bad phone", Inbound{Channel: ChannelSMS, SourceKey: "k", From: From{Phone: "call me"}, Body: "x"}, ErrInvalid},
		{"bad email", Inbound{Channel: ChannelEmail, SourceKey: "k", From: From{Email: "not an address"}, Body: "x"}, ErrInvalid},
		{"attachment too big", Inbound{Channel: ChannelEmail, SourceKey: "k", Body: "x", Attachments: []NewAttachment{{Name: "a", Data: make([]byte, 11)}}}, ErrTooLarge},
		{"too many attachments", Inbound{Channel: ChannelEmail, SourceKey: "k", Body: "x", Attachments: []NewAttachment{{Name: "a", Data: []byte("1")}, {Name: "b", Data: []byte("2")}}}, ErrTooLarge},
		{"path in file name", Inbound{Channel: ChannelEmail, SourceKey: "k", Body: "x", Attachments: []NewAttachment{{Name: "../etc/passwd", Data: []byte("1")}}}, ErrInvalid},
		{"bad flag", Inbound{Channel: ChannelSMS, SourceKey: "k", Body: "x", Flags: []string{"Bad Flag"}}, ErrInvalid},
		{"time out of range", Inbound{Channel: ChannelSMS, SourceKey: "k", Body: "x", At: time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)}, ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := d.Ingest(context.Background(), tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Errorf("err %v does not name a field", err)
			}
		})
	}
	if after := dbDigest(t, d); after != before {
		t.Errorf("rejected input changed the store:\nbefore %s\nafter  %s", before, after)
	}
}

// dbDigest summarises every bucket's key count and sequence. It stops the
// background word-index merge first, which would otherwise move postings
// between two digests whatever the test did.
func dbDigest(t testing.TB, d *Desk) string {
	t.Helper()
	d.stopWordIndex()
	var s string
	err := d.db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			b := tx.Bucket(name)
			s += fmt.Sprintf("%s=%d/%d ", name, b.Stats().KeyN, b.Sequence())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestStatusMachine(t *testing.T) {
	tests := []struct {
		from, to Status
		ok       bool
		closedAs string
	}{
		{StatusNew, StatusOpen, true, ""},
		{StatusOpen, StatusPending, true, ""},
		{StatusPending, StatusResolved, true, ""},
		{StatusResolved, StatusClosed, true, ClosedResolved},
		{StatusOpen, StatusClosed, true, ClosedUnresolved},
		{StatusClosed, StatusOpen, false, ""},
		{StatusClosed, StatusResolved, false, ""},
		{StatusSpam, StatusResolved, false, ""},
		{StatusArchived, StatusOpen, true, ""},
		{StatusResolved, StatusPending, false, ""},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s->%s", tt.from, tt.to), func(t *testing.T) {
			tk := &Ticket{Status: tt.from}
			err := tk.move(tt.to, time.Now())
			if tt.ok != (err == nil) {
				t.Fatalf("move = %v, want ok=%v", err, tt.ok)
			}
			var te *TransitionError
			if err != nil && !errors.As(err, &te) {
				t.Errorf("err %T is not a *TransitionError", err)
			}
			if tk.ClosedAs != tt.closedAs {
				t.Errorf("ClosedAs = %q, want %q", tk.ClosedAs, tt.closedAs)
			}
		})
	}
	if _, err := ParseStatus("done"); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("ParseStatus(done) = %v", err)
	}
}

func TestUpdateAuditsEveryChange(t *testing.T) {
	d := openDesk(t, Options{})
	ctx := context.Background()
	r := mustIngest(t, d, sms("a", "+447700900123", "prop broke"))
	ana, urgent, open := "ana", PriorityUrgent, StatusOpen
	tk, err := d.Update(ctx, Staff("bob"), r.Ticket, Patch{Status: &open, Priority: &urgent, Assignee: &ana, AddTags: []string{"Crash-Repair"}, Why: "customer called"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != StatusOpen || tk.Priority != PriorityUrgent || tk.Assignee != "ana" || len(tk.Tags) != 1 || tk.Tags[0] != "crash-repair" {
		t.Fatalf("ticket after update = %+v", tk)
	}
	th, _ := d.Thread(r.Ticket)
	seen := map[string]Event{}
	for _, e := range th.Events {
		seen[e.Action] = e
	}
	for _, a := range []string{"created", "triage", "status", "priority", "assign", "tag"} {
		if _, ok := seen[a]; !ok {
			t.Errorf("no %q event in %+v", a, th.Events)
		}
	}
	if e := seen["priority"]; e.Actor != Staff("bob") || e.Before != "normal" || e.After != "urgent" || e.Why != "customer called" {
		t.Errorf("priority event = %+v", e)
	}
	closed := StatusClosed
	if _, err := d.Update(ctx, Staff("bob"), r.Ticket, Patch{Status: &closed}); err != nil {
		t.Fatal(err)
	}
	bad := StatusResolved
	_, err = d.Update(ctx, Staff("bob"), r.Ticket, Patch{Status: &bad})
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("closed -> resolved: err = %v, want TransitionError", err)
	}
	tk, _ = d.Get(r.Ticket)
	if tk.ClosedAs != ClosedUnresolved {
		t.Errorf("ClosedAs = %q, want unresolved", tk.ClosedAs)
	}
	// A closed ticket is not joined by a new request.
	r2 := mustIngest(t, d, sms("b", "+447700900123", "again"))
	if !r2.Created {
		t.Error("a request joined a closed ticket")
	}
}

type fixedTriage struct{}

func (fixedTriage) Triage(in triage.Input) triage.Decision {
	if !in.NewTicket {
		return triage.Decision{}
	}
	return triage.Decision{Priority: "urgent", Category: "troubleshooting", Tags: []string{"lipo"}, Rule: "safety", Why: "body mentions a swollen battery"}
}

func TestTriageDecisionIsAppliedAndAudited(t *testing.T) {
	d := openDesk(t, Options{Triager: fixedTriage{}})
	r := mustIngest(t, d, sms("a", "+447700900123", "my battery is swollen"))
	th, _ := d.Thread(r.Ticket)
	if th.Ticket.Priority != PriorityUrgent || th.Ticket.Category != "troubleshooting" || th.Ticket.Tags[0] != "lipo" {
		t.Fatalf("ticket = %+v", th.Ticket)
	}
	found := false
	for _, e := range th.Events {
		if e.Action == "priority" && e.Actor == (Actor{Kind: ActorRule, Name: "safety"}) && e.Why == "body mentions a swollen battery" {
			found = true
		}
	}
	if !found {
		t.Errorf("no priority event by rule safety in %+v", th.Events)
	}
	p, _ := d.List(Filter{Priority: PriorityUrgent})
	if len(p.Tickets) != 1 {
		t.Errorf("urgent list = %d tickets", len(p.Tickets))
	}
}

func TestReplyNoteMergeDelete(t *testing.T) {
	d := openDesk(t, Options{})
	ctx := context.Background()
	a := mustIngest(t, d, sms("a", "+447700900123", "servo jitter"))
	b := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "m2", From: From{Email: "x@example.org"}, Subject: "servo", Body: "also this"})

	m, err := d.Reply(ctx, Staff("ana"), a.Ticket, Reply{Body: "Try re-centering it."})
	if err != nil {
		t.Fatal(err)
	}
	if m.Direction != Outgoing || m.Delivery != DeliveryQueued || m.Channel != ChannelSMS {
		t.Errorf("reply = %+v", m)
	}
	rows, _ := d.Outbox(RowPending, 10)
	if len(rows) != 1 || rows[0].Kind != "deliver.sms" || rows[0].Ticket != a.Ticket {
		t.Fatalf("outbox = %+v", rows)
	}
	tk, _ := d.Get(a.Ticket)
	if tk.FirstResponseAt.IsZero() || tk.Status != StatusOpen {
		t.Errorf("after reply: %+v", tk)
	}
	if _, err := d.AddNote(ctx, Staff("ana"), a.Ticket, "called him too"); err != nil {
		t.Fatal(err)
	}
	if rows, _ := d.Outbox(RowPending, 10); len(rows) != 1 {
		t.Errorf("a note queued a delivery: %+v", rows)
	}
	if _, err := d.Reply(ctx, Staff("ana"), a.Ticket, Reply{Body: "  "}); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty reply: %v", err)
	}

	into, err := d.Merge(ctx, Staff("ana"), b.Ticket, a.Ticket, "same servo")
	if err != nil {
		t.Fatal(err)
	}
	if into.Messages != 4 {
		t.Errorf("merged ticket has %d messages, want 4", into.Messages)
	}
	src, _ := d.Get(b.Ticket)
	if src.MergedInto != a.Ticket || src.Status != StatusClosed {
		t.Errorf("merged source = %+v", src)
	}
	// A duplicate of a merged message still points to where it lives now.
	r, _ := d.Ingest(ctx, Inbound{Channel: ChannelEmail, SourceKey: "m2", From: From{Email: "x@example.org"}, Body: "also this"})
	if !r.Duplicate || r.Ticket != a.Ticket {
		t.Errorf("re-ingest of merged message = %+v", r)
	}
	if p, _ := d.List(Filter{Query: "also"}); len(p.Tickets) != 1 || p.Tickets[0].Number != a.Ticket {
		t.Errorf("search after merge = %+v", p.Tickets)
	}

	if err := d.Delete(ctx, Staff("admin"), a.Ticket, "test"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddNote(ctx, Staff("ana"), a.Ticket, "x"); !errors.Is(err, ErrDeleted) {
		t.Errorf("note on deleted ticket: %v", err)
	}
	p, _ := d.List(Filter{})
	for _, tk := range p.Tickets {
		if tk.Number == a.Ticket {
			t.Error("deleted ticket still listed")
		}
	}
	p, _ = d.List(Filter{Deleted: true})
	if len(p.Tickets) != 1 || p.Tickets[0].Number != a.Ticket {
		t.Errorf("deleted listing = %+v", p.Tickets)
	}
}

func TestAttachmentsAreContentAddressed(t *testing.T) {
	d := openDesk(t, Options{})
	data := []byte("RIFF....WAVEfmt fake voicemail")
	r := mustIngest(t, d, Inbound{Channel: ChannelVoicemail, SourceKey: "call-1", From: From{Phone: "+447700900123"},
		Transcript: "hi it's Sam", Attachments: []NewAttachment{{Name: "voicemail.wav", ContentType: "audio/wav", Data: data}}})
	th, _ := d.Thread(r.Ticket)
	att := th.Messages[0].Attachments[0]
	a, path, err := d.Attachment(att.ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Size != int64(len(data)) || a.ContentType != "audio/wav" {
		t.Errorf("attachment = %+v", a)
	}
	if _, _, err := d.Attachment("../../etc/passwd"); !errors.Is(err, ErrNotFound) {
		t.Errorf("bad id: %v", err)
	}
	if got := readFile(t, path); string(got) != string(data) {
		t.Errorf("file holds %q", got)
	}
}

func TestFeed(t *testing.T) {
	d := openDesk(t, Options{FeedBuffer: 2})
	fast := d.Subscribe()
	slow := d.Subscribe()
	defer fast.Close()
	for i := range 4 {
		mustIngest(t, d, sms(fmt.Sprint(i), "+447700900123", "x"))
		c := <-fast.C
		if c.Ticket.Number != FirstNumber {
			t.Fatalf("change %d for ticket %d", i, c.Ticket.Number)
		}
	}
	n := 0
	for range slow.C {
		n++
	}
	if n != 2 || !slow.Dropped() {
		t.Errorf("slow subscriber got %d changes, dropped=%v; want 2, true", n, slow.Dropped())
	}
	if fast.Dropped() {
		t.Error("fast subscriber dropped")
	}
	if d.Subscribers() != 1 {
		t.Errorf("%d subscribers, want 1", d.Subscribers())
	}
}

func TestMergedTicketsAreFrozenAndTagsAuditedOnce(t *testing.T) {
	d := openDesk(t, Options{})
	ctx := context.Background()
	a := mustIngest(t, d, sms("a", "+447700900123", "one"))
	b := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "b", From: From{Email: "b@example.com"}, Body: "two"})
	c := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "c", From: From{Email: "c@example.com"}, Body: "three"})
	if _, err := d.Merge(ctx, Staff("ana"), b.Ticket, a.Ticket, ""); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddNote(ctx, Staff("ana"), b.Ticket, "late note"); !errors.Is(err, ErrMerged) {
		t.Errorf("note on a merged ticket: %v, want ErrMerged", err)
	}
	if _, err := d.Merge(ctx, Staff("ana"), c.Ticket, b.Ticket, ""); !errors.Is(err, ErrMerged) {
		t.Errorf("merge into a merged ticket: %v, want ErrMerged", err)
	}
	if _, err := d.Merge(ctx, Staff("ana"), a.Ticket, c.Ticket, string(make([]byte, 2000))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("merge with a huge why: %v", err)
	}

	before, _ := d.Thread(a.Ticket)
	tk, err := d.Tag(ctx, Staff("ana"), a.Ticket, []string{"x"}, []string{"x"}, "")
	if err != nil {
		t.Fatal(err)
	}
	after, _ := d.Thread(a.Ticket)
	if len(after.Events) != len(before.Events)+1 || len(tk.Tags) != 1 {
		t.Errorf("adding x and removing x wrote %d events, tags %v", len(after.Events)-len(before.Events), tk.Tags)
	}
	if _, err := d.Tag(ctx, Staff("ana"), a.Ticket, []string{"x"}, []string{"x"}, ""); err != nil {
		t.Fatal(err)
	}
	again, _ := d.Thread(a.Ticket)
	if len(again.Events) != len(after.Events) {
		t.Errorf("a patch that changed nothing wrote %d events", len(again.Events)-len(after.Events))
	}
	bad := Status("done")
	if _, err := d.Update(ctx, Staff("ana"), a.Ticket, Patch{Status: &bad}); !errors.Is(err, ErrInvalid) {
		t.Errorf("unknown status: %v, want ErrInvalid", err)
	}
}

func TestAttachmentKeepsItsFirstName(t *testing.T) {
	d := openDesk(t, Options{})
	data := []byte("same bytes")
	mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "1", From: From{Email: "a@example.com"}, Body: "x", Attachments: []NewAttachment{{Name: "receipt.pdf", ContentType: "application/pdf", Data: data}}})
	r := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "2", From: From{Email: "b@example.com"}, Body: "y", Attachments: []NewAttachment{{Name: "evil.html", ContentType: "text/html", Data: data}}})
	th, _ := d.Thread(r.Ticket)
	a, _, err := d.Attachment(th.Messages[0].Attachments[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "receipt.pdf" || a.ContentType != "application/pdf" {
		t.Errorf("attachment = %+v, want the first name and type", a)
	}
	if th.Messages[0].Attachments[0].Name != "evil.html" {
		t.Errorf("the message lost its own name for the file: %+v", th.Messages[0].Attachments[0])
	}
}

func TestThreadingSkipsClosedAndFollowsMerges(t *testing.T) {
	clk := &clock{now: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC)}
	d := openDesk(t, Options{Now: clk.Now})
	ctx := context.Background()
	a := mustIngest(t, d, sms("a", "+447700900123", "first question"))
	clk.Add(time.Minute)
	b := mustIngest(t, d, Inbound{Channel: ChannelSMS, SourceKey: "b", From: From{Phone: "+447700900123"}, Body: "second, separate", NewTicket: true})
	clk.Add(time.Minute)
	if _, err := d.SetStatus(ctx, Staff("ana"), b.Ticket, StatusClosed, ""); err != nil {
		t.Fatal(err)
	}
	// The newest ticket is closed; the older open one takes the message.
	clk.Add(time.Minute)
	if r := mustIngest(t, d, sms("c", "+447700900123", "any news?")); r.Ticket != a.Ticket {
		t.Errorf("message joined #%d, want the open #%d", r.Ticket, a.Ticket)
	}
	// A ticket merged away hands its messages on to the one it went into.
	e := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "e", From: From{Email: "x@example.com"}, Body: "hello"})
	clk.Add(time.Minute)
	if _, err := d.Merge(ctx, Staff("ana"), e.Ticket, a.Ticket, "same customer"); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Minute)
	if r := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "f", From: From{Email: "x@example.com"}, Body: "and?"}); r.Ticket != a.Ticket {
		t.Errorf("message to a merged ticket's contact joined #%d, want #%d", r.Ticket, a.Ticket)
	}
}

func TestOrphanAttachmentsAreSwept(t *testing.T) {
	clk := &clock{now: time.Now()}
	d := openDesk(t, Options{Now: clk.Now})
	kept := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "1", From: From{Email: "a@example.com"}, Body: "x",
		Attachments: []NewAttachment{{Name: "photo.jpg", Data: []byte("kept")}}})
	// A reply whose status change is refused leaves its file behind.
	if _, err := d.SetStatus(context.Background(), Staff("ana"), kept.Ticket, StatusClosed, ""); err != nil {
		t.Fatal(err)
	}
	_, err := d.Reply(context.Background(), Staff("ana"), kept.Ticket, Reply{Body: "see photo", Status: StatusResolved,
		Attachments: []NewAttachment{{Name: "orphan.jpg", Data: []byte("orphan")}}})
	var te *TransitionError
	if !errors.As(err, &te) {
		t.Fatalf("reply on a closed ticket: %v", err)
	}
	if n, _ := d.sweepAttachments(); n != 0 {
		t.Errorf("swept %d young files", n)
	}
	clk.Add(2 * time.Hour)
	if n, err := d.sweepAttachments(); n != 1 || err != nil {
		t.Errorf("swept %d files, %v; want the one orphan", n, err)
	}
	th, _ := d.Thread(kept.Ticket)
	if _, path, err := d.Attachment(th.Messages[0].Attachments[0].ID); err != nil || string(readFile(t, path)) != "kept" {
		t.Errorf("the referenced file is gone: %v", err)
	}
}

func TestRecordCall(t *testing.T) {
	d := openDesk(t, Options{})
	ctx := context.Background()
	call := AnsweredCall{Channel: ChannelMissedCall, Key: "a84b4c76e66710@pc33", From: From{Name: "Ana", Phone: "+447700900123"}, Ring: 7 * time.Second}
	if err := d.RecordCall(ctx, call); err != nil {
		t.Fatal(err)
	}
	// No ticket was opened; the contact carries the call.
	if n, _ := d.Count(); n != 0 {
		t.Fatalf("RecordCall opened %d tickets", n)
	}
	// Once the contact has a ticket, a second call lands on it as an event,
	// and recording the same call again changes nothing.
	res, err := d.Ingest(ctx, Inbound{Channel: ChannelSMS, SourceKey: "sms-1", From: From{Phone: "+447700900123"}, Body: "Is my order ready?"})
	if err != nil {
		t.Fatal(err)
	}
	call2 := call
	call2.Key = "second@pc33"
	for range 2 {
		if err := d.RecordCall(ctx, call2); err != nil {
			t.Fatal(err)
		}
	}
	tk, err := d.Get(res.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	c, err := d.Contact(tk.ContactID)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Calls) != 2 || c.Calls[0].Key != "second@pc33" || c.Calls[1].Key != call.Key || c.Calls[0].Outcome != "answered elsewhere" {
		t.Fatalf("contact calls = %+v", c.Calls)
	}
	if c.Name != "Ana" {
		t.Errorf("contact name = %q, want the caller's name", c.Name)
	}
	th, err := d.Thread(res.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	for _, e := range th.Events {
		if e.Action == "call" {
			calls++
			if e.After != "answered elsewhere" || !strings.Contains(e.Why, "rang 7s") {
				t.Errorf("call event = %+v", e)
			}
		}
	}
	if calls != 1 {
		t.Errorf("%d call events, want 1", calls)
	}
	// Bad input is refused and an anonymous call is ignored.
	if err := d.RecordCall(ctx, AnsweredCall{Channel: ChannelMissedCall, From: From{Phone: "+447700900123"}}); err == nil {
		t.Error("a call without a key was recorded")
	}
	if err := d.RecordCall(ctx, AnsweredCall{Channel: ChannelMissedCall, Key: "x", From: From{Phone: "not a number"}}); err == nil {
		t.Error("a call from a bad number was recorded")
	}
	if err := d.RecordCall(ctx, AnsweredCall{Channel: ChannelMissedCall, Key: "anon"}); err != nil {
		t.Errorf("anonymous call: %v", err)
	}
}

// A store written by a newer build is refused, and nothing in it changes;
// a store from before the version was kept opens as version 1.
func TestSchemaVersion(t *testing.T) {
	dir := t.TempDir()
	d, err := Open(dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(keySchema); beU64(v) != SchemaVersion {
			t.Errorf("schema version %d, want %d", beU64(v), SchemaVersion)
		}
		return nil
	})
	d.db.Update(func(tx *bolt.Tx) error { return tx.Bucket(bMeta).Put(keySchema, u64(SchemaVersion+1)) })
	d.Close()
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrNewerSchema) {
		t.Fatalf("Open of a newer store = %v, want ErrNewerSchema", err)
	}
	db, err := bolt.Open(filepath.Join(dir, DBFile), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	db.Update(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bMeta).Get(keySchema); beU64(v) != SchemaVersion+1 {
			t.Errorf("the refused open changed the version to %d", beU64(v))
		}
		return tx.Bucket(bMeta).Delete(keySchema) // as before versions were kept
	})
	db.Close()
	d, err = Open(dir, Options{})
	if err != nil {
		t.Fatalf("Open of an unversioned store: %v", err)
	}
	d.Close()
}

// Near a full disk, attachments are refused (nothing is stored) while
// requests without attachments keep being stored.
func TestDiskFullRefusesAttachments(t *testing.T) {
	d := openDesk(t, Options{Limits: Limits{MinFreeBytes: 1 << 62}})
	ctx := context.Background()
	_, err := d.Ingest(ctx, Inbound{Channel: ChannelVoicemail, SourceKey: "sip|1", From: From{Phone: "+447700900123"}, Body: "Voicemail",
		Attachments: []NewAttachment{{Name: "v.wav", ContentType: "audio/wav", Data: []byte("RIFF....")}}})
	if !errors.Is(err, ErrDiskFull) {
		t.Fatalf("Ingest with an attachment on a full disk = %v, want ErrDiskFull", err)
	}
	if n, _ := d.Count(); n != 0 {
		t.Fatalf("%d tickets after the refusal", n)
	}
	if _, err := d.Ingest(ctx, Inbound{Channel: ChannelSMS, SourceKey: "sms|1", From: From{Phone: "+447700900123"}, Body: "Where is my order?"}); err != nil {
		t.Fatalf("a text request on a full disk: %v", err)
	}
	if free, ok := FreeBytes(t.TempDir()); !ok || free == 0 {
		t.Errorf("FreeBytes = %d, %v", free, ok)
	}
}

func TestRemoteReplyStoredOnce(t *testing.T) {
	d := openDesk(t, Options{})
	r := mustIngest(t, d, sms("a", "+447700900123", "is my order 1042 shipped?"))
	if n, err := d.FindUUID(r.UUID); err != nil || n != r.Ticket {
		t.Fatalf("FindUUID = %d, %v; want %d", n, err, r.Ticket)
	}
	if _, err := d.FindUUID("no-such-uuid"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindUUID of an unknown uuid = %v, want ErrNotFound", err)
	}
	zendesk := Actor{Kind: ActorRemote, Name: "zendesk"}
	reply := Reply{Body: "It left today.", Remote: &RemoteRef{Target: "zendesk", ID: "9001"}}
	first, err := d.Reply(context.Background(), zendesk, r.Ticket, reply)
	if err != nil {
		t.Fatal(err)
	}
	if first.Meta["remote"] != "zendesk" || first.Meta["remote_id"] != "9001" || first.Author != "zendesk" {
		t.Errorf("reply = %+v", first)
	}
	again, err := d.Reply(context.Background(), zendesk, r.Ticket, reply)
	if err != nil || again.ID != first.ID {
		t.Fatalf("second Reply = %+v, %v; want message %d again", again, err, first.ID)
	}
	rows, err := d.Outbox(RowPending, 0)
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, row := range rows {
		if row.Kind == DeliverKind(RouteSMS) {
			sent++
		}
	}
	if sent != 1 {
		t.Errorf("%d SMS rows for one remote reply, want 1", sent)
	}
	th, _ := d.Thread(r.Ticket)
	if len(th.Messages) != 2 {
		t.Errorf("thread has %d messages, want 2", len(th.Messages))
	}
	// Another target's reply with the same id is another reply.
	if m, err := d.Reply(context.Background(), Actor{Kind: ActorRemote, Name: "freshdesk"}, r.Ticket,
		Reply{Body: "Tracking: 1Z999", Remote: &RemoteRef{Target: "freshdesk", ID: "9001"}}); err != nil || m.ID == first.ID {
		t.Errorf("reply from another target = %+v, %v", m, err)
	}
}

func TestRemoteReplyDeliveredByTheHelpdesk(t *testing.T) {
	d := openDesk(t, Options{})
	r := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "mail-1", From: From{Email: "pilot@example.com"}, Body: "Where is my ESC?"})
	m, err := d.Reply(context.Background(), Actor{Kind: ActorRemote, Name: "hubspot"}, r.Ticket,
		Reply{Body: "Shipped today.", Remote: &RemoteRef{Target: "hubspot", ID: "email:77", Delivered: true}})
	if err != nil {
		t.Fatal(err)
	}
	if m.Channel != ChannelCloud || m.Delivery != DeliverySent || m.Direction != Outgoing {
		t.Errorf("delivered reply = %+v", m)
	}
	rows, _ := d.Outbox(RowPending, 0)
	for _, row := range rows {
		if strings.HasPrefix(row.Kind, "deliver.") {
			t.Errorf("a reply the helpdesk delivered was queued again: %+v", row)
		}
	}
	tk, _ := d.Get(r.Ticket)
	if tk.FirstResponseAt.IsZero() || tk.Status != StatusOpen {
		t.Errorf("after the helpdesk's reply: %+v", tk)
	}
}

func TestFindSource(t *testing.T) {
	d := openDesk(t, Options{})
	r := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "<abc@mail.example>", From: From{Email: "pilot@example.com"}, Body: "hello"})
	if n, err := d.FindSource(ChannelEmail, "<abc@mail.example>"); err != nil || n != r.Ticket {
		t.Errorf("FindSource = %d, %v; want %d", n, err, r.Ticket)
	}
	if _, err := d.FindSource(ChannelSMS, "<abc@mail.example>"); !errors.Is(err, ErrNotFound) {
		t.Errorf("FindSource on another channel = %v, want ErrNotFound", err)
	}
}

func TestAutomaticRequestsOnlyJoinTickets(t *testing.T) {
	ctx := context.Background()
	d := openDesk(t, Options{})
	before, _ := d.Count()
	// An out-of-office from someone with no ticket: nothing is stored,
	// not even the contact.
	_, err := d.Ingest(ctx, Inbound{Channel: ChannelEmail, SourceKey: "ooo-1", From: From{Email: "away@example.com"},
		Subject: "Out of office", Body: "I am away until Monday.", Automatic: true})
	if !errors.Is(err, ErrNoThread) {
		t.Fatalf("automatic request with no ticket: err = %v, want ErrNoThread", err)
	}
	if n, _ := d.Count(); n != before {
		t.Fatalf("tickets %d -> %d: an automatic request opened one", before, n)
	}
	if p, _ := d.List(Filter{Query: "away@example.com"}); len(p.Tickets) != 0 {
		t.Fatalf("the automatic request left a trace: %+v", p.Tickets)
	}

	// A customer's ticket, resolved: an out-of-office answering the
	// resolved notice joins it without reopening it.
	r := mustIngest(t, d, Inbound{Channel: ChannelEmail, SourceKey: "c-1", From: From{Email: "pilot@example.com"},
		Subject: "Servo jitter", Body: "My elevator servo jitters."})
	if _, err := d.SetStatus(ctx, Actor{Kind: ActorStaff, Name: "ana"}, r.Ticket, StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	ooo, err := d.Ingest(ctx, Inbound{Channel: ChannelEmail, SourceKey: "ooo-2", From: From{Email: "pilot@example.com"},
		Subject: "Automatic reply: Servo jitter", Body: "I am away.", Automatic: true})
	if err != nil || ooo.Ticket != r.Ticket || ooo.Created {
		t.Fatalf("automatic reply: %+v, %v; want it on #%d", ooo, err, r.Ticket)
	}
	tk, _ := d.Get(r.Ticket)
	if tk.Status != StatusResolved {
		t.Errorf("an automatic reply moved the ticket to %s", tk.Status)
	}
	c, _ := d.Contact(tk.ContactID)
	if len(c.Recent) != 1 {
		t.Errorf("an automatic reply counted as a repeat contact: %v", c.Recent)
	}
	// The ticket number in its subject still threads it, even from
	// another sender.
	bounce, err := d.Ingest(ctx, Inbound{Channel: ChannelEmail, SourceKey: "bounce-1", From: From{Email: "mailer-daemon@example.net"},
		Subject: "Undelivered Mail Returned to Sender", Body: "550 5.1.1 user unknown", Automatic: true, TicketNumber: r.Ticket})
	if err != nil || bounce.Ticket != r.Ticket {
		t.Fatalf("bounce quoting #%d: %+v, %v", r.Ticket, bounce, err)
	}
	// A closed ticket takes nothing automatic.
	if _, err := d.SetStatus(ctx, Actor{Kind: ActorStaff, Name: "ana"}, r.Ticket, StatusClosed, ""); err != nil {
		t.Fatal(err)
	}
	_, err = d.Ingest(ctx, Inbound{Channel: ChannelEmail, SourceKey: "bounce-2", From: From{Email: "mailer-daemon@example.net"},
		Subject: "Undelivered", Body: "550", Automatic: true, TicketNumber: r.Ticket})
	if !errors.Is(err, ErrNoThread) {
		t.Errorf("automatic request for a closed ticket: %v, want ErrNoThread", err)
	}
}

func TestEnqueueWithoutTicketIsIdempotent(t *testing.T) {
	d := openDesk(t, Options{})
	for range 2 {
		if err := d.Enqueue(Effect{Kind: "notify.digest", Key: "digest:2026-11-22", Payload: map[string]string{"day": "2026-11-22"}}); err != nil {
			t.Fatal(err)
		}
	}
	rows, err := d.Outbox(RowPending, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 1 || rows[0].Ticket != 0 || rows[0].Kind != "notify.digest" {
		t.Fatalf("rows = %+v, want one digest row of no ticket", rows)
	}
}
