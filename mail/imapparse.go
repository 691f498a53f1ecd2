package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/emersion/go-message"
	// The charset package teaches go-message the charsets of real mail
	// (ISO-8859-*, Windows-125x, KOI8-R, Shift_JIS ...); importing it sets
	// message.CharsetReader.
	_ "github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"
)

// Flags the IMAP receiver sets on an Inbound (ticket.Inbound.Flags).
const (
	// IMAPFlagRaw marks a mail that could not be parsed: its body is the
	// start of the raw text, and the whole mail as it came is attached as
	// "original.eml" (message/rfc822) when it fits the attachment limit.
	IMAPFlagRaw = "raw"
	// IMAPFlagAutoReply marks a mail a machine sent (RFC 3834
	// Auto-Submitted, Precedence bulk/list/junk, X-Autoreply, List-Id, a
	// multipart/report such as a bounce or a read receipt, or a
	// MAILER-DAEMON/postmaster/no-reply sender). Notifications must not
	// answer it, and it is ingested as ticket.Inbound.Automatic: it joins
	// the ticket it threads onto and opens none.
	IMAPFlagAutoReply = "auto_reply"
	// IMAPFlagAttachmentTooLarge marks a mail with an attachment over
	// the size limit; the attachment was dropped and the body says so.
	IMAPFlagAttachmentTooLarge = "attachment_too_large"
	// IMAPFlagTooManyAttachments marks a mail with more attachments than
	// the limit; the rest were dropped and the body says so.
	IMAPFlagTooManyAttachments = "too_many_attachments"
	// IMAPFlagAttachmentBroken marks an attachment whose encoding was
	// broken; it was dropped and the body says so.
	IMAPFlagAttachmentBroken = "attachment_broken"
	// IMAPFlagTruncated marks a body cut at the size limit.
	IMAPFlagTruncated = "truncated"
	// IMAPFlagTooLarge marks a mail over the mail size limit: only its
	// start was read, without attachments; it stays in the mailbox.
	IMAPFlagTooLarge = "too_large"
	// IMAPFlagBadCharset marks text in a charset nobody knows; it is
	// kept with the bytes that are not UTF-8 replaced.
	IMAPFlagBadCharset = "bad_charset"
)

// Bounds of the parser that do not come from options.
const (
	// imapRawBody is how much of an unparsable mail is kept as its body.
	imapRawBody = 64 << 10
	// imapMaxHeader bounds the header block go-message reads.
	imapMaxHeader = 256 << 10
	// imapMaxParts bounds the MIME parts walked in one mail.
	imapMaxParts = 200
	// imapMaxRefs bounds the Message-IDs of In-Reply-To and References
	// looked up for threading.
	imapMaxRefs = 50
	// imapMaxMeta bounds one Meta value (ticket allows 1024 bytes).
	imapMaxMeta    = 1000
	imapMaxSubject = 998
	imapMaxName    = 200
	imapMaxEmail   = 254
	imapMaxFile    = 255
	imapMaxType    = 127
	imapMaxKey     = 500
	// imapHTMLFactor is how much more HTML than text is read from an
	// HTML part before it is reduced to text.
	imapHTMLFactor = 8
	// imapOriginalName and imapOriginalType name the attachment that
	// holds an unparsable mail as it came.
	imapOriginalName = "original.eml"
	imapOriginalType = "message/rfc822"
)

// imapLimits bound what one parsed mail may carry.
type imapLimits struct {
	body     int   // bytes of Body (ticket.Limits.MaxMessageBytes)
	attBytes int64 // bytes of one attachment
	atts     int   // number of attachments
	// size is the mail's full size when raw holds only its start
	// (the mail was over the mail size limit); 0 when raw is whole.
	size int64
	// maxMail is the mail size limit, for the note on a mail over it.
	maxMail int64
}

// imapParsed is a mail turned into an Inbound, with the Message-IDs it
// refers to, in the order they are tried for threading: In-Reply-To,
// then References from the most recent back.
type imapParsed struct {
	in   ticket.Inbound
	refs []string
	// bounce is what the mail reports when it is a bounce; nil else.
	// The returned mail's Message-ID, when it names one, is refs[0].
	bounce *imapBounce
}

