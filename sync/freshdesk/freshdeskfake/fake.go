// Package freshdeskfake is a Freshdesk account in memory that speaks the
// part of API v2 the box uses: tickets (create, view, update, list with
// updated_since), the search of tickets by a custom field, notes,
// replies, conversations and /agents/me. It checks requests as Freshdesk
// documents them (path and method, Basic auth with the API key,
// Content-Type, required fields and their values, attachments as
// multipart/form-data) and answers errors in Freshdesk's shape.
//
// Tests and benchmarks serve it with httptest.NewServer; Faults makes it
// misbehave (down, 500, 429, lost answers), and its methods act as the
// helpdesk's staff (AgentReply, SetStatus) and show what was made.
package freshdeskfake

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/counterdesk/counterdesk/sync/synctest"
)

// DefaultField is the custom ticket field a fake has when New is given
// none.
const DefaultField = "cf_counterdesk_id"

// The agents of every fake account.
const (
	// APIAgentID is the agent whose API key the fake accepts.
	APIAgentID int64 = 1001
	// StaffAgentID is a human agent who replies in the helpdesk.
	StaffAgentID int64 = 1002
)

// StaffFrom is the from_email of the staff agent's replies.
const StaffFrom = "Sam Kingston <sam@shop.example>"

// Ticket is a Freshdesk ticket as the fake keeps it.
type Ticket struct {
	ID              int64
	Subject         string
	Description     string // HTML
	DescriptionText string
	Status          int
	Priority        int
	Source          int
	RequesterID     int64
	Tags            []string
	CustomFields    map[string]string // text fields only
	Attachments     []Attachment
	CreatedAt       time.Time
	UpdatedAt       time.Time
	// searchable is when the search index shows the ticket.
	searchable time.Time
}

// Conversation is a reply or note of a ticket.
type Conversation struct {
	ID          int64
	TicketID    int64
	Body        string // HTML
	BodyText    string
	Private     bool
	Incoming    bool
	UserID      int64
	Source      int // 0 reply, 2 note
	FromEmail   string
	ToEmails    []string // whom a reply was emailed to
	Attachments []Attachment
	CreatedAt   time.Time
	reply       bool // made by the reply endpoint or AgentReply: emailed
}

// Attachment is a file attached to a ticket or conversation.
type Attachment struct {
	ID          int64
	Name        string
	ContentType string
	Size        int64
	Data        []byte
}

// Contact is a requester.
type Contact struct {
	ID               int64
	Name             string
	Email            string
	Phone            string
	UniqueExternalID string
}

// Server is the fake account. Its zero value is not usable: call New.
type Server struct {
	// Faults make the account misbehave; they wrap every request.
	Faults synctest.Faults

	key     string
	fields  map[string]bool
	handler http.Handler

	mu         sync.Mutex
	now        func() time.Time
	indexLag   time.Duration
	rateLimit  int
	window     time.Time
	used       int
	tickets    map[int64]*Ticket
	byField    map[string]map[string][]int64 // field -> value -> ticket ids
	convs      map[int64][]*Conversation     // by ticket
	contacts   map[int64]*Contact
	byEmail    map[string]int64
	byPhone    map[string]int64
	byExternal map[string]int64
	nextID     int64 // contacts, conversations, attachments
	nextTicket int64
	replies    int // conversations made by the reply endpoint (emailed)
}

// New returns a fake account that accepts apiKey and has the custom
// text ticket fields named (DefaultField when none is given).
func New(apiKey string, fields ...string) *Server {
	if len(fields) == 0 {
		fields = []string{DefaultField}
	}
	s := &Server{
		key:        apiKey,
		fields:     make(map[string]bool),
		now:        time.Now,
		rateLimit:  1 << 20,
		tickets:    make(map[int64]*Ticket),
		byField:    make(map[string]map[string][]int64),
		convs:      make(map[int64][]*Conversation),
		contacts:   make(map[int64]*Contact),
		byEmail:    make(map[string]int64),
		byPhone:    make(map[string]int64),
		byExternal: make(map[string]int64),
		nextID:     5000,
	}
	for _, f := range fields {
		s.fields[f] = true
	}
	s.handler = s.Faults.Wrap(http.HandlerFunc(s.serve))
	return s
}

