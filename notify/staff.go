package notify

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/ticket"
)

// Staff notifications by email. Three things reach staff mailboxes, each an
// outbox row, so that nothing is lost while the mail server or the network
// is away:
//
//   - urgent tickets (a safety term, a rule with a notify action), which
//     the Desk queues as KindNotifyStaff rows without addresses: they go to
//     [notify] staff_emails;
//   - redirection rules ([[notify.redirect]]): Notifier.Plan queues a
//     KindNotifyStaff row with the rule's addresses the first time a ticket
//     matches it: "*" when the ticket is created, "tag:NAME" and
//     "category:NAME" when it has them, at creation or later;
//   - the daily digest of open and overdue tickets (KindDigest), queued by
//     RunDigest once a day.
//
// StaffMail writes the mail of such a row when it is sent, from the
// ticket's state at that time.

// KindDigest is the outbox kind of the staff's daily digest. Its payload is
// a DigestRequest.
const KindDigest = "notify.digest"

// DigestRequest is the payload of a digest row.
type DigestRequest struct {
	Day string   `json:"day"` // "2006-01-02" in the shop's time zone
	To  []string `json:"to"`
}

// StaffMail is a mail to staff, ready for the SMTP sender.
type StaffMail struct {
	To      []string
	Subject string
	Body    string
	// Key identifies the mail for its Message-ID: the same row gives the
	// same key each time it is tried.
	Key string
	// Ticket is the ticket the mail is about, 0 for the digest.
	Ticket uint64
}

// StaffDesk is what staff mails read of the desk; ticket.Desk provides it.
type StaffDesk interface {
	Thread(n uint64) (ticket.Thread, error)
	List(f ticket.Filter) (ticket.Page, error)
}

var (
	_ StaffDesk      = (*ticket.Desk)(nil)
	_ ticket.Planner = (*Notifier)(nil)
)

// Plan is the ticket.Planner of the redirection rules: the first change
// after which a ticket matches a rule queues one mail to the rule's
// addresses. The row's key names the ticket and the rule, so a ticket goes
// to a rule's addresses once however often it changes.
func (n *Notifier) Plan(c ticket.Change) []ticket.Effect {
	rules := n.o.Config.Redirect
	if len(rules) == 0 || c.Ticket.Deleted || c.Ticket.MergedInto != 0 {
		return nil
	}
	switch c.Kind {
	case ticket.TicketCreated, ticket.TicketUpdated, ticket.MessageAdded:
	default:
		return nil
	}
	tk := &c.Ticket
	var out []ticket.Effect
	for _, r := range rules {
		why, ok := r.Matches(c.Kind == ticket.TicketCreated, tk.Category, tk.Tags)
		if !ok {
			continue
		}
		out = append(out, ticket.Effect{
			Kind: ticket.KindNotifyStaff,
			Key:  "redirect:" + strconv.FormatUint(tk.Number, 10) + ":" + r.Name,
			Payload: ticket.StaffNotice{
				Ticket: tk.Number, TicketRef: tk.Ref(), Subject: tk.Subject, Priority: tk.Priority,
				Rule: "redirect " + r.Name, Text: why, To: slices.Clone(r.To),
			},
		})
	}
	return out
}

// StaffMail writes the mail of a KindNotifyStaff or KindDigest row. A mail
// with no addresses (no staff_emails; the ticket was deleted since) is
// not to be sent: StaffMail returns it with To empty.
func (n *Notifier) StaffMail(d StaffDesk, row ticket.OutboxRow, now time.Time) (StaffMail, error) {
	switch row.Kind {
	case ticket.KindNotifyStaff:
		var sn ticket.StaffNotice
		if err := json.Unmarshal(row.Payload, &sn); err != nil {
			return StaffMail{}, ticket.Permanent(fmt.Errorf("staff notice %d: %w", row.ID, err))
		}
		return n.noticeMail(d, row, sn)
	case KindDigest:
		var req DigestRequest
		if err := json.Unmarshal(row.Payload, &req); err != nil {
			return StaffMail{}, ticket.Permanent(fmt.Errorf("digest %d: %w", row.ID, err))
		}
		return n.digestMail(d, row, req, now)
	}
	return StaffMail{}, ticket.Permanent(fmt.Errorf("outbox row %d: %q is no staff mail", row.ID, row.Kind))
}

