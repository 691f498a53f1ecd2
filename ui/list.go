package ui

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// listView is one of the ready-made views of the ticket list.
type listView struct {
	Key       string
	Label     string
	Icon      string // a channel's icon, or ""
	AdminOnly bool   // shown to admins only
	apply     func(f *ticket.Filter, user string)
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
	{Key: "deleted", Label: "Deleted", AdminOnly: true, apply: func(f *ticket.Filter, _ string) { f.Deleted = true }},
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
	Date     string // which date From and To bound: "updated" (the default) or "created"
	From     string // a day, YYYY-MM-DD, in the shop's time
	To       string // the last day included
	Cursor   string
}

func readListQuery(c *fiber.Ctx) listQuery {
	return listQueryOf(func(k string) string { return c.Query(k) })
}

// listQueryOf reads a list query with get, which returns one parameter.
func listQueryOf(get func(string) string) listQuery {
	q := listQuery{
		View:     get("view"),
		Status:   get("status"),
		Assignee: get("assignee"),
		Team:     strings.TrimSpace(get("team")),
		Priority: get("priority"),
		Tag:      strings.TrimSpace(get("tag")),
		Category: strings.TrimSpace(get("category")),
		Q:        strings.TrimSpace(get("q")),
		Date:     get("date"),
		From:     strings.TrimSpace(get("from")),
		To:       strings.TrimSpace(get("to")),
		Cursor:   get("cursor"),
	}
	if q.View == "" {
		q.View = "all"
	}
	if q.Date == "updated" {
		q.Date = ""
	}
	return q
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
		{"date", q.Date}, {"from", q.From}, {"to", q.To},
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

// dateRange bounds the tickets of a list by the day they were created or
// last changed, in the shop's time (the time zone the pages show times in).
type dateRange struct {
	Created  bool      // bound the creation time, not the last change
	From, To time.Time // From included, To excluded; zero means open
}

func (r dateRange) IsZero() bool { return r.From.IsZero() && r.To.IsZero() }

// contains reports whether tk falls in r.
func (r dateRange) contains(tk *ticket.Ticket) bool {
	t := tk.UpdatedAt
	if r.Created {
		t = tk.CreatedAt
	}
	return (r.From.IsZero() || !t.Before(r.From)) && (r.To.IsZero() || t.Before(r.To))
}

// dateLayout is how the date fields are written (HTML input type=date).
const dateLayout = "2006-01-02"

// dates reads the date range of q in loc.
func (q listQuery) dates(loc *time.Location) (dateRange, error) {
	var r dateRange
	switch q.Date {
	case "":
	case "created":
		r.Created = true
	default:
		return r, httpError(fiber.StatusBadRequest, "Dates bound %q; choose created or updated.", q.Date)
	}
	day := func(name, v string) (time.Time, error) {
		if v == "" {
			return time.Time{}, nil
		}
		t, err := time.ParseInLocation(dateLayout, v, loc)
		if err != nil {
			return t, httpError(fiber.StatusBadRequest, "The %s date %q is not a date such as 2025-03-31.", name, v)
		}
		return t, nil
	}
	var err error
	if r.From, err = day("from", q.From); err != nil {
		return r, err
	}
	if r.To, err = day("to", q.To); err != nil {
		return r, err
	}
	if !r.To.IsZero() {
		r.To = r.To.AddDate(0, 0, 1)
	}
	if !r.From.IsZero() && !r.To.IsZero() && !r.From.Before(r.To) {
		return r, httpError(fiber.StatusBadRequest, "The from date %s is after the to date %s.", q.From, q.To)
	}
	return r, nil
}

// maxDateScan bounds how many tickets one page of a date-bounded list
// looks at. The Desk's filter has no date range, so the pages walk the
// listing, newest change first, and skip what falls outside; past the
// bound the page ends early with a link to go on.
const maxDateScan = 5000

// listPage returns a page of the tickets that match f and fall in r.
// Without a full-text query the listing comes newest change first, so the
// walk stops at the first ticket changed before r.From (a ticket is
// never changed before it is created).
func (s *Server) listPage(f ticket.Filter, r dateRange) (ticket.Page, bool, error) {
	if r.IsZero() {
		p, err := s.desk.List(f)
		return p, false, err
	}
	want := f.Limit
	if want <= 0 {
		want = ticket.DefaultPageSize
	}
	var out ticket.Page
	for examined := 0; ; {
		f.Limit = want - len(out.Tickets)
		p, err := s.desk.List(f)
		if err != nil {
			return out, false, err
		}
		for i := range p.Tickets {
			tk := &p.Tickets[i]
			if f.Query == "" && !r.From.IsZero() && tk.UpdatedAt.Before(r.From) {
				return out, false, nil
			}
			if r.contains(tk) {
				out.Tickets = append(out.Tickets, *tk)
			}
		}
		examined += len(p.Tickets)
		if p.Next == "" {
			return out, false, nil
		}
		if len(out.Tickets) == want || examined >= maxDateScan {
			out.Next = p.Next
			return out, len(out.Tickets) < want, nil
		}
		f.Cursor = p.Next
	}
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
	IsAdmin   bool
	Bulk      bool   // the rows can be selected for a bulk change
	Back      string // this list, for the bulk form to come back to
	MaxBulk   int
	Partial   bool        // the page ended early: more may match
	Report    *bulkReport // what the last bulk change did, when it failed in part
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
	return s.showList(c, readListQuery(c), fiber.StatusOK, "", nil)
}

// showList renders the list q with status, an error message and the
// report of a bulk change.
func (s *Server) showList(c *fiber.Ctx, q listQuery, status int, msg string, rep *bulkReport) error {
	st := staff(c)
	isAdmin := st.user.Role == auth.RoleAdmin
	if v, ok := findView(q.View); ok && v.AdminOnly && !isAdmin {
		return httpError(fiber.StatusForbidden, "Only an admin may see the %s view.", strings.ToLower(v.Label))
	}
	f, err := q.filter(st.user.Name)
	if err != nil {
		return err
	}
	dr, err := q.dates(s.opts.Location)
	if err != nil {
		return err
	}
	page, partial, err := s.listPage(f, dr)
	var fe *ticket.FieldError
	if errors.As(err, &fe) && errors.Is(err, ticket.ErrInvalid) {
		return httpError(fiber.StatusBadRequest, "The list cannot be shown: %s.", fe.Error())
	}
	if err != nil {
		return err
	}
	now := s.now()
	back := q.URL()
	if q.Cursor != "" {
		v := q.values()
		v.Set("cursor", q.Cursor)
		back = "/tickets?" + v.Encode()
	}
	names := s.contactNames(page.Tickets)
	d := listData{Query: q, Views: listViews, Users: s.userNames(), FirstPage: q.Cursor == "",
		IsAdmin: isAdmin, Bulk: !f.Deleted, Back: back, MaxBulk: maxBulk, Partial: partial, Report: rep}
	for _, tk := range page.Tickets {
		d.Rows = append(d.Rows, row{Ticket: tk, Contact: names[tk.ContactID], Back: back,
			CSRF: st.session.CSRF, IsAdmin: isAdmin, Now: now})
	}
	if page.Next != "" {
		v := q.values()
		v.Set("cursor", page.Next)
		d.Next = "/tickets?" + v.Encode()
	}
	// The live feed knows no dates, nor deleted tickets: a list bounded
	// by either is not live.
	if dr.IsZero() && !f.Deleted {
		d.Events = "/events"
		if enc := q.values().Encode(); enc != "" {
			d.Events += "?" + enc
		}
	}
	return s.render(c, status, "tickets", view{Title: "Tickets", Nav: "tickets", Error: msg, Data: d})
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
	if err := s.pages["tickets"].ExecuteTemplate(&buf, "listrow", r); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// maxBulk bounds the tickets one bulk change may touch.
const maxBulk = 200

// bulkWhy is recorded in the audit trail of a bulk change.
const bulkWhy = "bulk change from the ticket list"

// bulkResult is what a bulk change did to one ticket.
type bulkResult struct {
	Number uint64
	Err    string // empty when the change was made
}

// bulkReport is what a bulk change did, ticket by ticket.
type bulkReport struct {
	What    string
	Results []bulkResult
}

// Failed counts the tickets the change was refused for.
func (r *bulkReport) Failed() int {
	n := 0
	for _, x := range r.Results {
		if x.Err != "" {
			n++
		}
	}
	return n
}

// formValues returns every value of a form field, urlencoded or
// multipart.
func formValues(c *fiber.Ctx, name string) []string {
	var out []string
	for _, v := range c.Request().PostArgs().PeekMulti(name) {
		out = append(out, string(v))
	}
	if len(out) == 0 {
		if form, err := c.MultipartForm(); err == nil {
			out = form.Value[name]
		}
	}
	return out
}

// bulkForm applies one change (assign, status, tag or untag) to the
// tickets selected in the list. Each ticket changes through the Desk on
// its own, audited; one that the Desk refuses (a status it may not move
// to, say) is reported and the others still change.
func (s *Server) bulkForm(c *fiber.Ctx) error {
	back := backTo(c)
	u, err := url.Parse(back)
	if err != nil {
		return httpError(fiber.StatusBadRequest, "The list to come back to is not an address.")
	}
	uq := u.Query()
	q := listQueryOf(uq.Get)
	refuse := func(format string, args ...any) error {
		return s.showList(c, q, fiber.StatusUnprocessableEntity, fmt.Sprintf(format, args...), nil)
	}

	raw := formValues(c, "n")
	if len(raw) > maxBulk {
		return refuse("At most %d tickets can be changed at once; %d were selected.", maxBulk, len(raw))
	}
	var nums []uint64
	seen := map[uint64]bool{}
	for _, v := range raw {
		n, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(v), "#"), 10, 64)
		if err != nil || n == 0 {
			return httpError(fiber.StatusBadRequest, "%q is not a ticket number.", v)
		}
		if !seen[n] {
			seen[n] = true
			nums = append(nums, n)
		}
	}

	var (
		what  string
		apply func(n uint64) error
		ctx   = c.UserContext()
		actor = staffActor(c)
	)
	switch action := c.FormValue("action"); action {
	case "assign":
		who, _ := formValue(c, "assignee")
		if who != "" && !slices.Contains(s.userNames(), who) {
			return refuse("There is no user %q.", who)
		}
		what = "assigned to " + cmp.Or(who, "nobody")
		apply = func(n uint64) error { _, err := s.desk.Assign(ctx, actor, n, who, bulkWhy); return err }
	case "status":
		v := c.FormValue("status")
		st, err := ticket.ParseStatus(v)
		if err != nil {
			return refuse("Unknown status %q.", v)
		}
		what = "status set to " + string(st)
		apply = func(n uint64) error { _, err := s.desk.SetStatus(ctx, actor, n, st, bulkWhy); return err }
	case "tag", "untag":
		v, _ := formValue(c, "tag")
		tag, err := ticket.NormalizeTag(v)
		if err != nil {
			return refuse("%q is not a tag: %v.", v, err)
		}
		if action == "tag" {
			what = "tagged " + tag
			apply = func(n uint64) error { _, err := s.desk.Tag(ctx, actor, n, []string{tag}, nil, bulkWhy); return err }
		} else {
			what = "tag " + tag + " removed"
			apply = func(n uint64) error { _, err := s.desk.Tag(ctx, actor, n, nil, []string{tag}, bulkWhy); return err }
		}
	default:
		return httpError(fiber.StatusBadRequest, "Unknown bulk action %q.", action)
	}
	if len(nums) == 0 {
		return refuse("Select at least one ticket first.")
	}

	rep := &bulkReport{What: what}
	for _, n := range nums {
		if err := ctx.Err(); err != nil {
			return err
		}
		res := bulkResult{Number: n}
		if err := apply(n); err != nil {
			res.Err = bulkError(err)
			if res.Err == "" {
				s.log.Error("ui: bulk change", "ticket", n, "change", what, "err", err)
				res.Err = "It could not be changed; the error is in the appliance's log."
			}
		}
		rep.Results = append(rep.Results, res)
	}
	s.log.Info("ui: bulk change", "user", staff(c).user.Name, "change", what, "tickets", len(nums), "failed", rep.Failed())
	if rep.Failed() == 0 {
		return c.Redirect(back, fiber.StatusSeeOther)
	}
	return s.showList(c, q, fiber.StatusUnprocessableEntity,
		fmt.Sprintf("%d of %d tickets could not be changed.", rep.Failed(), len(nums)), rep)
}

// bulkError is the message for the person of a Desk error about one
// ticket of a bulk change, or "" when it is not theirs to fix.
func bulkError(err error) string {
	switch {
	case errors.Is(err, ticket.ErrNotFound), errors.Is(err, ticket.ErrDeleted):
		return "There is no such ticket."
	}
	var te *ticket.TransitionError
	if errors.As(err, &te) {
		return "Its " + te.Error() + "."
	}
	if msg, ok := formError(err); ok {
		return msg
	}
	return ""
}
