package freshdeskfake

import (
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The values Freshdesk accepts (API v2, "Ticket Properties").
var (
	sources    = []int64{1, 2, 3, 7, 9, 10}
	statuses   = []int64{2, 3, 4, 5}
	priorities = []int64{1, 2, 3, 4}
)

// maxAttachments is Freshdesk's limit on a ticket's attachments.
const maxAttachments = 20 << 20

// ticketFields are the fields Create and Update a Ticket accept.
var ticketFields = []string{
	"name", "requester_id", "email", "facebook_id", "phone", "twitter_id", "unique_external_id",
	"subject", "type", "status", "priority", "description", "responder_id", "attachments",
	"cc_emails", "custom_fields", "due_by", "email_config_id", "fr_due_by", "group_id",
	"parent_id", "product_id", "source", "tags", "company_id", "internal_agent_id",
	"internal_group_id", "lookup_parameter",
}

func oneOf(vals []int64) string {
	s := make([]string, len(vals))
	for i, v := range vals {
		s[i] = strconv.FormatInt(v, 10)
	}
	return "It should be one of these values: '" + strings.Join(s, ",") + "'"
}

// ticketInput checks the fields common to create and update and applies
// them to t. Callers hold s.mu.
func (s *Server) ticketInput(in *input, t *Ticket, create bool) []fieldError {
	var errs []fieldError
	errs = append(errs, in.unknown(ticketFields...)...)
	if in.has("attachments") && !in.form {
		errs = append(errs, fieldError{Field: "attachments", Message: "It should be a/an valid file format", Code: "datatype_mismatch"})
	}
	check := func(name string, allowed []int64, set func(int)) {
		if v, ok := in.integer(name, &errs); ok {
			if !slices.Contains(allowed, v) {
				errs = append(errs, fieldError{Field: name, Message: oneOf(allowed), Code: "invalid_value"})
			} else {
				set(int(v))
			}
		}
	}
	check("status", statuses, func(v int) { t.Status = v })
	check("priority", priorities, func(v int) { t.Priority = v })
	check("source", sources, func(v int) { t.Source = v })
	subject, hasSubject := in.str("subject", &errs)
	desc, hasDesc := in.str("description", &errs)
	if create && !hasSubject && !hasField(errs, "subject") {
		errs = append(errs, fieldError{Field: "subject", Message: msgString, Code: "missing_field"})
	}
	if create && !hasDesc && !hasField(errs, "description") {
		errs = append(errs, fieldError{Field: "description", Message: msgString, Code: "missing_field"})
	}
	if hasSubject {
		t.Subject = subject
	}
	if hasDesc {
		t.Description, t.DescriptionText = desc, plain(desc)
	}
	if tags, ok := in.strings("tags", &errs); ok {
		for _, tag := range tags {
			if strings.Contains(tag, ",") || strings.TrimSpace(tag) == "" || len(tag) > 255 {
				errs = append(errs, fieldError{Field: "tags", Message: "It should not contain commas, be blank or be longer than 255 characters", Code: "invalid_value"})
				break
			}
		}
		t.Tags = tags
	}
	if v, ok := in.vals["custom_fields"]; ok {
		m, isMap := v.(map[string]any)
		if !isMap {
			errs = append(errs, fieldError{Field: "custom_fields", Message: "It should be a/an key/value pair", Code: "datatype_mismatch"})
		}
		for k, fv := range m {
			if !s.fields[k] {
				errs = append(errs, fieldError{Field: k, Message: msgUnexpected, Code: "invalid_field"})
				continue
			}
			switch x := fv.(type) {
			case string:
				if len(x) > 255 {
					errs = append(errs, fieldError{Field: k, Message: "Has 256 characters, it can have maximum of 255 characters", Code: "invalid_value"})
					continue
				}
				t.CustomFields[k] = x
			case nil:
				delete(t.CustomFields, k)
			default:
				errs = append(errs, fieldError{Field: k, Message: msgString, Code: "datatype_mismatch"})
			}
		}
	}
	return errs
}

func hasField(errs []fieldError, name string) bool {
	for _, e := range errs {
		if e.Field == name {
			return true
		}
	}
	return false
}

// requester finds or makes the ticket's requester. Callers hold s.mu.
func (s *Server) requester(in *input, errs *[]fieldError) int64 {
	name, _ := in.str("name", errs)
	email, hasEmail := in.str("email", errs)
	phone, hasPhone := in.str("phone", errs)
	ext, hasExt := in.str("unique_external_id", errs)
	rid, hasRID := in.integer("requester_id", errs)
	switch {
	case hasRID:
		if _, ok := s.contacts[rid]; !ok {
			*errs = append(*errs, fieldError{Field: "requester_id", Message: "There is no contact matching the given requester_id", Code: "invalid_value"})
			return 0
		}
		return rid
	case hasEmail:
		if at := strings.IndexByte(email, '@'); at <= 0 || at == len(email)-1 || strings.ContainsAny(email, " ,") {
			*errs = append(*errs, fieldError{Field: "email", Message: "It should be in the 'valid email address' format", Code: "invalid_value"})
			return 0
		}
		key := strings.ToLower(email)
		if id, ok := s.byEmail[key]; ok {
			return id
		}
		c := &Contact{ID: s.id(), Name: name, Email: email, Phone: phone}
		if c.Name == "" {
			c.Name = email[:strings.IndexByte(email, '@')]
		}
		s.contacts[c.ID], s.byEmail[key] = c, c.ID
		return c.ID
	case hasPhone:
		if name == "" {
			*errs = append(*errs, fieldError{Field: "name", Message: msgString, Code: "missing_field"})
			return 0
		}
		if id, ok := s.byPhone[phone]; ok {
			return id
		}
		c := &Contact{ID: s.id(), Name: name, Phone: phone}
		s.contacts[c.ID], s.byPhone[phone] = c, c.ID
		return c.ID
	case hasExt:
		if id, ok := s.byExternal[ext]; ok {
			return id
		}
		c := &Contact{ID: s.id(), Name: name, UniqueExternalID: ext}
		if c.Name == "" {
			c.Name = ext
		}
		s.contacts[c.ID], s.byExternal[ext] = c, c.ID
		return c.ID
	}
	if len(*errs) == 0 {
		*errs = append(*errs, fieldError{Field: "requester_id", Message: "Please fill at least 1 of requester_id, phone, email, twitter_id, facebook_id, unique_external_id fields", Code: "missing_field"})
	}
	return 0
}

// createTicket answers POST /api/v2/tickets.
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	in := readBody(w, r)
	if in == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &Ticket{Status: 2, Priority: 1, Source: 2, CustomFields: map[string]string{}}
	errs := s.ticketInput(in, t, true)
	if len(errs) == 0 {
		t.RequesterID = s.requester(in, &errs)
	}
	if errs = append(errs, attachmentErrors(in.files, 0)...); len(errs) > 0 {
		invalid(w, errs)
		return
	}
	now := s.clock()
	t.ID, t.CreatedAt, t.UpdatedAt, t.searchable = s.ticketID(), now, now, now.Add(s.indexLag)
	t.Attachments = s.stored(in.files)
	s.tickets[t.ID] = t
	s.index(t, nil)
	w.Header().Set("Location", "/api/v2/tickets/"+strconv.FormatInt(t.ID, 10))
	writeJSON(w, http.StatusCreated, s.ticketJSON(t))
}

