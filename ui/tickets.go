package ui

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
	"github.com/google/uuid"
)

// contactInput is who a ticket created through the API is from.
type contactInput struct {
	Name  string `json:"name"`
	Phone string `json:"phone"`
	Email string `json:"email"`
}

// attachmentInput is a file sent inline, its bytes in base64 (RFC 4648
// section 4, with or without padding).
type attachmentInput struct {
	Name        string `json:"name"`
	ContentType string `json:"content_type"`
	Data        string `json:"data"`
}

// createRequest is the body of POST /api/v1/tickets.
type createRequest struct {
	Subject     string            `json:"subject"`
	Body        string            `json:"body"`
	Contact     contactInput      `json:"contact"`
	Channel     string            `json:"channel"`
	Priority    string            `json:"priority"`
	Tags        []string          `json:"tags"`
	Attachments []attachmentInput `json:"attachments"`
}

// createResponse answers POST /api/v1/tickets.
type createResponse struct {
	Ticket    ticket.Ticket `json:"ticket"`
	MessageID uint64        `json:"message_id"`
	Duplicate bool          `json:"duplicate"`
}

// apiChannels are the channels a ticket created through the API may claim.
var apiChannels = []ticket.Channel{ticket.ChannelAPI, ticket.ChannelStaff, ticket.ChannelWebForm}

// Bounds of the fields the Desk does not bound itself before it writes.
const (
	maxIdempotencyKey = 200
	maxTags           = 32
	maxWhy            = 1000 // as Desk.Update allows
)

// checkWhy bounds the reason given for a merge or a delete, which the Desk
// records as it comes.
func checkWhy(why string) error {
	if len(why) > maxWhy {
		return &apiError{Status: fiber.StatusRequestEntityTooLarge, Code: codeTooLarge, Field: "why",
			Message: fmt.Sprintf("why: is %d bytes, the limit is %d", len(why), maxWhy)}
	}
	return nil
}

// inbound turns the request into what Desk.Ingest takes, and the patch of
// priority and tags to apply after it. The source key is left to the
// caller. Errors name the field at fault; nothing is written.
func (r *createRequest) inbound() (ticket.Inbound, ticket.Patch, error) {
	ch := ticket.ChannelAPI
	if r.Channel != "" {
		ch = ticket.Channel(r.Channel)
		if !slices.Contains(apiChannels, ch) {
			return ticket.Inbound{}, ticket.Patch{}, invalid("channel", "channel %q cannot be used here; use api, staff or web_form", r.Channel)
		}
	}
	var p ticket.Patch
	if r.Priority != "" {
		pr, err := ticket.ParsePriority(r.Priority)
		if err != nil {
			return ticket.Inbound{}, ticket.Patch{}, invalid("priority", "%v", err)
		}
		p.Priority = &pr
	}
	if err := checkTags("tags", r.Tags); err != nil {
		return ticket.Inbound{}, ticket.Patch{}, err
	}
	p.AddTags = r.Tags
	atts, err := decodeAttachments(r.Attachments)
	if err != nil {
		return ticket.Inbound{}, ticket.Patch{}, err
	}
	in := ticket.Inbound{
		Channel:     ch,
		From:        ticket.From{Name: r.Contact.Name, Phone: r.Contact.Phone, Email: r.Contact.Email},
		Subject:     r.Subject,
		Body:        r.Body,
		Attachments: atts,
		NewTicket:   true,
	}
	return in, p, nil
}

func invalid(field, format string, args ...any) *apiError {
	return &apiError{Status: fiber.StatusUnprocessableEntity, Code: codeInvalid, Field: field, Message: field + ": " + fmt.Sprintf(format, args...)}
}

func checkTags(field string, tags []string) error {
	if len(tags) > maxTags {
		return invalid(field, "at most %d tags", maxTags)
	}
	// Tags are checked before anything is written, because they are
	// applied after the ticket is created and a bad one must not leave a
	// ticket without them.
	for _, tag := range tags {
		if _, err := ticket.NormalizeTag(tag); err != nil {
			return invalid(field, "%v", err)
		}
	}
	return nil
}

