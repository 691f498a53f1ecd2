package mail

import (
	"bytes"
	"io"
	"regexp"
	"strings"
)

// IMAPFlagBounce marks a bounce: a delivery status notification (RFC 3464)
// or a mail server's plain-text report that a mail could not be delivered.
// A bounce is flagged "auto_reply" too; Meta "bounce_recipient",
// "bounce_action", "bounce_status", "bounce_diagnostic" and
// "bounce_message_id" say what it reports.
const IMAPFlagBounce = "bounce"

// Bounds of the bounce reader.
const (
	// imapReportBytes is how much of a report part (the delivery status,
	// the returned headers or mail) is read for the bounce; the rest of
	// the part is read as an attachment as usual.
	imapReportBytes = 64 << 10
	// imapMaxDSNGroups bounds the field groups read from a delivery
	// status: the per-message group and one per recipient.
	imapMaxDSNGroups = 100
	// imapMaxDSNFields bounds the fields of one group.
	imapMaxDSNFields = 50
)

// imapBounce is what a bounce says about the mail it returns.
type imapBounce struct {
	// original is the Message-ID of the returned mail, without angle
	// brackets; "" when the bounce quotes none.
	original string
	// recipient, action, status and diagnostic are the per-recipient
	// fields of the first failed recipient (else the first one): the
	// address without its type, the action in lower case ("failed",
	// "delayed" ...), the RFC 3463 status code ("5.1.1"), and the
	// remote server's answer without its type ("550 5.1.1 <a@b>: ...").
	recipient, action, status, diagnostic string
	// failed is true when delivery failed for good: the action is
	// "failed", or there is none and the status is 5.x.x. A delayed
	// delivery (action "delayed", status 4.x.x) is not failed.
	failed bool
}

// detail is the line the ticket shows on the bounced message, such as
// "bounced: 550 5.1.1 <a@example.com>: user unknown".
func (b *imapBounce) detail() string {
	why := b.diagnostic
	if why == "" {
		why = b.status
	}
	s := "bounced"
	if b.recipient != "" && !strings.Contains(strings.ToLower(why), strings.ToLower(b.recipient)) {
		s += " for " + b.recipient
	}
	if why != "" {
		s += ": " + why
	}
	return imapCleanLine(s, imapMaxMeta)
}

// imapReportParts keeps the start of the parts of a delivery report as
// imapBody walks past them: the machine-readable status and the headers
// of the returned mail (RFC 3464 section 2, RFC 6522).
type imapReportParts struct {
	status  []byte // the first message/delivery-status part
	headers []byte // the first text/rfc822-headers or message/rfc822 part
}

// imapErrReader returns err, after the bytes a tap already read.
type imapErrReader struct{ err error }

func (r imapErrReader) Read([]byte) (int, error) { return 0, r.err }

// tap reads the start of a part of content type ct when it is one a
// delivery report carries, and returns a reader that gives the whole
// part again, so the part is still stored as an attachment.
func (rp *imapReportParts) tap(ct string, body io.Reader) io.Reader {
	var dst *[]byte
	switch ct {
	case "message/delivery-status", "message/global-delivery-status":
		dst = &rp.status
	case "text/rfc822-headers", "message/global-headers", "message/rfc822", "message/global":
		dst = &rp.headers
	default:
		return body
	}
	if *dst != nil {
		return body
	}
	b, err := io.ReadAll(io.LimitReader(body, imapReportBytes))
	if b == nil {
		b = []byte{}
	}
	*dst = b
	if err != nil {
		return io.MultiReader(bytes.NewReader(b), imapErrReader{err})
	}
	return io.MultiReader(bytes.NewReader(b), body)
}