// attachmentErrors checks files against the ticket's limit, given the
// bytes it holds already.
func attachmentErrors(files []Attachment, held int64) []fieldError {
	total := held
	for _, f := range files {
		total += f.Size
	}
	if total > maxAttachments {
		return []fieldError{{Field: "attachments", Message: "The cumulative size of all attachments cannot exceed 20MB", Code: "invalid_size"}}
	}
	return nil
}

// stored gives files ids. Callers hold s.mu.
func (s *Server) stored(files []Attachment) []Attachment {
	out := make([]Attachment, len(files))
	for i, f := range files {
		f.ID = s.id()
		out[i] = f
	}
	return out
}

// index keeps byField right after t's custom fields changed from old.
// Callers hold s.mu.
func (s *Server) index(t *Ticket, old map[string]string) {
	for k, v := range old {
		if t.CustomFields[k] != v {
			ids := s.byField[k][v]
			if i := slices.Index(ids, t.ID); i >= 0 {
				s.byField[k][v] = slices.Delete(ids, i, i+1)
			}
		}
	}
	for k, v := range t.CustomFields {
		if old != nil && old[k] == v {
			continue
		}
		if s.byField[k] == nil {
			s.byField[k] = make(map[string][]int64)
		}
		s.byField[k][v] = append(s.byField[k][v], t.ID)
	}
}

