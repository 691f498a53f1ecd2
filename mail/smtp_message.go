package mail

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/emersion/go-message"
)

// Bounds on what an outbound mail's header carries.
const (
	// smtpMaxReferences bounds the References chain: the first message of
	// the conversation and the latest ones are kept (RFC 5322 section
	// 3.6.4 lets a writer shorten the chain; keeping the first follows the
	// advice of RFC 5537 section 3.4.4).
	smtpMaxReferences = 20
	// smtpMaxMsgID is the longest Message-ID quoted from a customer's mail;
	// longer ones would make header lines no mail server accepts.
	smtpMaxMsgID = 250
	// smtpMaxSubject bounds the subject in runes, the ticket reference kept.
	smtpMaxSubject = 250
	// smtpMaxName bounds a display name or a file name in runes.
	smtpMaxName = 120
)

// smtpComposeConfig is what composing a mail needs of the sender's options.
type smtpComposeConfig struct {
	From     string // address
	FromName string // the shop's name
	Domain   string // right-hand side of Message-IDs
	// MaxAttachmentBytes bounds the attachments of one mail together.
	MaxAttachmentBytes int64
	Location           *time.Location // for the Date header
	Now                time.Time      // Date when the message has no time
}

// smtpComposed is a mail ready for the SMTP transaction.
type smtpComposed struct {
	MessageID string // without angle brackets
	Ticket    uint64 // the ticket that holds the message (after merges)
	To        string // envelope recipient
	// Also lists further envelope recipients (staff mails go to several).
	Also []string
	Raw  []byte // the whole message, CRLF line ends
	// Sent is set when the message was recorded as sent before: it is
	// not sent again.
	Sent bool
}

// smtpComposeError is a delivery that can never be composed: no retry
// will help, so the caller parks the row with it.
type smtpComposeError struct{ msg string }

func (e *smtpComposeError) Error() string { return e.msg }

func smtpUnsendable(format string, args ...any) error {
	return &smtpComposeError{msg: fmt.Sprintf(format, args...)}
}

// SMTPMessageID is the Message-ID, without angle brackets, of the mail that
// carries outbound message id of the ticket whose UUID is uuid, as the box
// writes it: "counterdesk.TICKETUUID.MESSAGEID@DOMAIN". It depends on
// nothing else, so a second delivery of the same message carries the same
// Message-ID, and a customer's answer quoting it in In-Reply-To or
// References threads onto the ticket through Desk.FindUUID.
func SMTPMessageID(uuid string, id uint64, domain string) string {
	if domain == "" {
		domain = DefaultSMTPDomain
	}
	u := strings.Map(func(r rune) rune {
		if r < utf8.RuneSelf && (r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return r
		}
		return -1
	}, uuid)
	if u == "" {
		u = "none"
	}
	return "counterdesk." + u + "." + strconv.FormatUint(id, 10) + "@" + domain
}

