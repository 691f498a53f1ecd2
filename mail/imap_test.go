package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/mail/mailtest"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/emersion/go-imap/v2"
)

// imapFake is a hand-written Ingester: it records what it is given,
// dedupes by source key like the Desk, and can fail or hold a call.
type imapFake struct {
	mu      stdsync.Mutex
	got     []ticket.Inbound
	calls   int
	fail    int           // the next calls that fail
	hold    chan struct{} // when set, Ingest waits for it to close
	entered chan string   // when set, told each source key on entry
	uuids   map[string]uint64
	sources map[string]uint64
	// noThread refuses an automatic mail that names no ticket, as the
	// Desk does when the contact has none either.
	noThread bool
}

var _ IMAPIngester = (*imapFake)(nil)

func (f *imapFake) Ingest(ctx context.Context, in ticket.Inbound) (ticket.Result, error) {
	f.mu.Lock()
	f.calls++
	entered, hold := f.entered, f.hold
	f.mu.Unlock()
	if entered != nil {
		entered <- in.SourceKey
	}
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ticket.Result{}, ctx.Err()
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail > 0 {
		f.fail--
		return ticket.Result{}, errors.New("disk I/O error")
	}
	number := func(i int) uint64 {
		if n := f.got[i].TicketNumber; n != 0 {
			return n
		}
		return uint64(1001 + i)
	}
	for i, g := range f.got {
		if g.SourceKey == in.SourceKey {
			return ticket.Result{Ticket: number(i), Duplicate: true}, nil
		}
	}
	if f.noThread && in.Automatic && in.TicketNumber == 0 {
		return ticket.Result{}, fmt.Errorf("ingest email %q: %w", in.SourceKey, ticket.ErrNoThread)
	}
	f.got = append(f.got, in)
	return ticket.Result{Ticket: number(len(f.got) - 1), Created: in.TicketNumber == 0}, nil
}

func (f *imapFake) FindUUID(uuid string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.uuids[uuid]; ok {
		return n, nil
	}
	return 0, ticket.ErrNotFound
}

func (f *imapFake) FindSource(ch ticket.Channel, key string) (uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.sources[string(ch)+":"+key]; ok {
		return n, nil
	}
	return 0, ticket.ErrNotFound
}

func (f *imapFake) inbounds() []ticket.Inbound {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.got)
}

// imapLog is a log the tests read back.
type imapLog struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (l *imapLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *imapLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// imapOptions are options for a receiver of the test server's INBOX.
func imapOptions(d *mailtest.Dovecot, ing IMAPIngester, log *imapLog) IMAPOptions {
	return IMAPOptions{
		Server: d.Addr, TLS: IMAPNoTLS, Username: d.User, Password: d.Pass,
		PollInterval: time.Hour, MaxAttachmentBytes: imapTestLimits.attBytes, MaxAttachments: imapTestLimits.atts,
		RetryMin: 100 * time.Millisecond, RetryMax: time.Second, DialTimeout: 5 * time.Second,
		Logger: slog.New(slog.NewTextHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Health: health.New(), Ingester: ing,
	}
}

// imapRun runs a receiver until the test ends or stop is called.
func imapRun(t *testing.T, opts IMAPOptions) (stop func()) {
	t.Helper()
	_, stop = imapStart(t, opts)
	return stop
}

// imapStart runs a receiver until the test ends or stop is called, and
// returns it.
func imapStart(t *testing.T, opts IMAPOptions) (r *IMAPReceiver, stop func()) {
	t.Helper()
	r, err := NewIMAPReceiver(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	var once stdsync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Run: %v", err)
				}
			case <-time.After(10 * time.Second):
				t.Error("Run did not return after its context ended")
			}
		})
	}
	t.Cleanup(stop)
	return r, stop
}