var imapSubjectRefRE = regexp.MustCompile(`\[#([0-9]{1,18})\]`)

// imapParse turns the raw bytes of a mail (RFC 5322, MIME per RFC 2045 to
// 2049) into an Inbound for Desk.Ingest. It never fails: a mail it cannot
// read is kept raw with the flag "raw". Everything it returns is valid
// UTF-8 and within lim, so that ticket.Inbound.Validate accepts it.
func imapParse(raw []byte, lim imapLimits) imapParsed {
	p := imapParsed{in: ticket.Inbound{Channel: ticket.ChannelEmail, Meta: ticket.Meta{}}}
	e, err := message.ReadWithOptions(bytes.NewReader(raw), &message.ReadOptions{MaxHeaderBytes: imapMaxHeader})
	if e == nil {
		// Not even a header: keep it all raw.
		p.in.SourceKey = imapHashKey(raw)
		imapRaw(&p.in, raw, lim)
		return p
	}
	h := gomail.Header{Header: e.Header}
	imapHeader(&p, h, raw)
	if err != nil && message.IsUnknownEncoding(err) {
		imapRaw(&p.in, raw, lim)
		return p
	}
	ct, params, _ := e.Header.ContentType()
	whole := lim
	if lim.size > 0 {
		// Only the start of the mail is here: its attachments are cut
		// off, so none are read.
		lim.atts = -1
	}
	var rep imapReportParts
	if !imapBody(&p.in, e, lim, &rep) {
		imapRaw(&p.in, raw, whole)
		return p
	}
	from := p.in.From.Email
	if from == "" {
		from = p.in.Meta["from"]
	}
	if b := imapBounceOf(strings.ToLower(ct), params, from, h.Get("X-Failed-Recipients"), p.in.Body, &rep); b != nil {
		imapApplyBounce(&p, b)
	}
	if lim.size > 0 {
		p.in.Flags = imapAddFlag(p.in.Flags, IMAPFlagTooLarge)
		p.in.Body = imapAppendNote(p.in.Body, fmt.Sprintf(
			"[The mail is %s, over the limit of %s: only its start was read, without attachments. The whole mail stays in the mailbox.]",
			imapSize(lim.size), imapSize(lim.maxMail)), lim.body)
	}
	return p
}

// imapHeader reads the header fields of a mail into p.
func imapHeader(p *imapParsed, h gomail.Header, raw []byte) {
	in := &p.in
	if id, err := h.MessageID(); err == nil && id != "" {
		id = imapCleanLine(id, imapMaxKey)
		if id != "" && len(id) < imapMaxKey {
			in.SourceKey = id
			in.Meta["message_id"] = id
		}
	}
	if in.SourceKey == "" {
		in.SourceKey = imapHashKey(raw)
	}
	if t, err := h.Date(); err == nil && t.Year() > 1970 && t.Year() < 10000 {
		in.At = t
	}
	imapFrom(in, h)
	if s, err := h.Subject(); err == nil || s != "" {
		in.Subject = imapCleanLine(s, imapMaxSubject)
	}
	if rt := h.Get("Reply-To"); rt != "" {
		if l, err := h.AddressList("Reply-To"); err == nil && len(l) > 0 {
			rt = l[0].Address
		}
		in.Meta["reply_to"] = imapCleanLine(rt, imapMaxEmail)
	}
	irt := imapMsgIDs(h, "In-Reply-To")
	refs := imapMsgIDs(h, "References")
	if len(irt) > 0 {
		in.Meta["in_reply_to"] = imapJoinIDs(irt[:1])
	}
	if len(refs) > 0 {
		in.Meta["references"] = imapJoinIDs(refs)
	}
	// Threading tries In-Reply-To first, then References from the most
	// recent (the last) back.
	seen := map[string]bool{}
	for _, id := range irt {
		if !seen[id] && len(p.refs) < imapMaxRefs {
			seen[id] = true
			p.refs = append(p.refs, id)
		}
	}
	for i := len(refs) - 1; i >= 0; i-- {
		if id := refs[i]; !seen[id] && len(p.refs) < imapMaxRefs {
			seen[id] = true
			p.refs = append(p.refs, id)
		}
	}
	if why := imapAutoReply(h, in.From.Email); why != "" {
		in.Meta["auto_submitted"] = imapCleanLine(why, imapMaxMeta)
		in.Flags = imapAddFlag(in.Flags, IMAPFlagAutoReply)
	}
	for k, v := range in.Meta {
		if v == "" {
			delete(in.Meta, k)
		}
	}
}

