package freshdeskfake

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// searchFields are the default fields Filter Tickets knows, with whether
// their values are numbers.
var searchFields = map[string]bool{
	"agent_id": true, "group_id": true, "priority": true, "status": true,
	"tag": false, "type": false,
}

// term is one condition of a search query.
type term struct {
	field string
	value string
	null  bool
}

// searchTickets answers GET /api/v2/search/tickets?query="..." (API v2,
// "Filter Tickets"): conditions field:value joined by AND or OR (AND
// binding closer), text values in single quotes, the whole query in
// double quotes; 30 results a page, at most 10 pages.
func (s *Server) searchTickets(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var errs []fieldError
	for k := range q {
		if k != "query" && k != "page" {
			errs = append(errs, fieldError{Field: k, Message: msgUnexpected, Code: "invalid_field"})
		}
	}
	_, page := paging("", q.Get("page"), 10, &errs)
	query := q.Get("query")
	var ors [][]term
	switch {
	case !q.Has("query"):
		errs = append(errs, fieldError{Field: "query", Message: msgString, Code: "missing_field"})
	case len(query) < 2 || query[0] != '"' || query[len(query)-1] != '"':
		errs = append(errs, fieldError{Field: "query", Message: "Query string should be enclosed in double quotes", Code: "invalid_value"})
	case len(query) > 514:
		errs = append(errs, fieldError{Field: "query", Message: "Query string can have up to 512 characters", Code: "invalid_value"})
	default:
		var err *fieldError
		if ors, err = s.parseQuery(query[1 : len(query)-1]); err != nil {
			errs = append(errs, *err)
		}
	}
	if len(errs) > 0 {
		invalid(w, errs)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock()
	var hits []*Ticket
	seen := make(map[int64]bool)
	for _, and := range ors {
		for _, t := range s.candidates(and) {
			if seen[t.ID] || now.Before(t.searchable) || !s.matches(t, and) {
				continue
			}
			seen[t.ID] = true
			hits = append(hits, t)
		}
	}
	slices.SortFunc(hits, func(a, b *Ticket) int { return -cmpInt(a.UpdatedAt.Unix(), b.UpdatedAt.Unix()) })
	start := min((page-1)*30, len(hits))
	end := min(start+30, len(hits))
	results := make([]map[string]any, 0, end-start)
	for _, t := range hits[start:end] {
		results = append(results, s.ticketJSON(t))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(hits), "results": results})
}

// parseQuery splits a query into OR groups of AND terms.
func (s *Server) parseQuery(q string) ([][]term, *fieldError) {
	bad := func(msg string) *fieldError { return &fieldError{Field: "query", Message: msg, Code: "invalid_value"} }
	if strings.ContainsAny(q, "()") {
		return nil, bad("The fake does not support parentheses")
	}
	var ors [][]term
	for _, group := range strings.Split(q, " OR ") {
		var and []term
		for _, cond := range strings.Split(group, " AND ") {
			cond = strings.TrimSpace(cond)
			name, value, ok := strings.Cut(cond, ":")
			if !ok || name == "" {
				return nil, bad("Invalid query: " + cond)
			}
			value = strings.TrimSpace(value)
			numeric, known := searchFields[name]
			if !known && !s.fields[name] {
				return nil, &fieldError{Field: name, Message: "Invalid field", Code: "invalid_field"}
			}
			t := term{field: name}
			switch {
			case value == "null":
				t.null = true
			case len(value) >= 2 && value[0] == '\'' && value[len(value)-1] == '\'':
				if numeric {
					return nil, bad(name + " should be an integer")
				}
				t.value = value[1 : len(value)-1]
				if strings.ContainsRune(t.value, '\'') {
					return nil, bad("Invalid query: " + cond)
				}
			default:
				if !numeric {
					return nil, bad(name + " should be a string enclosed in single quotes")
				}
				if _, err := strconv.Atoi(value); err != nil {
					return nil, bad(name + " should be an integer")
				}
				t.value = value
			}
			and = append(and, t)
		}
		ors = append(ors, and)
	}
	return ors, nil
}

// candidates returns the tickets that may match and: those the custom
// field index names when a term asks for a custom field's value, else
// all. Callers hold s.mu.
func (s *Server) candidates(and []term) []*Ticket {
	for _, t := range and {
		if s.fields[t.field] && !t.null {
			ids := s.byField[t.field][t.value]
			out := make([]*Ticket, 0, len(ids))
			for _, id := range ids {
				out = append(out, s.tickets[id])
			}
			return out
		}
	}
	out := make([]*Ticket, 0, len(s.tickets))
	for _, t := range s.tickets {
		out = append(out, t)
	}
	return out
}

// matches reports whether t meets every term. Callers hold s.mu.
func (s *Server) matches(t *Ticket, and []term) bool {
	for _, c := range and {
		var got []string
		switch c.field {
		case "status":
			got = []string{strconv.Itoa(t.Status)}
		case "priority":
			got = []string{strconv.Itoa(t.Priority)}
		case "tag":
			got = t.Tags
		case "agent_id", "group_id", "type":
		default:
			if v, ok := t.CustomFields[c.field]; ok {
				got = []string{v}
			}
		}
		if c.null {
			if len(got) != 0 {
				return false
			}
			continue
		}
		ok := false
		for _, g := range got {
			if g == c.value {
				ok = true
			}
		}
		if !ok {
			return false
		}
	}
	return true
}