var (
	// imapQuotedMsgIDRE finds a Message-ID field at the start of a line,
	// possibly folded, possibly quoted with "> ".
	imapQuotedMsgIDRE = regexp.MustCompile(`(?im)^[ \t>]*Message-ID:[ \t]*(?:\r?\n[ \t>]+)?<([^<>\s]{1,500})>`)
	// imapStatusRE is an RFC 3463 enhanced status code.
	imapStatusRE = regexp.MustCompile(`\b([245])\.([0-9]{1,3})\.([0-9]{1,3})\b`)
	// imapSMTPCodeRE is an SMTP reply code (RFC 5321 section 4.2)
	// followed by an enhanced status code, where a reply is quoted.
	imapSMTPCodeRE = regexp.MustCompile(`\b[45][0-9]{2}[ -][245]\.[0-9]{1,3}\.[0-9]{1,3}\b`)
	// imapSMTPReplyRE is a line that starts with an SMTP reply code.
	imapSMTPReplyRE = regexp.MustCompile(`(?m)^[ \t>]*[45][0-9][0-9][ -].*$`)
	// imapQmailRcptRE is the "<address>:" line qmail writes before the
	// reason a recipient failed.
	imapQmailRcptRE = regexp.MustCompile(`(?m)^<([^<>\s@]{1,64}@[^<>\s]{1,255})>:[ \t]*\r?$`)
)

// imapMailDaemon reports whether a sender address is a mail server's own:
// the local part MAILER-DAEMON or postmaster (RFC 5321 section 4.5.1).
func imapMailDaemon(from string) bool {
	local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(from)), "@")
	return local == "mailer-daemon" || local == "postmaster"
}

// imapBounceOf recognises a bounce. A mail is one when it is a
// multipart/report with report-type delivery-status (RFC 6522, RFC 3464;
// global-delivery-status of RFC 6533 too), or comes from MAILER-DAEMON or
// postmaster and carries a delivery status part, or (a non-standard
// bounce such as qmail's) comes from one of them and quotes the returned
// mail's Message-ID in its text. ct and params are the mail's content
// type, from its sender's address, failed the X-Failed-Recipients field,
// body the text read from the mail. It returns nil when the mail is no
// bounce.
func imapBounceOf(ct string, params map[string]string, from, failed, body string, rep *imapReportParts) *imapBounce {
	rt := strings.ToLower(strings.TrimSpace(params["report-type"]))
	report := ct == "multipart/report" && (rt == "delivery-status" || rt == "global-delivery-status")
	daemon := imapMailDaemon(from)
	var b *imapBounce
	switch {
	case rep.status != nil && (report || daemon):
		b = imapDSN(rep.status)
		if b.recipient == "" && b.status == "" && b.diagnostic == "" {
			// An empty or unreadable status part: read the text.
			t := imapTextBounce(body)
			t.original = b.original
			b = t
		}
	case report || daemon:
		b = imapTextBounce(body)
	default:
		return nil
	}
	// The returned mail's own header is better than a line in the text.
	if id := imapHeadersMsgID(rep.headers); id != "" {
		b.original = id
	}
	if !report && rep.status == nil && b.original == "" {
		// A mail from a mail server that quotes no mail of ours: a
		// notice, not a bounce (it is flagged auto_reply all the same).
		return nil
	}
	if b.recipient == "" && failed != "" {
		first, _, _ := strings.Cut(failed, ",")
		b.recipient = imapCleanLine(strings.Trim(strings.TrimSpace(first), "<>"), imapMaxEmail)
	}
	return b
}