// imapFrom sets in.From from the From field. An address the Desk would
// refuse is kept in Meta "from" instead, so the mail is still stored.
func imapFrom(in *ticket.Inbound, h gomail.Header) {
	if l, err := h.AddressList("From"); err == nil && len(l) > 0 {
		in.From.Name = imapCleanLine(l[0].Name, imapMaxName)
		addr := imapCleanLine(l[0].Address, imapMaxEmail+1)
		if a, err := netmail.ParseAddress(addr); err == nil && len(addr) <= imapMaxEmail && a.Address != "" {
			in.From.Email = addr
			return
		}
		if addr != "" {
			in.Meta["from"] = imapCleanLine(addr, imapMaxMeta)
		}
		return
	}
	if v := h.Get("From"); v != "" {
		in.Meta["from"] = imapCleanLine(v, imapMaxMeta)
	}
}

var imapMsgIDRE = regexp.MustCompile(`<([^<>\s]{1,500})>`)

// imapMsgIDs returns the Message-IDs of a field (RFC 5322 section 3.6.4)
// without angle brackets, at most imapMaxRefs of them (the last ones).
func imapMsgIDs(h gomail.Header, key string) []string {
	ids, err := h.MsgIDList(key)
	if err != nil {
		// Mailers write broken lists; take whatever is in brackets.
		ids = nil
		for _, m := range imapMsgIDRE.FindAllStringSubmatch(h.Get(key), -1) {
			ids = append(ids, m[1])
		}
	}
	out := ids[:0]
	for _, id := range ids {
		if id = imapCleanLine(id, imapMaxKey); id != "" && len(id) < imapMaxKey {
			out = append(out, id)
		}
	}
	if len(out) > imapMaxRefs {
		out = out[len(out)-imapMaxRefs:]
	}
	return out
}

// imapJoinIDs writes ids as a field value, dropping the oldest ones
// until it fits a Meta value.
func imapJoinIDs(ids []string) string {
	for len(ids) > 0 {
		s := "<" + strings.Join(ids, "> <") + ">"
		if len(s) <= imapMaxMeta {
			return s
		}
		ids = ids[1:]
	}
	return ""
}

// imapAutoReply says why a mail was sent by a machine, or "" when a person
// sent it. The notification side must not answer such mails (RFC 3834
// section 2; RFC 2076 for Precedence and List-Id).
func imapAutoReply(h gomail.Header, from string) string {
	if v := strings.ToLower(strings.TrimSpace(h.Get("Auto-Submitted"))); v != "" && v != "no" {
		v, _, _ = strings.Cut(v, ";")
		return strings.TrimSpace(v)
	}
	// A bounce (RFC 3464) or a read receipt (RFC 8098) is a
	// multipart/report (RFC 6522).
	if ct, params, err := h.ContentType(); err == nil && strings.EqualFold(ct, "multipart/report") {
		rt := strings.ToLower(strings.TrimSpace(params["report-type"]))
		if rt == "" || len(rt) > 40 {
			rt = "unknown"
		}
		return "report " + rt
	}
	switch v := strings.ToLower(strings.TrimSpace(h.Get("Precedence"))); v {
	case "bulk", "list", "junk":
		return "precedence " + v
	}
	for _, k := range []string{"X-Autoreply", "X-Autorespond", "X-Autoresponse"} {
		if h.Get(k) != "" {
			return strings.ToLower(k)
		}
	}
	if h.Get("List-Id") != "" {
		return "list-id"
	}
	local, _, _ := strings.Cut(strings.ToLower(from), "@")
	switch local {
	case "mailer-daemon", "postmaster", "no-reply", "noreply", "do-not-reply", "donotreply":
		return "from " + local
	}
	return ""
}

