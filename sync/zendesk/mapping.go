package zendesk

import (
	"slices"
	"strings"
	"unicode"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// The ticket statuses of Zendesk ("Tickets", status).
const (
	statusNew     = "new"
	statusOpen    = "open"
	statusPending = "pending"
	statusHold    = "hold"
	statusSolved  = "solved"
	statusClosed  = "closed"
	// statusDeleted is how the incremental export shows a deleted ticket.
	statusDeleted = "deleted"
)

// zendeskStatus returns the Zendesk status for the box's status s, or ""
// for none. The box's closed, spam and archived become solved: Zendesk
// closes a solved ticket by itself (an automation, after four days by
// default), and a closed ticket can never be changed again, so the box
// never closes one itself.
func zendeskStatus(s ticket.Status) string {
	switch s {
	case ticket.StatusNew:
		return statusNew
	case ticket.StatusOpen:
		return statusOpen
	case ticket.StatusPending:
		return statusPending
	case ticket.StatusResolved, ticket.StatusClosed, ticket.StatusSpam, ticket.StatusArchived:
		return statusSolved
	}
	return ""
}

// boxStatus returns the box's status for the Zendesk status s, or "" for
// one it does not know (a deleted ticket).
func boxStatus(s string) ticket.Status {
	switch s {
	case statusNew:
		return ticket.StatusNew
	case statusOpen:
		return ticket.StatusOpen
	case statusPending, statusHold:
		return ticket.StatusPending
	case statusSolved:
		return ticket.StatusResolved
	case statusClosed:
		return ticket.StatusClosed
	}
	return ""
}

// zendeskPriority returns the Zendesk priority for the box's priority p:
// the same four words, or "" to leave it unset.
func zendeskPriority(p ticket.Priority) string {
	if slices.Contains(ticket.Priorities, p) {
		return string(p)
	}
	return ""
}

// done reports whether the box's status s means the work on the ticket is
// over (it maps to solved).
func done(s ticket.Status) bool { return zendeskStatus(s) == statusSolved }

// tagsFor returns the tags the ticket carries in Zendesk: the target's
// configured tags, the ticket's own, Tag, the channel tag, and
// Tag+"_spam" for spam, each as Zendesk stores a tag (lower case, no
// white space), without repeats.
func (t *Target) tagsFor(tk *sync.Ticket) []string {
	var out []string
	add := func(s string) {
		s = zendeskTag(s)
		if s != "" && !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range t.tags {
		add(s)
	}
	for _, s := range tk.Tags {
		add(s)
	}
	add(Tag)
	if tk.Channel != "" {
		add(Tag + "_" + string(tk.Channel))
	}
	if tk.Status == ticket.StatusSpam {
		add(Tag + "_spam")
	}
	return out
}

// zendeskTag returns s as a Zendesk tag: lower case, with runs of white
// space and commas (which would split it into several tags) as one "_".
func zendeskTag(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return unicode.IsSpace(r) || r == ',' })
	return strings.Join(f, "_")
}

// maxSubject is the longest subject the target sends, in characters.
const maxSubject = 150

// subjectOf returns the subject of the remote ticket: the box's, or one
// made of the channel and the contact when the box has none.
func subjectOf(tk *sync.Ticket) string {
	s := strings.TrimSpace(tk.Subject)
	if s == "" {
		who := tk.Contact.Name
		if who == "" {
			who = tk.Phone()
		}
		if who == "" {
			who = tk.Email()
		}
		s = channelLabel(tk.Channel)
		if who != "" {
			s += " from " + who
		}
	}
	if r := []rune(s); len(r) > maxSubject {
		s = string(r[:maxSubject-1]) + "…"
	}
	return s
}

// channelLabel names a channel for a subject.
func channelLabel(c ticket.Channel) string {
	switch c {
	case ticket.ChannelVoicemail:
		return "Voicemail"
	case ticket.ChannelMissedCall:
		return "Missed call"
	case ticket.ChannelSMS:
		return "SMS"
	case ticket.ChannelWebForm:
		return "Web form request"
	case ticket.ChannelEmail:
		return "Email"
	case ticket.ChannelStaff:
		return "Counter request"
	}
	return "Request"
}
