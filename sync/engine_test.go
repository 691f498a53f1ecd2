package sync_test

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// memTarget is a helpdesk in memory that can be unreachable, lose the
// answers of requests it carried out, and refuse requests.
type memTarget struct {
	mu       stdsync.Mutex
	offline  bool
	lose     int    // the next n Create/Post take effect, then "no answer"
	refuse   string // subject of tickets whose Create is refused (422)
	tickets  map[string]*memTicket
	byExt    map[string]string
	creates  map[string]int // creates per box UUID
	seq      int
	changes  []sync.RemoteChange
	requests int
}

type memTicket struct {
	id, ext, status, priority string
	tags                      []string
	messages                  []sync.RemoteMessage
}

func newMemTarget() *memTarget {
	return &memTarget{tickets: map[string]*memTicket{}, byExt: map[string]string{}, creates: map[string]int{}}
}

var errNoAnswer = &sync.OfflineError{Op: "POST /mem", Err: errors.New("connection reset by peer")}

// gate counts a request and fails it when the target is offline.
func (m *memTarget) gate() error {
	m.requests++
	if m.offline {
		return errNoAnswer
	}
	return nil
}

// lost reports whether the request just carried out loses its answer.
func (m *memTarget) lost() bool {
	if m.lose > 0 {
		m.lose--
		return true
	}
	return false
}

func (m *memTarget) setOffline(v bool) { m.mu.Lock(); m.offline = v; m.mu.Unlock() }

func (m *memTarget) Probe(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.gate()
}

func (m *memTarget) Find(ctx context.Context, t *sync.Ticket) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.gate(); err != nil {
		return "", err
	}
	return m.byExt[t.UUID], nil
}

func (m *memTarget) Create(ctx context.Context, t *sync.Ticket, first *sync.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.gate(); err != nil {
		return "", err
	}
	if m.refuse != "" && t.Subject == m.refuse {
		return "", ticket.Permanent(&sync.HTTPError{Op: "POST /mem", Status: 422, Text: `{"error":"RecordInvalid","description":"Requester: Email is invalid"}`})
	}
	m.seq++
	id := strconv.Itoa(m.seq)
	m.tickets[id] = &memTicket{id: id, ext: t.UUID, status: string(t.Status), priority: string(t.Priority), tags: t.Tags,
		messages: []sync.RemoteMessage{{ID: id + "-0", Body: first.Text(), Public: true}}}
	m.byExt[t.UUID] = id
	m.creates[t.UUID]++
	if m.lost() {
		return "", errNoAnswer
	}
	return id, nil
}

func (m *memTarget) Post(ctx context.Context, id string, t *sync.Ticket, msg *sync.Message) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.gate(); err != nil {
		return "", err
	}
	tk := m.tickets[id]
	if tk == nil {
		return "", ticket.Permanent(&sync.HTTPError{Op: "PUT /mem/" + id, Status: 404})
	}
	mid := fmt.Sprintf("%s-%d", id, len(tk.messages))
	tk.messages = append(tk.messages, sync.RemoteMessage{ID: mid, Body: msg.Text(), Public: msg.Public()})
	if m.lost() {
		return "", errNoAnswer
	}
	return mid, nil
}

func (m *memTarget) Messages(ctx context.Context, id string) ([]sync.RemoteMessage, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.gate(); err != nil {
		return nil, err
	}
	return slices.Clone(m.tickets[id].messages), nil
}

func (m *memTarget) Update(ctx context.Context, id string, t *sync.Ticket) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.gate(); err != nil {
		return err
	}
	tk := m.tickets[id]
	tk.status, tk.priority, tk.tags = string(t.Status), string(t.Priority), t.Tags
	return nil
}

func (m *memTarget) Changes(ctx context.Context, cursor string) ([]sync.RemoteChange, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.gate(); err != nil {
		return nil, cursor, err
	}
	from, _ := strconv.Atoi(cursor)
	return slices.Clone(m.changes[from:]), strconv.Itoa(len(m.changes)), nil
}

func (m *memTarget) Link(id string) string { return "https://mem.example/tickets/" + id }

