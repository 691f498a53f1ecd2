package mail

import (
	"bytes"
	"image/jpeg"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/ticket"
)

// imapTestLimits are the limits the fixture tests use: the Desk's body
// limit, and an attachment limit small enough for the oversized fixture.
var imapTestLimits = imapLimits{body: ticket.DefaultMaxMessageBytes, attBytes: 8 << 10, atts: 5, maxMail: 1 << 20}

// imapFixture reads a mail of testdata/imap with CRLF line ends, as a
// server hands it over.
func imapFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "imap", name))
	if err != nil {
		t.Fatal(err)
	}
	return imapCRLF(b)
}

func imapCRLF(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	return bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
}

// imapWant is what a fixture must become.
type imapWant struct {
	key      string // SourceKey; "sha256:" checks the prefix only
	name     string
	email    string
	subject  string
	at       string // RFC 3339
	body     []string
	notBody  []string
	flags    []string
	meta     map[string]string
	atts     []string // attachment names
	refs     []string
	ticketNo uint64 // the subject's [#NNNN]
}

var imapWants = map[string]imapWant{
	"plain-utf8.eml": {
		key: "8f3c2a91-5d4e-4b7a-9e61-0c2f7d1a9b33@example.de", name: "Jonas Bäcker", email: "jonas.becker@example.de",
		subject: "Ersatzteil für Multiplex EasyStar 3 – Höhenruder", at: "2024-05-14T09:12:31+02:00",
		body: []string{"Hallo zusammen,\n\nbeim letzten Flug ist mir das Höhenruder meines EasyStar 3 gebrochen 😞.", "Jonas Bäcker"},
		meta: map[string]string{"message_id": "8f3c2a91-5d4e-4b7a-9e61-0c2f7d1a9b33@example.de"},
	},
	"windows1252-qp.eml": {
		key: "000001daa53f$3f1c2b40$bd5481c0$@example.net", name: "Markus Weiß", email: "m.weiss@example.net",
		subject: "Reklamation Motor – Auftrag 55120", at: "2024-05-13T18:39:58+02:00",
		body: []string{"den „Hacker A20-22L EVO“ Motor für 89,90 € bestellt (Auftrag 55120).", "läuft er unrund – können Sie ihn prüfen?", "Grüßen\nMarkus Weiß"},
	},
	"turkish-iso88599.eml": {
		key: "20240515090301.GA4711@example.com.tr", name: "İbrahim Şahin", email: "ibrahim.sahin@example.com.tr",
		subject: "Sipariş durumu: Şarj cihazı", at: "2024-05-15T12:03:01+03:00",
		body: []string{"Geçen hafta sipariş ettiğim şarj cihazı (SkyRC iMAX B6) henüz gelmedi.", "Kargo takip numarasını", "Teşekkürler,\nİbrahim Şahin"},
	},
	"html-newsletter.eml": {
		key: "n.2024-05-16.7f3a@news.example.org", name: "Flugplatz Nord e.V.", email: "info@flugplatz-nord.example.org",
		subject: "Einladung: Schaufliegen am 8. Juni", at: "2024-05-16T05:00:09Z",
		body: []string{"Schaufliegen am 8. Juni", "Liebe Modellflieger,\nwir laden euch herzlich zum Schaufliegen ein – Gründung des Vereins vor 50 Jahren!",
			"- Jets & Segler\n- Kaffee und Kuchen", "Jetzt anmelden (https://flugplatz-nord.example.org/anmeldung)", "Bis bald!"},
		notBody: []string{"<", "script", "alert", "evil", "cookie", "font-family", "Newsletter Mai", "steal", "track"},
	},
	"photo-attachment.eml": {
		key: "CAF7x9q+3nWvK2YcA5bRzT8m@mail.example.at", name: "Lena Huber", email: "lena.huber@example.at",
		subject: "Bruchschaden am Fahrwerk - Foto anbei", at: "2024-05-17T14:22:31+02:00",
		body:    []string{"das Fahrwerk meiner Piper J-3 ist bei der Landung abgebrochen, siehe Foto.", "Danke und Grüße\nLena"},
		notBody: []string{"<div", "<br>"},
		atts:    []string{"IMG_20240517_141502.jpg"},
	},
	"reply-in-reply-to.eml": {
		key: "b41e77c0-2a5f-4d1c-8f0e-6e9d3c2a1f55@example.de", name: "Jonas Bäcker", email: "jonas.becker@example.de",
		subject: "Re: Ersatzteil für Multiplex EasyStar 3 – Höhenruder [#1042]", at: "2024-05-18T10:05:02+02:00",
		body: []string{"Super, danke! Dann komme ich am Samstag vorbei.", "> das Höhenruder ist da"},
		meta: map[string]string{
			"in_reply_to": "<counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.7@counterdesk.invalid>",
			"references":  "<8f3c2a91-5d4e-4b7a-9e61-0c2f7d1a9b33@example.de> <counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.7@counterdesk.invalid>",
		},
		refs:     []string{"counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.7@counterdesk.invalid", "8f3c2a91-5d4e-4b7a-9e61-0c2f7d1a9b33@example.de"},
		ticketNo: 1042,
	},
	"auto-reply.eml": {
		key: "autoreply.1716098402.22@mail.example.ch", name: "Peter Keller", email: "p.keller@example.ch",
		subject: "Abwesenheitsnotiz: Re: Ihre Bestellung 55188 [#1051]", at: "2024-05-19T08:00:02+02:00",
		body:     []string{"Ich bin bis zum 27. Mai nicht im Büro"},
		flags:    []string{IMAPFlagAutoReply},
		meta:     map[string]string{"auto_submitted": "auto-replied"},
		refs:     []string{"counterdesk.0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d.12@counterdesk.invalid"},
		ticketNo: 1051,
	},
	"oversized-attachment.eml": {
		key: "AM0PR07MB4417C2E6D1F0A9B8E7D6C5B4A3@AM0PR07MB4417.eurprd07.prod.example.com", name: "de Vries, Sanne", email: "sanne.devries@example.nl",
		subject: "Handleiding en factuur", at: "2024-05-20T14:45:19Z",
		body:  []string{"welke servo ik nodig heb?", `[Attachment "scan handleiding.pdf" (11.7 KB) was dropped: it is over the limit of 8.0 KB.]`},
		flags: []string{IMAPFlagAttachmentTooLarge},
	},
	"broken-mime.eml": {
		key: "sha256:", email: "kurt.schulze@example.org",
		subject: "Anfrage Graupner mc-20", at: "2024-05-21T20:11:05+02:00",
		body:  []string{"Content-Type: multipart/mixed", "haben Sie die Graupner mc-20 noch vorrätig?\nGruß Kurt"},
		flags: []string{IMAPFlagRaw},
		atts:  []string{"original.eml"},
	},
	// Bounces: imapbounce_test.go checks what each reports.
	"bounce-postfix-dsn.eml": {
		key: "20240522081407.4VkT2m0Qxbz9sWd@mail.modellbau-hartmann.example", name: "Mail Delivery System",
		email: "MAILER-DAEMON@mail.modellbau-hartmann.example", subject: "Undelivered Mail Returned to Sender", at: "2024-05-22T10:14:07+02:00",
		body:  []string{"could not be delivered to one or more of its\nrecipients", "User unknown in\n    virtual mailbox table"},
		flags: []string{IMAPFlagAutoReply, IMAPFlagBounce},
		meta:  map[string]string{"auto_submitted": "auto-replied", "bounce_status": "5.1.1", "bounce_action": "failed"},
		atts:  []string{"delivery-status.txt", "mail-2.eml"},
		refs:  []string{"counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.9@modellbau-hartmann.example"},
	},
	"bounce-exchange-ndr.eml": {
		key: "0a5f7c3e4b2d4e1f9a8b7c6d5e4f3a2b@EX02.corp.example.net", name: "Microsoft Exchange",
		email: "MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@example.net", subject: "Unzustellbar: Re: Reklamation Motor - Auftrag 55120 [#1043]",
		at:      "2024-05-23T07:41:11Z",
		body:    []string{"Delivery has failed to these recipients or groups:", "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound"},
		notBody: []string{"<font", "<html"},
		flags:   []string{IMAPFlagAutoReply, IMAPFlagBounce},
		meta:    map[string]string{"auto_submitted": "report delivery-status", "bounce_status": "5.1.10"},
		atts:    []string{"delivery-status.txt", "mail-2.eml"},
		refs:    []string{"counterdesk.5b7d2e10-6c4a-4f3e-9d21-8a0b1c2d3e4f.14@modellbau-hartmann.example"},
		// The subject quotes the ticket, too; the Message-ID comes first.
		ticketNo: 1043,
	},
	"bounce-gmail.eml": {
		key: "6650c7a5.050a0220.2d1e4.7c3fSMTPIN_ADDED_MISSING@mx.google.com", name: "Mail Delivery Subsystem",
		email: "mailer-daemon@googlemail.com", subject: "Delivery Status Notification (Failure)", at: "2024-05-24T09:58:45-07:00",
		body:    []string{"** Address not found **", "550 5.1.1 <lena.huber@example.at>: Recipient address rejected"},
		notBody: []string{"<html", "Roboto"},
		flags:   []string{IMAPFlagAutoReply, IMAPFlagBounce},
		meta: map[string]string{"auto_submitted": "auto-replied", "bounce_status": "5.1.1",
			"in_reply_to": "<counterdesk.c4f1e8a2-7d3b-4b9c-a6e5-0f1d2c3b4a59.3@modellbau-hartmann.example>"},
		atts: []string{"icon.png", "delivery-status.txt", "returned-headers.txt"},
		refs: []string{"counterdesk.c4f1e8a2-7d3b-4b9c-a6e5-0f1d2c3b4a59.3@modellbau-hartmann.example"},
	},
	"bounce-delayed-dsn.eml": {
		key: "20240523132241.4VlQ8x3Wbnz9sXb@mail.modellbau-hartmann.example", name: "Mail Delivery System",
		email: "MAILER-DAEMON@mail.modellbau-hartmann.example", subject: "Delayed Mail (still being retried)", at: "2024-05-23T15:22:41+02:00",
		body:  []string{"THIS IS ONLY A WARNING", "It will be retried until it is 5 day(s) old."},
		flags: []string{IMAPFlagAutoReply, IMAPFlagBounce},
		meta:  map[string]string{"auto_submitted": "auto-replied", "bounce_status": "4.4.1", "bounce_action": "delayed"},
		atts:  []string{"delivery-status.txt", "returned-headers.txt"},
		refs:  []string{"counterdesk.7e2a9c41-3b5d-4e6f-8a1b-2c3d4e5f6a7b.5@modellbau-hartmann.example"},
	},
	"bounce-qmail.eml": {
		key: "sha256:", email: "MAILER-DAEMON@mail.example.org", subject: "failure notice", at: "2024-05-25T09:03:11Z",
		body:  []string{"This is the qmail-send program at mail.example.org.", "--- Below this line is a copy of the message.", "die mc-20 ist vorrätig"},
		flags: []string{IMAPFlagAutoReply, IMAPFlagBounce},
		meta:  map[string]string{"auto_submitted": "from mailer-daemon", "bounce_status": "5.1.1", "bounce_action": "failed"},
		refs:  []string{"counterdesk.9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.21@modellbau-hartmann.example"},
	},
}

