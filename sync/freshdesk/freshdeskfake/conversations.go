package freshdeskfake

import (
	"net/http"
	"strconv"
)

// noteFields are the fields Create a Note accepts.
var noteFields = []string{"body", "structured_body", "attachments", "incoming", "notify_emails", "private", "user_id"}

// replyFields are the fields Create a Reply accepts.
var replyFields = []string{"body", "structured_body", "attachments", "from_email", "user_id", "cc_emails", "bcc_emails"}

// createNote answers POST /api/v2/tickets/{id}/notes (API v2, "Create a
// Note"): private unless private is false.
func (s *Server) createNote(w http.ResponseWriter, r *http.Request, id int64) {
	s.conversation(w, r, id, noteFields, func(in *input, c *Conversation, errs *[]fieldError) {
		c.Source, c.Private = 2, true
		if v, ok := in.boolean("private", errs); ok {
			c.Private = v
		}
		if v, ok := in.boolean("incoming", errs); ok {
			c.Incoming = v
		}
		in.strings("notify_emails", errs)
	})
}

// createReply answers POST /api/v2/tickets/{id}/reply (API v2, "Create a
// Reply"). Freshdesk emails a reply to the requester; the fake counts it.
func (s *Server) createReply(w http.ResponseWriter, r *http.Request, id int64) {
	s.conversation(w, r, id, replyFields, func(in *input, c *Conversation, errs *[]fieldError) {
		c.Source = 0
		c.FromEmail, _ = in.str("from_email", errs)
		if c.FromEmail == "" {
			c.FromEmail = "support@shop.example"
		}
		in.strings("cc_emails", errs)
		in.strings("bcc_emails", errs)
	})
}

// conversation adds a note or reply to ticket id after checking the
// fields both take.
func (s *Server) conversation(w http.ResponseWriter, r *http.Request, id int64, allowed []string, fill func(*input, *Conversation, *[]fieldError)) {
	in := readBody(w, r)
	if in == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	errs := in.unknown(allowed...)
	if in.has("attachments") && !in.form {
		errs = append(errs, fieldError{Field: "attachments", Message: "It should be a/an valid file format", Code: "datatype_mismatch"})
	}
	c := &Conversation{TicketID: id, UserID: APIAgentID}
	body, hasBody := in.str("body", &errs)
	if !hasBody && !in.has("structured_body") && !hasField(errs, "body") {
		errs = append(errs, fieldError{Field: "body", Message: msgString, Code: "missing_field"})
	}
	c.Body, c.BodyText = body, plain(body)
	if uid, ok := in.integer("user_id", &errs); ok {
		if _, isContact := s.contacts[uid]; !isContact && uid != APIAgentID && uid != StaffAgentID {
			errs = append(errs, fieldError{Field: "user_id", Message: "There is no contact or agent matching the given user_id", Code: "invalid_value"})
		}
		c.UserID = uid
	}
	fill(in, c, &errs)
	var held int64
	for _, a := range t.Attachments {
		held += a.Size
	}
	for _, cv := range s.convs[id] {
		for _, a := range cv.Attachments {
			held += a.Size
		}
	}
	if errs = append(errs, attachmentErrors(in.files, held)...); len(errs) > 0 {
		invalid(w, errs)
		return
	}
	c.ID, c.CreatedAt = s.id(), s.clock()
	c.Attachments = s.stored(in.files)
	s.convs[id] = append(s.convs[id], c)
	t.UpdatedAt = c.CreatedAt
	if c.Source == 0 {
		s.replies++
		c.ToEmails = s.emailOf(t)
	}
	w.Header().Set("Location", "/api/v2/conversations/"+strconv.FormatInt(c.ID, 10))
	writeJSON(w, http.StatusCreated, conversationJSON(c))
}

// listConversations answers GET /api/v2/tickets/{id}/conversations.
func (s *Server) listConversations(w http.ResponseWriter, r *http.Request, id int64) {
	q := r.URL.Query()
	var errs []fieldError
	for k := range q {
		if k != "page" && k != "per_page" {
			errs = append(errs, fieldError{Field: k, Message: msgUnexpected, Code: "invalid_field"})
		}
	}
	perPage, page := paging(q.Get("per_page"), q.Get("page"), 1<<20, &errs)
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.tickets[id]; !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	all := s.convs[id]
	start := min((page-1)*perPage, len(all))
	end := min(start+perPage, len(all))
	out := make([]map[string]any, 0, end-start)
	for _, c := range all[start:end] {
		out = append(out, conversationJSON(c))
	}
	if end < len(all) {
		setNext(w, r, page)
	}
	writeJSON(w, http.StatusOK, out)
}

// conversationJSON is c as Freshdesk answers it.
func conversationJSON(c *Conversation) map[string]any {
	atts := make([]map[string]any, 0, len(c.Attachments))
	for _, a := range c.Attachments {
		atts = append(atts, attachmentJSON(a, c.CreatedAt))
	}
	var from any
	if c.FromEmail != "" {
		from = c.FromEmail
	}
	to := c.ToEmails
	if to == nil {
		to = []string{}
	}
	return map[string]any{
		"body": c.Body, "body_text": c.BodyText, "id": c.ID, "incoming": c.Incoming,
		"private": c.Private, "user_id": c.UserID, "support_email": nil, "source": c.Source,
		"ticket_id": c.TicketID, "to_emails": to, "from_email": from,
		"cc_emails": []string{}, "bcc_emails": []string{},
		"created_at": stamp(c.CreatedAt), "updated_at": stamp(c.CreatedAt),
		"attachments": atts,
	}
}