// decodeAttachments decodes the base64 of inline files.
func decodeAttachments(in []attachmentInput) ([]ticket.NewAttachment, error) {
	if len(in) == 0 {
		return nil, nil
	}
	out := make([]ticket.NewAttachment, 0, len(in))
	for i, a := range in {
		data, err := base64.StdEncoding.DecodeString(a.Data)
		if err != nil {
			data, err = base64.RawStdEncoding.DecodeString(a.Data)
		}
		if err != nil {
			field := fmt.Sprintf("attachments[%d].data", i)
			return nil, badRequest(field, "%s is not base64", field)
		}
		out = append(out, ticket.NewAttachment{Name: a.Name, ContentType: a.ContentType, Data: data})
	}
	return out, nil
}

// idempotencyKey returns the Idempotency-Key header, or "" when there is
// none.
func idempotencyKey(c *fiber.Ctx) (string, error) {
	k := c.Get("Idempotency-Key")
	if k == "" {
		return "", nil
	}
	if len(k) > maxIdempotencyKey || strings.TrimSpace(k) == "" {
		return "", badRequest("Idempotency-Key", "Idempotency-Key must be 1 to %d printable characters", maxIdempotencyKey)
	}
	for i := 0; i < len(k); i++ {
		if k[i] < 0x20 || k[i] > 0x7e {
			return "", badRequest("Idempotency-Key", "Idempotency-Key must be 1 to %d printable characters", maxIdempotencyKey)
		}
	}
	return strings.Clone(k), nil
}

// createTicket opens a ticket. A retry with the same Idempotency-Key
// gives the same ticket, answered 200 with "duplicate": true.
func (s *Server) createTicket(c *fiber.Ctx) error {
	var req createRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	in, patch, err := req.inbound()
	if err != nil {
		return err
	}
	who := actor(c)
	// The key is scoped to the token, so two clients that pick the same
	// key do not see each other's tickets.
	if key != "" {
		in.SourceKey = "key:" + who.Name + ":" + key
	} else {
		in.SourceKey = "uuid:" + uuid.NewString()
	}
	ctx := c.UserContext()
	res, err := s.desk.Ingest(ctx, in)
	if err != nil {
		return err
	}
	var tk ticket.Ticket
	if !res.Duplicate && (patch.Priority != nil || len(patch.AddTags) > 0) {
		patch.Why = "set when the ticket was created"
		tk, err = s.desk.Update(ctx, who, res.Ticket, patch)
		if err != nil {
			return fmt.Errorf("ticket #%d was created, but its priority and tags were not set: %w", res.Ticket, err)
		}
	} else if tk, err = s.desk.Get(res.Ticket); err != nil {
		return err
	}
	c.Location("/api/v1/tickets/" + strconv.FormatUint(res.Ticket, 10))
	status := fiber.StatusCreated
	if res.Duplicate {
		status = fiber.StatusOK
	}
	return c.Status(status).JSON(createResponse{Ticket: tk, MessageID: res.MessageID, Duplicate: res.Duplicate})
}

// ticketNumber reads the :number path parameter, written "1042" or
// "%231042" ("#1042").
func ticketNumber(c *fiber.Ctx) (uint64, error) {
	raw := c.Params("number")
	s, err := url.PathUnescape(raw)
	if err != nil {
		return 0, badRequest("number", "%q is not a ticket number", raw)
	}
	s = strings.TrimPrefix(s, "#")
	n, err := strconv.ParseUint(s, 10, 64)
	if err != nil || n == 0 {
		return 0, badRequest("number", "%q is not a ticket number", s)
	}
	return n, nil
}

// listResponse answers GET /api/v1/tickets.
type listResponse struct {
	Tickets []ticket.Ticket `json:"tickets"`
	// Next is the cursor of the next page, "" on the last one.
	Next string `json:"next"`
}

