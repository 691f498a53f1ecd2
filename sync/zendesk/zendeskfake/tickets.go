package zendeskfake

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"html"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The ticket endpoints: list, show, create, update and tags.

// listTickets serves List Tickets by external_id, the one use the target
// makes of it.
func (s *Server) listTickets(w http.ResponseWriter, r *http.Request) {
	ext, ok := r.URL.Query()["external_id"]
	if !ok {
		badRequest(w, "InvalidValue", "the fake serves List Tickets by external_id only")
		return
	}
	s.mu.Lock()
	out := []map[string]any{}
	for _, id := range s.byExternal[ext[0]] {
		out = append(out, s.ticketJSON(s.tickets[id]))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"tickets": out, "next_page": nil, "previous_page": nil, "count": len(out)})
}

func (s *Server) showTicket(w http.ResponseWriter, id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.tickets[id]
	if !ok {
		notFound(w)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": s.ticketJSON(tk)})
}

func (s *Server) ticketJSON(tk *ticketState) map[string]any {
	var assignee any
	if tk.AssigneeID != 0 {
		assignee = tk.AssigneeID
	}
	return map[string]any{
		"url":               "https://fake.zendesk.com/api/v2/tickets/" + strconv.FormatInt(tk.ID, 10) + ".json",
		"id":                tk.ID,
		"external_id":       nullable(tk.ExternalID),
		"via":               map[string]any{"channel": "api", "source": map[string]any{"from": map[string]any{}, "to": map[string]any{}, "rel": nil}},
		"created_at":        tk.CreatedAt.Format(time.RFC3339),
		"updated_at":        tk.UpdatedAt.Format(time.RFC3339),
		"type":              nil,
		"subject":           tk.Subject,
		"raw_subject":       tk.Subject,
		"description":       tk.Description,
		"priority":          nullable(tk.Priority),
		"status":            tk.Status,
		"recipient":         nil,
		"requester_id":      tk.RequesterID,
		"submitter_id":      tk.SubmitterID,
		"assignee_id":       assignee,
		"tags":              slices.Clone(tk.Tags),
		"is_public":         slices.ContainsFunc(tk.comments, func(c Comment) bool { return c.Public }),
		"custom_fields":     []any{},
		"fields":            []any{},
		"has_incidents":     false,
		"allow_channelback": false,
		"allow_attachments": true,
	}
}

// commentIn is a comment of a create or update, checked.
type commentIn struct {
	body    string
	public  bool
	author  int64
	uploads []*upload
	tokens  []string
	present bool
	problem string // "field|description" when the comment is refused
}

// readComment checks the comment object of a ticket. The caller holds
// s.mu.
func (s *Server) readComment(t map[string]json.RawMessage) commentIn {
	c := commentIn{public: true}
	o, ok := object(t, "comment")
	if !ok {
		c.problem = "comment|Comment: is invalid"
		return c
	}
	if o == nil {
		return c
	}
	c.present = true
	var htmlBody string
	if _, ok := field(o, "body", &c.body); !ok {
		c.problem = "comment|Comment: body is not a string"
		return c
	}
	if _, ok := field(o, "html_body", &htmlBody); !ok {
		c.problem = "comment|Comment: html_body is not a string"
		return c
	}
	if c.body == "" && htmlBody != "" {
		c.body = htmlBody
	}
	if _, ok := field(o, "public", &c.public); !ok {
		c.problem = "comment|Comment: public is not a boolean"
		return c
	}
	if present, ok := field(o, "author_id", &c.author); !ok || (present && s.users[c.author] == nil) {
		c.problem = "comment|Comment: author_id is not a user"
		return c
	}
	if _, ok := field(o, "uploads", &c.tokens); !ok {
		c.problem = "uploads|Uploads: must be an array of upload tokens"
		return c
	}
	for _, tok := range c.tokens {
		up := s.uploads[tok]
		if up == nil || up.used {
			c.problem = "uploads|Uploads: token " + tok + " is not valid"
			return c
		}
		c.uploads = append(c.uploads, up)
	}
	if strings.TrimSpace(c.body) == "" && len(c.uploads) == 0 {
		c.problem = "base|Description: cannot be blank"
	}
	return c
}

// addComment adds c to tk. The caller holds s.mu.
func (s *Server) addComment(tk *ticketState, c commentIn, author int64, at time.Time) Comment {
	if c.author != 0 {
		author = c.author
	}
	cm := Comment{ID: s.eventID(), AuthorID: author, Body: c.body, Public: c.public, CreatedAt: at}
	for _, up := range c.uploads {
		up.used = true
		cm.Attachments = append(cm.Attachments, up.files...)
	}
	tk.comments = append(tk.comments, cm)
	return cm
}

// ticketFields are the writable properties of a create or update.
type ticketFields struct {
	subject, status, priority, external string
	tags                                []string
	requesterID                         int64
	hasSubject, hasStatus, hasPriority  bool
	hasExternal, hasTags, hasRequester  bool
	problem                             string
}

// readFields checks the properties of a ticket object common to create
// and update. The caller holds s.mu.
func (s *Server) readFields(t map[string]json.RawMessage) ticketFields {
	var f ticketFields
	var ok bool
	check := func(key string, v any) bool {
		var present bool
		present, ok = field(t, key, v)
		if !ok && f.problem == "" {
			f.problem = key + "|" + key + ": is invalid"
		}
		return present
	}
	f.hasSubject = check("subject", &f.subject)
	f.hasStatus = check("status", &f.status)
	f.hasPriority = check("priority", &f.priority)
	f.hasExternal = check("external_id", &f.external)
	f.hasTags = check("tags", &f.tags)
	f.hasRequester = check("requester_id", &f.requesterID)
	switch {
	case f.problem != "":
	case f.hasStatus && !slices.Contains(statuses, f.status):
		f.problem = "status|Status: " + f.status + " is not a valid status"
	case f.hasPriority && f.priority != "" && !slices.Contains(priorities, f.priority):
		f.problem = "priority|Priority: " + f.priority + " is not a valid priority"
	case f.hasRequester && s.users[f.requesterID] == nil:
		f.problem = "requester_id|Requester: is not a user"
	case len(f.subject) > 150*4:
		f.problem = "subject|Subject: is too long"
	}
	for i, tag := range f.tags {
		f.tags[i] = strings.ToLower(tag)
	}
	return f
}

func fail(w http.ResponseWriter, problem string) {
	key, desc, _ := strings.Cut(problem, "|")
	invalid(w, key, desc)
}

// createTicket serves Create Ticket, with the Idempotency-Key of the
// Ticketing API introduction: the same key and body within two hours
// answer the first ticket with "x-idempotency-lookup: hit"; the same key
// with another body answers 400 IdempotentRequestError.
func (s *Server) createTicket(w http.ResponseWriter, r *http.Request) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxJSON+1))
	if err != nil {
		badRequest(w, "InvalidValue", "could not read the body")
		return
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	body := readJSON(w, r)
	if body == nil {
		return
	}
	key := r.Header.Get("Idempotency-Key")
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var hash [32]byte
	if key != "" {
		var compact bytes.Buffer
		json.Compact(&compact, raw)
		hash = sha256.Sum256(compact.Bytes())
		if e, ok := s.idem[key]; ok && now.Sub(e.at) < IdempotencyTTL {
			if e.hash != hash {
				badRequest(w, "IdempotentRequestError", "Request parameters don't match the given idempotency key")
				return
			}
			if tk, ok := s.tickets[e.ticketID]; ok {
				s.replays++
				w.Header().Set("x-idempotency-lookup", "hit")
				w.Header().Set("Location", "/api/v2/tickets/"+strconv.FormatInt(tk.ID, 10)+".json")
				writeJSON(w, http.StatusCreated, map[string]any{"ticket": s.ticketJSON(tk)})
				return
			}
		}
		w.Header().Set("x-idempotency-lookup", "miss")
	}
	if id := s.makeTicket(w, body, now); id != 0 && key != "" {
		s.idem[key] = &idemEntry{hash: hash, ticketID: id, at: now}
	}
}