// imapBody walks the MIME parts of e and sets the body and the
// attachments of in. It reports false when the structure is too broken to
// read, and the mail should be kept raw.
//
// The start of the parts a delivery report carries goes to rep as well.
func imapBody(in *ticket.Inbound, e *message.Entity, lim imapLimits, rep *imapReportParts) bool {
	r := gomail.NewReader(e)
	var plain, html []string
	var notes []string
	size := 0
	for parts := 0; ; parts++ {
		if parts == imapMaxParts {
			notes = append(notes, fmt.Sprintf("[The mail has more than %d parts; the rest were not read.]", imapMaxParts))
			break
		}
		part, err := r.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !message.IsUnknownCharset(err) {
			if lim.size > 0 {
				break // the mail was cut: its end is missing, not broken
			}
			return false
		}
		if err != nil {
			in.Flags = imapAddFlag(in.Flags, IMAPFlagBadCharset)
		}
		ct, params, _ := part.Header.(interface {
			ContentType() (string, map[string]string, error)
		}).ContentType()
		disp := ""
		if d, ok := part.Header.(interface {
			ContentDisposition() (string, map[string]string, error)
		}); ok {
			disp, _, _ = d.ContentDisposition()
		}
		part.Body = rep.tap(ct, part.Body)
		isText := (ct == "" || ct == "text/plain" || ct == "text/html") && disp != "attachment"
		if isText {
			limit := int64(lim.body) + 1
			if ct == "text/html" {
				limit *= imapHTMLFactor
			}
			b, rerr := io.ReadAll(io.LimitReader(part.Body, limit))
			if rerr != nil && len(b) == 0 && lim.size == 0 {
				return false
			}
			io.Copy(io.Discard, part.Body)
			if !utf8.Valid(b) && (params["charset"] == "" || message.IsUnknownCharset(err)) {
				// Undeclared 8-bit text is most often Windows-1252.
				b = imapDecode1252(b)
			}
			s := string(b)
			if ct == "text/html" {
				html = append(html, imapHTMLText(s, lim.body+1))
			} else {
				plain = append(plain, s)
			}
			continue
		}
		if lim.atts < 0 {
			io.Copy(io.Discard, part.Body)
			continue
		}
		a, note, flag := imapAttachment(part, ct, params, len(in.Attachments), lim)
		if flag != "" {
			in.Flags = imapAddFlag(in.Flags, flag)
			notes = append(notes, note)
			continue
		}
		if a != nil {
			size += len(a.Data)
			in.Attachments = append(in.Attachments, *a)
		}
	}
	text := strings.Join(plain, "\n\n")
	if strings.TrimSpace(text) == "" {
		text = strings.Join(html, "\n\n")
	}
	text = strings.TrimSpace(imapCleanText(text))
	if text == "" && strings.TrimSpace(in.Subject) == "" && len(in.Attachments) == 0 {
		text = "(The mail has no text.)"
	}
	note := strings.Join(notes, "\n")
	room := lim.body
	if note != "" {
		room -= len(note) + 2
	}
	if len(text) > room {
		marker := "\n[The text was cut at the size limit.]"
		text = imapTruncate(text, max(room-len(marker), 0)) + marker
		in.Flags = imapAddFlag(in.Flags, IMAPFlagTruncated)
	}
	in.Body = imapAppendNote(text, note, lim.body)
	return true
}

