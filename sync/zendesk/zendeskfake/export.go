package zendeskfake

import (
	"encoding/base64"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// listComments serves List Comments with cursor pagination (page[size]
// up to 100, page[after]) and the authors sideloaded by include=users.
func (s *Server) listComments(w http.ResponseWriter, r *http.Request, id int64) {
	q := r.URL.Query()
	size := 100
	if v := q.Get("page[size]"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			badRequest(w, "InvalidPaginationParameter", "page[size] must be between 1 and 100")
			return
		}
		size = n
	}
	start := 0
	if v := q.Get("page[after]"); v != "" {
		n, err := decodeCursor(v)
		if err != nil {
			badRequest(w, "InvalidPaginationParameter", "page[after] is not a valid cursor")
			return
		}
		start = int(n)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	tk, ok := s.tickets[id]
	if !ok {
		notFound(w)
		return
	}
	start = min(start, len(tk.comments))
	end := min(start+size, len(tk.comments))
	comments := []map[string]any{}
	authors := map[int64]bool{}
	var users []map[string]any
	for _, c := range tk.comments[start:end] {
		comments = append(comments, map[string]any{
			"id": c.ID, "type": "Comment", "author_id": c.AuthorID, "body": c.Body,
			"html_body": "<div class=\"zd-comment\"><p>" + html.EscapeString(c.Body) + "</p></div>", "plain_body": c.Body,
			"public": c.Public, "attachments": attachmentsJSON(c.Attachments), "audit_id": c.ID - 1,
			"via": map[string]any{"channel": "api"}, "created_at": c.CreatedAt.Format(time.RFC3339),
			"metadata": map[string]any{"system": map[string]any{}, "custom": map[string]any{}},
		})
		if u := s.users[c.AuthorID]; u != nil && !authors[c.AuthorID] {
			authors[c.AuthorID] = true
			users = append(users, userJSON(u))
		}
	}
	out := map[string]any{"comments": comments}
	more := end < len(tk.comments)
	meta := map[string]any{"has_more": more, "after_cursor": nil, "before_cursor": nil}
	if end > start {
		meta["after_cursor"] = encodeCursor(uint64(end))
		meta["before_cursor"] = encodeCursor(uint64(start))
	}
	out["meta"] = meta
	out["links"] = map[string]any{"prev": nil, "next": nil}
	if strings.Contains(q.Get("include"), "users") {
		if users == nil {
			users = []map[string]any{}
		}
		out["users"] = users
	}
	writeJSON(w, http.StatusOK, out)
}

func encodeCursor(n uint64) string {
	return base64.RawURLEncoding.EncodeToString([]byte("fake:" + strconv.FormatUint(n, 10)))
}

func decodeCursor(c string) (uint64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, err
	}
	v, ok := strings.CutPrefix(string(raw), "fake:")
	if !ok {
		return 0, fmt.Errorf("zendeskfake: not a cursor")
	}
	return strconv.ParseUint(v, 10, 64)
}

// export serves the cursor-based Incremental Ticket Export: start_time
// (at least a minute in the past) the first time, cursor after that; each
// ticket changed since, once, in the order of its latest change, at most
// 1,000 a page; end_of_stream once it has caught up.
func (s *Server) export(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var from int // index in s.changes of the first change to consider
	switch {
	case q.Get("cursor") != "":
		seq, err := decodeCursor(q.Get("cursor"))
		if err != nil {
			badRequest(w, "InvalidValue", "cursor is not valid")
			return
		}
		from = sort.Search(len(s.changes), func(i int) bool { return s.changes[i].seq > seq })
	case q.Get("start_time") != "":
		sec, err := strconv.ParseInt(q.Get("start_time"), 10, 64)
		if err != nil || sec < 0 {
			badRequest(w, "InvalidValue", "start_time must be a unix time")
			return
		}
		start := time.Unix(sec, 0)
		if now.Sub(start) < time.Minute {
			writeJSON(w, http.StatusUnprocessableEntity, apiError{Error: "InvalidValue", Description: "Too recent start_time. Use a start_time older than 1 minute"})
			return
		}
		from = sort.Search(len(s.changes), func(i int) bool { return !s.changes[i].at.Before(start) })
	default:
		badRequest(w, "InvalidValue", "start_time or cursor is required")
		return
	}
	limit := now.Add(-s.ExportLag)
	tickets := []map[string]any{}
	var lastSeq uint64
	if from > 0 {
		lastSeq = s.changes[from-1].seq
	}
	i := from
	for ; i < len(s.changes) && len(tickets) < exportPageSize; i++ {
		c := s.changes[i]
		if c.at.After(limit) {
			break
		}
		lastSeq = c.seq
		if tk := s.tickets[c.id]; tk != nil && tk.seq == c.seq {
			tickets = append(tickets, s.ticketJSON(tk))
		}
	}
	end := i >= len(s.changes) || s.changes[i].at.After(limit)
	after := encodeCursor(lastSeq)
	writeJSON(w, http.StatusOK, map[string]any{
		"tickets":       tickets,
		"after_cursor":  after,
		"after_url":     "https://fake.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=" + url.QueryEscape(after),
		"before_cursor": nil,
		"before_url":    nil,
		"end_of_stream": end,
	})
}
