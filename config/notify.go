package config

import (
	"fmt"
	"net/mail"
	"net/url"
	"slices"
	"strings"
	"time"
)

// Notify configures what customers are told without staff typing it.
type Notify struct {
	// Acknowledge tells a customer that their new request arrived, with
	// its number, by the channel they used.
	Acknowledge bool `toml:"acknowledge"`
	// AckWindow allows one acknowledgement per contact per window, so
	// that a customer who writes five times gets one, and two machines
	// answering each other automatically stop at once.
	AckWindow Duration `toml:"ack_window"`
	// StatusNotices tells the customer when their ticket is resolved or
	// waits on them (pending), unless staff replied in the same step.
	// Closing a ticket without resolving it tells no one.
	StatusNotices bool `toml:"status_notices"`
	// DefaultLanguage is the language of a customer whose message does
	// not show theirs: "en", "pt" or "tr".
	DefaultLanguage string `toml:"default_language"`
	// OncallPhone is paged by SMS about urgent tickets (safety terms, rules
	// with a notify action) between OncallFrom and OncallTo, every day in
	// the shop's time zone; "" pages no one.
	OncallPhone string `toml:"oncall_phone"`
	OncallFrom  string `toml:"oncall_from"`
	OncallTo    string `toml:"oncall_to"`
	// StaffEmails get urgent tickets (safety terms, rules with a notify
	// action) and the daily digest by email, through [mail]'s SMTP server.
	StaffEmails []string `toml:"staff_emails"`
	// DigestAt is the time of day, in the shop's time zone, of the daily
	// digest of open and overdue tickets to StaffEmails; "" sends none.
	DigestAt string `toml:"digest_at"`
	// StaffURL is the address of the staff pages as staff reach them,
	// such as "http://counterdesk.local:8080", for the links in staff
	// mails; "" leaves the links out.
	StaffURL string `toml:"staff_url"`
	// Redirect mails tickets to staff addresses by tag or category, one
	// [[notify.redirect]] table each.
	Redirect []Redirect `toml:"redirect"`
	// The texts in each language.
	EN Notices `toml:"en"`
	PT Notices `toml:"pt"`
	TR Notices `toml:"tr"`
}

// Redirect mails the tickets that match to a list of staff addresses, once
// per ticket: a new ticket for "*", a ticket when it gets a tag
// ("tag:lipo") or a category ("category:warranty"), at creation or later.
type Redirect struct {
	// Name identifies the rule in the staff mail and the logs.
	Name string `toml:"name"`
	// Match lists "*", "tag:NAME" and "category:NAME"; any one matches.
	Match []string `toml:"match"`
	// To lists the addresses the ticket goes to.
	To []string `toml:"to"`
}

// Matches reports whether the rule takes a ticket with tags and category;
// created says the ticket is new, which "*" asks for.
func (r Redirect) Matches(created bool, category string, tags []string) (string, bool) {
	for _, m := range r.Match {
		kind, name, _ := strings.Cut(m, ":")
		switch {
		case m == "*" && created:
			return "every new ticket", true
		case kind == "tag" && slices.Contains(tags, name):
			return "tag " + name, true
		case kind == "category" && category != "" && category == name:
			return "category " + name, true
		}
	}
	return "", false
}

// StaffMail reports whether staff get any notification by email.
func (n Notify) StaffMail() bool {
	return len(n.StaffEmails) > 0 || len(n.Redirect) > 0
}

// Notices are the texts of one language, with the placeholders {number}
// (the ticket's number), {shop}, {hours} (the opening hours) and {agent}
// (the assignee, or the shop).
type Notices struct {
	Ack           string `toml:"ack"`
	AckAfterHours string `toml:"ack_after_hours"`
	Resolved      string `toml:"resolved"`
	Pending       string `toml:"pending"`
}

// Languages lists the notification languages.
var Languages = []string{"en", "pt", "tr"}

// For returns the texts of language lang, or of English.
func (n Notify) For(lang string) Notices {
	switch lang {
	case "pt":
		return n.PT
	case "tr":
		return n.TR
	}
	return n.EN
}

func defaultNotify() Notify {
	return Notify{
		Acknowledge:     true,
		AckWindow:       Duration{24 * time.Hour},
		StatusNotices:   true,
		DefaultLanguage: "en",
		OncallFrom:      "08:00",
		OncallTo:        "22:00",
		StaffEmails:     []string{},
		DigestAt:        "08:00",
		EN: Notices{
			Ack:           "{shop}: we received your request #{number} and will answer as soon as we can. Reply to this message to add to it.",
			AckAfterHours: "{shop}: we received your request #{number}. We are closed now and will answer when we open ({hours}).",
			Resolved:      "{shop}: your request #{number} is resolved. Reply to this message if anything is still wrong.",
			Pending:       "{shop}: to go on with your request #{number} we need an answer from you. Reply to this message.",
		},
		PT: Notices{
			Ack:           "{shop}: recebemos o seu pedido #{number} e responderemos assim que possível. Responda a esta mensagem para acrescentar algo.",
			AckAfterHours: "{shop}: recebemos o seu pedido #{number}. Estamos fechados e responderemos quando abrirmos ({hours}).",
			Resolved:      "{shop}: o seu pedido #{number} está resolvido. Responda a esta mensagem se algo ainda não estiver bem.",
			Pending:       "{shop}: para continuar com o seu pedido #{number} precisamos da sua resposta. Responda a esta mensagem.",
		},
		TR: Notices{
			Ack:           "{shop}: #{number} numaralı talebinizi aldık, en kısa sürede yanıt vereceğiz. Eklemek istediğiniz bir şey varsa bu mesajı yanıtlayın.",
			AckAfterHours: "{shop}: #{number} numaralı talebinizi aldık. Şu anda kapalıyız, açıldığımızda yanıt vereceğiz ({hours}).",
			Resolved:      "{shop}: #{number} numaralı talebiniz çözüldü. Hâlâ bir sorun varsa bu mesajı yanıtlayın.",
			Pending:       "{shop}: #{number} numaralı talebinizle devam edebilmemiz için yanıtınıza ihtiyacımız var. Bu mesajı yanıtlayın.",
		},
	}
}

