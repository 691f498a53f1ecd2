package mail

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

var smtpUpdate = flag.Bool("smtp.update", false, "rewrite the golden mails under testdata/smtp")

func smtpTestConfig() smtpComposeConfig {
	return smtpComposeConfig{
		From: smtpTestUser, FromName: smtpTestShopName, Domain: smtpTestDomain,
		MaxAttachmentBytes: DefaultSMTPMaxAttachmentBytes, Location: time.UTC,
		Now: time.Date(2024, 6, 12, 10, 0, 0, 0, time.UTC),
	}
}

func smtpOpenFrom(desk *smtpTestDesk) func(ticket.Attachment) ([]byte, error) {
	return func(a ticket.Attachment) ([]byte, error) {
		return os.ReadFile(filepath.Join(desk.dir, a.ID))
	}
}

// TestSMTPComposeGolden writes the reply of ticket #1042, and the same
// reply without its attachment, and compares them byte for byte with the
// mails under testdata/smtp (go test -run Golden -smtp.update rewrites
// them).
func TestSMTPComposeGolden(t *testing.T) {
	for _, c := range []struct {
		file string
		drop bool
	}{{"reply-with-attachment.eml", false}, {"reply-text-only.eml", true}} {
		desk := newSMTPTestDesk(t)
		th, d := smtpTestThread(t, desk, smtpTestCustomer)
		if c.drop {
			th.Messages[3].Attachments = nil
		}
		m, err := smtpCompose(smtpTestConfig(), d, th, smtpOpenFrom(desk))
		if err != nil {
			t.Fatalf("%s: %v", c.file, err)
		}
		path := filepath.Join("testdata", "smtp", c.file)
		if *smtpUpdate {
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, m.Raw, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run with -smtp.update to write it)", err)
		}
		if !bytes.Equal(m.Raw, want) {
			t.Errorf("%s differs:\n%s", c.file, m.Raw)
		}
		p := parseSMTPMail(t, m.Raw)
		if p.Text != smtpTestReplyBody {
			t.Errorf("%s: body %q", c.file, p.Text)
		}
	}
}

func TestSMTPComposeAutomaticReply(t *testing.T) {
	desk := newSMTPTestDesk(t)
	th, d := smtpTestThread(t, desk, smtpTestCustomer)
	th.Events[1].Actor = ticket.Actor{Kind: ticket.ActorRule, Name: "notify acknowledge"}
	m, err := smtpCompose(smtpTestConfig(), d, th, smtpOpenFrom(desk))
	if err != nil {
		t.Fatal(err)
	}
	p := parseSMTPMail(t, m.Raw)
	if v := p.Header.Get("Auto-Submitted"); v != "auto-replied" {
		t.Errorf("Auto-Submitted = %q, want auto-replied", v)
	}
}

func TestSMTPComposeASCIIIsSevenBit(t *testing.T) {
	desk := newSMTPTestDesk(t)
	th, d := smtpTestThread(t, desk, "sam@example.co.uk")
	th.Messages[3].Attachments = nil
	d.Body = "Hello Sam,\n\nYour order is ready.\n.\nA line with a dot above it.\n"
	d.Subject = "Re: Order 5512 [#1042]"
	m, err := smtpCompose(smtpTestConfig(), d, th, smtpOpenFrom(desk))
	if err != nil {
		t.Fatal(err)
	}
	p := parseSMTPMail(t, m.Raw)
	if p.TextTE != "7bit" || p.Text != d.Body {
		t.Errorf("7bit text = %q, %q", p.TextTE, p.Text)
	}
	if !bytes.Contains(m.Raw, []byte("\r\nYour order is ready.\r\n")) {
		t.Errorf("lines do not end in CRLF:\n%q", m.Raw)
	}
	if s, _ := p.Header.Subject(); s != d.Subject || p.Header.Get("Subject") != d.Subject {
		t.Errorf("Subject = %q", p.Header.Get("Subject"))
	}
}