// makeTicket checks the body of a creation and makes the ticket, or
// answers why not with 0. The caller holds s.mu.
func (s *Server) makeTicket(w http.ResponseWriter, body map[string]json.RawMessage, now time.Time) int64 {
	t, ok := object(body, "ticket")
	if !ok || t == nil {
		badRequest(w, "ParameterMissing", "param is missing or the value is empty: ticket")
		return 0
	}
	f := s.readFields(t)
	if f.problem != "" {
		fail(w, f.problem)
		return 0
	}
	if f.status == "closed" {
		invalid(w, "status", "Status: closed is not valid for a new ticket")
		return 0
	}
	c := s.readComment(t)
	if c.problem == "" && !c.present {
		c.problem = "base|Description: cannot be blank"
	}
	if c.problem != "" {
		fail(w, c.problem)
		return 0
	}
	requester := s.apiUser
	if f.hasRequester {
		requester = f.requesterID
	}
	if rq, ok := object(t, "requester"); !ok {
		invalid(w, "requester", "Requester: is invalid")
		return 0
	} else if rq != nil {
		var name, email string
		field(rq, "name", &name)
		field(rq, "email", &email)
		if !strings.Contains(email, "@") {
			invalid(w, "requester", "Requester: Email "+strconv.Quote(email)+" is not properly formatted")
			return 0
		}
		id, ok := s.byEmail[strings.ToLower(email)]
		if !ok {
			if name == "" {
				name, _, _ = strings.Cut(email, "@")
			}
			id = s.addUser(User{Name: name, Email: strings.ToLower(email), Role: RoleEndUser}, now)
		}
		requester = id
	}
	tk := &ticketState{Ticket: Ticket{
		ID: s.nextTicket, ExternalID: f.external, Subject: f.subject, Description: c.body,
		Status: "new", Priority: f.priority, Tags: dedupe(f.tags),
		RequesterID: requester, SubmitterID: s.apiUser, CreatedAt: now,
	}}
	if f.hasStatus {
		tk.Status = f.status
	}
	if tk.Subject == "" {
		tk.Subject = firstLine(c.body)
	}
	if tk.Status != "new" {
		tk.AssigneeID = s.apiUser
	}
	s.nextTicket++
	cm := s.addComment(tk, c, s.apiUser, now)
	s.tickets[tk.ID] = tk
	if tk.ExternalID != "" {
		s.byExternal[tk.ExternalID] = append(s.byExternal[tk.ExternalID], tk.ID)
	}
	s.touch(tk, now)
	s.made++
	w.Header().Set("Location", "/api/v2/tickets/"+strconv.FormatInt(tk.ID, 10)+".json")
	writeJSON(w, http.StatusCreated, map[string]any{"ticket": s.ticketJSON(tk), "audit": s.auditJSON(tk, &cm, nil, now)})
	return tk.ID
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	if r := []rune(s); len(r) > 50 {
		s = string(r[:50])
	}
	return s
}