// smtpCompose writes the mail for delivery d, whose ticket's thread is th,
// as a MIME message (RFC 5322, RFC 2045-2049 by go-message):
//
//   - From "Shop name <from>", To the customer by name, Subject as queued
//     (it carries the ticket reference such as " [#1042]"; one is added if
//     it is missing), Date when the reply was written;
//   - Message-ID from SMTPMessageID, In-Reply-To the customer's latest
//     mail on the ticket before the reply (its Meta "message_id"), and
//     References the chain of the conversation's mails before it, the
//     customer's and the box's;
//   - Auto-Submitted (RFC 3834 section 5): "no" for a staff reply,
//     "auto-replied" for one a rule sent;
//   - the text as text/plain; charset=utf-8, 7bit when it is short-lined
//     ASCII and quoted-printable otherwise, inside multipart/mixed with
//     the attachments in base64 when there are any.
//
// Header text outside ASCII is encoded per RFC 2047, file names per RFC
// 2231. open returns an attachment's bytes; the attachments together may
// hold at most cfg.MaxAttachmentBytes. An error of type *smtpComposeError
// means the delivery can never be sent.
func smtpCompose(cfg smtpComposeConfig, d ticket.Delivery, th ticket.Thread, open func(ticket.Attachment) ([]byte, error)) (smtpComposed, error) {
	var out smtpComposed
	i := slices.IndexFunc(th.Messages, func(m ticket.Message) bool { return m.ID == d.MessageID })
	if i < 0 {
		return out, smtpUnsendable("message %d is no longer on ticket #%d", d.MessageID, th.Ticket.Number)
	}
	m := th.Messages[i]
	if m.Direction != ticket.Outgoing {
		return out, smtpUnsendable("message %d of ticket #%d is not a reply to the customer", m.ID, th.Ticket.Number)
	}
	out.Ticket = th.Ticket.Number
	out.Sent = m.Delivery == ticket.DeliverySent || m.Delivery == ticket.DeliveryDelivered

	to, err := mail.ParseAddress(d.To)
	if err != nil || to.Address == "" || smtpHasControl(to.Address) {
		return out, smtpUnsendable("%q is not an email address the mail can go to", d.To)
	}
	out.To = to.Address
	domain := cfg.Domain
	if domain == "" {
		domain = DefaultSMTPDomain
	}
	out.MessageID = SMTPMessageID(th.Ticket.UUID, m.ID, domain)

	var files []smtpFile
	var total int64
	for _, a := range m.Attachments {
		total += max(a.Size, 0)
	}
	if cfg.MaxAttachmentBytes > 0 && total > cfg.MaxAttachmentBytes {
		return out, smtpUnsendable("the attachments are %d bytes together; a mail carries at most %d (max_attachment_bytes)", total, cfg.MaxAttachmentBytes)
	}
	total = 0
	for _, a := range m.Attachments {
		data, err := open(a)
		if err != nil {
			return out, err
		}
		total += int64(len(data))
		if cfg.MaxAttachmentBytes > 0 && total > cfg.MaxAttachmentBytes {
			return out, smtpUnsendable("the attachments are more than %d bytes together (max_attachment_bytes)", cfg.MaxAttachmentBytes)
		}
		files = append(files, smtpFile{Name: a.Name, ContentType: a.ContentType, Data: data})
	}

	inReplyTo, refs := smtpThreading(th, m.ID, domain)
	at := m.At
	if at.IsZero() {
		at = cfg.Now
	}
	if cfg.Location != nil {
		at = at.In(cfg.Location)
	}
	fields := [][2]string{
		{"From", smtpAddress(cfg.FromName, cfg.From)},
		{"To", smtpAddress(th.Contact.Name, to.Address)},
		{"Subject", smtpEncodeText(smtpSubject(d.Subject, th.Ticket.Subject, d.TicketRef, th.Ticket.Ref()))},
		{"Date", at.Format("Mon, 02 Jan 2006 15:04:05 -0700")},
		{"Message-ID", "<" + out.MessageID + ">"},
	}
	if inReplyTo != "" {
		fields = append(fields, [2]string{"In-Reply-To", "<" + inReplyTo + ">"})
	}
	if len(refs) > 0 {
		fields = append(fields, [2]string{"References", "<" + strings.Join(refs, "> <") + ">"})
	}
	if smtpAutomatic(th, m.ID) {
		fields = append(fields, [2]string{"Auto-Submitted", "auto-replied"})
	} else {
		fields = append(fields, [2]string{"Auto-Submitted", "no"})
	}

	body := smtpBodyText(d.Body)
	var buf bytes.Buffer
	if err := smtpWriteMIME(&buf, fields, body, files, out.MessageID); err != nil {
		return out, fmt.Errorf("compose mail %s: %w", out.MessageID, err)
	}
	out.Raw = buf.Bytes()
	return out, nil
}

// smtpFile is an attachment read from the box.
type smtpFile struct {
	Name        string
	ContentType string
	Data        []byte
}

// smtpWriteMIME writes the header fields, in their order, and the body: a
// single text/plain part, or multipart/mixed with the text first and the
// files after it. The boundary is derived from the Message-ID and the
// content, so the same mail is written byte for byte the same each time,
// and no content holds it.
func smtpWriteMIME(w io.Writer, fields [][2]string, body string, files []smtpFile, msgID string) error {
	// go-message writes a header's fields last added first.
	var h, part message.Header
	textHeader := &h
	if len(files) > 0 {
		sum := sha256.New()
		io.WriteString(sum, msgID+"\x00"+body)
		for _, f := range files {
			sum.Write(f.Data)
		}
		h.SetContentType("multipart/mixed", map[string]string{"boundary": "counterdesk-" + hex.EncodeToString(sum.Sum(nil))[:40]})
		textHeader = &part
	}
	textHeader.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	textBody := body
	if smtpSevenBit(body) {
		textHeader.Set("Content-Transfer-Encoding", "7bit")
		textBody = strings.ReplaceAll(body, "\n", "\r\n")
	} else {
		textHeader.Set("Content-Transfer-Encoding", "quoted-printable")
	}

	h.Add("MIME-Version", "1.0")
	for _, f := range slices.Backward(fields) {
		h.Add(f[0], f[1])
	}
	mw, err := message.CreateWriter(w, h)
	if err != nil {
		return err
	}
	tw := mw
	if len(files) > 0 {
		part.Set("Content-Disposition", "inline")
		if tw, err = mw.CreatePart(part); err != nil {
			return err
		}
	}
	if _, err := io.WriteString(tw, textBody); err != nil {
		return err
	}
	if err := tw.Close(); err != nil {
		return err
	}
	for i, f := range files {
		var ah message.Header
		ah.Set("Content-Transfer-Encoding", "base64")
		name := smtpFileName(f.Name, i+1)
		// RFC 2231 section 4 for a name outside ASCII; the standard
		// library writes filename*=utf-8''...
		ah.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": name}))
		ah.Set("Content-Type", smtpMediaType(f.ContentType))
		fw, err := mw.CreatePart(ah)
		if err != nil {
			return err
		}
		if _, err := fw.Write(f.Data); err != nil {
			return err
		}
		if err := fw.Close(); err != nil {
			return err
		}
	}
	return mw.Close()
}

