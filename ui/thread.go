package ui

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// entry is one item of a ticket's timeline: a message or an audit event.
type entry struct {
	At      time.Time
	Message *ticket.Message
	Event   *ticket.Event
}

// threadData is what the ticket page shows.
type threadData struct {
	Ticket   ticket.Ticket
	Contact  ticket.Contact
	Entries  []entry
	Users    []string
	Tags     string
	Reply    string // the reply being written, kept when it was refused
	Note     string
	Others   []ticket.Ticket // the contact's other tickets
	Into     []ticket.Ticket // the other tickets this one may merge into
	Statuses []ticket.Status // the statuses the ticket may move to
	Remotes  []remoteCopy    // the ticket's copies in the cloud helpdesks
}

// remoteCopy is a ticket's copy in a sync target.
type remoteCopy struct {
	Target, ID, URL string
}

// remotes lists the copies of tk, by target name.
func (s *Server) remotes(tk *ticket.Ticket) []remoteCopy {
	var out []remoteCopy
	for _, target := range slices.Sorted(maps.Keys(tk.Remote)) {
		rc := remoteCopy{Target: target, ID: tk.Remote[target]}
		if s.opts.RemoteLink != nil {
			rc.URL = s.opts.RemoteLink(target, rc.ID)
		}
		out = append(out, rc)
	}
	return out
}

// timeline merges messages and events in time order; at the same instant
// a message comes before the events it caused.
func timeline(th *ticket.Thread) []entry {
	out := make([]entry, 0, len(th.Messages)+len(th.Events))
	for i := range th.Messages {
		out = append(out, entry{At: th.Messages[i].At, Message: &th.Messages[i]})
	}
	for i := range th.Events {
		out = append(out, entry{At: th.Events[i].At, Event: &th.Events[i]})
	}
	slices.SortStableFunc(out, func(a, b entry) int {
		if c := a.At.Compare(b.At); c != 0 {
			return c
		}
		switch {
		case a.Message != nil && b.Message == nil:
			return -1
		case a.Message == nil && b.Message != nil:
			return 1
		}
		return 0
	})
	return out
}

// pageNumber reads the :number path parameter for a page.
func pageNumber(c *fiber.Ctx) (uint64, error) {
	n, err := strconv.ParseUint(strings.TrimPrefix(c.Params("number"), "#"), 10, 64)
	if err != nil || n == 0 {
		return 0, httpError(fiber.StatusNotFound, "There is no ticket %q.", c.Params("number"))
	}
	return n, nil
}

// loadThread reads ticket n for the page, hiding deleted tickets from
// agents.
func (s *Server) loadThread(c *fiber.Ctx, n uint64) (ticket.Thread, error) {
	th, err := s.desk.Thread(n)
	if errors.Is(err, ticket.ErrNotFound) || (err == nil && th.Ticket.Deleted && staff(c).user.Role != auth.RoleAdmin) {
		return th, httpError(fiber.StatusNotFound, "There is no ticket #%d.", n)
	}
	return th, err
}

// threadPage shows a ticket.
func (s *Server) threadPage(c *fiber.Ctx) error {
	n, err := pageNumber(c)
	if err != nil {
		return err
	}
	return s.showThread(c, n, fiber.StatusOK, "", threadData{})
}

// showThread renders ticket n with status, an error message and what the
// person had typed.
func (s *Server) showThread(c *fiber.Ctx, n uint64, status int, msg string, typed threadData) error {
	th, err := s.loadThread(c, n)
	if err != nil {
		return err
	}
	d := threadData{
		Ticket: th.Ticket, Contact: th.Contact, Entries: timeline(&th), Users: s.userNames(),
		Tags: strings.Join(th.Ticket.Tags, ", "), Reply: typed.Reply, Note: typed.Note,
		Statuses: []ticket.Status{th.Ticket.Status}, Remotes: s.remotes(&th.Ticket),
	}
	for _, st := range ticket.Statuses {
		if ticket.CanMove(th.Ticket.Status, st) {
			d.Statuses = append(d.Statuses, st)
		}
	}
	if th.Contact.ID != 0 {
		page, err := s.desk.List(ticket.Filter{ContactID: th.Contact.ID, Limit: maxOtherTickets + 1})
		if err != nil {
			s.log.Warn("ui: the contact's other tickets", "ticket", n, "err", err)
		}
		for _, tk := range page.Tickets {
			if tk.Number == n || len(d.Others) == maxOtherTickets {
				continue
			}
			d.Others = append(d.Others, tk)
			if tk.Status.Active() && tk.MergedInto == 0 {
				d.Into = append(d.Into, tk)
			}
		}
	}
	title := th.Ticket.Ref() + " " + th.Ticket.Subject
	return s.render(c, status, "thread", view{Title: title, Nav: "tickets", Error: msg, Data: d})
}