func dedupe(tags []string) []string {
	out := []string{}
	for _, t := range tags {
		for _, one := range strings.Fields(t) {
			if !slices.Contains(out, one) {
				out = append(out, one)
			}
		}
	}
	return out
}

// auditJSON returns the audit of a create or update: the comment event
// and the field changes.
func (s *Server) auditJSON(tk *ticketState, cm *Comment, changes []map[string]any, at time.Time) map[string]any {
	events := []map[string]any{}
	if cm != nil {
		events = append(events, map[string]any{
			"id": cm.ID, "type": "Comment", "author_id": cm.AuthorID, "body": cm.Body,
			"html_body": "<p>" + html.EscapeString(cm.Body) + "</p>", "plain_body": cm.Body,
			"public": cm.Public, "attachments": attachmentsJSON(cm.Attachments),
		})
	}
	for _, ch := range changes {
		ch["id"] = s.eventID()
		events = append(events, ch)
	}
	return map[string]any{
		"id": s.eventID(), "ticket_id": tk.ID, "created_at": at.Format(time.RFC3339), "author_id": s.apiUser,
		"metadata": map[string]any{"system": map[string]any{}, "custom": map[string]any{}},
		"via":      map[string]any{"channel": "api"},
		"events":   events,
	}
}

func attachmentsJSON(as []Attachment) []map[string]any {
	out := []map[string]any{}
	for _, a := range as {
		out = append(out, attachmentJSON(a))
	}
	return out
}