// agentReply makes the helpdesk's staff reply publicly and set a status.
func (m *memTarget) agentReply(id, body string, status ticket.Status) {
	m.mu.Lock()
	defer m.mu.Unlock()
	tk := m.tickets[id]
	rm := sync.RemoteMessage{ID: fmt.Sprintf("%s-%d", id, len(tk.messages)), Body: body, Public: true, Agent: true, Author: "Dana"}
	tk.messages = append(tk.messages, rm)
	m.changes = append(m.changes, sync.RemoteChange{ID: id, ExternalID: tk.ext, Status: status, Replies: []sync.RemoteMessage{rm}})
}

// check verifies that every box ticket has exactly one copy holding its
// messages in order, and returns the number of copies.
func (m *memTarget) check(t *testing.T, d *ticket.Desk) int {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for uuid, n := range m.creates {
		if n != 1 {
			t.Errorf("ticket %s created %d times", uuid, n)
		}
	}
	for _, tk := range m.tickets {
		n, err := d.FindUUID(tk.ext)
		if err != nil {
			t.Fatal(err)
		}
		th, err := d.Thread(n)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, msg := range th.Messages {
			if msg.Meta["remote"] == "" {
				want = append(want, (&sync.Message{Message: msg}).Text())
			}
		}
		var got []string
		for _, rm := range tk.messages {
			if !rm.Agent {
				got = append(got, rm.Body)
			}
		}
		if !slices.Equal(got, want) {
			t.Errorf("ticket %s: remote messages %q, want %q", th.Ticket.Ref(), got, want)
		}
		if tk.status != string(th.Ticket.Status) {
			t.Errorf("ticket %s: remote status %s, want %s", th.Ticket.Ref(), tk.status, th.Ticket.Status)
		}
	}
	return len(m.tickets)
}

const target = "helpdesk"