// ServeHTTP serves the API behind the faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// SetClock replaces the account's clock (time.Now by default).
func (s *Server) SetClock(now func() time.Time) { s.mu.Lock(); s.now = now; s.mu.Unlock() }

// SetIndexLag makes the search find a ticket only d after it was made,
// as Freshdesk's index does ("updates take a few minutes to get
// indexed").
func (s *Server) SetIndexLag(d time.Duration) { s.mu.Lock(); s.indexLag = d; s.mu.Unlock() }

// SetRateLimit sets the API calls allowed per minute, reported in the
// X-Ratelimit headers and enforced with 429 and Retry-After.
func (s *Server) SetRateLimit(perMinute int) {
	s.mu.Lock()
	s.rateLimit, s.window, s.used = perMinute, time.Time{}, 0
	s.mu.Unlock()
}

// clock returns the time in Freshdesk's resolution (seconds, UTC).
// Callers hold s.mu.
func (s *Server) clock() time.Time { return s.now().UTC().Truncate(time.Second) }

// id returns a new id for a contact, conversation or attachment.
// Callers hold s.mu.
func (s *Server) id() int64 { s.nextID++; return s.nextID }

// ticketID returns a new ticket id: 1, 2, 3 ... as Freshdesk numbers an
// account's tickets. Callers hold s.mu.
func (s *Server) ticketID() int64 { s.nextTicket++; return s.nextTicket }

// Tickets returns copies of every ticket, by id.
func (s *Server) Tickets() []Ticket {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Ticket, 0, len(s.tickets))
	for _, t := range s.tickets {
		out = append(out, copyTicket(t))
	}
	slices.SortFunc(out, func(a, b Ticket) int { return cmpInt(a.ID, b.ID) })
	return out
}

// Ticket returns a copy of ticket id.
func (s *Server) Ticket(id int64) (Ticket, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return Ticket{}, false
	}
	return copyTicket(t), true
}

// CountByField returns how many tickets hold value in custom field
// name: more than one for a box id is a duplicate.
func (s *Server) CountByField(name, value string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byField[name][value])
}

// Conversations returns copies of ticket id's conversations, oldest
// first.
func (s *Server) Conversations(id int64) []Conversation {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Conversation, 0, len(s.convs[id]))
	for _, c := range s.convs[id] {
		out = append(out, *c)
	}
	return out
}

// Contact returns requester id.
func (s *Server) Contact(id int64) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.contacts[id]
	if !ok {
		return Contact{}, false
	}
	return *c, true
}

// RepliesEmailed returns how many conversations were made through the
// reply endpoint, each of which Freshdesk would email to the requester.
func (s *Server) RepliesEmailed() int { s.mu.Lock(); defer s.mu.Unlock(); return s.replies }

// AgentReply adds a public reply by the staff agent to ticket id, as an
// agent replying in the helpdesk does, and returns its id. Freshdesk
// emails it to the requester when the requester has an email address
// (to_emails names it).
func (s *Server) AgentReply(id int64, body string) (int64, error) {
	return s.addConversation(id, &Conversation{Body: "<div>" + html.EscapeString(body) + "</div>", BodyText: body, UserID: StaffAgentID, Source: 0, FromEmail: StaffFrom, reply: true})
}

// AgentNote adds a note by the staff agent to ticket id.
func (s *Server) AgentNote(id int64, body string, private bool) (int64, error) {
	return s.addConversation(id, &Conversation{Body: "<div>" + html.EscapeString(body) + "</div>", BodyText: body, UserID: StaffAgentID, Source: 2, Private: private})
}

