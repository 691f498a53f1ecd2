package zendeskfake

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
)

// The HTTP side of the fake: errors, credentials, JSON bodies.

// apiError is the JSON body of a Zendesk error answer.
type apiError struct {
	Error       string         `json:"error"`
	Description string         `json:"description,omitempty"`
	Details     map[string]any `json:"details,omitempty"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Rate-Limit", "700")
	w.Header().Set("X-Rate-Limit-Remaining", "699")
	w.WriteHeader(status)
	w.Write(body)
}

// invalid answers 422 RecordInvalid with one detail for field.
func invalid(w http.ResponseWriter, field, description string) {
	writeJSON(w, http.StatusUnprocessableEntity, apiError{
		Error: "RecordInvalid", Description: "Record validation errors",
		Details: map[string]any{field: []map[string]string{{"description": description}}},
	})
}

func badRequest(w http.ResponseWriter, name, description string) {
	writeJSON(w, http.StatusBadRequest, apiError{Error: name, Description: description})
}

func notFound(w http.ResponseWriter) {
	writeJSON(w, http.StatusNotFound, apiError{Error: "RecordNotFound", Description: "Not found"})
}

// serve checks the credentials and routes the request.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	w.Header().Set("Date", s.now().Format(http.TimeFormat))
	s.mu.Unlock()
	if !s.authorized(r.Header.Get("Authorization")) {
		writeJSON(w, http.StatusUnauthorized, apiError{Error: "Couldn't authenticate you"})
		return
	}
	path := strings.TrimSuffix(r.URL.Path, ".json")
	parts := strings.Split(strings.TrimPrefix(path, "/api/v2/"), "/")
	if !strings.HasPrefix(path, "/api/v2/") {
		parts = nil
	}
	route := r.Method + " " + strings.Join(parts, "/")
	var id int64
	if len(parts) >= 2 && parts[0] == "tickets" {
		n, err := strconv.ParseInt(parts[1], 10, 64)
		if err == nil && n > 0 {
			id = n
			parts[1] = "{id}"
			route = r.Method + " " + strings.Join(parts, "/")
		}
	}
	switch route {
	case "GET users/me":
		s.showSelf(w)
	case "GET users/search":
		s.searchUsers(w, r)
	case "POST users":
		s.createUser(w, r)
	case "POST uploads":
		s.uploadFile(w, r)
	case "GET tickets":
		s.listTickets(w, r)
	case "POST tickets":
		s.createTicket(w, r)
	case "GET tickets/{id}":
		s.showTicket(w, id)
	case "PUT tickets/{id}":
		s.updateTicket(w, r, id)
	case "GET tickets/{id}/comments":
		s.listComments(w, r, id)
	case "PUT tickets/{id}/tags", "POST tickets/{id}/tags":
		s.tags(w, r, id)
	case "GET incremental/tickets/cursor":
		s.export(w, r)
	default:
		writeJSON(w, http.StatusNotFound, apiError{Error: "InvalidEndpoint", Description: "Not found"})
	}
}

// authorized checks an Authorization header: Basic of "EMAIL/token:TOKEN"
// ("Security and authentication", API token) or Bearer TOKEN (OAuth
// access token).
func (s *Server) authorized(h string) bool {
	if tok, ok := strings.CutPrefix(h, "Bearer "); ok {
		return tok == s.token
	}
	enc, ok := strings.CutPrefix(h, "Basic ")
	if !ok {
		return false
	}
	raw, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return false
	}
	user, pass, ok := strings.Cut(string(raw), ":")
	email, isToken := strings.CutSuffix(user, "/token")
	return ok && isToken && strings.EqualFold(email, s.email) && pass == s.token
}

// readJSON reads the JSON object body of r, answering 415 for another
// Content-Type ("Requests": PUT and POST must send application/json) and
// 400 for a body that is not a JSON object. It returns nil when it
// answered.
func readJSON(w http.ResponseWriter, r *http.Request) map[string]json.RawMessage {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" {
		writeJSON(w, http.StatusUnsupportedMediaType, apiError{Error: "UnsupportedMediaType",
			Description: "Content-Type must be application/json, not " + strconv.Quote(r.Header.Get("Content-Type"))})
		return nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxJSON+1))
	if err != nil {
		badRequest(w, "InvalidValue", "could not read the body")
		return nil
	}
	if len(body) > maxJSON {
		writeJSON(w, http.StatusRequestEntityTooLarge, apiError{Error: "RequestTooLarge", Description: "request body too large"})
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil || m == nil {
		badRequest(w, "InvalidJSON", "The request body is not valid JSON")
		return nil
	}
	return m
}

// object returns the JSON object under key of m (nil and true when absent),
// and false when the key holds something else.
func object(m map[string]json.RawMessage, key string) (map[string]json.RawMessage, bool) {
	raw, ok := m[key]
	if !ok || string(raw) == "null" {
		return nil, true
	}
	var o map[string]json.RawMessage
	if err := json.Unmarshal(raw, &o); err != nil {
		return nil, false
	}
	return o, true
}

// field decodes the property key of m into v when present. Properties are
// case sensitive, as Zendesk documents: "Body" is not "body".
func field(m map[string]json.RawMessage, key string, v any) (present bool, ok bool) {
	raw, found := m[key]
	if !found || string(raw) == "null" {
		return false, true
	}
	return true, json.Unmarshal(raw, v) == nil
}