// maxOtherTickets bounds the contact's other tickets shown beside a
// ticket (the newest changed first).
const maxOtherTickets = 20

// mergeForm merges the ticket into another ticket of the same contact:
// its messages move there and it is closed, pointing at the other.
func (s *Server) mergeForm(c *fiber.Ctx) error {
	n, err := pageNumber(c)
	if err != nil {
		return err
	}
	v := strings.TrimPrefix(strings.TrimSpace(c.FormValue("into")), "#")
	into, err := strconv.ParseUint(v, 10, 64)
	if err != nil || into == 0 {
		return httpError(fiber.StatusBadRequest, "%q is not a ticket number to merge into.", c.FormValue("into"))
	}
	src, err := s.desk.Get(n)
	if err != nil {
		return s.afterChange(c, n, err, threadData{}, "")
	}
	if src.Deleted {
		return httpError(fiber.StatusNotFound, "There is no ticket #%d.", n)
	}
	dst, err := s.desk.Get(into)
	if errors.Is(err, ticket.ErrNotFound) || (err == nil && dst.Deleted) {
		return s.showThread(c, n, fiber.StatusUnprocessableEntity, fmt.Sprintf("There is no ticket #%d to merge into.", into), threadData{})
	}
	if err != nil {
		return err
	}
	if into != n && (src.ContactID == 0 || dst.ContactID != src.ContactID) {
		return s.showThread(c, n, fiber.StatusUnprocessableEntity,
			fmt.Sprintf("Ticket #%d belongs to another contact; a ticket merges only into one of the same contact.", into), threadData{})
	}
	if _, err := s.desk.Merge(c.UserContext(), staffActor(c), n, into, "merged from the ticket page"); err != nil {
		return s.afterChange(c, n, err, threadData{}, "")
	}
	return c.Redirect(fmt.Sprintf("/tickets/%d", into), fiber.StatusSeeOther)
}

// formError turns an error of the Desk about a form into a message for
// the page, or returns ok false when it is not the person's to fix.
func formError(err error) (string, bool) {
	var (
		fe *ticket.FieldError
		te *ticket.TransitionError
	)
	switch {
	case errors.As(err, &fe):
		return fe.Error(), true
	case errors.As(err, &te):
		return "The status " + te.Error() + ".", true
	case errors.Is(err, ticket.ErrMerged), errors.Is(err, ticket.ErrDeleted):
		return err.Error(), true
	case errors.Is(err, ticket.ErrOutboxFull):
		return "The outbox is full, so the reply cannot be queued. Try again later.", true
	}
	return "", false
}

// afterChange redirects back to the ticket when err is nil (the
// post/redirect/get pattern), or shows the ticket with the error.
func (s *Server) afterChange(c *fiber.Ctx, n uint64, err error, typed threadData, anchor string) error {
	if err == nil {
		return c.Redirect(fmt.Sprintf("/tickets/%d%s", n, anchor), fiber.StatusSeeOther)
	}
	if msg, ok := formError(err); ok {
		return s.showThread(c, n, fiber.StatusUnprocessableEntity, msg, typed)
	}
	if errors.Is(err, ticket.ErrNotFound) {
		return httpError(fiber.StatusNotFound, "There is no ticket #%d.", n)
	}
	return err
}

