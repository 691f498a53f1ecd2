package mail

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/ticket"
)

// imapBounceWant is what a bounce fixture must report.
type imapBounceWant struct {
	original, recipient, action, status, diagnostic string
	failed                                          bool
	detail                                          string
}

var imapBounceWants = map[string]imapBounceWant{
	// Postfix, RFC 3464 with the returned mail as message/rfc822.
	"bounce-postfix-dsn.eml": {
		original:   "counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.9@modellbau-hartmann.example",
		recipient:  "jonas.becker@example.de",
		action:     "failed",
		status:     "5.1.1",
		diagnostic: "550 5.1.1 <jonas.becker@example.de>: Recipient address rejected: User unknown in virtual mailbox table",
		failed:     true,
		detail:     "bounced: 550 5.1.1 <jonas.becker@example.de>: Recipient address rejected: User unknown in virtual mailbox table",
	},
	// Exchange: no Auto-Submitted, a sender that is neither
	// MAILER-DAEMON nor postmaster; the multipart/report says it all.
	"bounce-exchange-ndr.eml": {
		original:   "counterdesk.5b7d2e10-6c4a-4f3e-9d21-8a0b1c2d3e4f.14@modellbau-hartmann.example",
		recipient:  "m.weiss@example.net",
		action:     "failed",
		status:     "5.1.10",
		diagnostic: "550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
		failed:     true,
		detail:     "bounced for m.weiss@example.net: 550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
	},
	// Gmail: the headers only (text/rfc822-headers).
	"bounce-gmail.eml": {
		original:   "counterdesk.c4f1e8a2-7d3b-4b9c-a6e5-0f1d2c3b4a59.3@modellbau-hartmann.example",
		recipient:  "lena.huber@example.at",
		action:     "failed",
		status:     "5.1.1",
		diagnostic: "550 5.1.1 <lena.huber@example.at>: Recipient address rejected: User unknown in local recipient table",
		failed:     true,
		detail:     "bounced: 550 5.1.1 <lena.huber@example.at>: Recipient address rejected: User unknown in local recipient table",
	},
	// A warning: flagged, threaded, not failed.
	"bounce-delayed-dsn.eml": {
		original:   "counterdesk.7e2a9c41-3b5d-4e6f-8a1b-2c3d4e5f6a7b.5@modellbau-hartmann.example",
		recipient:  "ibrahim.sahin@example.com.tr",
		action:     "delayed",
		status:     "4.4.1",
		diagnostic: "connect to mx.example.com.tr[203.0.113.40]:25: Connection timed out",
		detail:     "bounced for ibrahim.sahin@example.com.tr: connect to mx.example.com.tr[203.0.113.40]:25: Connection timed out",
	},
	// qmail: text only, the returned mail quoted below a line.
	"bounce-qmail.eml": {
		original:   "counterdesk.9a8b7c6d-5e4f-4a3b-9c2d-1e0f9a8b7c6d.21@modellbau-hartmann.example",
		recipient:  "kurt.schulze@example.org",
		action:     "failed",
		status:     "5.1.1",
		diagnostic: "Sorry, no mailbox here by that name. (#5.1.1)",
		failed:     true,
		detail:     "bounced for kurt.schulze@example.org: Sorry, no mailbox here by that name. (#5.1.1)",
	},
}

func TestIMAPBounceFixtures(t *testing.T) {
	for name, w := range imapBounceWants {
		t.Run(name, func(t *testing.T) {
			p := imapParse(imapFixture(t, name), imapTestLimits)
			b := p.bounce
			if b == nil {
				t.Fatalf("not recognised as a bounce; flags %q meta %q", p.in.Flags, p.in.Meta)
			}
			got := imapBounceWant{b.original, b.recipient, b.action, b.status, b.diagnostic, b.failed, b.detail()}
			if got != w {
				t.Errorf("bounce\n got %+v\nwant %+v", got, w)
			}
			for k, v := range map[string]string{
				"bounce_message_id": w.original, "bounce_recipient": w.recipient, "bounce_action": w.action,
				"bounce_status": w.status, "bounce_diagnostic": w.diagnostic,
			} {
				if p.in.Meta[k] != v {
					t.Errorf("meta %s = %q, want %q", k, p.in.Meta[k], v)
				}
			}
			if len(p.refs) == 0 || p.refs[0] != w.original {
				t.Errorf("refs %q: the returned mail's Message-ID is not tried first", p.refs)
			}
			uuid, id, ok := imapBoxID(w.original)
			if !ok || len(uuid) != 36 || id == 0 {
				t.Errorf("imapBoxID(%q) = %q, %d, %v", w.original, uuid, id, ok)
			}
			if !slices.Contains(p.in.Flags, IMAPFlagBounce) || !slices.Contains(p.in.Flags, IMAPFlagAutoReply) {
				t.Errorf("flags %q", p.in.Flags)
			}
		})
	}
}