// smtpBodyText is the text a mail carries for body: valid UTF-8 with every
// line break (CRLF, CR) as LF. A receiver's decoded text/plain part, its
// CRLFs read as LF, equals it.
func smtpBodyText(body string) string {
	body = strings.ToValidUTF8(body, "\uFFFD")
	body = strings.ReplaceAll(body, "\r\n", "\n")
	return strings.ReplaceAll(body, "\r", "\n")
}

// smtpSevenBit reports whether body may travel unencoded (RFC 2045
// section 2.7): printable ASCII and tabs, lines short enough for every
// mail server, no trailing white space a server might strip, and no line
// a mailbox would mangle ("From ").
func smtpSevenBit(body string) bool {
	for line := range strings.SplitSeq(body, "\n") {
		if len(line) > 76 || strings.HasPrefix(line, "From ") || strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t") {
			return false
		}
		for i := 0; i < len(line); i++ {
			if c := line[i]; (c < 0x20 && c != '\t') || c > 0x7e {
				return false
			}
		}
	}
	return true
}

// smtpThreading returns the In-Reply-To and References of the mail for
// message id of th: the customer's latest Message-ID before it, and the
// chain of the conversation's mails before it (the customer's and those
// the box sent), oldest first, bounded by smtpMaxReferences.
func smtpThreading(th ticket.Thread, id uint64, domain string) (string, []string) {
	var inReplyTo string
	var chain []string
	ordered := slices.Clone(th.Messages)
	// Message ids grow with every message the desk stores, so they order
	// the conversation even across merged tickets.
	slices.SortStableFunc(ordered, func(a, b ticket.Message) int {
		switch {
		case a.ID < b.ID:
			return -1
		case a.ID > b.ID:
			return 1
		}
		return 0
	})
	for _, m := range ordered {
		if m.ID >= id {
			break
		}
		var ref string
		switch {
		case m.Direction == ticket.Incoming:
			ref = smtpCleanMsgID(m.Meta["message_id"])
			if ref != "" {
				inReplyTo = ref
			}
		case m.Direction == ticket.Outgoing && m.Channel == ticket.ChannelEmail &&
			(m.Delivery == ticket.DeliverySent || m.Delivery == ticket.DeliveryDelivered):
			ref = SMTPMessageID(th.Ticket.UUID, m.ID, domain)
		}
		if ref != "" && !slices.Contains(chain, ref) {
			chain = append(chain, ref)
		}
	}
	if len(chain) > smtpMaxReferences {
		chain = append(chain[:1], chain[len(chain)-(smtpMaxReferences-1):]...)
	}
	return inReplyTo, chain
}

// smtpMsgIDRE matches the Message-IDs the box quotes: an id-left and an
// id-right of RFC 5322 section 3.6.4 as mail software writes them.
var smtpMsgIDRE = regexp.MustCompile(`^[A-Za-z0-9!#$%&'*+/=?^_{|}~.-]+@(?:[A-Za-z0-9!#$%&'*+/=?^_{|}~.-]+|\[[!-Z^-~]*\])$`)

// smtpCleanMsgID returns the Message-ID s without angle brackets or white
// space, or "" when it is not one the box can quote safely.
func smtpCleanMsgID(s string) string {
	s = strings.TrimSpace(s)
	s = strings.TrimSuffix(strings.TrimPrefix(s, "<"), ">")
	if len(s) > smtpMaxMsgID || !smtpMsgIDRE.MatchString(s) {
		return ""
	}
	if strings.HasPrefix(s, ".") || strings.Contains(s, "..") || strings.Contains(s, ".@") {
		return ""
	}
	return s
}