// imapCheck compares a parsed mail to what the fixture must become.
func imapCheck(t *testing.T, name string, in ticket.Inbound, refs []string, w imapWant) {
	t.Helper()
	if in.Channel != ticket.ChannelEmail {
		t.Errorf("%s: channel %q", name, in.Channel)
	}
	if strings.HasSuffix(w.key, ":") {
		if !strings.HasPrefix(in.SourceKey, w.key) || len(in.SourceKey) != len(w.key)+64 {
			t.Errorf("%s: source key %q, want a %s hash", name, in.SourceKey, w.key)
		}
	} else if in.SourceKey != w.key {
		t.Errorf("%s: source key %q, want %q", name, in.SourceKey, w.key)
	}
	if in.From.Name != w.name || in.From.Email != w.email {
		t.Errorf("%s: from %q <%s>, want %q <%s>", name, in.From.Name, in.From.Email, w.name, w.email)
	}
	if in.Subject != w.subject {
		t.Errorf("%s: subject %q, want %q", name, in.Subject, w.subject)
	}
	if want, _ := time.Parse(time.RFC3339, w.at); !in.At.Equal(want) {
		t.Errorf("%s: at %v, want %v", name, in.At, want)
	}
	for _, s := range w.body {
		if !strings.Contains(in.Body, s) {
			t.Errorf("%s: body lacks %q:\n%s", name, s, in.Body)
		}
	}
	for _, s := range w.notBody {
		if strings.Contains(in.Body, s) {
			t.Errorf("%s: body holds %q:\n%s", name, s, in.Body)
		}
	}
	if !slices.Equal(in.Flags, w.flags) {
		t.Errorf("%s: flags %q, want %q", name, in.Flags, w.flags)
	}
	for k, v := range w.meta {
		if in.Meta[k] != v {
			t.Errorf("%s: meta %s = %q, want %q", name, k, in.Meta[k], v)
		}
	}
	if !strings.HasPrefix(in.SourceKey, "sha256:") && in.Meta["message_id"] != in.SourceKey {
		t.Errorf("%s: meta message_id %q, source key %q", name, in.Meta["message_id"], in.SourceKey)
	}
	if w.meta["auto_submitted"] == "" && in.Meta["auto_submitted"] != "" {
		t.Errorf("%s: meta auto_submitted %q on a mail a person wrote", name, in.Meta["auto_submitted"])
	}
	var names []string
	for _, a := range in.Attachments {
		names = append(names, a.Name)
	}
	if !slices.Equal(names, w.atts) {
		t.Errorf("%s: attachments %q, want %q", name, names, w.atts)
	}
	if refs != nil && !slices.Equal(refs, w.refs) && (len(refs) > 0 || len(w.refs) > 0) {
		t.Errorf("%s: refs %q, want %q", name, refs, w.refs)
	}
	if n := imapSubjectRef(in.Subject); n != w.ticketNo {
		t.Errorf("%s: subject ref %d, want %d", name, n, w.ticketNo)
	}
	lim := ticket.Limits{MaxMessageBytes: imapTestLimits.body, MaxAttachmentBytes: imapTestLimits.attBytes, MaxAttachments: imapTestLimits.atts}
	if err := in.Validate(lim); err != nil {
		t.Errorf("%s: the Desk would refuse it: %v", name, err)
	}
}