// imapMetric is the value of one of the receiver's metrics.
func imapMetric(t *testing.T, r *IMAPReceiver, name string) float64 {
	t.Helper()
	for _, m := range r.metrics() {
		if m.Name == name {
			return m.Value
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// imapWait polls cond until it holds or the time is up.
func imapWait(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func imapHealth(opts IMAPOptions) health.Status {
	return opts.Health.Snapshot()[IMAPHealthName]
}

var imapFixtureOrder = []string{
	"plain-utf8.eml", "windows1252-qp.eml", "turkish-iso88599.eml", "html-newsletter.eml", "photo-attachment.eml",
	"reply-in-reply-to.eml", "auto-reply.eml", "oversized-attachment.eml", "broken-mime.eml",
}

// Every fixture, delivered to a real dovecot, becomes the expected
// Inbound, in delivery order, and is \Seen afterwards.
func TestIMAPReceiveFixtures(t *testing.T) {
	d := mailtest.StartDovecot(t)
	for _, name := range imapFixtureOrder {
		d.Deliver(t, "INBOX", imapFixture(t, name))
	}
	fake := &imapFake{}
	log := &imapLog{}
	opts := imapOptions(d, fake, log)
	imapRun(t, opts)
	imapWait(t, 20*time.Second, "all fixtures taken in", func() bool { return len(fake.inbounds()) == len(imapFixtureOrder) })
	got := fake.inbounds()
	for i, name := range imapFixtureOrder {
		imapCheck(t, name, got[i], nil, imapWants[name])
		if want := slices.Contains(imapWants[name].flags, IMAPFlagAutoReply); got[i].Automatic != want {
			t.Errorf("%s: Automatic %v, want %v", name, got[i].Automatic, want)
		}
	}
	// The auto-reply's In-Reply-To is unknown to the fake, so the
	// subject's [#1051] is used.
	if n := got[6].TicketNumber; n != 1051 {
		t.Errorf("auto-reply: ticket number %d, want 1051 from the subject", n)
	}
	imapWait(t, 5*time.Second, "all mails seen", func() bool {
		for _, m := range d.Mails(t, "INBOX") {
			if !m.Seen {
				return false
			}
		}
		return true
	})
	if h := imapHealth(opts); h.State != health.OK || !strings.Contains(h.Detail, "IDLE") {
		t.Errorf("health %+v", h)
	}
	if strings.Contains(log.String(), d.Pass) {
		t.Error("the password is in the log")
	}
}

// A mail is \Seen only after Ingest returned; an Ingest that fails leaves
// it unseen, and the next pass takes it in.
func TestIMAPSeenOnlyAfterIngest(t *testing.T) {
	d := mailtest.StartDovecot(t)
	uid := d.Deliver(t, "INBOX", imapFixture(t, "plain-utf8.eml"))
	hold := make(chan struct{})
	fake := &imapFake{hold: hold, entered: make(chan string, 10), fail: 1}
	opts := imapOptions(d, fake, &imapLog{})
	imapRun(t, opts)

	select {
	case <-fake.entered:
	case <-time.After(20 * time.Second):
		t.Fatal("Ingest was not called")
	}
	time.Sleep(300 * time.Millisecond)
	if d.Seen(t, "INBOX", uid) {
		t.Fatal("the mail is seen while Ingest has not returned")
	}
	// The first Ingest fails: the mail must stay unseen.
	fake.mu.Lock()
	fake.hold = nil
	fake.mu.Unlock()
	close(hold)
	select {
	case <-fake.entered: // the next pass, after the backoff
	case <-time.After(10 * time.Second):
		t.Fatal("the mail was not taken in again after Ingest failed")
	}
	imapWait(t, 10*time.Second, "mail seen after Ingest succeeded", func() bool { return d.Seen(t, "INBOX", uid) })
	if got := fake.inbounds(); len(got) != 1 || got[0].SourceKey != imapWants["plain-utf8.eml"].key {
		t.Fatalf("stored %d mails", len(got))
	}
	fake.mu.Lock()
	calls := fake.calls
	fake.mu.Unlock()
	if calls != 2 {
		t.Errorf("Ingest called %d times, want 2 (one failed)", calls)
	}
}

// imapCrash stores through the Desk and then fails as if the process
// died before it could mark the mail \Seen.
type imapCrash struct {
	*ticket.Desk
	stored chan ticket.Result
}

func (c *imapCrash) Ingest(ctx context.Context, in ticket.Inbound) (ticket.Result, error) {
	res, err := c.Desk.Ingest(ctx, in)
	if err != nil {
		return res, err
	}
	c.stored <- res
	return res, errors.New("crash after the commit")
}

// A crash between Ingest and \Seen takes the mail in again on restart,
// and the Desk keeps one message.
func TestIMAPRestartNoDuplicate(t *testing.T) {
	d := mailtest.StartDovecot(t)
	uid := d.Deliver(t, "INBOX", imapFixture(t, "photo-attachment.eml"))
	desk, err := ticket.Open(t.TempDir(), ticket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })

	crash := &imapCrash{Desk: desk, stored: make(chan ticket.Result, 10)}
	opts := imapOptions(d, crash, &imapLog{})
	opts.RetryMin = time.Hour // the "crashed" receiver does not come back
	stop := imapRun(t, opts)
	var first ticket.Result
	select {
	case first = <-crash.stored:
	case <-time.After(20 * time.Second):
		t.Fatal("nothing stored")
	}
	stop()
	if d.Seen(t, "INBOX", uid) {
		t.Fatal("the mail is seen although the receiver crashed before acknowledging it")
	}

	log := &imapLog{}
	opts = imapOptions(d, desk, log)
	imapRun(t, opts)
	imapWait(t, 20*time.Second, "mail seen after restart", func() bool { return d.Seen(t, "INBOX", uid) })
	if !strings.Contains(log.String(), "duplicate=true") {
		t.Errorf("the restart did not see a duplicate:\n%s", log)
	}
	th, err := desk.Thread(first.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if len(th.Messages) != 1 {
		t.Fatalf("ticket has %d messages, want 1", len(th.Messages))
	}
	if n, _ := desk.Count(); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
	if m := th.Messages[0]; len(m.Attachments) != 1 || m.Attachments[0].Name != "IMG_20240517_141502.jpg" {
		t.Errorf("attachments %+v", m.Attachments)
	}
}

// With IDLE a new mail arrives within seconds, although the poll interval
// is an hour.
func TestIMAPIdle(t *testing.T) {
	d := mailtest.StartDovecot(t)
	fake := &imapFake{}
	opts := imapOptions(d, fake, &imapLog{})
	imapRun(t, opts)
	imapWait(t, 20*time.Second, "connected", func() bool { return imapHealth(opts).State == health.OK })
	time.Sleep(200 * time.Millisecond) // into IDLE
	start := time.Now()
	d.Deliver(t, "INBOX", imapFixture(t, "turkish-iso88599.eml"))
	imapWait(t, 5*time.Second, "mail delivered by IDLE", func() bool { return len(fake.inbounds()) == 1 })
	t.Logf("IDLE delivered the mail in %s", time.Since(start).Round(time.Millisecond))
	d.Deliver(t, "INBOX", imapFixture(t, "windows1252-qp.eml"))
	imapWait(t, 5*time.Second, "second mail delivered by IDLE", func() bool { return len(fake.inbounds()) == 2 })
}

// Without IDLE the receiver polls.
func TestIMAPPoll(t *testing.T) {
	d := mailtest.StartDovecot(t)
	fake := &imapFake{}
	opts := imapOptions(d, fake, &imapLog{})
	opts.NoIdle, opts.PollInterval = true, 200*time.Millisecond
	imapRun(t, opts)
	imapWait(t, 20*time.Second, "connected", func() bool { return imapHealth(opts).State == health.OK })
	if h := imapHealth(opts); !strings.Contains(h.Detail, "checking every 200ms") {
		t.Errorf("health %+v", h)
	}
	d.Deliver(t, "INBOX", imapFixture(t, "plain-utf8.eml"))
	imapWait(t, 5*time.Second, "mail delivered by polling", func() bool { return len(fake.inbounds()) == 1 })
}

// With a processed folder, taken-in mails move there, seen; a mail a
// person already read in the mailbox is taken in too.
func TestIMAPProcessedFolder(t *testing.T) {
	d := mailtest.StartDovecot(t)
	d.Deliver(t, "INBOX", imapFixture(t, "plain-utf8.eml"))
	d.Deliver(t, "INBOX", imapFixture(t, "auto-reply.eml"), imap.FlagSeen)
	fake := &imapFake{}
	opts := imapOptions(d, fake, &imapLog{})
	opts.ProcessedFolder = "Processed"
	imapRun(t, opts)
	imapWait(t, 20*time.Second, "both taken in", func() bool { return len(fake.inbounds()) == 2 })
	imapWait(t, 5*time.Second, "inbox empty", func() bool { return len(d.Mails(t, "INBOX")) == 0 })
	moved := d.Mails(t, "Processed")
	if len(moved) != 2 || !moved[0].Seen || !moved[1].Seen {
		t.Fatalf("processed folder: %+v", moved)
	}
	d.Deliver(t, "INBOX", imapFixture(t, "turkish-iso88599.eml"))
	imapWait(t, 5*time.Second, "new mail moved", func() bool { return len(d.Mails(t, "Processed")) == 3 })
}

// The wrong password: the state is down with a sentence for the staff,
// the password is nowhere, and the receiver does not hammer the server.
func TestIMAPWrongPassword(t *testing.T) {
	d := mailtest.StartDovecot(t)
	log := &imapLog{}
	opts := imapOptions(d, &imapFake{}, log)
	opts.Password = "Wr0ng-Passw0rd-42"
	opts.LoginRetry = time.Hour
	r, err := NewIMAPReceiver(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	imapWait(t, 20*time.Second, "down", func() bool { return imapHealth(opts).State == health.Down })
	time.Sleep(time.Second)
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run: %v", err)
	}
	h := imapHealth(opts)
	if !strings.HasPrefix(h.Detail, "the server refused the login") {
		t.Errorf("detail %q", h.Detail)
	}
	if n := r.failures.Load(); n != 1 {
		t.Errorf("%d failed logins in a second, want 1 (retried slowly)", n)
	}
	var metrics []string
	for _, m := range r.metrics() {
		metrics = append(metrics, fmt.Sprint(m))
	}
	for where, text := range map[string]string{
		"log": log.String(), "detail": h.Detail, "last error": h.LastError, "metrics": strings.Join(metrics, " "),
	} {
		for _, secret := range []string{opts.Password, d.Pass} {
			if strings.Contains(text, secret) {
				t.Errorf("the password is in the %s: %s", where, text)
			}
		}
	}
	if !strings.Contains(log.String(), "the server refused the login") {
		t.Errorf("log:\n%s", log)
	}
}

// A server that is not there: degraded first, down after a few tries.
func TestIMAPUnreachable(t *testing.T) {
	port := mailtest.FreePort(t)
	fake := &imapFake{}
	opts := IMAPOptions{
		Server: fmt.Sprintf("127.0.0.1:%d", port), TLS: IMAPNoTLS, Username: "desk", Password: "pw-Not-Logged",
		RetryMin: 10 * time.Millisecond, RetryMax: 20 * time.Millisecond, Health: health.New(), Ingester: fake,
	}
	imapRun(t, opts)
	imapWait(t, 5*time.Second, "degraded", func() bool { return imapHealth(opts).State == health.Degraded })
	imapWait(t, 5*time.Second, "down", func() bool { return imapHealth(opts).State == health.Down })
	if h := imapHealth(opts); !strings.Contains(h.Detail, "is not coming in") || strings.Contains(h.Detail, "pw-Not-Logged") {
		t.Errorf("detail %q", h.Detail)
	}
}

func TestIMAPOptionsValidate(t *testing.T) {
	ok := IMAPOptions{Server: "imap.example.com:993", Username: "u", Password: "p", Ingester: &imapFake{}}
	if _, err := NewIMAPReceiver(ok); err != nil {
		t.Fatal(err)
	}
	for name, change := range map[string]func(*IMAPOptions){
		"server":    func(o *IMAPOptions) { o.Server = "imap.example.com" },
		"tls":       func(o *IMAPOptions) { o.TLS = "ssl" },
		"auth":      func(o *IMAPOptions) { o.Auth = "cram-md5" },
		"password":  func(o *IMAPOptions) { o.Password = "" },
		"token":     func(o *IMAPOptions) { o.Auth, o.AccessToken = IMAPAuthXOAuth2, "" },
		"username":  func(o *IMAPOptions) { o.Username = "" },
		"ingester":  func(o *IMAPOptions) { o.Ingester = nil },
		"processed": func(o *IMAPOptions) { o.ProcessedFolder = "inbox" },
	} {
		o := ok
		change(&o)
		if _, err := NewIMAPReceiver(o); !errors.Is(err, ErrIMAPConfig) {
			t.Errorf("%s: error %v", name, err)
		}
	}
}

func TestIMAPXOAuth2(t *testing.T) {
	a := &imapXOAuth2{user: "shop@example.com", token: "ya29.token"}
	mech, ir, err := a.Start()
	if err != nil || mech != "XOAUTH2" || string(ir) != "user=shop@example.com\x01auth=Bearer ya29.token\x01\x01" {
		t.Errorf("Start = %q, %q, %v", mech, ir, err)
	}
	if resp, err := a.Next([]byte(`{"status":"401"}`)); err != nil || len(resp) != 0 {
		t.Errorf("Next = %q, %v", resp, err)
	}
}

// End to end with a real Desk: replies thread by the box's Message-ID in
// In-Reply-To, by a customer's Message-ID in References, and by the
// subject's [#NNNN]; an unrelated mail opens a new ticket; an automatic
// mail that threads nowhere opens none.
func TestIMAPThreadingDesk(t *testing.T) {
	d := mailtest.StartDovecot(t)
	desk, err := ticket.Open(t.TempDir(), ticket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	log := &imapLog{}
	opts := imapOptions(d, desk, log)
	r, _ := imapStart(t, opts)

	take := func(raw []byte) ticket.Message {
		t.Helper()
		uid := d.Deliver(t, "INBOX", raw)
		imapWait(t, 20*time.Second, "mail taken in", func() bool { return d.Seen(t, "INBOX", uid) })
		p := imapParse(raw, imapTestLimits)
		n, err := desk.FindSource(ticket.ChannelEmail, p.in.SourceKey)
		if err != nil {
			t.Fatalf("%s: %v", p.in.SourceKey, err)
		}
		th, err := desk.Thread(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range th.Messages {
			if m.SourceKey == p.in.SourceKey {
				return m
			}
		}
		t.Fatalf("message %s not in ticket %d", p.in.SourceKey, n)
		return ticket.Message{}
	}
	a := take(imapFixture(t, "plain-utf8.eml"))
	b := take(imapFixture(t, "windows1252-qp.eml"))
	if a.Ticket == b.Ticket {
		t.Fatal("two customers share a ticket")
	}
	if a.Meta["message_id"] != a.SourceKey || a.Subject != imapWants["plain-utf8.eml"].subject {
		t.Errorf("stored message %+v", a)
	}
	ta, _ := desk.Get(a.Ticket)
	tb, _ := desk.Get(b.Ticket)

	// The reply quotes the box's Message-ID of ticket A, comes from
	// another address (so contact threading cannot find A), and names
	// ticket B in its subject: the Message-ID wins.
	reply := string(imapFixture(t, "reply-in-reply-to.eml"))
	reply = strings.ReplaceAll(reply, "3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21", ta.UUID)
	reply = strings.ReplaceAll(reply, "[#1042]", fmt.Sprintf("[#%d]", tb.Number))
	reply = strings.ReplaceAll(reply, "<jonas.becker@example.de>", "<jonas@other.example>")
	if m := take([]byte(reply)); m.Ticket != a.Ticket {
		t.Errorf("reply by In-Reply-To went to ticket %d, want %d", m.Ticket, a.Ticket)
	}

	// A colleague of B's customer answers in B's thread: References
	// holds B's customer's Message-ID, which the box took in.
	ref := "From: Anna Weiss <anna@example.net>\r\nTo: service@modellbau-hartmann.example\r\n" +
		"Subject: AW: Reklamation Motor\r\nDate: Tue, 14 May 2024 08:00:00 +0200\r\n" +
		"Message-ID: <anna.1@example.net>\r\nReferences: <" + b.SourceKey + ">\r\n" +
		"Content-Type: text/plain; charset=utf-8\r\n\r\nDer Motor ist heute angekommen.\r\n"
	if m := take([]byte(ref)); m.Ticket != b.Ticket {
		t.Errorf("reply by References went to ticket %d, want %d", m.Ticket, b.Ticket)
	}

	// Someone quotes ticket A's number in the subject only.
	subj := fmt.Sprintf("From: Werkstatt <werkstatt@example.com>\r\nSubject: Re: Ersatzteil [#%d]\r\n"+
		"Message-ID: <ws.1@example.com>\r\nDate: Tue, 14 May 2024 08:00:00 +0200\r\n\r\nTeil ist unterwegs.\r\n", ta.Number)
	if m := take([]byte(subj)); m.Ticket != a.Ticket {
		t.Errorf("reply by subject ref went to ticket %d, want %d", m.Ticket, a.Ticket)
	}

	// The auto-reply of a stranger quotes a box Message-ID of no ticket
	// here and a number that does not exist: it opens nothing, is
	// marked seen all the same, and is counted as ignored.
	raw := imapFixture(t, "auto-reply.eml")
	uid := d.Deliver(t, "INBOX", raw)
	imapWait(t, 20*time.Second, "auto-reply seen", func() bool { return d.Seen(t, "INBOX", uid) })
	if n, err := desk.FindSource(ticket.ChannelEmail, imapWants["auto-reply.eml"].key); !errors.Is(err, ticket.ErrNotFound) {
		t.Errorf("the auto-reply was stored on ticket %d (%v)", n, err)
	}
	if n := imapMetric(t, r, "counterdesk_mail_ignored_total"); n != 1 {
		t.Errorf("ignored %v, want 1", n)
	}
	if n := imapMetric(t, r, "counterdesk_mail_received_total"); n != 5 {
		t.Errorf("received %v, want 5", n)
	}
	if !strings.Contains(log.String(), "ignored an automatic mail that answers no ticket") ||
		!strings.Contains(log.String(), "reason=auto-replied") {
		t.Errorf("log lacks the ignored auto-reply:\n%s", log)
	}

	// A's customer is away too: the out-of-office joins A by the contact
	// and leaves it resolved.
	if _, err := desk.SetStatus(context.Background(), ticket.Staff("anna"), a.Ticket, ticket.StatusResolved, "done"); err != nil {
		t.Fatal(err)
	}
	away := strings.ReplaceAll(string(raw), "Peter Keller <p.keller@example.ch>", "Jonas Bäcker <jonas.becker@example.de>")
	away = strings.ReplaceAll(away, "autoreply.1716098402.22@mail.example.ch", "autoreply.2@example.de")
	auto := take([]byte(away))
	if auto.Ticket != a.Ticket || !slices.Contains(auto.Flags, IMAPFlagAutoReply) || auto.Meta["auto_submitted"] != "auto-replied" {
		t.Errorf("out-of-office on ticket %d (want %d), flags %q meta %v", auto.Ticket, a.Ticket, auto.Flags, auto.Meta)
	}
	if tk, _ := desk.Get(a.Ticket); tk.Status != ticket.StatusResolved {
		t.Errorf("the out-of-office moved ticket A to %s", tk.Status)
	}

	thA, _ := desk.Thread(a.Ticket)
	thB, _ := desk.Thread(b.Ticket)
	if len(thA.Messages) != 4 || len(thB.Messages) != 2 {
		t.Errorf("ticket A has %d messages (want 4), B has %d (want 2)", len(thA.Messages), len(thB.Messages))
	}
	if n, _ := desk.Count(); n != 2 {
		t.Errorf("%d tickets, want 2", n)
	}
}

// A mail over the mail size limit is taken in with the start of its text,
// flagged, and acknowledged; the whole mail stays on the server.
func TestIMAPMailTooLarge(t *testing.T) {
	d := mailtest.StartDovecot(t)
	uid := d.Deliver(t, "INBOX", imapFixture(t, "oversized-attachment.eml"))
	fake := &imapFake{}
	opts := imapOptions(d, fake, &imapLog{})
	opts.MaxMailBytes = 8 << 10
	opts.MaxAttachmentBytes = 1 << 20
	imapRun(t, opts)
	imapWait(t, 20*time.Second, "taken in", func() bool { return len(fake.inbounds()) == 1 })
	in := fake.inbounds()[0]
	if !slices.Equal(in.Flags, []string{IMAPFlagTooLarge}) || len(in.Attachments) != 0 ||
		!strings.Contains(in.Body, "welke servo ik nodig heb?") || !strings.Contains(in.Body, "over the limit of 8.0 KB") {
		t.Errorf("flags %q, %d attachments, body:\n%s", in.Flags, len(in.Attachments), in.Body)
	}
	if in.SourceKey != imapWants["oversized-attachment.eml"].key {
		t.Errorf("source key %q", in.SourceKey)
	}
	imapWait(t, 5*time.Second, "seen", func() bool { return d.Seen(t, "INBOX", uid) })
}

// Implicit TLS and STARTTLS against the real server, with its
// certificate checked.
func TestIMAPTLS(t *testing.T) {
	d := mailtest.StartDovecot(t)
	for _, mode := range []string{IMAPTLS, IMAPStartTLS} {
		t.Run(mode, func(t *testing.T) {
			fake := &imapFake{}
			opts := imapOptions(d, fake, &imapLog{})
			opts.TLS, opts.TLSConfig = mode, &tls.Config{RootCAs: d.Roots, ServerName: "127.0.0.1"}
			if mode == IMAPTLS {
				opts.Server = d.TLSAddr
			}
			stop := imapRun(t, opts)
			imapWait(t, 20*time.Second, "connected over "+mode, func() bool { return imapHealth(opts).State == health.OK })
			stop()
		})
	}
	// A certificate nobody vouches for is refused.
	opts := imapOptions(d, &imapFake{}, &imapLog{})
	opts.TLS, opts.Server = IMAPTLS, d.TLSAddr
	imapRun(t, opts)
	imapWait(t, 20*time.Second, "refused", func() bool {
		h := imapHealth(opts)
		return h.State != health.OK && strings.Contains(h.Detail, "certificate")
	})
}

// imapBounceCall is one call of IMAPOptions.Bounced.
type imapBounceCall struct {
	ticket, message uint64
	detail          string
}

// imapBounceRecorder records the calls of IMAPOptions.Bounced, fails
// those for the tickets in fail, and records the others on the Desk as
// the appliance does.
type imapBounceRecorder struct {
	desk  *ticket.Desk
	fail  map[uint64]bool
	mu    stdsync.Mutex
	calls []imapBounceCall
}

func (b *imapBounceRecorder) bounced(ctx context.Context, n, id uint64, detail string) error {
	b.mu.Lock()
	b.calls = append(b.calls, imapBounceCall{n, id, detail})
	b.mu.Unlock()
	if b.fail[n] {
		return errors.New("the desk is busy")
	}
	return b.desk.SetDelivery(ctx, ticket.Actor{Kind: ticket.ActorChannel, Name: "email"}, n, id, ticket.DeliveryFailed, detail)
}

func (b *imapBounceRecorder) got() []imapBounceCall {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// imapReplyTo stores a customer's mail and a staff reply to it on desk,
// as if the customer had written and staff answered and asked to wait,
// and returns the ticket, the reply, and the reply's Message-ID.
func imapReplyTo(t *testing.T, desk *ticket.Desk, fixture string) (ticket.Result, ticket.Message, string) {
	t.Helper()
	ctx := context.Background()
	p := imapParse(imapFixture(t, fixture), imapTestLimits)
	res, err := desk.Ingest(ctx, p.in)
	if err != nil {
		t.Fatalf("%s: %v", fixture, err)
	}
	msg, err := desk.Reply(ctx, ticket.Staff("anna"), res.Ticket, ticket.Reply{Body: "Danke, wir kümmern uns darum.", Status: ticket.StatusPending})
	if err != nil {
		t.Fatal(err)
	}
	return res, msg, SMTPMessageID(res.UUID, msg.ID, "modellbau-hartmann.example")
}

// imapWithID is a fixture with its returned mail's Message-ID replaced.
func imapWithID(t *testing.T, fixture, id string) []byte {
	t.Helper()
	raw := string(imapFixture(t, fixture))
	old := imapBounceWants[fixture].original
	if !strings.Contains(raw, old) {
		t.Fatalf("%s does not hold %s", fixture, old)
	}
	return []byte(strings.ReplaceAll(raw, old, id))
}

// Bounces of the box's own mails, against a real Desk: a delayed DSN and
// then the failure join the reply's ticket without reopening it, and the
// failure, only it, calls Bounced with the ticket and the reply; a
// Bounced that fails is logged, and the mail is taken in all the same; a
// bounce of a mail nobody here knows opens nothing.
func TestIMAPBounced(t *testing.T) {
	d := mailtest.StartDovecot(t)
	desk, err := ticket.Open(t.TempDir(), ticket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	jonas, jonasReply, jonasID := imapReplyTo(t, desk, "plain-utf8.eml")
	ibrahim, ibrahimReply, ibrahimID := imapReplyTo(t, desk, "turkish-iso88599.eml")

	var uids []imap.UID
	for _, raw := range [][]byte{
		imapWithID(t, "bounce-delayed-dsn.eml", jonasID),
		imapWithID(t, "bounce-postfix-dsn.eml", jonasID),
		imapWithID(t, "bounce-qmail.eml", ibrahimID),
		imapFixture(t, "bounce-exchange-ndr.eml"), // of a ticket not here
	} {
		uids = append(uids, d.Deliver(t, "INBOX", raw))
	}
	rec := &imapBounceRecorder{desk: desk, fail: map[uint64]bool{ibrahim.Ticket: true}}
	log := &imapLog{}
	opts := imapOptions(d, desk, log)
	opts.Bounced = rec.bounced
	r, _ := imapStart(t, opts)
	imapWait(t, 20*time.Second, "all bounces seen", func() bool {
		for _, uid := range uids {
			if !d.Seen(t, "INBOX", uid) {
				return false
			}
		}
		return true
	})

	want := []imapBounceCall{
		{jonas.Ticket, jonasReply.ID, imapBounceWants["bounce-postfix-dsn.eml"].detail},
		{ibrahim.Ticket, ibrahimReply.ID, imapBounceWants["bounce-qmail.eml"].detail},
	}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("Bounced calls\n got %+v\nwant %+v", got, want)
	}
	delivery := func(n, id uint64) string {
		th, err := desk.Thread(n)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range th.Messages {
			if m.ID == id {
				return m.Delivery
			}
		}
		t.Fatalf("message %d not on ticket %d", id, n)
		return ""
	}
	if got := delivery(jonas.Ticket, jonasReply.ID); got != ticket.DeliveryFailed {
		t.Errorf("Jonas's reply: delivery %q, want failed", got)
	}
	if got := delivery(ibrahim.Ticket, ibrahimReply.ID); got == ticket.DeliveryFailed {
		t.Errorf("İbrahim's reply: delivery %q although Bounced failed", got)
	}
	if !strings.Contains(log.String(), "could not mark the bounced mail failed") || !strings.Contains(log.String(), "the desk is busy") {
		t.Errorf("the failed Bounced is not logged:\n%s", log)
	}

	for n, wantFixtures := range map[uint64][]string{
		jonas.Ticket:   {"bounce-delayed-dsn.eml", "bounce-postfix-dsn.eml"},
		ibrahim.Ticket: {"bounce-qmail.eml"},
	} {
		th, err := desk.Thread(n)
		if err != nil {
			t.Fatal(err)
		}
		if th.Ticket.Status != ticket.StatusPending {
			t.Errorf("ticket %d: status %s, want pending (a bounce does not reopen)", n, th.Ticket.Status)
		}
		var bounces []ticket.Message
		for _, m := range th.Messages {
			if slices.Contains(m.Flags, IMAPFlagBounce) {
				bounces = append(bounces, m)
			}
		}
		if len(bounces) != len(wantFixtures) {
			t.Fatalf("ticket %d has %d bounces, want %d", n, len(bounces), len(wantFixtures))
		}
		for _, name := range wantFixtures {
			w := imapBounceWants[name]
			i := slices.IndexFunc(bounces, func(m ticket.Message) bool {
				return m.Meta["bounce_status"] == w.status && m.Meta["bounce_recipient"] == w.recipient && m.Meta["bounce_action"] == w.action
			})
			if i < 0 || !slices.Contains(bounces[i].Flags, IMAPFlagAutoReply) {
				t.Errorf("ticket %d: no bounce like %s among %+v", n, name, bounces)
			}
		}
	}
	if n, _ := desk.Count(); n != 2 {
		t.Errorf("%d tickets, want 2: the unknown bounce opened one", n)
	}
	if n := imapMetric(t, r, "counterdesk_mail_ignored_total"); n != 1 {
		t.Errorf("ignored %v, want 1", n)
	}
}