// listTickets lists tickets, newest change first, a page at a time.
func (s *Server) listTickets(c *fiber.Ctx) error {
	q, err := queryParams(c, "status", "channel", "priority", "assignee", "tag", "category", "team", "contact", "q", "deleted", "limit", "cursor")
	if err != nil {
		return err
	}
	f, err := parseFilter(q)
	if err != nil {
		return err
	}
	if f.Deleted {
		if err := requireAdmin(c, "listing deleted tickets"); err != nil {
			return err
		}
	}
	page, err := s.desk.List(f)
	if err != nil {
		return asBadRequest(err)
	}
	if page.Tickets == nil {
		page.Tickets = []ticket.Ticket{}
	}
	return c.JSON(listResponse{Tickets: page.Tickets, Next: page.Next})
}

// parseFilter reads a listing's query parameters. Every wrong value is a
// 400 naming the parameter.
func parseFilter(q map[string]string) (ticket.Filter, error) {
	var f ticket.Filter
	if v, ok := q["status"]; ok {
		st, err := ticket.ParseStatus(v)
		if err != nil {
			return f, badRequest("status", "%v", err)
		}
		f.Status = st
	}
	if v, ok := q["channel"]; ok {
		ch, err := ticket.ParseChannel(v)
		if err != nil {
			return f, badRequest("channel", "%v", err)
		}
		f.Channel = ch
	}
	if v, ok := q["priority"]; ok {
		p, err := ticket.ParsePriority(v)
		if err != nil {
			return f, badRequest("priority", "%v", err)
		}
		f.Priority = p
	}
	if v, ok := q["assignee"]; ok {
		switch v {
		case "":
			return f, badRequest("assignee", `assignee is empty; use "none" for unassigned tickets`)
		case "none":
			f.Unassigned = true
		default:
			f.Assignee = v
		}
	}
	if v, ok := q["category"]; ok {
		f.Category = v
	}
	if v, ok := q["team"]; ok {
		f.Team = v
	}
	if v, ok := q["tag"]; ok {
		if v == "" {
			return f, badRequest("tag", "tag is empty")
		}
		f.Tag = v
	}
	if v, ok := q["contact"]; ok {
		id, err := strconv.ParseUint(v, 10, 64)
		if err != nil || id == 0 {
			return f, badRequest("contact", "contact %q is not a contact id", v)
		}
		f.ContactID = id
	}
	if v, ok := q["q"]; ok {
		f.Query = v
	}
	if v, ok := q["deleted"]; ok {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return f, badRequest("deleted", "deleted must be true or false, not %q", v)
		}
		f.Deleted = b
	}
	if v, ok := q["limit"]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > ticket.MaxPageSize {
			return f, badRequest("limit", "limit must be a number from 1 to %d, not %q", ticket.MaxPageSize, v)
		}
		f.Limit = n
	}
	if v, ok := q["cursor"]; ok {
		f.Cursor = v
	}
	return f, nil
}

// queryParams returns the query parameters of c, refusing any not in
// known and any given twice: a typo in a filter must not silently list
// everything.
func queryParams(c *fiber.Ctx, known ...string) (map[string]string, error) {
	out := make(map[string]string)
	var err error
	c.Context().QueryArgs().VisitAll(func(k, v []byte) {
		if err != nil {
			return
		}
		name := string(k)
		if !slices.Contains(known, name) {
			err = badRequest(name, "unknown query parameter %q", name)
			return
		}
		if _, dup := out[name]; dup {
			err = badRequest(name, "query parameter %q is given twice", name)
			return
		}
		out[name] = string(v)
	})
	return out, err
}

// getThread returns a ticket with its contact, messages and audit trail.
func (s *Server) getThread(c *fiber.Ctx) error {
	n, err := ticketNumber(c)
	if err != nil {
		return err
	}
	th, err := s.desk.Thread(n)
	if err != nil {
		return err
	}
	if th.Ticket.Deleted && token(c).Role != auth.RoleAdmin {
		return notFound("ticket #%d: %v", n, ticket.ErrNotFound)
	}
	if th.Messages == nil {
		th.Messages = []ticket.Message{}
	}
	if th.Events == nil {
		th.Events = []ticket.Event{}
	}
	return c.JSON(th)
}

// messageResponse answers the requests that add a message.
type messageResponse struct {
	Message ticket.Message `json:"message"`
}

// ticketResponse answers the requests that change a ticket.
type ticketResponse struct {
	Ticket ticket.Ticket `json:"ticket"`
}

