package ui

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// listView is one of the ready-made views of the ticket list.
type listView struct {
	Key   string
	Label string
	Icon  string // a channel's icon, or ""
	apply func(f *ticket.Filter, user string)
}

// listViews are the views, in the order the list shows them.
var listViews = []listView{
	{Key: "all", Label: "All", apply: func(*ticket.Filter, string) {}},
	{Key: "mine", Label: "Mine", apply: func(f *ticket.Filter, user string) { f.Assignee = user }},
	{Key: "unassigned", Label: "Unassigned", apply: func(f *ticket.Filter, _ string) { f.Unassigned = true }},
	{Key: "urgent", Label: "Urgent", apply: func(f *ticket.Filter, _ string) { f.Priority = ticket.PriorityUrgent }},
	channelView(ticket.ChannelVoicemail, "Voicemails"),
	channelView(ticket.ChannelMissedCall, "Missed calls"),
	channelView(ticket.ChannelSMS, "SMS"),
	channelView(ticket.ChannelWebForm, "Web form"),
	channelView(ticket.ChannelEmail, "Email"),
	{Key: "after-hours", Label: "After hours", apply: func(f *ticket.Filter, _ string) { f.Tag = triage.TagAfterHours }},
	{Key: "spam", Label: "Spam", apply: func(f *ticket.Filter, _ string) { f.Status = ticket.StatusSpam }},
	{Key: "archived", Label: "Archived", apply: func(f *ticket.Filter, _ string) { f.Status = ticket.StatusArchived }},
}

func channelView(ch ticket.Channel, label string) listView {
	return listView{Key: string(ch), Label: label, Icon: string(ch), apply: func(f *ticket.Filter, _ string) { f.Channel = ch }}
}

func findView(key string) (listView, bool) {
	for _, v := range listViews {
		if v.Key == key {
			return v, true
		}
	}
	return listView{}, false
}

// listQuery is the ticket list's query string: a view and filters.
type listQuery struct {
	View     string
	Status   string
	Assignee string
	Team     string
	Priority string
	Tag      string
	Category string
	Q        string
	Cursor   string
}

func readListQuery(c *fiber.Ctx) listQuery {
	return listQuery{
		View:     c.Query("view", "all"),
		Status:   c.Query("status"),
		Assignee: c.Query("assignee"),
		Team:     strings.TrimSpace(c.Query("team")),
		Priority: c.Query("priority"),
		Tag:      strings.TrimSpace(c.Query("tag")),
		Category: strings.TrimSpace(c.Query("category")),
		Q:        strings.TrimSpace(c.Query("q")),
		Cursor:   c.Query("cursor"),
	}
}

// filter turns q into a Desk filter for user. The view's condition comes
// first; a filter the person chose narrows it further.
func (q listQuery) filter(user string) (ticket.Filter, error) {
	var f ticket.Filter
	v, ok := findView(q.View)
	if !ok {
		return f, httpError(fiber.StatusBadRequest, "There is no view %q.", q.View)
	}
	v.apply(&f, user)
	if q.Status != "" {
		st, err := ticket.ParseStatus(q.Status)
		if err != nil {
			return f, httpError(fiber.StatusBadRequest, "Unknown status %q.", q.Status)
		}
		f.Status = st
	}
	if q.Priority != "" {
		p, err := ticket.ParsePriority(q.Priority)
		if err != nil {
			return f, httpError(fiber.StatusBadRequest, "Unknown priority %q.", q.Priority)
		}
		f.Priority = p
	}
	switch q.Assignee {
	case "":
	case "none":
		f.Unassigned, f.Assignee = true, ""
	default:
		f.Assignee, f.Unassigned = q.Assignee, false
	}
	if q.Tag != "" {
		if _, err := ticket.NormalizeTag(q.Tag); err != nil {
			return f, httpError(fiber.StatusBadRequest, "%q is not a tag.", q.Tag)
		}
		f.Tag = q.Tag
	}
	f.Team, f.Category, f.Query, f.Cursor = q.Team, q.Category, q.Q, q.Cursor
	return f, nil
}

