package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
)

func TestDetect(t *testing.T) {
	tests := []struct{ text, want string }{
		{"Hi, is my order 1042 shipped?", ""},
		{"Merhaba, siparişim nerede?", "tr"},
		{"Pervane kırıldı, lutfen yardim", "tr"},
		{"Olá, a minha encomenda ainda não chegou", "pt"},
		{"bom dia, pedido 5531 por favor", "pt"},
		{"Çok güzel", "tr"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Detect(tt.text); got != tt.want {
			t.Errorf("Detect(%q) = %q, want %q", tt.text, got, tt.want)
		}
	}
}

func notifier() *Notifier {
	c := config.Default()
	return New(Options{Config: c.Notify, Shop: "Wings & Things", Hours: "Mon-Fri 09:00-18:00", OwnNumbers: []string{"+447700900999"}})
}

// TestNotices covers each rule and guard on its own.
func TestNotices(t *testing.T) {
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	mobile := ticket.Contact{ID: 1, Phones: []string{"+447911123456"}}
	sms := func(body string) *ticket.Message {
		return &ticket.Message{Direction: ticket.Incoming, Channel: ticket.ChannelSMS, Body: body}
	}
	tk := ticket.Ticket{Number: 1042, Channel: ticket.ChannelSMS, Status: ticket.StatusNew}
	tests := []struct {
		name  string
		event string
		in    ticket.NoticeInput
		want  string // the body, "" for no notice
	}{
		{"new SMS", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: mobile, Request: sms("servo dead"), Now: now},
			"Wings & Things: we received your request #1042 and will answer as soon as we can. Reply to this message to add to it."},
		{"after hours", ticket.EventCreated, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelSMS, AfterHours: true}, Contact: mobile, Request: sms("servo dead"), Now: now},
			"Wings & Things: we received your request #1042. We are closed now and will answer when we open (Mon-Fri 09:00-18:00)."},
		{"Turkish", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: mobile, Request: sms("Merhaba, siparişim nerede?"), Now: now},
			"Wings & Things: #1042 numaralı talebinizi aldık, en kısa sürede yanıt vereceğiz. Eklemek istediğiniz bir şey varsa bu mesajı yanıtlayın."},
		{"Portuguese", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: mobile, Request: sms("Olá, a encomenda não chegou"), Now: now},
			"Wings & Things: recebemos o seu pedido #1042 e responderemos assim que possível. Responda a esta mensagem para acrescentar algo."},
		{"acknowledged within the window", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: ticket.Contact{ID: 1, Phones: mobile.Phones, LastAckAt: now.Add(-time.Hour)}, Request: sms("again"), Now: now}, ""},
		{"acknowledged before the window", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: ticket.Contact{ID: 1, Phones: mobile.Phones, LastAckAt: now.Add(-25 * time.Hour)}, Request: sms("again"), Now: now},
			"Wings & Things: we received your request #1042 and will answer as soon as we can. Reply to this message to add to it."},
		{"auto reply", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: mobile, Request: &ticket.Message{Body: "I am away", Flags: []string{FlagAutoReply}}, Now: now}, ""},
		{"auto-submitted mail", ticket.EventCreated, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelEmail}, Contact: ticket.Contact{ID: 2, Emails: []string{"pilot@example.com"}},
			Request: &ticket.Message{Body: "Out of office", Meta: ticket.Meta{"auto_submitted": "auto-replied"}}, Now: now}, ""},
		{"sender name, no number", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: ticket.Contact{ID: 3, Name: "HobbyKing"}, Request: sms("Your parcel"), Now: now}, ""},
		{"short code", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: ticket.Contact{ID: 4, Phones: []string{"+4481234"}}, Request: sms("PIN 1234"), Now: now}, ""},
		{"the shop's own number", ticket.EventCreated, ticket.NoticeInput{Ticket: tk, Contact: ticket.Contact{ID: 5, Phones: []string{"+447700900999"}}, Request: sms("loop?"), Now: now}, ""},
		{"voicemail from a landline", ticket.EventCreated, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelVoicemail}, Contact: ticket.Contact{ID: 6, Phones: []string{"+442079460123"}}, Request: &ticket.Message{Channel: ticket.ChannelVoicemail}, Now: now}, ""},
		{"missed call from a mobile", ticket.EventCreated, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelMissedCall}, Contact: mobile, Request: &ticket.Message{Channel: ticket.ChannelMissedCall}, Now: now},
			"Wings & Things: we received your request #1042 and will answer as soon as we can. Reply to this message to add to it."},
		{"web form with an email", ticket.EventCreated, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelWebForm}, Contact: ticket.Contact{ID: 7, Emails: []string{"pilot@example.com"}}, Request: &ticket.Message{Body: "hello"}, Now: now},
			"Wings & Things: we received your request #1042 and will answer as soon as we can. Reply to this message to add to it."},
		{"entered by staff", ticket.EventCreated, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelStaff}, Contact: mobile, Request: &ticket.Message{Body: "walk-in"}, Now: now}, ""},
		{"resolved", ticket.EventStatusChanged, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelSMS, Status: ticket.StatusResolved, Assignee: "ana"}, Contact: mobile, Request: sms("hi"), Now: now},
			"Wings & Things: your request #1042 is resolved. Reply to this message if anything is still wrong."},
		{"pending", ticket.EventStatusChanged, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelSMS, Status: ticket.StatusPending}, Contact: mobile, Request: sms("hi"), Now: now},
			"Wings & Things: to go on with your request #1042 we need an answer from you. Reply to this message."},
		{"resolved with a reply in the same step", ticket.EventStatusChanged, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelSMS, Status: ticket.StatusResolved, LastOutboundAt: now}, Contact: mobile, Request: sms("hi"), Now: now}, ""},
		{"closed without resolving", ticket.EventStatusChanged, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelSMS, Status: ticket.StatusClosed, ClosedAs: ticket.ClosedUnresolved}, Contact: mobile, Request: sms("hi"), Now: now}, ""},
		{"opened", ticket.EventStatusChanged, ticket.NoticeInput{Ticket: ticket.Ticket{Number: 1042, Channel: ticket.ChannelSMS, Status: ticket.StatusOpen}, Contact: mobile, Request: sms("hi"), Now: now}, ""},
		{"a follow-up message", ticket.EventMessage, ticket.NoticeInput{Ticket: tk, Contact: mobile, Request: sms("more"), Now: now}, ""},
	}
	n := notifier()
	for _, tt := range tests {
		got := n.Notices(tt.event, tt.in)
		switch {
		case tt.want == "" && len(got) != 0:
			t.Errorf("%s: notices %+v, want none", tt.name, got)
		case tt.want != "" && (len(got) != 1 || got[0].Body != tt.want):
			t.Errorf("%s: notices %+v, want %q", tt.name, got, tt.want)
		case tt.want != "" && got[0].Ack != (tt.event == ticket.EventCreated):
			t.Errorf("%s: Ack = %v", tt.name, got[0].Ack)
		}
	}
}