// maxQuote bounds the customer's text quoted in a staff mail.
const maxQuote = 4000

// noticeMail writes the mail about one ticket.
func (n *Notifier) noticeMail(d StaffDesk, row ticket.OutboxRow, sn ticket.StaffNotice) (StaffMail, error) {
	m := StaffMail{To: sn.To, Key: row.Kind + ":" + row.Key, Ticket: sn.Ticket}
	if len(m.To) == 0 {
		m.To = n.o.Config.StaffEmails
	}
	th, err := d.Thread(sn.Ticket)
	if err == nil && th.Ticket.MergedInto != 0 {
		th, err = d.Thread(th.Ticket.MergedInto)
	}
	if errors.Is(err, ticket.ErrNotFound) || err == nil && th.Ticket.Deleted {
		m.To = nil // nothing left to tell about
		return m, nil
	}
	if err != nil {
		return StaffMail{}, fmt.Errorf("staff notice about ticket #%d: %w", sn.Ticket, err)
	}
	if len(m.To) == 0 {
		return m, nil
	}
	tk := th.Ticket
	redirect := strings.HasPrefix(sn.Rule, "redirect ")
	label := "Urgent"
	if redirect {
		label = "For " + strings.TrimPrefix(sn.Rule, "redirect ")
	} else if tk.Priority != ticket.PriorityUrgent {
		label = "Attention"
	}
	m.Subject = fmt.Sprintf("[%s] %s: %s %s", n.o.Shop, label, tk.Ref(), oneLine(subjectOf(&tk), 120))

	var b strings.Builder
	fmt.Fprintf(&b, "Ticket %s: %s\n", tk.Ref(), oneLine(subjectOf(&tk), 200))
	if redirect {
		fmt.Fprintf(&b, "Sent to you by the redirection rule %q (%s).\n", strings.TrimPrefix(sn.Rule, "redirect "), sn.Text)
	} else {
		fmt.Fprintf(&b, "Why: %s (rule %s).\n", oneLine(sn.Text, 300), sn.Rule)
	}
	b.WriteString("\n")
	field := func(name, value string) {
		if value != "" {
			fmt.Fprintf(&b, "%-11s %s\n", name+":", value)
		}
	}
	field("Priority", string(tk.Priority))
	field("Status", string(tk.Status))
	field("Channel", channelName(tk.Channel))
	field("Category", tk.Category)
	field("Tags", strings.Join(tk.Tags, ", "))
	assignee := tk.Assignee
	if assignee == "" {
		assignee = "nobody yet"
	}
	field("Assigned", assignee)
	field("Customer", contactLine(th.Contact))
	field("Received", n.local(tk.CreatedAt))
	if !tk.FirstResponseDue.IsZero() && tk.FirstResponseAt.IsZero() {
		field("Answer by", n.local(tk.FirstResponseDue))
	}
	if link := n.link(tk.Number); link != "" {
		field("Open it", link)
	}
	if first := firstRequest(th.Messages); first != nil {
		b.WriteString("\nThe customer wrote:\n\n")
		text := first.Body
		if first.Transcript != "" {
			text = strings.TrimSpace(text + "\n" + "Voicemail transcript: " + first.Transcript)
		}
		if strings.TrimSpace(text) == "" {
			text = "(no text)"
		}
		quote(&b, truncate(text, maxQuote))
		for _, a := range first.Attachments {
			fmt.Fprintf(&b, "\nAttached: %s (%s)", a.Name, size(a.Size))
		}
		if len(first.Attachments) > 0 {
			b.WriteString("\n")
		}
	}
	b.WriteString("\n-- \n" + n.o.Shop + " support desk. Reply in the desk, not to this mail: the customer does not see it.\n")
	m.Body = b.String()
	return m, nil
}

// maxDigestLines bounds the tickets listed in each part of a digest.
const maxDigestLines = 50