// viewTicket answers GET /api/v2/tickets/{id}.
func (s *Server) viewTicket(w http.ResponseWriter, r *http.Request, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	writeJSON(w, http.StatusOK, s.ticketJSON(t))
}

// updateTicket answers PUT /api/v2/tickets/{id}.
func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, id int64) {
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
	next := copyTicket(t)
	errs := s.ticketInput(in, &next, false)
	var held int64
	for _, a := range t.Attachments {
		held += a.Size
	}
	if errs = append(errs, attachmentErrors(in.files, held)...); len(errs) > 0 {
		invalid(w, errs)
		return
	}
	old := t.CustomFields
	next.Attachments = append(next.Attachments, s.stored(in.files)...)
	next.UpdatedAt = s.clock()
	*t = next
	s.index(t, old)
	writeJSON(w, http.StatusOK, s.ticketJSON(t))
}

// listTickets answers GET /api/v2/tickets: updated_since, order_by,
// order_type, per_page and page (API v2, "List All Tickets").
func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var errs []fieldError
	for k := range q {
		if !slices.Contains([]string{"filter", "requester_id", "email", "company_id", "updated_since", "order_by", "order_type", "per_page", "page", "include"}, k) {
			errs = append(errs, fieldError{Field: k, Message: msgUnexpected, Code: "invalid_field"})
		}
	}
	perPage, page := paging(q.Get("per_page"), q.Get("page"), 300, &errs)
	orderBy := q.Get("order_by")
	if orderBy == "" {
		orderBy = "created_at"
	} else if !slices.Contains([]string{"created_at", "due_by", "updated_at", "status"}, orderBy) {
		errs = append(errs, fieldError{Field: "order_by", Message: "It should be one of these values: 'created_at,due_by,updated_at,status'", Code: "invalid_value"})
	}
	orderType := q.Get("order_type")
	if orderType == "" {
		orderType = "desc"
	} else if orderType != "asc" && orderType != "desc" {
		errs = append(errs, fieldError{Field: "order_type", Message: "It should be one of these values: 'asc,desc'", Code: "invalid_value"})
	}
	var since time.Time
	if v := q.Get("updated_since"); v != "" {
		var err error
		if since, err = parseDate(v); err != nil {
			errs = append(errs, fieldError{Field: "updated_since", Message: "It should be in the 'combined date and time ISO8601' format", Code: "invalid_value"})
		}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var from time.Time
	if since.IsZero() {
		from = s.clock().Add(-30 * 24 * time.Hour) // "only tickets created within the past 30 days"
	}
	var list []*Ticket
	for _, t := range s.tickets {
		if !since.IsZero() && t.UpdatedAt.Before(since) || since.IsZero() && t.CreatedAt.Before(from) {
			continue
		}
		list = append(list, t)
	}
	key := func(t *Ticket) int64 {
		switch orderBy {
		case "updated_at":
			return t.UpdatedAt.Unix()
		case "status":
			return int64(t.Status)
		}
		return t.CreatedAt.Unix()
	}
	slices.SortFunc(list, func(a, b *Ticket) int {
		c := cmpInt(key(a), key(b))
		if c == 0 {
			c = cmpInt(a.ID, b.ID)
		}
		if orderType == "desc" {
			c = -c
		}
		return c
	})
	s.writePage(w, r, list, perPage, page)
}

// writePage answers one page of tickets with the Link header of the
// next when there is one.
func (s *Server) writePage(w http.ResponseWriter, r *http.Request, list []*Ticket, perPage, page int) {
	start := min((page-1)*perPage, len(list))
	end := min(start+perPage, len(list))
	out := make([]map[string]any, 0, end-start)
	for _, t := range list[start:end] {
		out = append(out, s.ticketJSON(t))
	}
	if end < len(list) {
		setNext(w, r, page)
	}
	writeJSON(w, http.StatusOK, out)
}