// values encodes q without the cursor, leaving out empty fields.
func (q listQuery) values() url.Values {
	v := url.Values{}
	for _, kv := range [][2]string{
		{"view", q.View}, {"status", q.Status}, {"assignee", q.Assignee}, {"team", q.Team},
		{"priority", q.Priority}, {"tag", q.Tag}, {"category", q.Category}, {"q", q.Q},
	} {
		if kv[1] != "" && !(kv[0] == "view" && kv[1] == "all") {
			v.Set(kv[0], kv[1])
		}
	}
	return v
}

// URL is the list's address for q, on its first page.
func (q listQuery) URL() string {
	if enc := q.values().Encode(); enc != "" {
		return "/tickets?" + enc
	}
	return "/tickets"
}

// ViewURL is the address of view key with the other filters kept.
func (q listQuery) ViewURL(key string) string {
	q.View = key
	return q.URL()
}

// row is one line of the ticket list.
type row struct {
	Ticket  ticket.Ticket
	Contact string
	Back    string // the list to come back to after a row action
	CSRF    string
	IsAdmin bool
	Now     time.Time
}

type listData struct {
	Query     listQuery
	Views     []listView
	Rows      []row
	Next      string
	Users     []string
	Events    string // the live feed's address for this list
	FirstPage bool
}

// contactNames looks up the display names of the contacts of tickets.
func (s *Server) contactNames(tickets []ticket.Ticket) map[uint64]string {
	names := make(map[uint64]string)
	for _, tk := range tickets {
		if _, ok := names[tk.ContactID]; ok || tk.ContactID == 0 {
			continue
		}
		ct, err := s.desk.Contact(tk.ContactID)
		if err == nil {
			names[tk.ContactID] = contactLabel(ct)
		}
	}
	return names
}

// ticketList shows a page of the ticket list.
func (s *Server) ticketList(c *fiber.Ctx) error {
	q := readListQuery(c)
	user := staff(c).user.Name
	f, err := q.filter(user)
	if err != nil {
		return err
	}
	page, err := s.desk.List(f)
	var fe *ticket.FieldError
	if errors.As(err, &fe) && errors.Is(err, ticket.ErrInvalid) {
		return httpError(fiber.StatusBadRequest, "The list cannot be shown: %s.", fe.Error())
	}
	if err != nil {
		return err
	}
	st, now := staff(c), s.now()
	back := c.OriginalURL()
	names := s.contactNames(page.Tickets)
	d := listData{Query: q, Views: listViews, Users: s.userNames(), FirstPage: q.Cursor == ""}
	for _, tk := range page.Tickets {
		d.Rows = append(d.Rows, row{Ticket: tk, Contact: names[tk.ContactID], Back: back,
			CSRF: st.session.CSRF, IsAdmin: st.user.Role == auth.RoleAdmin, Now: now})
	}
	if page.Next != "" {
		v := q.values()
		v.Set("cursor", page.Next)
		d.Next = "/tickets?" + v.Encode()
	}
	ev := q.values()
	d.Events = "/events"
	if enc := ev.Encode(); enc != "" {
		d.Events += "?" + enc
	}
	return s.render(c, fiber.StatusOK, "tickets", view{Title: "Tickets", Nav: "tickets", Data: d})
}

// userNames lists the staff user names, for the assignee pickers.
func (s *Server) userNames() []string {
	users, err := s.opts.Users.List()
	if err != nil {
		s.log.Warn("ui: list users", "err", err)
		return nil
	}
	out := make([]string, 0, len(users))
	for _, u := range users {
		out = append(out, u.Name)
	}
	return out
}

// renderRow renders one row of the list for the live feed.
func (s *Server) renderRow(st *staffCtx, r row) (string, error) {
	var buf bytes.Buffer
	r.CSRF, r.IsAdmin, r.Now = st.session.CSRF, st.user.Role == auth.RoleAdmin, s.now()
	if err := s.pages["tickets"].ExecuteTemplate(&buf, "row", r); err != nil {
		return "", err
	}
	return buf.String(), nil
}
