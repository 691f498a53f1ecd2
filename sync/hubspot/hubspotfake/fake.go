// Package hubspotfake is an in-memory HubSpot for the tests and benchmarks
// of the hubspot sync target. It serves the part of HubSpot's API the
// target uses (CRM objects v3 for tickets, notes, emails and contacts, the
// CRM search, associations v4, files v3 and the account details) and
// checks each request as HubSpot documents it: the path and method, the
// private app token, the Content-Type, the required properties and their
// allowed values, the association type ids and the attachment flow. A
// request that breaks a rule gets the status and the error body HubSpot
// answers with: {"status":"error","message":...,"correlationId":...,
// "category":...}.
//
// Methods play the shop's staff in HubSpot (an email reply written on a
// ticket, a change of the ticket's status) and list what the target made,
// so that a test can count tickets by the box's id.
package hubspotfake

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/counterdesk/counterdesk/sync/synctest"
)

// The account the fake pretends to be.
const (
	PortalID = 1234567
	UIDomain = "app.hubspot.com"
	// AgentOwnerID is the owner id of the staff member the fake's
	// AgentReply and StaffNote write as.
	AgentOwnerID = "90001"
)

// DefaultIDField is the unique ticket property the fake holds the box's
// ticket id in, unless Server.IDField says otherwise.
const DefaultIDField = "counterdesk_id"

// The object types of the CRM, by the name used in v3 paths.
const (
	kindTicket  = "tickets"
	kindNote    = "notes"
	kindEmail   = "emails"
	kindContact = "contacts"
)

// Server is a fake HubSpot account. Serve it with httptest.NewServer; it
// is safe for concurrent requests.
type Server struct {
	// Faults makes the fake misbehave: down, 500, 429, lost answers.
	Faults synctest.Faults

	token   string
	idField string
	handler http.Handler

	mu      sync.Mutex
	nextID  int64
	last    time.Time // the latest modification time handed out
	objects map[string]map[string]*object
	// unique holds the ticket id by the value of the unique property.
	unique map[string]string
	// email holds the contact id by lower-case email address.
	email map[string]string
	// assoc holds, by "kind:id>kind", the associated ids in the order
	// they were associated, and the association type id.
	assoc map[string][]link
	files map[string]*File
	// stages are the pipeline stage ids by pipeline id.
	stages map[string][]string

	refuseN        int
	refuseStatus   int
	refuseCategory string
	refuseMessage  string

	rateMax    int
	rateWindow time.Duration
	rateStart  time.Time
	rateCount  int

	correlation int
}

type link struct {
	id     string
	typeID int
}

// object is one CRM record.
type object struct {
	kind    string
	id      string
	props   map[string]string
	created time.Time
	updated time.Time
}

// Object is a copy of one CRM record for tests.
type Object struct {
	ID         string
	Properties map[string]string
	Created    time.Time
	Updated    time.Time
}

// File is an uploaded file.
type File struct {
	ID, Name, Type, Access, Folder string
	Data                           []byte
}

// New returns an account that accepts the private app token, with the
// default support pipeline "0" (stages "1" New, "2" Waiting on contact,
// "3" Waiting on us, "4" Closed) and the unique ticket property
// DefaultIDField.
func New(token string) *Server {
	return NewWithIDField(token, DefaultIDField)
}

// NewWithIDField is New with another unique ticket property.
func NewWithIDField(token, idField string) *Server {
	s := &Server{
		token:   token,
		idField: idField,
		nextID:  1000,
		objects: map[string]map[string]*object{
			kindTicket: {}, kindNote: {}, kindEmail: {}, kindContact: {},
		},
		unique: make(map[string]string),
		email:  make(map[string]string),
		assoc:  make(map[string][]link),
		files:  make(map[string]*File),
		stages: map[string][]string{"0": {"1", "2", "3", "4"}},
	}
	s.handler = s.Faults.Wrap(http.HandlerFunc(s.serve))
	return s
}

// ServeHTTP serves one request behind s.Faults.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// AddPipeline adds a ticket pipeline with the given stage ids.
func (s *Server) AddPipeline(id string, stages ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stages[id] = slices.Clone(stages)
}

// Refuse answers the next n requests that pass the authentication check
// with status and a HubSpot error body of category and message.
func (s *Server) Refuse(n, status int, category, message string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refuseN, s.refuseStatus, s.refuseCategory, s.refuseMessage = n, status, category, message
}