// imapDSN reads the body of a message/delivery-status part (RFC 3464
// section 2): a group of per-message fields, then a group per recipient,
// groups separated by blank lines. It takes the first recipient whose
// delivery failed, else the first recipient. The original Message-ID is
// taken from the per-message field X-Original-Message-ID when a mail
// server (Gmail) writes it.
func imapDSN(b []byte) *imapBounce {
	out := &imapBounce{}
	var pick map[string]string
	for _, g := range imapDSNGroups(b) {
		if out.original == "" {
			if m := imapMsgIDRE.FindStringSubmatch(g["x-original-message-id"]); m != nil {
				out.original = imapCleanLine(m[1], imapMaxKey)
			}
		}
		if g["final-recipient"] == "" && g["original-recipient"] == "" && g["action"] == "" && g["status"] == "" {
			continue // the per-message group
		}
		if pick == nil {
			pick = g
		}
		if imapDSNFailed(imapDSNAction(g["action"]), imapDSNStatus(g["status"], g["diagnostic-code"])) && !imapDSNFailed(imapDSNAction(pick["action"]), imapDSNStatus(pick["status"], pick["diagnostic-code"])) {
			pick = g
		}
	}
	if len(out.original) >= imapMaxKey {
		out.original = ""
	}
	if pick == nil {
		return out
	}
	rcpt := pick["final-recipient"]
	if rcpt == "" {
		rcpt = pick["original-recipient"]
	}
	out.recipient = imapCleanLine(strings.Trim(imapDSNValue(rcpt), "<> "), imapMaxEmail)
	out.action = imapDSNAction(pick["action"])
	out.status = imapDSNStatus(pick["status"], pick["diagnostic-code"])
	out.diagnostic = imapCleanLine(imapDSNValue(pick["diagnostic-code"]), imapMaxMeta)
	out.failed = imapDSNFailed(out.action, out.status)
	return out
}

// imapDSNGroups splits delivery status fields into groups of lower-cased
// field names to unfolded values; the first of a repeated field wins. A
// field repeated in a group that already names a recipient starts a new
// group, for reports that forget the blank line between recipients.
func imapDSNGroups(b []byte) []map[string]string {
	var groups []map[string]string
	var cur map[string]string
	last := ""
	end := func() {
		if len(cur) > 0 {
			groups = append(groups, cur)
		}
		cur, last = nil, ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if len(groups) >= imapMaxDSNGroups {
			break
		}
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			end()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if cur != nil && last != "" && len(cur[last]) < imapMaxMeta {
				cur[last] += " " + strings.TrimSpace(line)
			}
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		name = strings.ToLower(strings.TrimSpace(name))
		if !ok || name == "" || strings.ContainsAny(name, " \t") {
			last = ""
			continue
		}
		if _, dup := cur[name]; dup && (cur["final-recipient"] != "" || cur["original-recipient"] != "") {
			end()
		}
		if cur == nil {
			cur = map[string]string{}
		}
		if _, dup := cur[name]; dup || len(cur) >= imapMaxDSNFields {
			last = ""
			continue
		}
		cur[name] = strings.TrimSpace(value)
		last = name
	}
	end()
	return groups
}

// imapDSNValue drops the type before the ";" of a typed field such as
// "rfc822; a@example.com" or "smtp; 550 5.1.1 ...".
func imapDSNValue(v string) string {
	if t, rest, ok := strings.Cut(v, ";"); ok && !strings.ContainsAny(strings.TrimSpace(t), " \t<>@") {
		v = rest
	}
	return strings.TrimSpace(v)
}

// imapDSNAction is the action of a recipient (RFC 3464 section 2.3.3),
// lower case, or "" when it is not one the RFC names.
func imapDSNAction(v string) string {
	f := strings.Fields(strings.ToLower(v))
	if len(f) == 0 {
		return ""
	}
	switch f[0] {
	case "failed", "delayed", "delivered", "relayed", "expanded":
		return f[0]
	}
	return ""
}

// imapDSNStatus is the RFC 3463 status code of a recipient from its
// Status field, else the first one in its Diagnostic-Code.
func imapDSNStatus(status, diag string) string {
	if m := imapStatusRE.FindString(status); m != "" {
		return m
	}
	return imapStatusRE.FindString(diag)
}

// imapDSNFailed reports whether an action and status say the delivery
// failed for good.
func imapDSNFailed(action, status string) bool {
	switch action {
	case "failed":
		return true
	case "":
		return strings.HasPrefix(status, "5.")
	}
	return false
}

// imapHeadersMsgID returns the Message-ID in the header block of the
// returned mail or its headers (the text up to the first blank line).
func imapHeadersMsgID(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	if i := bytes.Index(b, []byte("\n\n")); i >= 0 {
		b = b[:i+1]
	}
	if i := bytes.Index(b, []byte("\r\n\r\n")); i >= 0 {
		b = b[:i+2]
	}
	m := imapQuotedMsgIDRE.FindSubmatch(b)
	if m == nil {
		return ""
	}
	id := imapCleanLine(string(m[1]), imapMaxKey)
	if len(id) >= imapMaxKey {
		return ""
	}
	return id
}

