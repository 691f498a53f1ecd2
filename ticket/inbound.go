package ticket

import (
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Inbound is a request as a channel hands it to Desk.Ingest.
type Inbound struct {
	Channel Channel
	// SourceKey is the channel's own id for this request (for an SMS: sender,
	// service-centre time, reference and part; for a mail: its Message-ID).
	// Ingesting the same key twice gives one message.
	SourceKey string
	// At is when the peer handed the request over; zero means now.
	At         time.Time
	From       From
	Subject    string
	Body       string
	Transcript string
	// Attachments are stored on disk, named by their SHA-256, before the
	// transaction that references them commits.
	Attachments []NewAttachment
	// Flags mark something a person should know, such as "incomplete" for a
	// multi-part SMS that never fully arrived, or "raw" for input that could
	// not be decoded and is kept as it came.
	Flags []string
	Meta  Meta
	// TicketNumber, when set, threads the request onto that ticket (the
	// customer quoted its number), if it still exists and is not closed.
	TicketNumber uint64
	// NewTicket opens a new ticket even when the contact has an open one
	// (staff entering a new request by hand).
	NewTicket bool
	// Automatic marks a request a machine sent: an out-of-office, a
	// bounce, a list mail. It joins the ticket it threads onto
	// (TicketNumber, or the contact's ticket) without reopening it or
	// counting as a repeat contact, and opens none: with no ticket to
	// join, Ingest stores nothing and returns ErrNoThread.
	Automatic bool
}

// From is who sent an inbound request, as the channel knows them.
type From struct {
	Name  string
	Phone string // any format; normalised to E.164 with the configured region
	Email string
}

// NewAttachment is a file that arrived with a request or a reply.
type NewAttachment struct {
	Name        string
	ContentType string
	Data        []byte
}

// Limits bound what one message may carry.
type Limits struct {
	MaxMessageBytes    int
	MaxAttachmentBytes int64
	MaxAttachments     int
	// MinFreeBytes is the disk space kept free for the database: an
	// attachment that would leave less is refused with ErrDiskFull, while
	// messages without attachments go on being stored. 0 means no check.
	MinFreeBytes uint64
}

// Default limits, used where Options leaves them zero.
const (
	DefaultMaxMessageBytes    = 64 << 10
	DefaultMaxAttachmentBytes = 25 << 20
	DefaultMaxAttachments     = 20
)

// Fixed bounds on the small fields of a message.
const (
	maxSourceKey   = 512
	maxSubject     = 998 // RFC 5322 line limit
	maxName        = 200
	maxEmail       = 254
	maxPhone       = 40
	maxFlags       = 16
	maxMeta        = 32
	maxMetaKey     = 64
	maxMetaValue   = 1024
	maxFileName    = 255
	maxContentType = 127
	maxTags        = 32
	maxTag         = 64
	maxUserName    = 64
	maxWhy         = 1000
)

var (
	flagRE = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)
	tagRE  = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}][\p{Ll}\p{Lo}\p{N}_\-.:/]{0,63}$`)
)

func (l Limits) withDefaults() Limits {
	if l.MaxMessageBytes <= 0 {
		l.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if l.MaxAttachmentBytes <= 0 {
		l.MaxAttachmentBytes = DefaultMaxAttachmentBytes
	}
	if l.MaxAttachments <= 0 {
		l.MaxAttachments = DefaultMaxAttachments
	}
	return l
}

// Validate checks in against the limits without touching the store. The
// error names the first field that is wrong and wraps ErrInvalid or
// ErrTooLarge.
func (in *Inbound) Validate(l Limits) error {
	l = l.withDefaults()
	if !in.Channel.Valid() {
		return invalid("channel", "unknown channel %q", in.Channel)
	}
	if err := checkText("source_key", in.SourceKey, maxSourceKey, false); err != nil {
		return err
	}
	if strings.TrimSpace(in.SourceKey) == "" {
		return invalid("source_key", "is required")
	}
	if err := checkText("from.name", in.From.Name, maxName, false); err != nil {
		return err
	}
	if err := checkText("from.phone", in.From.Phone, maxPhone, false); err != nil {
		return err
	}
	if in.From.Email != "" {
		if _, err := normalizeEmail(in.From.Email); err != nil {
			return err
		}
	}
	if err := checkText("subject", in.Subject, maxSubject, false); err != nil {
		return err
	}
	if err := checkText("body", in.Body, l.MaxMessageBytes, true); err != nil {
		return err
	}
	if err := checkText("transcript", in.Transcript, l.MaxMessageBytes, true); err != nil {
		return err
	}
	if err := checkAttachments(in.Attachments, l); err != nil {
		return err
	}
	if strings.TrimSpace(in.Subject+in.Body+in.Transcript) == "" && len(in.Attachments) == 0 &&
		in.Channel != ChannelMissedCall && in.Channel != ChannelVoicemail {
		return invalid("body", "a request needs a subject, a body or an attachment")
	}
	if len(in.Flags) > maxFlags {
		return invalid("flags", "at most %d flags", maxFlags)
	}
	for _, f := range in.Flags {
		if !flagRE.MatchString(f) {
			return invalid("flags", "flag %q must be lower-case letters, digits and _", f)
		}
	}
	if err := checkMeta(in.Meta); err != nil {
		return err
	}
	if !in.At.IsZero() && (in.At.Year() < 1971 || in.At.Year() > 9999) {
		return invalid("at", "time %s is out of range", in.At.Format(time.RFC3339))
	}
	return nil
}

// checkText rejects text that is not UTF-8, holds control characters other
// than tab and newlines (only when multiline), or is longer than max bytes.
func checkText(field, s string, max int, multiline bool) error {
	if len(s) > max {
		return tooLarge(field, "is %d bytes, the limit is %d", len(s), max)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "is not valid UTF-8")
	}
	for _, r := range s {
		if r == '\t' || (multiline && (r == '\n' || r == '\r')) {
			continue
		}
		if r < 0x20 || r == 0x7f {
			return invalid(field, "holds control character %U", r)
		}
	}
	return nil
}

func checkAttachments(as []NewAttachment, l Limits) error {
	if len(as) > l.MaxAttachments {
		return tooLarge("attachments", "%d files, the limit is %d", len(as), l.MaxAttachments)
	}
	for i, a := range as {
		if int64(len(a.Data)) > l.MaxAttachmentBytes {
			return tooLarge("attachments", "file %d is %d bytes, the limit is %d", i+1, len(a.Data), l.MaxAttachmentBytes)
		}
		if len(a.Data) == 0 {
			return invalid("attachments", "file %d is empty", i+1)
		}
		if err := checkText("attachments.name", a.Name, maxFileName, false); err != nil {
			return err
		}
		if strings.ContainsAny(a.Name, `/\`) {
			return invalid("attachments.name", "file name %q holds a path separator", a.Name)
		}
		if err := checkText("attachments.content_type", a.ContentType, maxContentType, false); err != nil {
			return err
		}
	}
	return nil
}

func checkMeta(m Meta) error {
	if len(m) > maxMeta {
		return invalid("meta", "at most %d entries", maxMeta)
	}
	for k, v := range m {
		if k == "" {
			return invalid("meta", "empty key")
		}
		if err := checkText("meta key", k, maxMetaKey, false); err != nil {
			return err
		}
		if err := checkText("meta."+k, v, maxMetaValue, false); err != nil {
			return err
		}
	}
	return nil
}

// checkUser validates a staff user name used as an assignee.
func checkUser(field, name string) error {
	if err := checkText(field, name, maxUserName, false); err != nil {
		return err
	}
	if strings.TrimSpace(name) != name {
		return invalid(field, "%q has leading or trailing space", name)
	}
	return nil
}

// NormalizeTag returns the tag in its stored form (folded to lower case) or
// an error naming what is wrong with it.
func NormalizeTag(tag string) (string, error) {
	t := strings.ToLower(strings.TrimSpace(tag))
	if !tagRE.MatchString(t) {
		return "", invalid("tags", "tag %q must start with a letter or digit and hold only letters, digits and _-.:/ (at most %d)", tag, maxTag)
	}
	return t, nil
}