// Mails that look a little like bounces but are not: no refs are added
// and nothing is flagged "bounce".
func TestIMAPNotBounces(t *testing.T) {
	forward := "From: Lena Huber <lena.huber@example.at>\r\nTo: service@modellbau-hartmann.example\r\n" +
		"Subject: Fwd: Ihre Rechnung\r\nMessage-ID: <fwd.1@example.at>\r\nDate: Fri, 24 May 2024 10:00:00 +0200\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n" +
		"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nDie Rechnung stimmt nicht, siehe unten.\r\n" +
		"--b\r\nContent-Type: message/rfc822\r\n\r\nFrom: buchhaltung@example.com\r\nSubject: Rechnung 4711\r\n" +
		"Message-ID: <rechnung.4711@example.com>\r\n\r\nAnbei die Rechnung.\r\n--b--\r\n"
	receipt := "From: Peter Keller <p.keller@example.ch>\r\nTo: service@modellbau-hartmann.example\r\n" +
		"Subject: Gelesen: Ihre Bestellung [#1051]\r\nMessage-ID: <mdn.1@example.ch>\r\nDate: Fri, 24 May 2024 10:00:00 +0200\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: multipart/report; report-type=disposition-notification; boundary=r\r\n\r\n" +
		"--r\r\nContent-Type: text/plain\r\n\r\nIhre Nachricht wurde gelesen.\r\n" +
		"--r\r\nContent-Type: message/disposition-notification\r\n\r\nFinal-Recipient: rfc822; p.keller@example.ch\r\n" +
		"Original-Message-ID: <counterdesk.0b1c2d3e-4f50-4a6b-8c7d-9e0f1a2b3c4d.12@counterdesk.invalid>\r\n" +
		"Disposition: manual-action/MDN-sent-manually; displayed\r\n--r--\r\n"
	notice := "From: postmaster@example.org\r\nTo: service@modellbau-hartmann.example\r\n" +
		"Subject: Wartungsarbeiten\r\nMessage-ID: <notice.1@example.org>\r\nDate: Fri, 24 May 2024 10:00:00 +0200\r\n\r\n" +
		"Am Samstag ist der Mailserver von 2 bis 4 Uhr nicht erreichbar.\r\n"
	for name, c := range map[string]struct {
		raw        string
		autoReply  string // Meta auto_submitted, "" for a person's mail
		refs       []string
		attachment string
	}{
		"forwarded mail": {raw: forward, attachment: "mail-1.eml"},
		"read receipt":   {raw: receipt, autoReply: "report disposition-notification"},
		"postmaster notice without a returned mail": {raw: notice, autoReply: "from postmaster"},
	} {
		t.Run(name, func(t *testing.T) {
			p := imapParse([]byte(c.raw), imapTestLimits)
			if p.bounce != nil || slices.Contains(p.in.Flags, IMAPFlagBounce) {
				t.Errorf("taken for a bounce: %+v, flags %q", p.bounce, p.in.Flags)
			}
			if len(p.refs) != 0 {
				t.Errorf("refs %q", p.refs)
			}
			if got := p.in.Meta["auto_submitted"]; got != c.autoReply {
				t.Errorf("auto_submitted %q, want %q", got, c.autoReply)
			}
			if slices.Contains(p.in.Flags, IMAPFlagAutoReply) != (c.autoReply != "") {
				t.Errorf("flags %q", p.in.Flags)
			}
			if c.attachment != "" && (len(p.in.Attachments) != 1 || p.in.Attachments[0].Name != c.attachment) {
				t.Errorf("attachments %+v", p.in.Attachments)
			}
		})
	}
}