// imapAttachment reads one attachment. It returns the attachment, or a
// note for the body and a flag when it was dropped.
func imapAttachment(part *gomail.Part, ct string, params map[string]string, have int, lim imapLimits) (*ticket.NewAttachment, string, string) {
	name := ""
	if ah, ok := part.Header.(*gomail.AttachmentHeader); ok {
		name, _ = ah.Filename()
	} else if ih, ok := part.Header.(*gomail.InlineHeader); ok {
		_, dp, _ := ih.ContentDisposition()
		name = dp["filename"]
	}
	if name == "" {
		name = params["name"]
	}
	name = imapFileName(name, ct, have+1)
	data, err := io.ReadAll(io.LimitReader(part.Body, lim.attBytes+1))
	if err != nil {
		io.Copy(io.Discard, part.Body)
		return nil, fmt.Sprintf("[Attachment %q was dropped: its encoding is broken.]", name), IMAPFlagAttachmentBroken
	}
	if int64(len(data)) > lim.attBytes {
		n, _ := io.Copy(io.Discard, part.Body)
		return nil, fmt.Sprintf("[Attachment %q (%s) was dropped: it is over the limit of %s.]",
			name, imapSize(int64(len(data))+n), imapSize(lim.attBytes)), IMAPFlagAttachmentTooLarge
	}
	if len(data) == 0 {
		return nil, "", ""
	}
	if have >= lim.atts {
		return nil, fmt.Sprintf("[Attachment %q was dropped: the mail has more than %d attachments.]", name, lim.atts), IMAPFlagTooManyAttachments
	}
	if ct == "" {
		ct = "application/octet-stream"
	}
	return &ticket.NewAttachment{Name: name, ContentType: imapCleanLine(ct, imapMaxType), Data: data}, "", ""
}

