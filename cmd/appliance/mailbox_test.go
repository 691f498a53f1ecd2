package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/mail/mailtest"
	"github.com/counterdesk/counterdesk/ticket"
)

// TestApplianceSupportMailbox runs the built appliance against a real
// dovecot (the support mailbox) and an SMTP server, as a shop runs it:
// a customer's mail becomes a ticket, acknowledged by mail, copied to the
// workshop by a redirection rule; the staff digest goes out; an
// out-of-office from a stranger opens nothing; a bounce of the
// acknowledgement marks it failed on its ticket; a broken mail becomes a
// flagged ticket with its raw source attached; the customer's answer
// threads back; and an appliance killed and started again takes nothing
// in twice.
func TestApplianceSupportMailbox(t *testing.T) {
	dc := mailtest.StartDovecot(t)
	const smtpPassword = "smtp-pw-8c1d"
	ms, smtpAddr, certPEM := startMailServer(t, "desk@wings.example", smtpPassword)

	dir := t.TempDir()
	// The appliance trusts both servers' certificates.
	imapPEM, err := os.ReadFile(filepath.Join(dc.Dir, "cert.pem"))
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(dir, "ca.pem")
	os.WriteFile(caFile, append(certPEM, imapPEM...), 0o600)
	creds := filepath.Join(dir, "creds")
	os.Mkdir(creds, 0o700)
	os.WriteFile(filepath.Join(creds, "mail-smtp-password"), []byte(smtpPassword+"\n"), 0o600)
	os.WriteFile(filepath.Join(creds, "mail-imap-password"), []byte(dc.Pass+"\n"), 0o600)
	cfg := filepath.Join(dir, "counterdesk.toml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[shop]
name = "Wings & Things"

[mail]
imap_server = %q
imap_tls = "tls"
imap_username = %q
poll_interval = "10s"
smtp_server = %q
smtp_username = "desk@wings.example"
from = "desk@wings.example"
domain = "wings.example"

[notify]
staff_emails = ["owner@wings.example"]
digest_at = "00:00"
staff_url = "http://counterdesk.local:8080"

[[notify.redirect]]
name = "workshop"
match = ["category:warranty"]
to = ["workshop@wings.example"]
`, dc.TLSAddr, dc.User, smtpAddr)), 0o600)

	bin := buildBinary(t)
	data := t.TempDir()
	token, _, code := cli(t, bin, "token", "create", "mailbox", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	env := []string{"COUNTERDESK_CONFIG=" + cfg, "CREDENTIALS_DIRECTORY=" + creds, "SSL_CERT_FILE=" + caFile}
	a := start(t, bin, data, env...)
	defer func() { a.kill() }()
	c := &api{addr: a.addr, token: strings.TrimSpace(token), client: &http.Client{Timeout: 5 * time.Second}}

	// The digest is due at once (00:00 has passed today).
	eventually(t, "the daily digest at the owner's address", func() bool { return len(ms.to("owner@wings.example")) == 1 })
	if d := ms.to("owner@wings.example")[0]; !strings.Contains(d, "Daily digest") || !strings.Contains(d, "Auto-Submitted: auto-generated") {
		t.Errorf("digest mail:\n%s", d)
	}

	// 1. A customer's warranty claim.
	claim := dc.Deliver(t, "INBOX", crlf(`From: Kim Pilot <kim@example.com>
To: desk@wings.example
Subject: Warranty claim
Date: Sun, 22 Nov 2026 09:12:00 +0000
Message-ID: <claim-1@example.com>
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

My order 77881 arrived with a cracked wing. Is it covered by warranty?
`))
	var tk ticket.Ticket
	eventually(t, "the claim as a ticket", func() bool {
		for _, x := range c.listAll(t) {
			if x.Subject == "Warranty claim" {
				tk = x
				return true
			}
		}
		return false
	})
	if tk.Category != "warranty" || tk.Channel != ticket.ChannelEmail {
		t.Errorf("ticket %+v, want an email ticket in warranty", tk)
	}
	if !dc.Seen(t, "INBOX", claim) {
		t.Error("the claim is not marked seen after it became a ticket")
	}
	eventually(t, "the acknowledgement to the customer", func() bool { return len(ms.to("kim@example.com")) == 1 })
	ack := ms.to("kim@example.com")[0]
	if !strings.Contains(ack, fmt.Sprintf("[#%d]", tk.Number)) || !strings.Contains(ack, "In-Reply-To: <claim-1@example.com>") {
		t.Errorf("acknowledgement:\n%s", ack)
	}
	ackID := regexp.MustCompile(`(?m)^Message-Id: <([^>]+)>`).FindStringSubmatch(ack)
	if ackID == nil {
		t.Fatalf("no Message-Id in the acknowledgement:\n%s", ack)
	}
	eventually(t, "the workshop's copy", func() bool { return len(ms.to("workshop@wings.example")) == 1 })
	if w := ms.to("workshop@wings.example")[0]; !strings.Contains(w, fmt.Sprintf("#%d Warranty claim", tk.Number)) ||
		!strings.Contains(w, fmt.Sprintf("http://counterdesk.local:8080/tickets/%d", tk.Number)) {
		t.Errorf("workshop mail:\n%s", w)
	}

	// 2. An out-of-office from someone with no ticket opens nothing.
	before := len(c.listAll(t))
	ooo := dc.Deliver(t, "INBOX", crlf(`From: Sam Away <sam@elsewhere.example>
To: desk@wings.example
Subject: Automatic reply: our order
Date: Sun, 22 Nov 2026 09:20:00 +0000
Message-ID: <ooo-1@elsewhere.example>
Auto-Submitted: auto-replied
Content-Type: text/plain; charset=utf-8

I am out of the office until Monday.
`))
	eventually(t, "the out-of-office marked seen", func() bool { return dc.Seen(t, "INBOX", ooo) })

	// 3. The acknowledgement bounces.
	bounce := dc.Deliver(t, "INBOX", crlf(fmt.Sprintf(`From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: desk@wings.example
Subject: Undelivered Mail Returned to Sender
Date: Sun, 22 Nov 2026 09:25:00 +0000
Message-ID: <bounce-1@mx.example.com>
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B1"

--B1
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.example.com.
I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<kim@example.com>: host mx.example.com said: 550 5.1.1 <kim@example.com>: Recipient address rejected: User unknown

--B1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com
Arrival-Date: Sun, 22 Nov 2026 09:24:58 +0000

Final-Recipient: rfc822; kim@example.com
Original-Recipient: rfc822;kim@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <kim@example.com>: Recipient address rejected: User unknown

--B1
Content-Type: text/rfc822-headers

From: "Wings & Things" <desk@wings.example>
To: "Kim Pilot" <kim@example.com>
Subject: Re: Warranty claim [#%d]
Message-ID: <%s>

--B1--
`, tk.Number, ackID[1])))
	ackMessage := func(th ticket.Thread) *ticket.Message {
		for i, m := range th.Messages {
			if m.Direction == ticket.Outgoing && strings.HasPrefix(m.Author, "notify") {
				return &th.Messages[i]
			}
		}
		return nil
	}
	eventually(t, "the acknowledgement marked failed by the bounce", func() bool {
		m := ackMessage(threadOf(t, c, tk.Number))
		return m != nil && m.Delivery == ticket.DeliveryFailed
	})
	if !dc.Seen(t, "INBOX", bounce) {
		t.Error("the bounce is not marked seen")
	}

	// 4. A broken mail: a flagged ticket with the raw source attached.
	broken := "From: parts@example.org\r\nSubject: Broken\r\nContent-Type: multipart/mixed; boundary=\"X\"\r\nContent-Transfer-Encoding: x-unknown\r\n\r\n--X\r\nbroken\r\n"
	dc.Deliver(t, "INBOX", []byte(broken))
	var raw ticket.Ticket
	eventually(t, "the broken mail as a ticket", func() bool {
		for _, x := range c.listAll(t) {
			if x.Subject == "Broken" {
				raw = x
				return true
			}
		}
		return false
	})
	th := threadOf(t, c, raw.Number)
	first := th.Messages[0]
	if !slices.Contains(first.Flags, "raw") || len(first.Attachments) != 1 || first.Attachments[0].Name != "original.eml" {
		t.Errorf("broken mail stored as %+v, want flagged raw with original.eml", first)
	}

	if n := len(c.listAll(t)); n != before+1 {
		t.Errorf("%d tickets, want %d: the out-of-office or the bounce opened one", n, before+1)
	}

	// 5. Killed and started again: the customer's answer threads back,
	// and nothing is taken in twice.
	a.kill()
	a = start(t, bin, data, env...)
	c.addr = a.addr
	dc.Deliver(t, "INBOX", crlf(fmt.Sprintf(`From: Kim Pilot <kim@example.com>
To: desk@wings.example
Subject: Re: Warranty claim [#%d]
Date: Sun, 22 Nov 2026 10:00:00 +0000
Message-ID: <claim-2@example.com>
In-Reply-To: <%s>
References: <claim-1@example.com> <%s>
Content-Type: text/plain; charset=utf-8

Here is my other address: kim.pilot@example.net
`, tk.Number, ackID[1], ackID[1])))
	eventually(t, "the answer on the claim's ticket", func() bool {
		return len(threadOf(t, c, tk.Number).Messages) == 4 // claim, ack, bounce, answer
	})
	if n := len(c.listAll(t)); n != before+1 {
		t.Errorf("%d tickets after the restart, want %d", n, before+1)
	}
	for _, m := range dc.Mails(t, "INBOX") {
		if !m.Seen {
			t.Errorf("mail %q left unseen", m.Subject)
		}
	}
	if got := len(ms.to("owner@wings.example")); got != 1 {
		t.Errorf("%d digests after the restart, want 1 a day", got)
	}
	if got := len(ms.to("workshop@wings.example")); got != 1 {
		t.Errorf("the workshop got %d mails, want 1 per ticket", got)
	}
	a.stop(t)
	for _, secret := range []string{smtpPassword, dc.Pass} {
		if strings.Contains(a.logs.String(), secret) {
			t.Error("a mail password reached the log")
		}
	}
}

// crlf turns a mail written with LF line ends into one with CRLF.
func crlf(s string) []byte {
	return []byte(strings.ReplaceAll(s, "\n", "\r\n"))
}