// updateTicket serves Update Ticket: a closed ticket cannot change, new
// cannot be set again, a comment is checked as on create.
func (s *Server) updateTicket(w http.ResponseWriter, r *http.Request, id int64) {
	body := readJSON(w, r)
	if body == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.tickets[id]
	if !ok {
		notFound(w)
		return
	}
	t, ok := object(body, "ticket")
	if !ok || t == nil {
		badRequest(w, "ParameterMissing", "param is missing or the value is empty: ticket")
		return
	}
	if tk.Status == "closed" {
		invalid(w, "status", "Status: closed prevents ticket update")
		return
	}
	f := s.readFields(t)
	if f.problem != "" {
		fail(w, f.problem)
		return
	}
	if f.hasStatus && f.status == "new" && tk.Status != "new" {
		invalid(w, "status", "Status: new is not valid for a ticket that is "+tk.Status)
		return
	}
	c := s.readComment(t)
	if c.problem != "" {
		fail(w, c.problem)
		return
	}
	if c.present && len(tk.comments) >= MaxComments {
		invalid(w, "base", "Comments: a ticket holds at most 5000 comments")
		return
	}
	now := s.now()
	var changes []map[string]any
	set := func(name string, old *string, v string) {
		if *old != v {
			changes = append(changes, map[string]any{"type": "Change", "field_name": name, "value": v, "previous_value": *old})
			*old = v
		}
	}
	if f.hasSubject {
		set("subject", &tk.Subject, f.subject)
	}
	if f.hasStatus {
		set("status", &tk.Status, f.status)
		if f.status != "new" && tk.AssigneeID == 0 {
			tk.AssigneeID = s.apiUser
		}
	}
	if f.hasPriority {
		set("priority", &tk.Priority, f.priority)
	}
	if f.hasExternal && f.external != tk.ExternalID {
		s.byExternal[tk.ExternalID] = slices.DeleteFunc(s.byExternal[tk.ExternalID], func(x int64) bool { return x == tk.ID })
		set("external_id", &tk.ExternalID, f.external)
		s.byExternal[tk.ExternalID] = append(s.byExternal[tk.ExternalID], tk.ID)
	}
	if f.hasTags {
		tags := dedupe(f.tags)
		if !slices.Equal(tags, tk.Tags) {
			changes = append(changes, map[string]any{"type": "Change", "field_name": "tags", "value": tags, "previous_value": tk.Tags})
			tk.Tags = tags
		}
	}
	if f.hasRequester && f.requesterID != tk.RequesterID {
		changes = append(changes, map[string]any{"type": "Change", "field_name": "requester_id", "value": f.requesterID, "previous_value": tk.RequesterID})
		tk.RequesterID = f.requesterID
	}
	var cm *Comment
	if c.present {
		made := s.addComment(tk, c, s.apiUser, now)
		cm = &made
	}
	if cm != nil || len(changes) > 0 {
		s.touch(tk, now)
	}
	writeJSON(w, http.StatusOK, map[string]any{"ticket": s.ticketJSON(tk), "audit": s.auditJSON(tk, cm, changes, now)})
}

// tags serves Add Tags (PUT) and Set Tags (POST) of a ticket.
func (s *Server) tags(w http.ResponseWriter, r *http.Request, id int64) {
	body := readJSON(w, r)
	if body == nil {
		return
	}
	var tags []string
	present, ok := field(body, "tags", &tags)
	if !ok || !present {
		badRequest(w, "ParameterMissing", "param is missing or the value is empty: tags")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, found := s.tickets[id]
	switch {
	case !found:
		notFound(w)
		return
	case tk.Status == "closed":
		invalid(w, "status", "Status: closed prevents ticket update")
		return
	}
	for i := range tags {
		tags[i] = strings.ToLower(tags[i])
	}
	next := dedupe(tags)
	if r.Method == http.MethodPut {
		next = dedupe(append(slices.Clone(tk.Tags), tags...))
	}
	if !slices.Equal(next, tk.Tags) {
		tk.Tags = next
		s.touch(tk, s.now())
	}
	writeJSON(w, http.StatusOK, map[string]any{"tags": slices.Clone(tk.Tags)})
}