// maxNoticeBytes bounds a notification text: three SMS parts of Unicode
// text, or seven of plain text.
const maxNoticeBytes = 600

// timeOfDay checks that value is a time of day, "HH:MM".
func (v *validator) timeOfDay(key, value, example string) {
	_, err := time.Parse("15:04", value)
	v.check(key, err == nil, `must be a time of day such as %q, not %q`, example, value)
}

// maxStaffEmails bounds the addresses of one list.
const maxStaffEmails = 20

// emailsProblem says what is wrong with a list of staff addresses, or "".
func emailsProblem(list []string) string {
	if len(list) > maxStaffEmails {
		return fmt.Sprintf("at most %d addresses", maxStaffEmails)
	}
	for _, a := range list {
		p, err := mail.ParseAddress(a)
		if err != nil || p.Name != "" || p.Address != a {
			return "\"" + a + "\" is not an email address such as \"owner@shop.example\""
		}
	}
	return ""
}

// staffNotify checks the staff side of the [notify] table: addresses,
// the digest, the link and the redirection rules.
func (v *validator) staffNotify(n Notify, categories []string) {
	if msg := emailsProblem(n.StaffEmails); msg != "" {
		v.check("notify.staff_emails", false, "%s", msg)
	}
	if n.DigestAt != "" {
		v.timeOfDay("notify.digest_at", n.DigestAt, "08:00")
	}
	if n.StaffURL != "" {
		u, err := url.Parse(n.StaffURL)
		v.check("notify.staff_url", err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" && u.User == nil && u.RawQuery == "",
			"must be \"\" or the address of the staff pages such as \"http://counterdesk.local:8080\", not %q", n.StaffURL)
	}
	names := make(map[string]bool)
	for i, r := range n.Redirect {
		e := elementOf("notify.redirect", i, r.Name)
		e.check(v, "name", strings.TrimSpace(r.Name) != "" && len(r.Name) <= 64, "name: must be 1 to 64 characters")
		v.unique(e, "name", r.Name, names)
		e.check(v, "match", len(r.Match) > 0, "match: must list \"*\", \"tag:NAME\" or \"category:NAME\"")
		for _, m := range r.Match {
			kind, name, _ := strings.Cut(m, ":")
			switch {
			case m == "*":
			case kind == "tag":
				e.check(v, "match", name != "" && !strings.ContainsAny(name, " \t,"), "match: %q needs one tag after \"tag:\"", m)
			case kind == "category":
				e.check(v, "match", slices.Contains(categories, name), "match: unknown category %q; use %s", name, quoteAll(categories))
			default:
				e.check(v, "match", false, "match: %q must be \"*\", \"tag:NAME\" or \"category:NAME\"", m)
			}
		}
		e.check(v, "to", len(r.To) > 0, "to: must list at least one address")
		if msg := emailsProblem(r.To); msg != "" {
			e.check(v, "to", false, "to: %s", msg)
		}
	}
}

// notify checks the [notify] table.
func (v *validator) notify(n Notify) {
	between(v, "notify.ack_window", n.AckWindow.Duration, 0, 30*24*time.Hour)
	v.oneOf("notify.default_language", n.DefaultLanguage, Languages...)
	v.check("notify.oncall_phone", n.OncallPhone == "" || strings.HasPrefix(n.OncallPhone, "+") && isDigits(n.OncallPhone[1:], 7, 15),
		"must be empty or a mobile number with its country code, such as \"+447700900123\", not %q", n.OncallPhone)
	v.timeOfDay("notify.oncall_from", n.OncallFrom, "08:00")
	v.timeOfDay("notify.oncall_to", n.OncallTo, "22:00")
	for _, lang := range Languages {
		t := n.For(lang)
		for _, f := range []struct{ key, text string }{
			{"ack", t.Ack}, {"ack_after_hours", t.AckAfterHours}, {"resolved", t.Resolved}, {"pending", t.Pending},
		} {
			key := "notify." + lang + "." + f.key
			v.check(key, f.text != "", "must not be empty")
			v.check(key, len(f.text) <= maxNoticeBytes, "is %d bytes; at most %d (three SMS)", len(f.text), maxNoticeBytes)
			if msg := templateProblem(f.text, "number", "shop", "hours", "agent"); msg != "" {
				v.check(key, false, "%s", msg)
			}
		}
	}
}
