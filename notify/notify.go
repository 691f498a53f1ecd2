// Package notify decides what a customer is told without staff typing it:
// that their request arrived (another text after hours), that it is
// resolved, that the shop waits on them. The Desk sends each notice as an
// automatic reply through the outbox, by the channel the customer used.
//
// The guards keep the box from talking to machines and from talking too
// much: one acknowledgement per contact per window; never to an automatic
// reply (an out-of-office, a bounce), to a sender name or short code that
// cannot take a reply, to a fixed line by SMS, or to the shop's own
// number; nothing to a customer who texted STOP (the Desk refuses that
// route); no status notice when staff replied in the same step.
package notify

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/nyaruka/phonenumbers"
)

// Options configure a Notifier.
type Options struct {
	Config config.Notify
	// Shop is the shop's name, for {shop}.
	Shop string
	// Hours describes the opening hours, for {hours}.
	Hours string
	// OwnNumbers are the shop's own phone numbers (E.164): nothing is sent
	// to them, so that two boxes cannot answer each other.
	OwnNumbers []string
	// Location is the shop's time zone, for the on-call hours.
	Location *time.Location
}

// Notifier is the ticket.Notifier of the [notify] rules.
type Notifier struct {
	o Options
}

var _ ticket.Notifier = (*Notifier)(nil)

// New returns the notifier of o.
func New(o Options) *Notifier { return &Notifier{o: o} }

// The rules, as the audit trail names them.
const (
	RuleAcknowledge = "acknowledge"
	RuleResolved    = "resolved"
	RulePending     = "pending"
)

// FlagAutoReply marks a request that a machine sent (an out-of-office, a
// bounce, a list mail); the mail channel sets it.
const FlagAutoReply = "auto_reply"

// Notices returns the notices of event for in.
func (n *Notifier) Notices(event string, in ticket.NoticeInput) []ticket.Notice {
	cfg := n.o.Config
	switch event {
	case ticket.EventCreated:
		if !cfg.Acknowledge || !n.reachable(in) || in.Request == nil || automatic(in.Request) {
			return nil
		}
		if !in.Contact.LastAckAt.IsZero() && in.Now.Sub(in.Contact.LastAckAt) < cfg.AckWindow.Duration {
			return nil
		}
		texts := cfg.For(n.language(in.Request))
		text := texts.Ack
		if in.Ticket.AfterHours {
			text = texts.AckAfterHours
		}
		return []ticket.Notice{{Rule: RuleAcknowledge, Body: n.expand(text, &in.Ticket), Ack: true}}
	case ticket.EventStatusChanged:
		if !cfg.StatusNotices || !n.reachable(in) || in.Ticket.LastOutboundAt.Equal(in.Now) {
			return nil // staff replied in the same step: the reply said it
		}
		if in.Request != nil && automatic(in.Request) {
			return nil
		}
		texts := cfg.For(n.language(in.Request))
		switch in.Ticket.Status {
		case ticket.StatusResolved:
			return []ticket.Notice{{Rule: RuleResolved, Body: n.expand(texts.Resolved, &in.Ticket)}}
		case ticket.StatusPending:
			return []ticket.Notice{{Rule: RulePending, Body: n.expand(texts.Pending, &in.Ticket)}}
		}
	}
	return nil
}

// maxPageBytes bounds a page: two SMS parts of plain text.
const maxPageBytes = 300

// Pages returns the on-call phone's page about tk when now is within the
// on-call hours.
func (n *Notifier) Pages(tk ticket.Ticket, text string, now time.Time) []ticket.StaffPage {
	cfg := n.o.Config
	if cfg.OncallPhone == "" || !within(now, cfg.OncallFrom, cfg.OncallTo, n.o.Location) {
		return nil
	}
	subject := tk.Subject
	if subject == "" {
		subject = string(tk.Channel)
	}
	body := fmt.Sprintf("%s %s %s: %s (%s)", n.o.Shop, strings.ToUpper(string(tk.Priority)), tk.Ref(), text, subject)
	if len(body) > maxPageBytes {
		body = body[:maxPageBytes]
		for !utf8.ValidString(body) {
			body = body[:len(body)-1]
		}
	}
	return []ticket.StaffPage{{To: cfg.OncallPhone, Body: body}}
}