// imapTextBounce reads a bounce written as text only, as qmail, old
// Exim and many appliances write them: the returned mail's Message-ID
// from a quoted "Message-ID:" line, the recipient from qmail's
// "<address>:" line, the reason from the lines after it or the first
// SMTP reply quoted, and whether it failed from the status code or the
// words of the text.
func imapTextBounce(body string) *imapBounce {
	b := &imapBounce{}
	if m := imapQuotedMsgIDRE.FindStringSubmatch(body); m != nil {
		if id := imapCleanLine(m[1], imapMaxKey); len(id) < imapMaxKey {
			b.original = id
		}
	}
	if loc := imapQmailRcptRE.FindStringSubmatchIndex(body); loc != nil {
		b.recipient = imapCleanLine(body[loc[2]:loc[3]], imapMaxEmail)
		// The reason is the block of lines after it.
		rest := body[loc[1]:]
		rest = strings.TrimLeft(rest, "\r\n")
		if i := strings.Index(rest, "\n\n"); i >= 0 {
			rest = rest[:i]
		}
		b.diagnostic = imapCleanLine(imapTruncate(rest, 4*imapMaxMeta), imapMaxMeta)
	}
	if b.diagnostic == "" {
		// The server's reply, from its code to the end of the line.
		if loc := imapSMTPCodeRE.FindStringIndex(body); loc != nil {
			line, _, _ := strings.Cut(body[loc[0]:], "\n")
			b.diagnostic = imapCleanLine(imapTruncate(line, 4*imapMaxMeta), imapMaxMeta)
		} else if m := imapSMTPReplyRE.FindString(body); m != "" {
			b.diagnostic = imapCleanLine(imapTruncate(m, 4*imapMaxMeta), imapMaxMeta)
		}
	}
	b.status = imapStatusRE.FindString(b.diagnostic)
	if b.status == "" {
		b.status = imapStatusRE.FindString(body)
	}
	text := strings.ToLower(body)
	switch {
	case strings.HasPrefix(b.status, "4.") || imapContainsAny(text,
		"warning only", "will be retried", "will continue trying", "still trying", "will keep trying",
		"not yet been delivered", "delivery has been delayed", "delivery delayed"):
		b.action = "delayed"
	case strings.HasPrefix(b.status, "5.") || imapContainsAny(text,
		"permanent error", "permanent failure", "permanently", "given up", "gave up",
		"could not be delivered", "couldn't be delivered", "wasn't able to deliver", "undeliverable"):
		b.action = "failed"
	}
	b.failed = imapDSNFailed(b.action, b.status)
	return b
}

func imapContainsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// imapApplyBounce records a bounce on a parsed mail: the flags "bounce"
// and "auto_reply", what it reports in Meta, and the returned mail's
// Message-ID first among the ids tried for threading, so that a bounce of
// a box mail ("counterdesk.UUID.MSGID@HOST") joins its ticket.
func imapApplyBounce(p *imapParsed, b *imapBounce) {
	in := &p.in
	in.Flags = imapAddFlag(in.Flags, IMAPFlagAutoReply)
	in.Flags = imapAddFlag(in.Flags, IMAPFlagBounce)
	if in.Meta["auto_submitted"] == "" {
		in.Meta["auto_submitted"] = "bounce"
	}
	for k, v := range map[string]string{
		"bounce_recipient":  b.recipient,
		"bounce_action":     b.action,
		"bounce_status":     b.status,
		"bounce_diagnostic": b.diagnostic,
		"bounce_message_id": b.original,
	} {
		if v = imapCleanLine(v, imapMaxMeta); v != "" {
			in.Meta[k] = v
		}
	}
	p.bounce = b
	if b.original == "" {
		return
	}
	refs := []string{b.original}
	for _, id := range p.refs {
		if id != b.original && len(refs) < imapMaxRefs {
			refs = append(refs, id)
		}
	}
	p.refs = refs
}