// digestMail writes the daily digest: the open tickets by status, those
// past a service-level due time, the urgent and high ones, and the ones
// nobody took.
func (n *Notifier) digestMail(d StaffDesk, row ticket.OutboxRow, req DigestRequest, now time.Time) (StaffMail, error) {
	m := StaffMail{To: req.To, Key: row.Kind + ":" + row.Key}
	if len(m.To) == 0 {
		return m, nil
	}
	counts := map[ticket.Status]int{}
	var overdue, pressing, unassigned []ticket.Ticket
	for _, s := range []ticket.Status{ticket.StatusNew, ticket.StatusOpen, ticket.StatusPending} {
		f := ticket.Filter{Status: s, Limit: ticket.MaxPageSize}
		for {
			p, err := d.List(f)
			if err != nil {
				return StaffMail{}, fmt.Errorf("digest: list %s tickets: %w", s, err)
			}
			for _, tk := range p.Tickets {
				if tk.Status != s { // changed since the index was read
					continue
				}
				counts[s]++
				if due := dueOf(&tk); !due.IsZero() && due.Before(now) {
					overdue = append(overdue, tk)
				}
				if tk.Priority == ticket.PriorityUrgent || tk.Priority == ticket.PriorityHigh {
					pressing = append(pressing, tk)
				}
				if tk.Assignee == "" && s != ticket.StatusPending {
					unassigned = append(unassigned, tk)
				}
			}
			if p.Next == "" {
				break
			}
			f.Cursor = p.Next
		}
	}
	total := counts[ticket.StatusNew] + counts[ticket.StatusOpen] + counts[ticket.StatusPending]
	m.Subject = fmt.Sprintf("[%s] Daily digest %s: %d open, %d overdue", n.o.Shop, req.Day, total, len(overdue))

	var b strings.Builder
	fmt.Fprintf(&b, "Open tickets on %s at %s: %d (new %d, open %d, waiting on the customer %d).\n",
		req.Day, n.local(now), total, counts[ticket.StatusNew], counts[ticket.StatusOpen], counts[ticket.StatusPending])
	byDue := func(a, b ticket.Ticket) int { return dueOf(&a).Compare(dueOf(&b)) }
	byNumber := func(a, b ticket.Ticket) int { return cmp.Compare(a.Number, b.Number) }
	slices.SortFunc(overdue, byDue)
	slices.SortFunc(pressing, byNumber)
	slices.SortFunc(unassigned, byNumber)
	n.digestPart(&b, "Overdue (past the time they were to be answered or resolved)", overdue, now, true)
	n.digestPart(&b, "Urgent and high priority", pressing, now, false)
	n.digestPart(&b, "Nobody assigned", unassigned, now, false)
	if link := n.listLink(); link != "" {
		fmt.Fprintf(&b, "\nAll tickets: %s\n", link)
	}
	b.WriteString("\n-- \n" + n.o.Shop + " support desk, daily at " + n.o.Config.DigestAt + ".\n")
	m.Body = b.String()
	return m, nil
}

// digestPart writes one list of a digest.
func (n *Notifier) digestPart(b *strings.Builder, title string, list []ticket.Ticket, now time.Time, due bool) {
	fmt.Fprintf(b, "\n%s: %d\n", title, len(list))
	if len(list) == 0 {
		b.WriteString("  none\n")
		return
	}
	for i, tk := range list {
		if i == maxDigestLines {
			fmt.Fprintf(b, "  ... and %d more\n", len(list)-i)
			break
		}
		who := tk.Assignee
		if who == "" {
			who = "unassigned"
		}
		line := fmt.Sprintf("  %-7s %-7s %-9s %s (%s, %s old)", tk.Ref(), tk.Priority, tk.Status, oneLine(subjectOf(&tk), 60), who, age(now.Sub(tk.CreatedAt)))
		if due {
			line += ", due " + n.local(dueOf(&tk))
		}
		b.WriteString(line + "\n")
	}
}

// dueOf returns the service-level time a ticket has missed or will miss
// first: its first answer while unanswered, else its resolution.
func dueOf(tk *ticket.Ticket) time.Time {
	if tk.FirstResponseAt.IsZero() && !tk.FirstResponseDue.IsZero() {
		return tk.FirstResponseDue
	}
	return tk.ResolutionDue
}

// DigestOptions configure RunDigest.
type DigestOptions struct {
	// At is the time of day, "HH:MM" in Location; "" sends no digest.
	At       string
	Location *time.Location
	To       []string
	// Enqueue queues the day's digest; Desk.Enqueue. Its key makes a
	// second call for the same day queue nothing.
	Enqueue func(ticket.Effect) error
	// Now returns the time; nil is time.Now.
	Now func() time.Time
	// Trusted reports whether the wall clock can be believed (it is
	// synchronised); nil trusts it. No digest is queued while it cannot.
	Trusted func() bool
	Logger  *slog.Logger
	// Tick is how often the time is looked at; 0 is a minute.
	Tick time.Duration
}