// box is one appliance: a Desk whose notifier knows the box's own number.
type box struct {
	desk   *ticket.Desk
	number string
}

func newBox(t *testing.T, number string, window time.Duration) *box {
	t.Helper()
	c := config.Default()
	c.Notify.AckWindow = config.Duration{Duration: window}
	d, err := ticket.Open(t.TempDir(), ticket.Options{Notifier: New(Options{Config: c.Notify, Shop: "Shop " + number, OwnNumbers: []string{number}})})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return &box{desk: d, number: number}
}

// sent takes the SMS rows the box queued, as its modem would send them.
func (b *box) sent(t *testing.T) []ticket.Delivery {
	t.Helper()
	var out []ticket.Delivery
	for {
		rows, err := b.desk.Claim(ticket.DeliverKind(ticket.RouteSMS), 16)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) == 0 {
			return out
		}
		for _, r := range rows {
			var d ticket.Delivery
			if err := json.Unmarshal(r.Payload, &d); err != nil {
				t.Fatal(err)
			}
			out = append(out, d)
			if err := b.desk.Ack(r.ID, r.Lease); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// Through a real Desk: a new SMS is acknowledged once, as an automatic
// reply in the thread; the customer's second SMS within the window is not;
// resolving the ticket tells the customer, resolving it with a reply does
// not add a notice.
func TestDeskSendsNotices(t *testing.T) {
	b := newBox(t, "+447700900999", 24*time.Hour)
	ctx := context.Background()
	r, err := b.desk.Ingest(ctx, ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "s1", From: ticket.From{Phone: "+447911123456"}, Body: "My ESC smells burnt"})
	if err != nil {
		t.Fatal(err)
	}
	got := b.sent(t)
	if len(got) != 1 || got[0].To != "+447911123456" || !strings.Contains(got[0].Body, fmt.Sprintf("request #%d", r.Ticket)) {
		t.Fatalf("sent = %+v", got)
	}
	th, _ := b.desk.Thread(r.Ticket)
	last := th.Messages[len(th.Messages)-1]
	if last.Direction != ticket.Outgoing || last.Author != "notify "+RuleAcknowledge {
		t.Errorf("acknowledgement in the thread = %+v", last)
	}
	// Another ticket of the same customer within the window: no second one.
	second, err := b.desk.Ingest(ctx, ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "s2", From: ticket.From{Phone: "+447911123456"}, Body: "Also a prop", NewTicket: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := b.sent(t); len(got) != 0 {
		t.Errorf("second acknowledgement within the window: %+v", got)
	}
	if _, err := b.desk.SetStatus(ctx, ticket.Staff("ana"), r.Ticket, ticket.StatusResolved, ""); err != nil {
		t.Fatal(err)
	}
	if got := b.sent(t); len(got) != 1 || !strings.Contains(got[0].Body, "is resolved") {
		t.Errorf("resolved notice = %+v", got)
	}
	if _, err := b.desk.Reply(ctx, ticket.Staff("ana"), second.Ticket, ticket.Reply{Body: "Bring it in, we will swap it.", Status: ticket.StatusPending}); err != nil {
		t.Fatal(err)
	}
	if got := b.sent(t); len(got) != 1 || got[0].Body != "Bring it in, we will swap it." {
		t.Errorf("a reply that set pending sent %+v, want the reply alone", got)
	}
	// Closing without resolving tells no one.
	if _, err := b.desk.SetStatus(ctx, ticket.Staff("ana"), second.Ticket, ticket.StatusClosed, ""); err != nil {
		t.Fatal(err)
	}
	if got := b.sent(t); len(got) != 0 {
		t.Errorf("closing without resolving sent %+v", got)
	}
}

// Two boxes whose acknowledgements reach each other as SMS stop at once:
// each acknowledges the other's first message, and nothing after.
func TestTwoBoxesDoNotLoop(t *testing.T) {
	a := newBox(t, "+447700900111", 24*time.Hour)
	b := newBox(t, "+447700900222", 24*time.Hour)
	ctx := context.Background()
	// A customer texts box a from box b's number (a shop testing its line).
	if _, err := a.desk.Ingest(ctx, ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "start", From: ticket.From{Phone: b.number}, Body: "Test"}); err != nil {
		t.Fatal(err)
	}
	total := 0
	for round := range 10 {
		moved := 0
		for _, pair := range [][2]*box{{a, b}, {b, a}} {
			from, to := pair[0], pair[1]
			for i, d := range from.sent(t) {
				moved++
				if _, err := to.desk.Ingest(ctx, ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: fmt.Sprintf("r%d-%s-%d", round, from.number, i),
					From: ticket.From{Phone: from.number}, Body: d.Body}); err != nil {
					t.Fatal(err)
				}
			}
		}
		total += moved
		if moved == 0 {
			break
		}
	}
	// Each box knows only its own number: a acknowledges b's first text,
	// b takes that acknowledgement as a new request and acknowledges it,
	// and a threads b's acknowledgement onto the open ticket, which asks
	// for no new acknowledgement. The window would stop it otherwise.
	if total > 2 {
		t.Errorf("%d automatic messages went between the boxes, want at most 2", total)
	}
}