// smtpAutomatic reports whether message id was sent by a rule (an
// acknowledgement, a notification) rather than written by staff: the
// audit event of the reply names its actor.
func smtpAutomatic(th ticket.Thread, id uint64) bool {
	want := fmt.Sprintf("message %d by %s", id, ticket.RouteEmail)
	for _, e := range th.Events {
		if e.Action == "reply" && e.After == want {
			return e.Actor.Kind == ticket.ActorRule
		}
	}
	return false
}

// smtpSubject returns the subject to send: the queued one, or one made
// from the ticket's, with the ticket reference at its end, clean of
// control characters and bounded.
func smtpSubject(subject, ticketSubject, ref, ticketRef string) string {
	if ref == "" {
		ref = ticketRef
	}
	tag := " [" + ref + "]"
	s := smtpCleanText(subject)
	if s == "" {
		s = "Re: " + smtpCleanText(ticketSubject)
	}
	s = strings.TrimSuffix(strings.TrimSpace(s), strings.TrimSpace(tag))
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > smtpMaxSubject {
		s = strings.TrimSpace(string(r[:smtpMaxSubject])) + "…"
	}
	if s == "" {
		return strings.TrimSpace(tag)
	}
	return s + tag
}

// smtpCleanText makes s fit for one header line: valid UTF-8, control
// characters and line breaks as spaces, runs of spaces as one.
func smtpCleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

// smtpAddress writes a name-addr (RFC 5322 section 3.4). A name outside
// ASCII becomes RFC 2047 encoded-words: Q encoding when the name's ASCII
// characters are all ones a Q word in a phrase may hold (section 5 (3)),
// else B encoding. The standard library's Address.String writes Q words
// with characters such as a backslash that no parser takes back.
func smtpAddress(name, addr string) string {
	name = smtpCleanName(name)
	if strings.Contains(name, "=?") {
		return smtpEncodeText(name) + " " + (&mail.Address{Address: addr}).String()
	}
	if name == "" || smtpASCII(name) {
		return (&mail.Address{Name: name, Address: addr}).String()
	}
	angle := (&mail.Address{Address: addr}).String()
	qSafe := !strings.ContainsFunc(name, func(r rune) bool {
		return r < utf8.RuneSelf && r != ' ' && r != '!' && r != '*' && r != '+' && r != '-' && r != '/' &&
			!(r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z')
	})
	if qSafe {
		return mime.QEncoding.Encode("utf-8", name) + " " + angle
	}
	return mime.BEncoding.Encode("utf-8", name) + " " + angle
}

// smtpEncodeText encodes an unstructured header text (RFC 2047): Q
// encoding when it holds characters outside ASCII. Text that holds "=?",
// which a reader would take for the start of an encoded word, is written
// as B-encoded words whatever its characters, so that it reads back as
// written.
func smtpEncodeText(s string) string {
	if !strings.Contains(s, "=?") {
		return mime.QEncoding.Encode("utf-8", s)
	}
	// 45 bytes are 60 base64 characters: with "=?utf-8?b?" and "?=" a
	// word stays within the 75 characters RFC 2047 allows.
	const chunk = 45
	var words []string
	for len(s) > 0 {
		n := min(chunk, len(s))
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		words = append(words, "=?utf-8?b?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}

// smtpCleanName bounds a display name.
func smtpCleanName(s string) string {
	s = smtpCleanText(s)
	if r := []rune(s); len(r) > smtpMaxName {
		s = string(r[:smtpMaxName])
	}
	return s
}

// smtpFileName returns the name to give attachment n: its own, clean of
// control characters and path separators and bounded, or "attachment-n".
func smtpFileName(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' {
			return '_'
		}
		return r
	}, smtpCleanName(s))
	s = strings.Trim(s, " .")
	if s == "" {
		return "attachment-" + strconv.Itoa(n)
	}
	return s
}

// smtpMediaType returns the Content-Type of an attachment: its type and
// subtype when they are well formed, else application/octet-stream.
func smtpMediaType(ct string) string {
	t, params, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(t, "/") || strings.HasPrefix(t, "multipart/") || strings.HasPrefix(t, "message/") {
		return "application/octet-stream"
	}
	// Of the parameters, only a text's charset matters to the reader.
	var keep map[string]string
	if cs := params["charset"]; strings.HasPrefix(t, "text/") && cs != "" {
		keep = map[string]string{"charset": cs}
	}
	if s := mime.FormatMediaType(t, keep); s != "" {
		return s
	}
	if s := mime.FormatMediaType(t, nil); s != "" {
		return s
	}
	return "application/octet-stream"
}

func smtpHasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}