// CustomerReply adds the requester's emailed answer to ticket id.
func (s *Server) CustomerReply(id int64, body string) (int64, error) {
	s.mu.Lock()
	t, ok := s.tickets[id]
	var from int64
	if ok {
		from = t.RequesterID
	}
	s.mu.Unlock()
	return s.addConversation(id, &Conversation{Body: "<div>" + html.EscapeString(body) + "</div>", BodyText: body, UserID: from, Source: 0, Incoming: true})
}

func (s *Server) addConversation(id int64, c *Conversation) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return 0, fmt.Errorf("freshdeskfake: no ticket %d", id)
	}
	c.ID, c.TicketID, c.CreatedAt = s.id(), id, s.clock()
	if c.reply {
		c.ToEmails = s.emailOf(t)
	}
	s.convs[id] = append(s.convs[id], c)
	t.UpdatedAt = c.CreatedAt
	return c.ID, nil
}

// emailOf returns the requester's address as a reply's to_emails, or
// none. Callers hold s.mu.
func (s *Server) emailOf(t *Ticket) []string {
	if c, ok := s.contacts[t.RequesterID]; ok && c.Email != "" {
		return []string{c.Email}
	}
	return nil
}

// SetStatus changes ticket id's status as an agent does in the helpdesk.
func (s *Server) SetStatus(id int64, status int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tickets[id]
	if !ok {
		return fmt.Errorf("freshdeskfake: no ticket %d", id)
	}
	t.Status = status
	t.UpdatedAt = s.clock()
	return nil
}