func TestIMAPParseFixtures(t *testing.T) {
	for name, w := range imapWants {
		t.Run(name, func(t *testing.T) {
			p := imapParse(imapFixture(t, name), imapTestLimits)
			imapCheck(t, name, p.in, p.refs, w)
		})
	}
}

func TestIMAPParsePhoto(t *testing.T) {
	p := imapParse(imapFixture(t, "photo-attachment.eml"), imapTestLimits)
	if len(p.in.Attachments) != 1 {
		t.Fatalf("attachments: %d", len(p.in.Attachments))
	}
	a := p.in.Attachments[0]
	if a.ContentType != "image/jpeg" {
		t.Errorf("content type %q", a.ContentType)
	}
	img, err := jpeg.Decode(bytes.NewReader(a.Data))
	if err != nil {
		t.Fatalf("the photo does not decode: %v", err)
	}
	if b := img.Bounds(); b.Dx() != 16 || b.Dy() != 12 {
		t.Errorf("photo is %v", b)
	}
}

func TestIMAPParseLimits(t *testing.T) {
	long := strings.Repeat("Der Akku bläht sich auf. ", 400) // 10,000+ bytes
	mail := "From: a@example.com\r\nSubject: long\r\nMessage-ID: <long@example.com>\r\n" +
		"Content-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n" + long + "\r\n"
	for i := range 4 {
		mail += "--b\r\nContent-Type: image/png\r\nContent-Disposition: attachment; filename=\"../../etc/p" +
			string(rune('0'+i)) + ".png\"\r\n\r\nPNGDATA\r\n"
	}
	mail += "--b--\r\n"
	lim := imapLimits{body: 4096, attBytes: 1024, atts: 2}
	p := imapParse([]byte(mail), lim)
	if len(p.in.Body) > lim.body {
		t.Errorf("body is %d bytes, the limit is %d", len(p.in.Body), lim.body)
	}
	for _, f := range []string{IMAPFlagTruncated, IMAPFlagTooManyAttachments} {
		if !slices.Contains(p.in.Flags, f) {
			t.Errorf("flags %q lack %q", p.in.Flags, f)
		}
	}
	if !strings.Contains(p.in.Body, `[Attachment "p3.png" was dropped: the mail has more than 2 attachments.]`) {
		t.Errorf("body lacks the note on the dropped attachment:\n%s", p.in.Body[len(p.in.Body)-300:])
	}
	if len(p.in.Attachments) != 2 || p.in.Attachments[0].Name != "p0.png" {
		t.Errorf("attachments %+v", p.in.Attachments)
	}

	// A mail over the mail size limit: its start, no attachments.
	p = imapParse(imapFixture(t, "photo-attachment.eml"), imapLimits{body: 4096, attBytes: 1 << 20, atts: 5, size: 50 << 20, maxMail: 36 << 20})
	if len(p.in.Attachments) != 0 || !slices.Contains(p.in.Flags, IMAPFlagTooLarge) ||
		!strings.Contains(p.in.Body, "The mail is 50.0 MB, over the limit of 36.0 MB") || !strings.Contains(p.in.Body, "siehe Foto") {
		t.Errorf("too large mail: flags %q, %d attachments, body:\n%s", p.in.Flags, len(p.in.Attachments), p.in.Body)
	}
}