// RateLimit sends HubSpot's rate limit headers (X-HubSpot-RateLimit-Max,
// -Remaining and -Interval-Milliseconds) for a rolling allowance of max
// requests per window, and answers 429 beyond it as HubSpot does: without
// Retry-After. max 0 turns it off.
func (s *Server) RateLimit(max int, window time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rateMax, s.rateWindow, s.rateStart, s.rateCount = max, window, time.Time{}, 0
}

// tick returns the time of a modification: now, or a millisecond after
// the previous one, so that every change has its own hs_lastmodifieddate.
// s.mu is held.
func (s *Server) tick() time.Time {
	now := time.Now().UTC().Truncate(time.Millisecond)
	if !now.After(s.last) {
		now = s.last.Add(time.Millisecond)
	}
	s.last = now
	return now
}

// newID returns the next record id. s.mu is held.
func (s *Server) newID() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// errorBody is HubSpot's error answer.
type errorBody struct {
	Status        string `json:"status"`
	Message       string `json:"message"`
	CorrelationID string `json:"correlationId"`
	Category      string `json:"category,omitempty"`
	ErrorType     string `json:"errorType,omitempty"`
	PolicyName    string `json:"policyName,omitempty"`
}

// apiError is a refusal to answer.
type apiError struct {
	status   int
	category string
	message  string
}

func (e *apiError) Error() string { return e.message }