// imapFileName returns a safe file name: no path, no control characters,
// bounded; a name from the content type when the mail gave none.
func imapFileName(name, ct string, n int) string {
	name = strings.ReplaceAll(name, `\`, "/")
	name = path.Base(name)
	name = imapCleanLine(name, imapMaxFile)
	name = strings.Trim(name, ". ")
	if name == "" || name == "/" {
		// The parts of a delivery report (RFC 3464, RFC 6522) come
		// without names.
		switch ct {
		case "message/delivery-status", "message/global-delivery-status":
			return "delivery-status.txt"
		case "text/rfc822-headers", "message/global-headers":
			return "returned-headers.txt"
		case "message/rfc822", "message/global":
			return fmt.Sprintf("mail-%d.eml", n)
		}
		ext := ""
		if exts, _ := mime.ExtensionsByType(ct); len(exts) > 0 {
			ext = exts[0]
		}
		name = fmt.Sprintf("attachment-%d%s", n, ext)
	}
	return name
}

// imapRaw replaces the body of in with the start of the raw mail, attaches
// the raw mail as "original.eml" (message/rfc822, the bytes as fetched)
// when it fits the attachment limit, and flags it "raw": the mail could
// not be parsed, and is kept as it came. When the raw mail is not
// attached, a note at the end of the body says why.
func imapRaw(in *ticket.Inbound, raw []byte, lim imapLimits) {
	text := raw
	if len(text) > imapRawBody {
		text = text[:imapRawBody]
	}
	if !utf8.Valid(text) {
		text = imapDecode1252(text)
	}
	body := imapCleanText(string(text))
	in.Attachments = nil
	note := ""
	switch {
	case len(raw) == 0:
	case lim.size > 0:
		note = fmt.Sprintf("[The mail is %s, over the limit of %s: only its start was read, and it is not attached. The whole mail stays on the mail server.]",
			imapSize(lim.size), imapSize(lim.maxMail))
	case int64(len(raw)) > lim.attBytes:
		note = fmt.Sprintf("[The original mail (%s) is over the attachment limit of %s, so it is not attached. It stays on the mail server.]",
			imapSize(int64(len(raw))), imapSize(lim.attBytes))
	case lim.atts <= 0:
		note = "[The original mail is not attached: no attachments are allowed. It stays on the mail server.]"
	default:
		in.Attachments = []ticket.NewAttachment{{Name: imapOriginalName, ContentType: imapOriginalType, Data: raw}}
	}
	if strings.TrimSpace(body) == "" && strings.TrimSpace(in.Subject) == "" && len(in.Attachments) == 0 && note == "" {
		body = "(The mail was empty.)"
	}
	in.Body = imapAppendNote(body, note, lim.body)
	in.Flags = imapAddFlag(in.Flags, IMAPFlagRaw)
}

// imapHashKey is the source key of a mail without a Message-ID: the
// SHA-256 of its bytes, so the same mail fetched twice is one message.
func imapHashKey(raw []byte) string {
	sum := sha256.Sum256(raw)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// imapDecode1252 reads bytes that are not UTF-8 as Windows-1252, the
// usual charset of undeclared 8-bit mail.
func imapDecode1252(b []byte) []byte {
	out, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return []byte(strings.ToValidUTF8(string(b), "\uFFFD"))
	}
	return out
}

// imapCleanText makes text safe to store as a body: valid UTF-8, LF line
// ends, no control characters but tab and newline. C1 controls, which
// come from Windows-1252 text labelled ISO-8859-1, become the characters
// Windows-1252 meant.
func imapCleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			b.WriteRune(r)
		case r == '\r':
			b.WriteByte('\n')
		case r >= 0x80 && r <= 0x9f:
			if c := charmap.Windows1252.DecodeByte(byte(r)); c != utf8.RuneError && (c < 0x80 || c > 0x9f) {
				b.WriteRune(c)
			}
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	out := b.String()
	// Trailing spaces and long runs of blank lines are noise.
	lines := strings.Split(out, "\n")
	blank := 0
	keep := lines[:0]
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 2 {
				continue
			}
		} else {
			blank = 0
		}
		keep = append(keep, l)
	}
	return strings.Join(keep, "\n")
}

// imapCleanLine makes a one-line field safe: valid UTF-8, whitespace
// runs folded to one space, no control characters, at most max bytes.
func imapCleanLine(s string, max int) string {
	s = imapCleanText(s)
	s = strings.Join(strings.Fields(s), " ")
	return imapTruncate(s, max)
}

// imapTruncate cuts s to at most n bytes at a rune boundary.
func imapTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// imapAppendNote appends a note to the body, cutting the text if needed
// so that the note (what was dropped) is always there.
func imapAppendNote(body, note string, max int) string {
	if note == "" {
		return imapTruncate(body, max)
	}
	if len(note) > max {
		return imapTruncate(note, max)
	}
	if body == "" {
		return note
	}
	room := max - len(note) - 2
	if room <= 0 {
		return note
	}
	return imapTruncate(body, room) + "\n\n" + note
}

func imapAddFlag(flags []string, f string) []string {
	for _, have := range flags {
		if have == f {
			return flags
		}
	}
	return append(flags, f)
}

// imapSize writes a byte count for people: "31.2 MB".
func imapSize(n int64) string {
	switch {
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', 1, 64) + " MB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}

// imapSubjectRef returns the ticket number quoted in a subject as
// "[#1042]" (the last one, as replies prepend), or 0.
func imapSubjectRef(subject string) uint64 {
	m := imapSubjectRefRE.FindAllStringSubmatch(subject, -1)
	if len(m) == 0 {
		return 0
	}
	n, err := strconv.ParseUint(m[len(m)-1][1], 10, 64)
	if err != nil {
		return 0
	}
	return n
}

// imapBoxUUID returns the ticket UUID of a Message-ID the box wrote,
// "counterdesk.TICKETUUID.MESSAGEID@HOST" (without angle brackets).
func imapBoxUUID(id string) (string, bool) {
	uuid, _, ok := imapBoxID(id)
	return uuid, ok
}

// imapBoxID returns the ticket UUID and the message id of a Message-ID
// the box wrote (SMTPMessageID): "counterdesk.TICKETUUID.MESSAGEID@HOST".
func imapBoxID(id string) (string, uint64, bool) {
	local, _, ok := strings.Cut(id, "@")
	if !ok {
		return "", 0, false
	}
	f := strings.Split(local, ".")
	if len(f) != 3 || f[0] != "counterdesk" || len(f[1]) != 36 || f[2] == "" {
		return "", 0, false
	}
	for _, r := range f[1] {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F' || r == '-') {
			return "", 0, false
		}
	}
	for _, r := range f[2] {
		if r < '0' || r > '9' {
			return "", 0, false
		}
	}
	n, err := strconv.ParseUint(f[2], 10, 64)
	if err != nil {
		return "", 0, false
	}
	return strings.ToLower(f[1]), n, true
}

// imapAt is the time of a mail: its Date field, else the server's
// INTERNALDATE, else zero (the Desk then uses now).
func imapAt(date, internal time.Time) time.Time {
	if !date.IsZero() {
		return date
	}
	if internal.Year() > 1970 && internal.Year() < 10000 {
		return internal
	}
	return time.Time{}
}