// A mail cut at the mail size limit in the middle of an attachment keeps
// its text, not its raw form.
func TestIMAPParseCut(t *testing.T) {
	raw := imapFixture(t, "oversized-attachment.eml")
	p := imapParse(raw[:8<<10], imapLimits{body: 4096, attBytes: 1 << 20, atts: 5, size: int64(len(raw)), maxMail: 8 << 10})
	if !slices.Equal(p.in.Flags, []string{IMAPFlagTooLarge}) || len(p.in.Attachments) != 0 ||
		!strings.Contains(p.in.Body, "welke servo ik nodig heb?") || strings.Contains(p.in.Body, "Content-Type") {
		t.Errorf("flags %q, %d attachments, body:\n%s", p.in.Flags, len(p.in.Attachments), p.in.Body)
	}
}

func TestIMAPBoxUUID(t *testing.T) {
	for id, want := range map[string]string{
		"counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.7@counterdesk.invalid":  "3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21",
		"counterdesk.3F0C6A3E-8B1D-4C55-9A47-2F1E0D9B7C21.12@shop.example":        "3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21",
		"counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21@counterdesk.invalid":    "",
		"counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.x7@counterdesk.invalid": "",
		"8f3c2a91-5d4e-4b7a-9e61-0c2f7d1a9b33@example.de":                         "",
		"counterdesk.zzzz6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.7@x":                    "",
	} {
		got, ok := imapBoxUUID(id)
		if got != want || ok != (want != "") {
			t.Errorf("imapBoxUUID(%q) = %q, %v; want %q", id, got, ok, want)
		}
	}
	for s, want := range map[string]uint64{
		"Re: Propeller [#1042]":        1042,
		"AW: Re: [#7] und [#1043]":     1043,
		"Bestellung #1042":             0,
		"[#99999999999999999999] Spam": 0,
		"Fwd: Re: Ersatzteil [#1001] ": 1001,
	} {
		if got := imapSubjectRef(s); got != want {
			t.Errorf("imapSubjectRef(%q) = %d, want %d", s, got, want)
		}
	}
}