func fail(status int, category, format string, args ...any) *apiError {
	return &apiError{status: status, category: category, message: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) *apiError {
	return fail(http.StatusBadRequest, "VALIDATION_ERROR", format, args...)
}

func notFound(format string, args ...any) *apiError {
	return fail(http.StatusNotFound, "OBJECT_NOT_FOUND", format, args...)
}

func (s *Server) correlationID() string {
	s.mu.Lock()
	s.correlation++
	n := s.correlation
	s.mu.Unlock()
	return fmt.Sprintf("0f1e2d3c-4b5a-4697-8a8b-%012x", n)
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	answer(w, e.status, errorBody{Status: "error", Message: e.message, CorrelationID: s.correlationID(), Category: e.category})
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// serve checks the token, the rate limit and the forced refusals, then
// routes the request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	auth := r.Header.Get("Authorization")
	switch {
	case auth == "":
		s.writeError(w, fail(http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"Authentication credentials not found. This API supports OAuth 2.0 authentication and you can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"))
		return
	case !strings.HasPrefix(auth, "Bearer ") || strings.TrimPrefix(auth, "Bearer ") != s.token:
		s.writeError(w, fail(http.StatusUnauthorized, "INVALID_AUTHENTICATION",
			"The OAuth token used to make this call is not valid. Check that the private app's access token is right."))
		return
	}
	if s.limited(w) {
		return
	}
	s.mu.Lock()
	if s.refuseN > 0 {
		s.refuseN--
		e := fail(s.refuseStatus, s.refuseCategory, "%s", s.refuseMessage)
		s.mu.Unlock()
		s.writeError(w, e)
		return
	}
	s.mu.Unlock()
	status, v, err := s.route(r)
	if err != nil {
		s.writeError(w, err)
		return
	}
	if v == nil {
		w.WriteHeader(status)
		return
	}
	answer(w, status, v)
}

// limited applies RateLimit: it sets the headers and answers 429 beyond
// the allowance.
func (s *Server) limited(w http.ResponseWriter) bool {
	s.mu.Lock()
	if s.rateMax <= 0 {
		s.mu.Unlock()
		return false
	}
	now := time.Now()
	if now.Sub(s.rateStart) >= s.rateWindow {
		s.rateStart, s.rateCount = now, 0
	}
	s.rateCount++
	over := s.rateCount > s.rateMax
	remaining := max(s.rateMax-s.rateCount, 0)
	h := w.Header()
	h.Set("X-HubSpot-RateLimit-Max", strconv.Itoa(s.rateMax))
	h.Set("X-HubSpot-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-HubSpot-RateLimit-Interval-Milliseconds", strconv.FormatInt(s.rateWindow.Milliseconds(), 10))
	s.mu.Unlock()
	if over {
		answer(w, http.StatusTooManyRequests, errorBody{
			Status: "error", Message: "You have reached your ten_secondly_rolling limit.",
			ErrorType: "RATE_LIMIT", CorrelationID: s.correlationID(), PolicyName: "TEN_SECONDLY_ROLLING",
		})
	}
	return over
}

// route dispatches a request by path and method.
func (s *Server) route(r *http.Request) (int, any, *apiError) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	method := r.Method
	wrongMethod := fail(http.StatusMethodNotAllowed, "VALIDATION_ERROR", "%s is not allowed on %s", method, r.URL.Path)
	switch {
	case len(parts) == 3 && parts[0] == "account-info" && parts[1] == "v3" && parts[2] == "details":
		if method != http.MethodGet {
			return 0, nil, wrongMethod
		}
		return http.StatusOK, map[string]any{
			"portalId": PortalID, "accountType": "STANDARD", "timeZone": "Europe/Berlin",
			"companyCurrency": "EUR", "additionalCurrencies": []string{}, "utcOffset": "+01:00",
			"utcOffsetMilliseconds": 3600000, "uiDomain": UIDomain, "dataHostingLocation": "eu1",
		}, nil
	case len(parts) == 3 && parts[0] == "files" && parts[1] == "v3" && parts[2] == "files":
		if method != http.MethodPost {
			return 0, nil, wrongMethod
		}
		return s.upload(r)
	case len(parts) >= 4 && parts[0] == "crm" && parts[1] == "v3" && parts[2] == "objects":
		kind := kindOf(parts[3])
		if kind == "" || kind == kindEmail && len(parts) != 5 {
			return 0, nil, notFound("Unable to infer object type from: %s", parts[3])
		}
		switch {
		case len(parts) == 4:
			switch method {
			case http.MethodPost:
				return s.create(r, kind)
			case http.MethodGet:
				return s.list(r, kind)
			}
			return 0, nil, wrongMethod
		case len(parts) == 5 && parts[4] == "search" && method == http.MethodPost:
			return s.search(r, kind)
		case len(parts) == 6 && parts[4] == "batch" && parts[5] == "read":
			if method != http.MethodPost {
				return 0, nil, wrongMethod
			}
			return s.batchRead(r, kind)
		case len(parts) == 5:
			switch method {
			case http.MethodGet:
				return s.get(r, kind, parts[4])
			case http.MethodPatch:
				return s.update(r, kind, parts[4])
			}
			return 0, nil, wrongMethod
		}
	case len(parts) == 7 && parts[0] == "crm" && parts[1] == "v4" && parts[2] == "objects" && parts[5] == "associations":
		if method != http.MethodGet {
			return 0, nil, wrongMethod
		}
		return s.associations(r, kindOf(parts[3]), parts[4], kindOf(parts[6]))
	case len(parts) == 7 && parts[0] == "crm" && parts[1] == "v4" && parts[2] == "associations" && parts[5] == "batch" && parts[6] == "read":
		if method != http.MethodPost {
			return 0, nil, wrongMethod
		}
		return s.batchAssociations(r, kindOf(parts[3]), kindOf(parts[4]))
	}
	return 0, nil, fail(http.StatusNotFound, "OBJECT_NOT_FOUND", "No endpoint at %s %s", method, r.URL.Path)
}

// kindOf returns the object type named in a path: its plural name, its
// singular name, or its object type id.
func kindOf(s string) string {
	switch strings.ToLower(s) {
	case "tickets", "ticket", "0-5":
		return kindTicket
	case "notes", "note", "0-46":
		return kindNote
	case "emails", "email", "0-49":
		return kindEmail
	case "contacts", "contact", "0-1":
		return kindContact
	}
	return ""
}

// decodeJSON checks the Content-Type and decodes the body into v.
func decodeJSON(r *http.Request, v any) *apiError {
	ct := r.Header.Get("Content-Type")
	if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(ct)), "application/json") {
		return fail(http.StatusUnsupportedMediaType, "VALIDATION_ERROR", "Content type '%s' not supported; use application/json", ct)
	}
	dec := json.NewDecoder(http.MaxBytesReader(nil, r.Body, 4<<20))
	if err := dec.Decode(v); err != nil {
		return invalid("Invalid input JSON on line 1: %v", err)
	}
	return nil
}

// isoTime is how HubSpot writes date-time property values.
func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// parseTime reads a date-time filter or property value: unix
// milliseconds or ISO 8601.
func parseTime(v string) (time.Time, bool) {
	if ms, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.UnixMilli(ms).UTC(), true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return t.UTC(), true
	}
	return time.Time{}, false
}