func copyTicket(t *Ticket) Ticket {
	c := *t
	c.Tags = slices.Clone(t.Tags)
	c.CustomFields = make(map[string]string, len(t.CustomFields))
	for k, v := range t.CustomFields {
		c.CustomFields[k] = v
	}
	c.Attachments = slices.Clone(t.Attachments)
	return c
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// serve checks what every request must carry, counts it against the
// rate limit, and routes it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if !strings.HasPrefix(r.URL.Path, "/api/v2/") {
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if !s.authorized(r) {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"code": "invalid_credentials", "message": "You have to be logged in to perform this action."})
		return
	}
	if !s.countCall(w) {
		return
	}
	if a := r.Header.Get("Accept"); a != "" && !strings.Contains(a, "application/json") && !strings.Contains(a, "*/*") {
		writeJSON(w, http.StatusNotAcceptable, map[string]string{"code": "invalid_accept_header", "message": "Only application/json and */* are supported in Accept header."})
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/api/v2/"), "/")
	switch {
	case len(parts) == 2 && parts[0] == "agents" && parts[1] == "me":
		s.route(w, r, map[string]http.HandlerFunc{http.MethodGet: s.me})
	case len(parts) == 1 && parts[0] == "tickets":
		s.route(w, r, map[string]http.HandlerFunc{http.MethodGet: s.listTickets, http.MethodPost: s.createTicket})
	case len(parts) == 2 && parts[0] == "search" && parts[1] == "tickets":
		s.route(w, r, map[string]http.HandlerFunc{http.MethodGet: s.searchTickets})
	case len(parts) >= 2 && parts[0] == "tickets":
		id, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil || id <= 0 {
			w.WriteHeader(http.StatusNotFound)
			return
		}
		switch {
		case len(parts) == 2:
			s.route(w, r, map[string]http.HandlerFunc{
				http.MethodGet: func(w http.ResponseWriter, r *http.Request) { s.viewTicket(w, r, id) },
				http.MethodPut: func(w http.ResponseWriter, r *http.Request) { s.updateTicket(w, r, id) },
			})
		case len(parts) == 3 && parts[2] == "conversations":
			s.route(w, r, map[string]http.HandlerFunc{http.MethodGet: func(w http.ResponseWriter, r *http.Request) { s.listConversations(w, r, id) }})
		case len(parts) == 3 && parts[2] == "notes":
			s.route(w, r, map[string]http.HandlerFunc{http.MethodPost: func(w http.ResponseWriter, r *http.Request) { s.createNote(w, r, id) }})
		case len(parts) == 3 && parts[2] == "reply":
			s.route(w, r, map[string]http.HandlerFunc{http.MethodPost: func(w http.ResponseWriter, r *http.Request) { s.createReply(w, r, id) }})
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

// route calls the handler of r's method, or answers 405 naming those
// allowed (API v2, "Errors").
func (s *Server) route(w http.ResponseWriter, r *http.Request, byMethod map[string]http.HandlerFunc) {
	if h, ok := byMethod[r.Method]; ok {
		h(w, r)
		return
	}
	var allowed []string
	for m := range byMethod {
		allowed = append(allowed, m)
	}
	slices.Sort(allowed)
	w.Header().Set("Allow", strings.Join(allowed, ", "))
	writeJSON(w, http.StatusMethodNotAllowed, map[string]string{"message": strings.Join(allowed, ", ") + " method is allowed"})
}

// authorized checks Basic auth: the API key as user, any password.
func (s *Server) authorized(r *http.Request) bool {
	h := r.Header.Get("Authorization")
	raw, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return false
	}
	dec, err := base64.StdEncoding.DecodeString(strings.TrimSpace(raw))
	if err != nil {
		return false
	}
	user, _, ok := strings.Cut(string(dec), ":")
	return ok && user == s.key && s.key != ""
}

// countCall counts the request in the current minute and sets the rate
// headers; beyond the limit it answers 429 with Retry-After.
func (s *Server) countCall(w http.ResponseWriter) bool {
	s.mu.Lock()
	now := s.now()
	if now.Sub(s.window) >= time.Minute {
		s.window, s.used = now, 0
	}
	limit := s.rateLimit
	over := s.used >= limit
	if !over {
		s.used++
	}
	remaining := max(limit-s.used, 0)
	retry := s.window.Add(time.Minute).Sub(now)
	s.mu.Unlock()
	h := w.Header()
	h.Set("X-Ratelimit-Total", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Used-Currentrequest", "1")
	if over {
		h.Set("Retry-After", strconv.Itoa(max(int((retry+time.Second-1)/time.Second), 1)))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"message": "You have exceeded the limit of requests per minute"})
		return false
	}
	return true
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// invalid answers 400 with Freshdesk's validation body.
func invalid(w http.ResponseWriter, errs []fieldError) {
	slices.SortFunc(errs, func(a, b fieldError) int { return strings.Compare(a.Field, b.Field) })
	writeJSON(w, http.StatusBadRequest, map[string]any{"description": "Validation failed", "errors": errs})
}

// readBody reads a POST or PUT body, answering 415 or 400 itself when it
// cannot; it returns nil then.
func readBody(w http.ResponseWriter, r *http.Request) *input {
	in, err := readInput(r)
	if err == nil {
		return in
	}
	switch e := err.(type) {
	case errUnsupported:
		writeJSON(w, http.StatusUnsupportedMediaType, map[string]string{
			"code":    "invalid_content_type",
			"message": fmt.Sprintf("Content-Type header is set to %s. It should be set to application/json", e.ctype),
		})
	case *fieldError:
		invalid(w, []fieldError{*e})
	default:
		writeJSON(w, http.StatusBadRequest, map[string]string{"message": err.Error()})
	}
	return nil
}

// me answers GET /api/v2/agents/me.
func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"available": true, "occasional": false, "signature": nil,
		"id": APIAgentID, "ticket_scope": 1, "type": "support_agent",
		"created_at": "2024-01-01T00:00:00Z", "updated_at": "2024-01-01T00:00:00Z",
		"contact": map[string]any{"name": "Counterdesk API", "email": "api@shop.example", "active": true, "language": "en"},
	})
}