func TestWithin(t *testing.T) {
	at := func(hm string) time.Time {
		tm, _ := time.Parse("15:04", hm)
		return time.Date(2026, 11, 23, tm.Hour(), tm.Minute(), 0, 0, time.UTC)
	}
	tests := []struct {
		now, from, to string
		want          bool
	}{
		{"08:00", "08:00", "22:00", true},
		{"21:59", "08:00", "22:00", true},
		{"22:00", "08:00", "22:00", false},
		{"03:00", "08:00", "22:00", false},
		{"23:30", "22:00", "07:00", true},
		{"06:59", "22:00", "07:00", true},
		{"12:00", "22:00", "07:00", false},
	}
	for _, tt := range tests {
		if got := within(at(tt.now), tt.from, tt.to, time.UTC); got != tt.want {
			t.Errorf("within(%s, %s-%s) = %v", tt.now, tt.from, tt.to, got)
		}
	}
	// The hours are the shop's: 08:30 UTC is 09:30 in Lisbon in summer.
	lisbon, err := time.LoadLocation("Europe/Lisbon")
	if err != nil {
		t.Fatal(err)
	}
	if within(time.Date(2026, 7, 1, 8, 30, 0, 0, time.UTC), "09:00", "18:00", lisbon) != true {
		t.Error("on-call hours not read in the shop's time zone")
	}
}

