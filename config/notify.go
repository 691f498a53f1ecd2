package config

import (
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
	// The texts in each language.
	EN Notices `toml:"en"`
	PT Notices `toml:"pt"`
	TR Notices `toml:"tr"`
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