// setNext sets the Link header to the next page of r.
func setNext(w http.ResponseWriter, r *http.Request, page int) {
	q := r.URL.Query()
	q.Set("page", strconv.Itoa(page+1))
	w.Header().Set("Link", "<"+r.URL.Path+"?"+q.Encode()+`>; rel="next"`)
}

// paging reads per_page (1 to 100, default 30) and page (1 to maxPage).
func paging(perPageText, pageText string, maxPage int, errs *[]fieldError) (int, int) {
	perPage, page := 30, 1
	if perPageText != "" {
		n, err := strconv.Atoi(perPageText)
		if err != nil || n < 1 || n > 100 {
			*errs = append(*errs, fieldError{Field: "per_page", Message: "It should be a Positive Integer less than or equal to 100", Code: "invalid_value"})
		}
		perPage = n
	}
	if pageText != "" {
		n, err := strconv.Atoi(pageText)
		if err != nil || n < 1 || n > maxPage {
			*errs = append(*errs, fieldError{Field: "page", Message: "It should be a Positive Integer less than or equal to " + strconv.Itoa(maxPage), Code: "invalid_value"})
		}
		page = n
	}
	return perPage, page
}

// parseDate reads the date formats Freshdesk accepts (API v2, "Schema").
func parseDate(s string) (time.Time, error) {
	var err error
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", "2006-01-02T15:04", "2006-01-02"} {
		var t time.Time
		if t, err = time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, err
}

// ticketJSON is t as Freshdesk answers it. Callers hold s.mu.
func (s *Server) ticketJSON(t *Ticket) map[string]any {
	cf := make(map[string]any, len(s.fields))
	for k := range s.fields {
		if v, ok := t.CustomFields[k]; ok {
			cf[k] = v
		} else {
			cf[k] = nil
		}
	}
	atts := make([]map[string]any, 0, len(t.Attachments))
	for _, a := range t.Attachments {
		atts = append(atts, attachmentJSON(a, t.CreatedAt))
	}
	tags := t.Tags
	if tags == nil {
		tags = []string{}
	}
	return map[string]any{
		"cc_emails": []string{}, "fwd_emails": []string{}, "reply_cc_emails": []string{},
		"email_config_id": nil, "fr_escalated": false, "group_id": nil,
		"priority": t.Priority, "requester_id": t.RequesterID, "responder_id": nil,
		"source": t.Source, "spam": false, "status": t.Status, "subject": t.Subject,
		"company_id": nil, "id": t.ID, "type": nil, "to_emails": nil, "product_id": nil,
		"created_at": stamp(t.CreatedAt), "updated_at": stamp(t.UpdatedAt),
		"due_by": stamp(t.CreatedAt.Add(72 * time.Hour)), "fr_due_by": stamp(t.CreatedAt.Add(24 * time.Hour)),
		"is_escalated": false, "description": t.Description, "description_text": t.DescriptionText,
		"custom_fields": cf, "tags": tags, "attachments": atts,
	}
}

func attachmentJSON(a Attachment, at time.Time) map[string]any {
	return map[string]any{
		"id": a.ID, "content_type": a.ContentType, "size": a.Size, "name": a.Name,
		"attachment_url": "https://attachments.example/" + strconv.FormatInt(a.ID, 10) + "/" + a.Name,
		"created_at":     stamp(at), "updated_at": stamp(at),
	}
}

func stamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// plain makes HTML text as Freshdesk's body_text does: tags dropped,
// <br> and block ends as line breaks, entities decoded.
func plain(s string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '<')
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '>')
		if j < 0 {
			break
		}
		tag := strings.ToLower(strings.Trim(s[i+1:i+j], "/ "))
		if tag == "br" || tag == "p" || tag == "div" {
			b.WriteByte('\n')
		}
		s = s[i+j+1:]
	}
	lines := strings.Split(html.UnescapeString(b.String()), "\n")
	var out []string
	for _, l := range lines {
		if l = strings.TrimSpace(l); l != "" {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