// replyRequest is the body of POST /api/v1/tickets/:number/replies.
type replyRequest struct {
	Body        string            `json:"body"`
	Status      string            `json:"status"`
	Attachments []attachmentInput `json:"attachments"`
}

// addReply sends a public reply to the customer (through the outbox).
func (s *Server) addReply(c *fiber.Ctx) error {
	n, err := ticketNumber(c)
	if err != nil {
		return err
	}
	var req replyRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	r := ticket.Reply{Body: req.Body}
	if req.Status != "" {
		st, err := ticket.ParseStatus(req.Status)
		if err != nil {
			return invalid("status", "%v", err)
		}
		r.Status = st
	}
	if r.Attachments, err = decodeAttachments(req.Attachments); err != nil {
		return err
	}
	m, err := s.desk.Reply(c.UserContext(), actor(c), n, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(messageResponse{Message: m})
}

// noteRequest is the body of POST /api/v1/tickets/:number/notes.
type noteRequest struct {
	Body string `json:"body"`
}

// addNote adds an internal note, never sent to the customer.
func (s *Server) addNote(c *fiber.Ctx) error {
	n, err := ticketNumber(c)
	if err != nil {
		return err
	}
	var req noteRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	m, err := s.desk.AddNote(c.UserContext(), actor(c), n, req.Body)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(messageResponse{Message: m})
}

// patchRequest is the body of PATCH /api/v1/tickets/:number. Absent (or
// null) fields stay as they are; an assignee of "" unassigns.
type patchRequest struct {
	Status     *string  `json:"status"`
	Priority   *string  `json:"priority"`
	Assignee   *string  `json:"assignee"`
	AddTags    []string `json:"add_tags"`
	RemoveTags []string `json:"remove_tags"`
	Why        string   `json:"why"`
}

func (r *patchRequest) patch() (ticket.Patch, error) {
	p := ticket.Patch{Assignee: r.Assignee, AddTags: r.AddTags, RemoveTags: r.RemoveTags, Why: r.Why}
	if r.Status != nil {
		st, err := ticket.ParseStatus(*r.Status)
		if err != nil {
			return p, invalid("status", "%v", err)
		}
		p.Status = &st
	}
	if r.Priority != nil {
		pr, err := ticket.ParsePriority(*r.Priority)
		if err != nil {
			return p, invalid("priority", "%v", err)
		}
		p.Priority = &pr
	}
	return p, nil
}

// patchTicket changes status, priority, assignee and tags at once.
func (s *Server) patchTicket(c *fiber.Ctx) error {
	n, err := ticketNumber(c)
	if err != nil {
		return err
	}
	var req patchRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	p, err := req.patch()
	if err != nil {
		return err
	}
	tk, err := s.desk.Update(c.UserContext(), actor(c), n, p)
	if err != nil {
		return err
	}
	return c.JSON(ticketResponse{Ticket: tk})
}

// deleteTicket marks a ticket deleted. Only admins may.
func (s *Server) deleteTicket(c *fiber.Ctx) error {
	if err := requireAdmin(c, "deleting a ticket"); err != nil {
		return err
	}
	n, err := ticketNumber(c)
	if err != nil {
		return err
	}
	q, err := queryParams(c, "why")
	if err != nil {
		return err
	}
	if err := checkWhy(q["why"]); err != nil {
		return err
	}
	if err := s.desk.Delete(c.UserContext(), actor(c), n, q["why"]); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// mergeRequest is the body of POST /api/v1/tickets/:number/merge.
type mergeRequest struct {
	Into uint64 `json:"into"`
	Why  string `json:"why"`
}

// mergeTicket moves the messages of a ticket into another and closes it.
func (s *Server) mergeTicket(c *fiber.Ctx) error {
	n, err := ticketNumber(c)
	if err != nil {
		return err
	}
	var req mergeRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if req.Into == 0 {
		return invalid("into", "the number of the ticket to merge into is required")
	}
	if err := checkWhy(req.Why); err != nil {
		return err
	}
	tk, err := s.desk.Merge(c.UserContext(), actor(c), n, req.Into, req.Why)
	if err != nil {
		return err
	}
	return c.JSON(ticketResponse{Ticket: tk})
}