func TestSMTPSubject(t *testing.T) {
	long := strings.Repeat("çok uzun ", 60)
	cases := []struct{ subject, ticketSubject, want string }{
		{"Re: Pervane kırıldı [#1042]", "Pervane kırıldı", "Re: Pervane kırıldı [#1042]"},
		{"Re: Pervane kırıldı", "Pervane kırıldı", "Re: Pervane kırıldı [#1042]"},
		{"", "Hélice partida", "Re: Hélice partida [#1042]"},
		{"", "", "Re: [#1042]"},
		{"Re: a\r\nBcc: x@example.com [#1042]", "", "Re: a Bcc: x@example.com [#1042]"},
		{"Re: " + long + "[#1042]", "", "Re: " + string([]rune(strings.TrimSpace(long))[:smtpMaxSubject-4]) + "… [#1042]"},
	}
	for _, c := range cases {
		if got := smtpSubject(c.subject, c.ticketSubject, "#1042", "#1042"); got != c.want {
			t.Errorf("smtpSubject(%q, %q) = %q, want %q", c.subject, c.ticketSubject, got, c.want)
		}
	}
}

func TestSMTPThreadingBounded(t *testing.T) {
	th := ticket.Thread{Ticket: ticket.Ticket{Number: 1042, UUID: smtpTestUUID}}
	for i := range 30 {
		th.Messages = append(th.Messages, ticket.Message{
			ID: uint64(i + 1), Direction: ticket.Incoming, Channel: ticket.ChannelEmail,
			Meta: ticket.Meta{"message_id": fmt.Sprintf("<m%d@example.net>", i+1)},
		})
	}
	th.Messages = append(th.Messages,
		ticket.Message{ID: 31, Direction: ticket.Incoming, Meta: ticket.Meta{"message_id": "not a message id"}},
		ticket.Message{ID: 32, Direction: ticket.Incoming, Meta: ticket.Meta{"message_id": "<" + strings.Repeat("x", 300) + "@example.net>"}},
		ticket.Message{ID: 33, Direction: ticket.Outgoing, Channel: ticket.ChannelEmail, Delivery: ticket.DeliveryFailed},
		ticket.Message{ID: 34, Direction: ticket.Outgoing, Channel: ticket.ChannelSMS, Delivery: ticket.DeliverySent},
		ticket.Message{ID: 40, Direction: ticket.Outgoing, Channel: ticket.ChannelEmail},
		ticket.Message{ID: 41, Direction: ticket.Incoming, Meta: ticket.Meta{"message_id": "<later@example.net>"}},
	)
	inReplyTo, refs := smtpThreading(th, 40, smtpTestDomain)
	if inReplyTo != "m30@example.net" {
		t.Errorf("In-Reply-To = %q", inReplyTo)
	}
	if len(refs) != smtpMaxReferences || refs[0] != "m1@example.net" || refs[1] != "m12@example.net" || refs[len(refs)-1] != "m30@example.net" {
		t.Errorf("References = %q", refs)
	}
}

func TestSMTPCleanMsgID(t *testing.T) {
	for in, want := range map[string]string{
		"<CAE5x1q@mail.example.com.tr>":   "CAE5x1q@mail.example.com.tr",
		" abc.def@[192.0.2.1] ":           "abc.def@[192.0.2.1]",
		"<a@b> <c@d>":                     "",
		"no-at-sign":                      "",
		"<a..b@example.net>":              "",
		"<a\r\nBcc: x@example.net>":       "",
		"<counterdesk.u.5@counterdesk.x>": "counterdesk.u.5@counterdesk.x",
	} {
		if got := smtpCleanMsgID(in); got != want {
			t.Errorf("smtpCleanMsgID(%q) = %q, want %q", in, got, want)
		}
	}
}

// smtpFuzzSeeds are the subjects, bodies and names of real mails under
// testdata/smtp/seeds, as the fuzz test's starting points.
func smtpFuzzSeeds(t testing.TB) [][5]string {
	paths, err := filepath.Glob(filepath.Join("testdata", "smtp", "seeds", "*.eml"))
	if err != nil || len(paths) == 0 {
		t.Fatalf("no seed mails under testdata/smtp/seeds: %v", err)
	}
	var seeds [][5]string
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		p, err := smtpParse(raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		subject, _ := p.Header.Subject()
		from, _ := p.Header.AddressList("From")
		name := ""
		if len(from) > 0 {
			name = from[0].Name
		}
		file := ""
		for f := range p.Files {
			file = f
		}
		msgID, _ := p.Header.MessageID()
		seeds = append(seeds, [5]string{subject, p.Text, name, file, msgID})
	}
	return seeds
}