func TestIMAPDSNFields(t *testing.T) {
	for name, c := range map[string]struct {
		dsn  string
		want imapBounceWant
	}{
		// Two recipients, the first delivered: the failed one is
		// reported. Field names in any case, values folded.
		"second recipient failed": {
			dsn: "Reporting-MTA: dns; mx.example.org\r\n\r\n" +
				"Final-Recipient: rfc822; anna@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n" +
				"final-recipient: RFC822;\r\n bert@example.org\r\nACTION: Failed\r\nStatus: 5.2.2 (mailbox full)\r\n" +
				"Diagnostic-Code: smtp; 552 5.2.2 Mailbox full\r\n",
			want: imapBounceWant{recipient: "bert@example.org", action: "failed", status: "5.2.2", diagnostic: "552 5.2.2 Mailbox full", failed: true},
		},
		// No blank line between the recipients.
		"recipients run together": {
			dsn: "Final-Recipient: rfc822; anna@example.org\nAction: delayed\nStatus: 4.4.7\n" +
				"Final-Recipient: rfc822; bert@example.org\nAction: failed\nStatus: 5.4.7\n",
			want: imapBounceWant{recipient: "bert@example.org", action: "failed", status: "5.4.7", failed: true},
		},
		// No action: the status decides; the per-message group names
		// the returned mail (as Gmail writes it).
		"status only": {
			dsn: "X-Original-Message-ID: <orig.7@example.org>\n\nOriginal-Recipient: rfc822;<carl@example.org>\nStatus: 5.7.1\n" +
				"Diagnostic-Code: smtp;550 5.7.1 Message rejected as spam\n",
			want: imapBounceWant{original: "orig.7@example.org", recipient: "carl@example.org", status: "5.7.1", diagnostic: "550 5.7.1 Message rejected as spam", failed: true},
		},
		// A 4.x.x status is no failure without Action: failed.
		"temporary": {
			dsn:  "Final-Recipient: rfc822; dora@example.org\nStatus: 4.2.2\n",
			want: imapBounceWant{recipient: "dora@example.org", status: "4.2.2"},
		},
		// The status in the diagnostic when Status is missing or odd.
		"status from the diagnostic": {
			dsn:  "Final-Recipient: rfc822; emil@example.org\nAction: failed\nStatus: unknown\nDiagnostic-Code: smtp; 550 5.1.1 no such user\n",
			want: imapBounceWant{recipient: "emil@example.org", action: "failed", status: "5.1.1", diagnostic: "550 5.1.1 no such user", failed: true},
		},
		"empty": {dsn: "", want: imapBounceWant{}},
		"garbage": {
			dsn:  "\x00\xff: \n: x\n  folded without a field\nno colon here\n",
			want: imapBounceWant{},
		},
	} {
		t.Run(name, func(t *testing.T) {
			b := imapDSN([]byte(c.dsn))
			got := imapBounceWant{b.original, b.recipient, b.action, b.status, b.diagnostic, b.failed, ""}
			if got != c.want {
				t.Errorf("\n got %+v\nwant %+v", got, c.want)
			}
		})
	}
}

// A non-standard bounce that says it only delays the mail is flagged and
// threaded, and is not a failure.
func TestIMAPTextBounceDelayed(t *testing.T) {
	raw := "From: MAILER-DAEMON@relay.example.net\r\nTo: service@modellbau-hartmann.example\r\n" +
		"Subject: Warning: message delayed\r\nDate: Fri, 24 May 2024 10:00:00 +0200\r\n\r\n" +
		"Your message has not yet been delivered to the recipients below. The mail system will keep trying.\r\n\r\n" +
		"  anna@example.org\r\n    host mx.example.org: 451 4.3.0 Try again later\r\n\r\n" +
		"------ This is a copy of the message's headers. ------\r\n\r\n" +
		"> Message-Id:\r\n>  <counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.11@shop.example>\r\n"
	p := imapParse([]byte(raw), imapTestLimits)
	if p.bounce == nil {
		t.Fatalf("not a bounce: flags %q", p.in.Flags)
	}
	b := p.bounce
	if b.failed || b.action != "delayed" || b.status != "4.3.0" ||
		b.original != "counterdesk.3f0c6a3e-8b1d-4c55-9a47-2f1e0d9b7c21.11@shop.example" {
		t.Errorf("bounce %+v", *b)
	}
	if !strings.Contains(b.diagnostic, "451 4.3.0 Try again later") {
		t.Errorf("diagnostic %q", b.diagnostic)
	}
}