// within reports whether now, in loc, is between the times of day from and
// to ("HH:MM"); a from after to runs overnight.
func within(now time.Time, from, to string, loc *time.Location) bool {
	if loc == nil {
		loc = time.Local
	}
	f, err1 := time.Parse("15:04", from)
	t, err2 := time.Parse("15:04", to)
	if err1 != nil || err2 != nil {
		return false
	}
	local := now.In(loc)
	m := local.Hour()*60 + local.Minute()
	fm, tm := f.Hour()*60+f.Minute(), t.Hour()*60+t.Minute()
	if fm <= tm {
		return fm <= m && m < tm
	}
	return m >= fm || m < tm
}

// reachable reports whether a notice can reach the customer of in by the
// channel they used.
func (n *Notifier) reachable(in ticket.NoticeInput) bool {
	switch in.Ticket.Channel {
	case ticket.ChannelStaff, ticket.ChannelAPI, ticket.ChannelCloud:
		return false // entered by people who tell the customer themselves
	case ticket.ChannelEmail, ticket.ChannelWebForm:
		if len(in.Contact.Emails) > 0 {
			return true
		}
	}
	if len(in.Contact.Phones) == 0 {
		return false // a sender name (alphanumeric) has no number to answer
	}
	return n.textable(in.Contact.Phones[0])
}

// textable reports whether an SMS can reach phone: a mobile number (or one
// the numbering plan cannot tell from a fixed line), not a short code, not
// the shop's own.
func (n *Notifier) textable(phone string) bool {
	if slices.Contains(n.o.OwnNumbers, phone) {
		return false
	}
	num, err := phonenumbers.Parse(phone, "")
	if err != nil || !phonenumbers.IsPossibleNumber(num) || len(phonenumbers.GetNationalSignificantNumber(num)) < minSubscriberDigits {
		return false // a short code is too short to be a subscriber's number
	}
	if !phonenumbers.IsValidNumber(num) {
		// The numbering plan does not know the range (a new one, or one
		// kept for drama); it may still be a mobile.
		return true
	}
	switch phonenumbers.GetNumberType(num) {
	case phonenumbers.MOBILE, phonenumbers.FIXED_LINE_OR_MOBILE, phonenumbers.UNKNOWN:
		return true
	}
	return false
}

// minSubscriberDigits is the shortest national number of a subscriber;
// short codes (SMS services, banks' PIN senders) have three to six digits.
const minSubscriberDigits = 7

// automatic reports whether a machine sent m.
func automatic(m *ticket.Message) bool {
	return slices.Contains(m.Flags, FlagAutoReply) || m.Meta["auto_submitted"] != ""
}

// expand fills in the placeholders of text for tk.
func (n *Notifier) expand(text string, tk *ticket.Ticket) string {
	agent := tk.Assignee
	if agent == "" {
		agent = n.o.Shop
	}
	return strings.NewReplacer(
		"{number}", strconv.FormatUint(tk.Number, 10),
		"{shop}", n.o.Shop,
		"{hours}", n.o.Hours,
		"{agent}", agent,
	).Replace(text)
}

// language returns the language m is written in, as far as the letters
// and common words tell, or the configured default.
func (n *Notifier) language(m *ticket.Message) string {
	if m != nil {
		if lang := Detect(m.Subject + " " + m.Body + " " + m.Transcript); lang != "" {
			return lang
		}
	}
	return n.o.Config.DefaultLanguage
}

// Words that mark a language when no letter does.
var (
	turkishWords    = []string{"merhaba", "teşekkür", "tesekkur", "sipariş", "siparis", "lütfen", "lutfen", "kargo", "iade", "pervane", "batarya", "selam"}
	portugueseWords = []string{"olá", "obrigado", "obrigada", "encomenda", "não", "você", "bom dia", "boa tarde", "pedido", "hélice", "bateria", "envio", "devolução"}
)

// Detect returns "tr" or "pt" when text shows Turkish or Portuguese, or
// "" when it does not (English and anything else).
func Detect(text string) string {
	lower := strings.ToLower(text)
	if strings.ContainsAny(text, "ğĞşŞıİ") || strings.ContainsAny(text, "çÇ") && strings.ContainsAny(text, "üÜöÖ") {
		return "tr"
	}
	if strings.ContainsAny(text, "ãõÃÕ") {
		return "pt"
	}
	words := strings.FieldsFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	joined := " " + strings.Join(words, " ") + " "
	count := func(list []string) int {
		c := 0
		for _, w := range list {
			if strings.Contains(joined, " "+w+" ") {
				c++
			}
		}
		return c
	}
	tr, pt := count(turkishWords), count(portugueseWords)
	switch {
	case tr > pt:
		return "tr"
	case pt > tr:
		return "pt"
	}
	return ""
}