// RunDigest queues the staff's daily digest at its time each day until
// ctx ends. A box that was off at that time queues the day's digest when
// it starts again; the key "digest:DAY" keeps it to one a day.
func RunDigest(ctx context.Context, o DigestOptions) {
	at, err := time.Parse("15:04", o.At)
	if err != nil || len(o.To) == 0 || o.Enqueue == nil {
		return
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Tick <= 0 {
		o.Tick = time.Minute
	}
	t := time.NewTicker(o.Tick)
	defer t.Stop()
	last := ""
	for {
		now := o.Now().In(o.Location)
		day := now.Format("2006-01-02")
		due := time.Date(now.Year(), now.Month(), now.Day(), at.Hour(), at.Minute(), 0, 0, o.Location)
		if day != last && !now.Before(due) && (o.Trusted == nil || o.Trusted()) {
			err := o.Enqueue(ticket.Effect{Kind: KindDigest, Key: "digest:" + day, Payload: DigestRequest{Day: day, To: o.To}})
			if err != nil {
				o.Logger.Error("daily digest not queued; trying again in a minute", "day", day, "err", err)
			} else {
				last = day
				o.Logger.Debug("daily digest queued", "day", day)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// MessageKey is the part of a staff mail's Message-ID that names it: the
// same key always gives the same id.
func MessageKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:12])
}

// link returns the staff page of ticket number, or "".
func (n *Notifier) link(number uint64) string {
	if base := n.listLink(); base != "" {
		return base + "/" + strconv.FormatUint(number, 10)
	}
	return ""
}

// listLink returns the staff's ticket list, or "".
func (n *Notifier) listLink() string {
	base := strings.TrimRight(n.o.Config.StaffURL, "/")
	if base == "" {
		return ""
	}
	return base + "/tickets"
}

// local writes t in the shop's time zone.
func (n *Notifier) local(t time.Time) string {
	loc := n.o.Location
	if loc == nil {
		loc = time.Local
	}
	return t.In(loc).Format("Mon 2 Jan 15:04")
}

// firstRequest returns the customer's first message of a thread.
func firstRequest(ms []ticket.Message) *ticket.Message {
	for i := range ms {
		if ms[i].Direction == ticket.Incoming {
			return &ms[i]
		}
	}
	return nil
}

// subjectOf returns a ticket's subject, or what it is when it has none.
func subjectOf(tk *ticket.Ticket) string {
	if s := strings.TrimSpace(tk.Subject); s != "" {
		return s
	}
	return "(" + channelName(tk.Channel) + ")"
}

// channelName is a channel as staff read it.
func channelName(c ticket.Channel) string {
	return strings.ReplaceAll(string(c), "_", " ")
}

// contactLine writes who a contact is.
func contactLine(c ticket.Contact) string {
	parts := []string{}
	if c.Name != "" {
		parts = append(parts, oneLine(c.Name, 100))
	}
	parts = append(parts, c.Phones...)
	parts = append(parts, c.Emails...)
	return strings.Join(parts, ", ")
}

// quote writes text as a mail quote, each line after "> ".
func quote(b *strings.Builder, text string) {
	for line := range strings.SplitSeq(strings.TrimRight(text, "\n"), "\n") {
		b.WriteString("> " + strings.TrimRight(line, "\r") + "\n")
	}
}

// oneLine squeezes s onto one line of at most max bytes.
func oneLine(s string, max int) string {
	return truncate(strings.Join(strings.Fields(s), " "), max)
}

// truncate cuts s to at most max bytes on a character boundary, marking the
// cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	s = s[:max]
	for !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}

// size writes a byte count for people.
func size(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// age writes a duration as days or hours.
func age(d time.Duration) string {
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("%d days", int(d/(24*time.Hour)))
	case d >= time.Hour:
		return fmt.Sprintf("%d h", int(d/time.Hour))
	}
	return fmt.Sprintf("%d min", int(max(d, 0)/time.Minute))
}