func openDesk(t testing.TB, dir string) *ticket.Desk {
	t.Helper()
	d, err := ticket.Open(dir, ticket.Options{
		Planners:     []ticket.Planner{sync.Planner([]string{target})},
		ThreadWindow: time.Nanosecond,
		Outbox:       ticket.OutboxOptions{MaxAttempts: 3, BackoffBase: 10 * time.Millisecond, BackoffMax: 50 * time.Millisecond},
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// start runs an engine for m on d until the returned stop is called.
func start(t testing.TB, d *ticket.Desk, m *memTarget, reg *health.Registry) (*sync.Engine, func()) {
	t.Helper()
	e, err := sync.New(d, []sync.Named{{Name: target, Type: "mem", Target: m, TwoWay: true}}, sync.Options{
		Parallel: 4, PollInterval: 20 * time.Millisecond, ProbeMin: 10 * time.Millisecond, ProbeMax: 50 * time.Millisecond, Health: reg,
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.Run(ctx); close(done) }()
	return e, func() { cancel(); <-done }
}

func ingest(t testing.TB, d *ticket.Desk, i int) ticket.Result {
	t.Helper()
	r, err := d.Ingest(context.Background(), ticket.Inbound{
		Channel: ticket.ChannelSMS, SourceKey: fmt.Sprint("sms-", i),
		From: ticket.From{Phone: fmt.Sprintf("+4477009%05d", i)}, Body: fmt.Sprintf("Is order %d shipped?", 1000+i),
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// waitFor polls cond for up to 30 s.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func drained(d *ticket.Desk) func() bool {
	return func() bool {
		n, _ := d.Pending(sync.Kind(target))
		return n == 0
	}
}

func TestCopiesTicketMessagesAndStatusInOrder(t *testing.T) {
	d := openDesk(t, t.TempDir())
	defer d.Close()
	m := newMemTarget()
	_, stop := start(t, d, m, nil)
	defer stop()
	ctx := context.Background()
	r := ingest(t, d, 1)
	if _, err := d.AddNote(ctx, ticket.Staff("ana"), r.Ticket, "Checked: it left on Monday."); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reply(ctx, ticket.Staff("ana"), r.Ticket, ticket.Reply{Body: "It left on Monday.", Status: ticket.StatusPending}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the copy", drained(d))
	if n := m.check(t, d); n != 1 {
		t.Fatalf("%d remote tickets, want 1", n)
	}
	m.mu.Lock()
	tk := m.tickets["1"]
	if len(tk.messages) != 3 || tk.messages[1].Public || !tk.messages[2].Public || tk.status != "pending" {
		t.Errorf("remote ticket = %+v", tk)
	}
	m.mu.Unlock()
	th, _ := d.Thread(r.Ticket)
	if th.Ticket.Remote[target] != "1" {
		t.Errorf("box ticket's remote = %v", th.Ticket.Remote)
	}
	if !slices.ContainsFunc(th.Events, func(e ticket.Event) bool { return e.Action == "sync" && e.After == target+":1" }) {
		t.Errorf("no sync event in %+v", th.Events)
	}
}

// Tickets queued while the helpdesk is unreachable all arrive, once each and
// in order, when it comes back, without using up their attempts; the same
// with the box stopped and restarted halfway through the drain.
func TestOfflineBacklogArrivesOnceInOrder(t *testing.T) {
	dir := t.TempDir()
	d := openDesk(t, dir)
	m := newMemTarget()
	m.offline = true
	reg := health.New()
	e, stop := start(t, d, m, reg)
	const tickets = 1000
	ctx := context.Background()
	for i := range tickets {
		r := ingest(t, d, i)
		if i%10 == 0 {
			if _, err := d.Reply(ctx, ticket.Staff("ana"), r.Ticket, ticket.Reply{Body: fmt.Sprintf("Order %d left today.", 1000+i), Status: ticket.StatusResolved}); err != nil {
				t.Fatal(err)
			}
		}
	}
	waitFor(t, "the target to be seen offline", func() bool { return reg.Snapshot()["sync "+target].State == health.Degraded })
	if s := reg.Snapshot()["sync "+target].Detail; !regexpMatch(`offline since .*, \d+ queued`, s) {
		t.Errorf("health detail = %q", s)
	}
	metrics := map[string]float64{}
	for _, mt := range e.Metrics() {
		metrics[mt.Name] = mt.Value
	}
	if metrics["counterdesk_sync_online"] != 0 || metrics["counterdesk_sync_queued"] < 1 || metrics["counterdesk_sync_offline_seconds"] <= 0 {
		t.Errorf("metrics while offline = %v", metrics)
	}
	if st := e.Status(); len(st) != 1 || st[0].State != sync.StateOffline || !regexpMatch("no answer", st[0].LastError) {
		t.Errorf("status while offline = %+v", st)
	}
	m.setOffline(false)
	// Stop the box after a part of the backlog went through, then start again.
	waitFor(t, "part of the backlog", func() bool { m.mu.Lock(); defer m.mu.Unlock(); return len(m.tickets) >= tickets/4 })
	stop()
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d = openDesk(t, dir)
	defer d.Close()
	_, stop = start(t, d, m, reg)
	defer stop()
	waitFor(t, "the backlog to drain", drained(d))
	if n := m.check(t, d); n != tickets {
		t.Fatalf("%d remote tickets, want %d", n, tickets)
	}
	if st, _ := d.OutboxStats(); st.Dead != 0 {
		t.Errorf("%d rows parked; an outage must not use up attempts", st.Dead)
	}
	if s := reg.Snapshot()["sync "+target]; s.State != health.OK {
		t.Errorf("health after the drain = %+v", s)
	}
}

// A request the helpdesk carried out whose answer was lost is not repeated:
// the ticket is found by its box id, the message by its text.
func TestLostAnswersMakeNoDuplicates(t *testing.T) {
	d := openDesk(t, t.TempDir())
	defer d.Close()
	m := newMemTarget()
	m.lose = 1 // the Create
	_, stop := start(t, d, m, nil)
	defer stop()
	r := ingest(t, d, 1)
	waitFor(t, "the copy", drained(d))
	m.mu.Lock()
	m.lose = 1 // the Post
	m.mu.Unlock()
	if _, err := d.AddNote(context.Background(), ticket.Staff("ana"), r.Ticket, "Courier called back."); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the note", drained(d))
	m.check(t, d)
}

// A ticket the helpdesk refuses is parked with the vendor's text; the
// others go on.
func TestRefusedTicketIsParkedWithVendorText(t *testing.T) {
	d := openDesk(t, t.TempDir())
	defer d.Close()
	m := newMemTarget()
	_, stop := start(t, d, m, nil)
	defer stop()
	r, err := d.Ingest(context.Background(), ticket.Inbound{Channel: ticket.ChannelWebForm, SourceKey: "form-1",
		From: ticket.From{Email: "pilot@example.com"}, Subject: "refuse me", Body: "hello"})
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.refuse = "refuse me"
	m.mu.Unlock()
	ingest(t, d, 2)
	waitFor(t, "the row to be parked", func() bool { st, _ := d.OutboxStats(); return st.Dead == 1 })
	dead, _ := d.Outbox(ticket.RowDead, 10)
	if len(dead) != 1 || dead[0].Ticket != r.Ticket || !regexpMatch(`422 .*Requester: Email is invalid`, dead[0].LastError) {
		t.Errorf("parked rows = %+v", dead)
	}
	waitFor(t, "the other ticket", func() bool { m.mu.Lock(); defer m.mu.Unlock(); return len(m.tickets) == 1 })
}

// A reply typed in the helpdesk reaches the customer as one SMS outbox row,
// and neither it nor the status change is copied back.
func TestHelpdeskReplyBecomesOneSMS(t *testing.T) {
	d := openDesk(t, t.TempDir())
	defer d.Close()
	m := newMemTarget()
	_, stop := start(t, d, m, nil)
	defer stop()
	r := ingest(t, d, 7)
	waitFor(t, "the copy", drained(d))
	m.agentReply("1", "Your order left today, tracking 1Z999AA10123456784.", ticket.StatusPending)
	waitFor(t, "the reply on the box", func() bool {
		tk, _ := d.Get(r.Ticket)
		return tk.Status == ticket.StatusPending
	})
	// Let a few more polls run: the reply must still be applied once.
	time.Sleep(100 * time.Millisecond)
	waitFor(t, "the copy", drained(d))
	rows, _ := d.Outbox(ticket.RowPending, 100)
	var sms []ticket.OutboxRow
	for _, row := range rows {
		if row.Kind == ticket.DeliverKind(ticket.RouteSMS) {
			sms = append(sms, row)
		}
	}
	if len(sms) != 1 || !regexpMatch(`"to":"\+447700900007".*tracking 1Z999AA10123456784`, string(sms[0].Payload)) {
		t.Fatalf("SMS rows = %+v", sms)
	}
	th, _ := d.Thread(r.Ticket)
	last := th.Messages[len(th.Messages)-1]
	if last.Direction != ticket.Outgoing || last.Author != target || last.Meta["remote"] != target {
		t.Errorf("reply on the box = %+v", last)
	}
	if !slices.ContainsFunc(th.Events, func(e ticket.Event) bool {
		return e.Action == "status" && e.After == "pending" && e.Actor == sync.Actor(target)
	}) {
		t.Errorf("status change not audited as coming from the target: %+v", th.Events)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if got := len(m.tickets["1"].messages); got != 2 {
		t.Errorf("remote ticket has %d messages, want 2 (the reply was copied back?)", got)
	}
}

func regexpMatch(pattern, s string) bool { return regexp.MustCompile(pattern).MatchString(s) }

// A helpdesk that has no "new" status reports a new ticket as open; the
// box's ticket stays new. Any other status from the helpdesk is applied.
func TestRemoteOpenLeavesNewTicketNew(t *testing.T) {
	d := openDesk(t, t.TempDir())
	defer d.Close()
	m := newMemTarget()
	_, stop := start(t, d, m, nil)
	defer stop()
	r := ingest(t, d, 3)
	waitFor(t, "the copy", drained(d))
	m.mu.Lock()
	m.changes = append(m.changes, sync.RemoteChange{ID: "1", Status: ticket.StatusOpen})
	m.mu.Unlock()
	time.Sleep(150 * time.Millisecond) // several polls
	if tk, _ := d.Get(r.Ticket); tk.Status != ticket.StatusNew {
		t.Fatalf("status %s after the helpdesk reported open for a new ticket", tk.Status)
	}
	m.mu.Lock()
	m.changes = append(m.changes, sync.RemoteChange{ID: "1", Status: ticket.StatusResolved})
	m.mu.Unlock()
	waitFor(t, "the resolution from the helpdesk", func() bool {
		tk, _ := d.Get(r.Ticket)
		return tk.Status == ticket.StatusResolved
	})
}