func TestIMAPHTMLText(t *testing.T) {
	for in, want := range map[string]string{
		`<p>a</p><p>b</p>`:                       "a\n\nb",
		`x<br>y`:                                 "x\ny",
		`<a href="https://e.example/x">Shop</a>`: "Shop (https://e.example/x)",
		`<a href="https://e.example/x">https://e.example/x</a>`:           "https://e.example/x",
		`<a href="javascript:alert(1)">click</a>`:                         "click",
		`<script>alert(1)</script>ok`:                                     "ok",
		`<img src="x" alt="Logo"> Text`:                                   "[Logo] Text",
		`&lt;script&gt;`:                                                  "<script>",
		`<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>`: "a b\nc",
		`<!-- hidden --><style>p{}</style>shown`:                          "shown",
	} {
		if got := strings.TrimSpace(imapHTMLText(in, 1000)); got != want {
			t.Errorf("imapHTMLText(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzIMAPParse feeds the mail parser arbitrary bytes: it must never
// panic, and what it returns must be valid UTF-8, within the limits, and
// accepted by the Desk.
func FuzzIMAPParse(f *testing.F) {
	names, _ := filepath.Glob(filepath.Join("testdata", "imap", "*.eml"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(imapCRLF(b))
	}
	f.Add([]byte("Subject: =?x-unknown?Q?abc?=\r\nContent-Type: text/plain; charset=x-unknown\r\n\r\n\xff\xfe"))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Transfer-Encoding: base64\r\nContent-Type: application/zip\r\n\r\n!!!!\r\n--a--"))
	f.Add([]byte("Content-Type: text/html\r\n\r\n<script>a</script><p>b"))
	lim := imapLimits{body: 2048, attBytes: 512, atts: 2, maxMail: 4096}
	tl := ticket.Limits{MaxMessageBytes: lim.body, MaxAttachmentBytes: lim.attBytes, MaxAttachments: lim.atts}
	f.Fuzz(func(t *testing.T, raw []byte) {
		for _, l := range []imapLimits{lim, {body: lim.body, attBytes: lim.attBytes, atts: lim.atts, maxMail: 4096, size: int64(len(raw)) + 4096}} {
			p := imapParse(raw, l)
			if err := p.in.Validate(tl); err != nil {
				t.Fatalf("the Desk would refuse it: %v\n%+v", err, p.in)
			}
			if slices.Contains(p.in.Flags, IMAPFlagRaw) {
				// A malformed mail keeps its raw source: attached
				// when whole and small enough, else the body says so.
				attached := len(p.in.Attachments) == 1 && p.in.Attachments[0].Name == imapOriginalName &&
					p.in.Attachments[0].ContentType == imapOriginalType && bytes.Equal(p.in.Attachments[0].Data, raw)
				fits := l.size == 0 && len(raw) > 0 && int64(len(raw)) <= l.attBytes
				if attached != fits {
					t.Fatalf("raw mail of %d bytes (size %d): attached %v, want %v; attachments %d", len(raw), l.size, attached, fits, len(p.in.Attachments))
				}
				if !fits && len(raw) > 0 && !strings.Contains(p.in.Body, "not attached") {
					t.Fatalf("raw mail not attached, and the body does not say so:\n%s", p.in.Body)
				}
			}
			if p.bounce != nil {
				if !slices.Contains(p.in.Flags, IMAPFlagBounce) || !slices.Contains(p.in.Flags, IMAPFlagAutoReply) {
					t.Fatalf("bounce flags %q", p.in.Flags)
				}
				if p.bounce.original != "" && (len(p.refs) == 0 || p.refs[0] != p.bounce.original) {
					t.Fatalf("bounce of %q, refs %q", p.bounce.original, p.refs)
				}
			}
			if len(p.refs) > imapMaxRefs {
				t.Fatalf("%d refs", len(p.refs))
			}
			for _, r := range p.refs {
				if !utf8.ValidString(r) || len(r) >= imapMaxKey || r == "" {
					t.Fatalf("bad ref %q", r)
				}
			}
			for _, a := range p.in.Attachments {
				if strings.ContainsAny(a.Name, "/\\") || a.Name == "" {
					t.Fatalf("bad file name %q", a.Name)
				}
			}
		}
	})
}
