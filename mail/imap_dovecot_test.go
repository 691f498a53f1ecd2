package mail

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/mail/mailtest"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/emersion/go-imap/v2"
)

// imapCrashOn stores through the Desk and, for the mail whose source key
// is key, fails after the commit as if the process died before it could
// acknowledge the mail (or tell anyone of a bounce).
type imapCrashOn struct {
	*ticket.Desk
	key     string
	crashed chan ticket.Result
}

func (c *imapCrashOn) Ingest(ctx context.Context, in ticket.Inbound) (ticket.Result, error) {
	res, err := c.Desk.Ingest(ctx, in)
	if err != nil || in.SourceKey != c.key {
		return res, err
	}
	c.crashed <- res
	return res, fmt.Errorf("killed after storing %s", in.SourceKey)
}

// The support mailbox of a real dovecot, as the proof describes
// it: two customers write; staff answer both; then the first customer's
// reply to the box's mail, a bounce of the box's mail to the second, and
// an out-of-office from a stranger arrive. The fetcher is killed after
// it stored the bounce and before it acknowledged it, and restarted.
// Each mail lands as expected: the reply on the first ticket, the bounce
// on the second (which stays waiting, with the staff reply marked
// failed), the out-of-office nowhere; and nothing is stored twice.
func TestIMAPDovecotMailbox(t *testing.T) {
	d := mailtest.StartDovecot(t)
	desk, err := ticket.Open(t.TempDir(), ticket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	ctx := context.Background()
	const domain = "modellbau-hartmann.example"
	bounceKey := imapWants["bounce-postfix-dsn.eml"].key

	first := []imap.UID{
		d.Deliver(t, "INBOX", imapFixture(t, "plain-utf8.eml")),
		d.Deliver(t, "INBOX", imapFixture(t, "windows1252-qp.eml")),
	}
	crash := &imapCrashOn{Desk: desk, key: bounceKey, crashed: make(chan ticket.Result, 1)}
	rec := &imapBounceRecorder{desk: desk}
	opts := imapOptions(d, crash, &imapLog{})
	opts.Bounced = rec.bounced
	opts.RetryMin = time.Hour // the killed fetcher does not come back
	stop := imapRun(t, opts)
	imapWait(t, 20*time.Second, "the customers' mails seen", func() bool {
		return d.Seen(t, "INBOX", first[0]) && d.Seen(t, "INBOX", first[1])
	})
	a, err := desk.FindSource(ticket.ChannelEmail, imapWants["plain-utf8.eml"].key)
	if err != nil {
		t.Fatal(err)
	}
	b, err := desk.FindSource(ticket.ChannelEmail, imapWants["windows1252-qp.eml"].key)
	if err != nil {
		t.Fatal(err)
	}
	ta, _ := desk.Get(a)
	tb, _ := desk.Get(b)
	replyA, err := desk.Reply(ctx, ticket.Staff("anna"), a, ticket.Reply{Body: "Das Höhenruder ist da."})
	if err != nil {
		t.Fatal(err)
	}
	replyB, err := desk.Reply(ctx, ticket.Staff("anna"), b, ticket.Reply{Body: "Bitte schicken Sie uns den Motor.", Status: ticket.StatusPending})
	if err != nil {
		t.Fatal(err)
	}

	answer := strings.ReplaceAll(string(imapFixture(t, "reply-in-reply-to.eml")),
		"counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.7@counterdesk.invalid", SMTPMessageID(ta.UUID, replyA.ID, domain))
	answer = strings.ReplaceAll(answer, "[#1042]", fmt.Sprintf("[#%d]", ta.Number))
	later := []imap.UID{
		d.Deliver(t, "INBOX", []byte(answer)),
		d.Deliver(t, "INBOX", imapWithID(t, "bounce-postfix-dsn.eml", SMTPMessageID(tb.UUID, replyB.ID, domain))),
		d.Deliver(t, "INBOX", imapFixture(t, "auto-reply.eml")),
	}
	select {
	case res := <-crash.crashed:
		if res.Ticket != b || res.Created {
			t.Errorf("the bounce was stored on ticket %d (created %v), want %d", res.Ticket, res.Created, b)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the bounce was not stored")
	}
	stop()
	if !d.Seen(t, "INBOX", later[0]) || d.Seen(t, "INBOX", later[1]) || d.Seen(t, "INBOX", later[2]) {
		t.Fatalf("after the kill: %+v", d.Mails(t, "INBOX"))
	}
	if n := len(rec.got()); n != 0 {
		t.Fatalf("Bounced called %d times by the killed fetcher", n)
	}

	// Restart.
	opts = imapOptions(d, desk, &imapLog{})
	opts.Bounced = rec.bounced
	r, _ := imapStart(t, opts)
	imapWait(t, 20*time.Second, "every mail seen after the restart", func() bool {
		for _, m := range d.Mails(t, "INBOX") {
			if !m.Seen {
				return false
			}
		}
		return true
	})

	if n, _ := desk.Count(); n != 2 {
		t.Errorf("%d tickets, want 2", n)
	}
	thA, _ := desk.Thread(a)
	thB, _ := desk.Thread(b)
	// A: the customer's mail, the staff reply, the customer's answer.
	answered := slices.ContainsFunc(thA.Messages, func(m ticket.Message) bool { return m.SourceKey == imapWants["reply-in-reply-to.eml"].key })
	if len(thA.Messages) != 3 || !answered {
		t.Errorf("ticket A: %d messages %+v", len(thA.Messages), thA.Messages)
	}
	// B: the customer's mail, the staff reply, one bounce.
	var bounces int
	for _, m := range thB.Messages {
		if m.SourceKey == bounceKey {
			bounces++
			if !slices.Contains(m.Flags, IMAPFlagBounce) || m.Meta["bounce_status"] != "5.1.1" {
				t.Errorf("bounce flags %q meta %q", m.Flags, m.Meta)
			}
		}
		if m.ID == replyB.ID && m.Delivery != ticket.DeliveryFailed {
			t.Errorf("the bounced reply: delivery %q, want failed", m.Delivery)
		}
	}
	if len(thB.Messages) != 3 || bounces != 1 {
		t.Errorf("ticket B: %d messages, %d bounces, want 3 and 1", len(thB.Messages), bounces)
	}
	if thB.Ticket.Status != ticket.StatusPending {
		t.Errorf("ticket B is %s, want pending: a bounce does not reopen", thB.Ticket.Status)
	}
	want := []imapBounceCall{{b, replyB.ID, imapBounceWants["bounce-postfix-dsn.eml"].detail}}
	if got := rec.got(); !slices.Equal(got, want) {
		t.Errorf("Bounced calls %+v, want %+v", got, want)
	}
	delivery := 0
	for _, e := range thB.Events {
		if e.Action == "delivery" && e.After == ticket.DeliveryFailed {
			delivery++
			if e.Why != want[0].detail {
				t.Errorf("delivery event: %q", e.Why)
			}
		}
	}
	if delivery != 1 {
		t.Errorf("%d failed-delivery events, want 1", delivery)
	}
	if _, err := desk.FindSource(ticket.ChannelEmail, imapWants["auto-reply.eml"].key); err == nil {
		t.Error("the stranger's out-of-office was stored")
	}
	if n := imapMetric(t, r, "counterdesk_mail_ignored_total"); n != 1 {
		t.Errorf("ignored %v, want 1", n)
	}
	if n := imapMetric(t, r, "counterdesk_mail_received_total"); n != 1 {
		t.Errorf("received %v after the restart, want 1 (the bounce, again)", n)
	}
}