// A malformed mail keeps its raw source as an attachment when it fits,
// and says so in the body when it does not.
func TestIMAPRawOriginal(t *testing.T) {
	raw := imapFixture(t, "broken-mime.eml")
	p := imapParse(raw, imapTestLimits)
	if len(p.in.Attachments) != 1 {
		t.Fatalf("attachments %+v", p.in.Attachments)
	}
	a := p.in.Attachments[0]
	if a.Name != "original.eml" || a.ContentType != "message/rfc822" || !bytes.Equal(a.Data, raw) {
		t.Errorf("attachment %s %s, %d bytes, want the %d raw bytes", a.Name, a.ContentType, len(a.Data), len(raw))
	}
	lim := imapTestLimits
	if err := p.in.Validate(ticket.Limits{MaxMessageBytes: lim.body, MaxAttachmentBytes: lim.attBytes, MaxAttachments: lim.atts}); err != nil {
		t.Errorf("the Desk would refuse it: %v", err)
	}

	lim.attBytes = 100
	p = imapParse(raw, lim)
	if len(p.in.Attachments) != 0 || !strings.HasSuffix(p.in.Body, "[The original mail (576 bytes) is over the attachment limit of 100 bytes, so it is not attached. It stays on the mail server.]") {
		t.Errorf("%d attachments, body:\n%s", len(p.in.Attachments), p.in.Body)
	}
	if !strings.Contains(p.in.Body, "haben Sie die Graupner mc-20 noch vorrätig?") {
		t.Errorf("the body lost the raw text:\n%s", p.in.Body)
	}

	// Not even a header: raw, attached.
	junk := []byte("\x00\x01 this is no mail at all\xff")
	p = imapParse(junk, imapTestLimits)
	if !slices.Equal(p.in.Flags, []string{IMAPFlagRaw}) || len(p.in.Attachments) != 1 || !bytes.Equal(p.in.Attachments[0].Data, junk) {
		t.Errorf("flags %q, attachments %+v", p.in.Flags, p.in.Attachments)
	}
}

// FuzzIMAPDeliveryStatus feeds the delivery status reader arbitrary
// bytes: it must never panic, and what it returns must be bounded,
// single-line UTF-8 fit for Meta.
func FuzzIMAPDeliveryStatus(f *testing.F) {
	for name := range imapBounceWants {
		raw := imapFixture(f, name)
		if i := bytes.Index(raw, []byte("Content-Type: message/delivery-status")); i >= 0 {
			f.Add(raw[i+len("Content-Type: message/delivery-status"):])
		}
		f.Add(raw)
	}
	f.Add([]byte("Final-Recipient: rfc822; a@b\nAction: failed\n Status: 5.1.1\n\nFinal-Recipient: x\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, bn := range []*imapBounce{imapDSN(b), imapTextBounce(string(b))} {
			for _, v := range []string{bn.original, bn.recipient, bn.action, bn.status, bn.diagnostic, bn.detail()} {
				if !utf8.ValidString(v) || len(v) > imapMaxMeta || strings.ContainsAny(v, "\r\n\x00") {
					t.Fatalf("bad value %q", v)
				}
			}
			if len(bn.original) >= imapMaxKey {
				t.Fatalf("original of %d bytes", len(bn.original))
			}
			if bn.failed && bn.action != "failed" && !(bn.action == "" && strings.HasPrefix(bn.status, "5.")) {
				t.Fatalf("failed with action %q status %q", bn.action, bn.status)
			}
		}
		if id := imapHeadersMsgID(b); strings.ContainsAny(id, "<> \r\n") || len(id) >= imapMaxKey {
			t.Fatalf("bad Message-ID %q", id)
		}
	})
}