// FuzzSMTPMessage composes mails from arbitrary subjects, bodies, names,
// attachment names and quoted Message-IDs: composing never panics, and
// what it writes always parses back with go-message, with the same text,
// the same attachment bytes, and header lines a mail server takes.
func FuzzSMTPMessage(f *testing.F) {
	for _, s := range smtpFuzzSeeds(f) {
		f.Add(s[0], s[1], s[2], s[3], "audio/wav", s[4], []byte("RIFF....WAVE"))
	}
	f.Add("", "", "", "", "", "", []byte{})
	f.Add("=?utf-8?q?x?=", "From here\n.\n..\r\rA\x00", "\"Bob\" <x@y>", "../../etc/passwd", "text/plain; charset=\"", "<a@b>", []byte("--counterdesk-"))
	f.Add(strings.Repeat("ş", 400), strings.Repeat("x", 2000), strings.Repeat("ü", 300), strings.Repeat("ğ", 300), "multipart/mixed", strings.Repeat("a", 240)+"@b", []byte{0xff, 0xfe})
	f.Fuzz(func(t *testing.T, subject, body, name, file, contentType, msgID string, data []byte) {
		th := ticket.Thread{
			Ticket:  ticket.Ticket{Number: 1042, UUID: smtpTestUUID, Subject: subject},
			Contact: ticket.Contact{Name: name},
			Messages: []ticket.Message{
				{ID: 1, Direction: ticket.Incoming, Channel: ticket.ChannelEmail, Meta: ticket.Meta{"message_id": msgID}},
				{ID: 2, Direction: ticket.Outgoing, Channel: ticket.ChannelEmail, At: time.Date(2024, 6, 12, 9, 0, 0, 0, time.UTC)},
			},
		}
		if len(data) > 0 {
			th.Messages[1].Attachments = []ticket.Attachment{{ID: "a", Name: file, ContentType: contentType, Size: int64(len(data))}}
		}
		d := ticket.Delivery{Ticket: 1042, TicketRef: "#1042", MessageID: 2, To: "kund@example.com.br", Subject: subject, Body: body}
		cfg := smtpTestConfig()
		cfg.FromName = name
		m, err := smtpCompose(cfg, d, th, func(ticket.Attachment) ([]byte, error) { return data, nil })
		if err != nil {
			t.Fatalf("compose: %v", err)
		}
		p, err := smtpParse(m.Raw)
		if err != nil {
			t.Fatalf("the mail does not parse: %v\n%s", err, m.Raw)
		}
		if want := smtpBodyText(body); p.Text != want {
			t.Fatalf("text = %q, want %q\n%s", p.Text, want, m.Raw)
		}
		if len(data) > 0 {
			if len(p.Files) != 1 {
				t.Fatalf("%d attachments\n%s", len(p.Files), m.Raw)
			}
			for _, got := range p.Files {
				if !bytes.Equal(got, data) {
					t.Fatalf("attachment = %q, want %q", got, data)
				}
			}
		}
		if id, err := p.Header.MessageID(); err != nil || id != m.MessageID {
			t.Fatalf("Message-ID = %q (%v), want %q", id, err, m.MessageID)
		}
		if got, err := p.Header.Subject(); err != nil || !strings.HasSuffix(got, "[#1042]") {
			t.Fatalf("Subject = %q (%v)", got, err)
		}
		if _, err := p.Header.AddressList("From"); err != nil {
			t.Fatalf("From %q: %v", p.Header.Get("From"), err)
		}
		if to, err := p.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != d.To {
			t.Fatalf("To %q: %v", p.Header.Get("To"), err)
		}
		if _, err := p.Header.MsgIDList("References"); err != nil {
			t.Fatalf("References %q: %v", p.Header.Get("References"), err)
		}
		for i, line := range bytes.Split(m.Raw, []byte("\r\n")) {
			if len(line) > 998 {
				t.Fatalf("line %d is %d bytes", i+1, len(line))
			}
			if bytes.ContainsAny(line, "\r\n") {
				t.Fatalf("line %d holds a bare CR or LF: %q", i+1, line)
			}
		}
	})
}

func TestSMTPMediaType(t *testing.T) {
	for in, want := range map[string]string{
		"audio/wav":                      "audio/wav",
		"Image/JPEG":                     "image/jpeg",
		"text/plain; charset=iso-8859-9": "text/plain; charset=iso-8859-9",
		"audio/wav; name=\"x.wav\"":      "audio/wav",
		"":                               "application/octet-stream",
		"wav":                            "application/octet-stream",
		"multipart/mixed; boundary=x":    "application/octet-stream",
		"message/rfc822":                 "application/octet-stream",
		"text/plain; charset=\"":         "application/octet-stream",
	} {
		if got := smtpMediaType(in); got != want {
			t.Errorf("smtpMediaType(%q) = %q, want %q", in, got, want)
		}
	}
}