// A safety term in a customer's SMS pages the on-call phone during its
// hours, audited, as an SMS that is no message of the thread.
func TestUrgentTicketPagesOncall(t *testing.T) {
	c := config.Default()
	c.Notify.OncallPhone = "+447911000111"
	c.Notify.OncallFrom, c.Notify.OncallTo = "00:00", "23:59"
	rules, err := triage.New(c)
	if err != nil {
		t.Fatal(err)
	}
	n := New(Options{Config: c.Notify, Shop: "Wings", Location: time.UTC})
	monday := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC) // the shop is open: staff are paged
	d, err := ticket.Open(t.TempDir(), ticket.Options{Notifier: n, Triager: rules, Automator: rules, Now: func() time.Time { return monday }})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.Ingest(context.Background(), ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "s", At: monday,
		From: ticket.From{Phone: "+447911123456"}, Body: "My LiPo is swollen and there is smoke"})
	if err != nil {
		t.Fatal(err)
	}
	b := &box{desk: d}
	var pages []ticket.Delivery
	for _, dl := range b.sent(t) {
		if dl.To == "+447911000111" {
			pages = append(pages, dl)
		}
	}
	if len(pages) != 1 || pages[0].MessageID != 0 || !strings.HasPrefix(pages[0].Body, fmt.Sprintf("Wings URGENT #%d: ", r.Ticket)) {
		t.Fatalf("pages = %+v", pages)
	}
	th, _ := d.Thread(r.Ticket)
	paged := false
	for _, e := range th.Events {
		paged = paged || e.Action == "page" && e.After == "+447911000111"
	}
	if !paged {
		t.Errorf("the page is not in the audit trail: %+v", th.Events)
	}
	// Outside the hours nobody is paged.
	if got := n.Pages(th.Ticket, "smoke", time.Date(2026, 11, 23, 23, 59, 30, 0, time.UTC)); len(got) != 0 {
		t.Errorf("paged outside the hours: %+v", got)
	}
}