// replyForm sends a reply to the customer, and sets the status if one
// was chosen, in one action.
func (s *Server) replyForm(c *fiber.Ctx) error {
	n, err := pageNumber(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	r := ticket.Reply{Body: body}
	if v := c.FormValue("status"); v != "" {
		if r.Status, err = ticket.ParseStatus(v); err != nil {
			return httpError(fiber.StatusBadRequest, "Unknown status %q.", v)
		}
	}
	_, err = s.desk.Reply(c.UserContext(), staffActor(c), n, r)
	return s.afterChange(c, n, err, threadData{Reply: body}, "#end")
}

// noteForm adds an internal note.
func (s *Server) noteForm(c *fiber.Ctx) error {
	n, err := pageNumber(c)
	if err != nil {
		return err
	}
	body := c.FormValue("body")
	_, err = s.desk.AddNote(c.UserContext(), staffActor(c), n, body)
	return s.afterChange(c, n, err, threadData{Note: body}, "#end")
}

// updateForm sets assignee, status, priority and tags at once; only what
// changed is sent to the Desk, which records one event per field.
func (s *Server) updateForm(c *fiber.Ctx) error {
	n, err := pageNumber(c)
	if err != nil {
		return err
	}
	tk, err := s.desk.Get(n)
	if err != nil {
		return s.afterChange(c, n, err, threadData{}, "")
	}
	var p ticket.Patch
	if v := c.FormValue("status"); v != "" && v != string(tk.Status) {
		st, err := ticket.ParseStatus(v)
		if err != nil {
			return httpError(fiber.StatusBadRequest, "Unknown status %q.", v)
		}
		p.Status = &st
	}
	if v := c.FormValue("priority"); v != "" && v != string(tk.Priority) {
		pr, err := ticket.ParsePriority(v)
		if err != nil {
			return httpError(fiber.StatusBadRequest, "Unknown priority %q.", v)
		}
		p.Priority = &pr
	}
	if v, ok := formValue(c, "assignee"); ok && v != tk.Assignee {
		if v != "" && !slices.Contains(s.userNames(), v) {
			return s.showThread(c, n, fiber.StatusUnprocessableEntity, fmt.Sprintf("There is no user %q.", v), threadData{})
		}
		p.Assignee = &v
	}
	if v, ok := formValue(c, "tags"); ok {
		want := map[string]bool{}
		for t := range strings.SplitSeq(v, ",") {
			t = strings.TrimSpace(t)
			if t == "" {
				continue
			}
			norm, err := ticket.NormalizeTag(t)
			if err != nil {
				return s.afterChange(c, n, err, threadData{}, "")
			}
			want[norm] = true
		}
		for t := range want {
			if !slices.Contains(tk.Tags, t) {
				p.AddTags = append(p.AddTags, t)
			}
		}
		for _, t := range tk.Tags {
			if !want[t] {
				p.RemoveTags = append(p.RemoveTags, t)
			}
		}
		slices.Sort(p.AddTags)
	}
	if p.Status == nil && p.Priority == nil && p.Assignee == nil && len(p.AddTags) == 0 && len(p.RemoveTags) == 0 {
		return c.Redirect(fmt.Sprintf("/tickets/%d", n), fiber.StatusSeeOther)
	}
	_, err = s.desk.Update(c.UserContext(), staffActor(c), n, p)
	return s.afterChange(c, n, err, threadData{}, "")
}

// formValue returns a form field and whether the form had it at all.
func formValue(c *fiber.Ctx, name string) (string, bool) {
	if c.Request().PostArgs().Has(name) {
		return strings.TrimSpace(string(c.Request().PostArgs().Peek(name))), true
	}
	if form, err := c.MultipartForm(); err == nil {
		if v, ok := form.Value[name]; ok && len(v) > 0 {
			return strings.TrimSpace(v[0]), true
		}
	}
	return "", false
}

// backTo returns the list a row action came from, or the ticket list.
func backTo(c *fiber.Ctx) string {
	if b := c.FormValue("back"); localPath(b) && strings.HasPrefix(b, "/tickets") {
		return b
	}
	return "/tickets"
}

// archiveForm archives a ticket from the list.
func (s *Server) archiveForm(c *fiber.Ctx) error {
	n, err := pageNumber(c)
	if err != nil {
		return err
	}
	if _, err := s.desk.SetStatus(c.UserContext(), staffActor(c), n, ticket.StatusArchived, "archived from the list"); err != nil {
		if msg, ok := formError(err); ok {
			return httpError(fiber.StatusConflict, "Ticket #%d cannot be archived: %s", n, msg)
		}
		if errors.Is(err, ticket.ErrNotFound) {
			return httpError(fiber.StatusNotFound, "There is no ticket #%d.", n)
		}
		return err
	}
	return c.Redirect(backTo(c), fiber.StatusSeeOther)
}

// deleteForm deletes a ticket (softly: it stays in the store, audited).
// Only admins may.
func (s *Server) deleteForm(c *fiber.Ctx) error {
	if staff(c).user.Role != auth.RoleAdmin {
		return httpError(fiber.StatusForbidden, "Only an admin may delete tickets.")
	}
	n, err := pageNumber(c)
	if err != nil {
		return err
	}
	if err := s.desk.Delete(c.UserContext(), staffActor(c), n, "deleted from the staff pages"); err != nil {
		if errors.Is(err, ticket.ErrNotFound) || errors.Is(err, ticket.ErrDeleted) {
			return httpError(fiber.StatusNotFound, "There is no ticket #%d.", n)
		}
		if msg, ok := formError(err); ok {
			return httpError(fiber.StatusConflict, "Ticket #%d cannot be deleted: %s", n, msg)
		}
		return err
	}
	b := backTo(c)
	if strings.HasPrefix(b, fmt.Sprintf("/tickets/%d", n)) {
		b = "/tickets"
	}
	return c.Redirect(b, fiber.StatusSeeOther)
}

// fileForStaff serves an attachment to a logged-in user, with byte
// ranges, so that a voicemail plays and seeks in the page.
func (s *Server) fileForStaff(c *fiber.Ctx) error {
	err := s.getAttachment(c)
	var ae *apiError
	if errors.Is(err, ticket.ErrNotFound) {
		return httpError(fiber.StatusNotFound, "There is no such file.")
	}
	if errors.As(err, &ae) {
		return httpError(ae.Status, "%s", ae.Message)
	}
	return err
}
