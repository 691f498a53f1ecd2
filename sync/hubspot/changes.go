package hubspot

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// Changes reads what changed in HubSpot since the cursor, from two
// searches of the CRM search API
// (https://developers.hubspot.com/docs/api-reference/search/guide), each
// filtered by hs_lastmodifieddate greater than its own cursor and sorted
// by it, ascending:
//
//   - tickets holding the box's id property, whose stage maps back to a
//     box status;
//   - emails whose hs_email_direction is EMAIL (sent from HubSpot to the
//     customer), the public replies, tied to their tickets by the
//     associations API (POST /crm/v4/associations/emails/tickets/batch/read).
//
// A reply is an email sent by a HubSpot user: direction EMAIL, an owner
// (hubspot_owner_id, the user HubSpot shows as its sender) and a status
// of SENT or none. The box never writes emails, only notes, so that
// nothing it wrote comes back as a reply. A ticket found only through an
// email has no Status: its stage did not change.
//
// The cursor is "v1:" and the two searches' positions in unix
// milliseconds; "" starts an hour ago. Each position stays searchLag
// behind the present, because HubSpot's search index takes a few moments
// to hold a change: a record may come twice, which the engine allows,
// but none is missed.
func (t *Target) Changes(ctx context.Context, cursor string) ([]sync.RemoteChange, string, error) {
	now := t.now()
	ticketsFrom, emailsFrom := parseCursor(cursor, now)

	tickets, ticketsNext, err := t.search(ctx, "tickets", ticketsFrom, now,
		[]filter{{PropertyName: t.idField, Operator: "HAS_PROPERTY"}},
		[]string{"hs_pipeline", "hs_pipeline_stage", "hs_lastmodifieddate", t.idField})
	if err != nil {
		return nil, cursor, fmt.Errorf("hubspot: changed tickets: %w", err)
	}
	emails, emailsNext, err := t.search(ctx, "emails", emailsFrom, now,
		[]filter{{PropertyName: "hs_email_direction", Operator: "EQ", Value: "EMAIL"}},
		[]string{"hs_email_direction", "hs_email_status", "hs_email_text", "hs_email_html", "hs_email_subject",
			"hs_email_from_email", "hs_email_from_firstname", "hs_email_from_lastname",
			"hs_timestamp", "hubspot_owner_id", "hs_lastmodifieddate"})
	if err != nil {
		return nil, cursor, fmt.Errorf("hubspot: changed emails: %w", err)
	}
	byTicket, err := t.emailTickets(ctx, emails)
	if err != nil {
		return nil, cursor, fmt.Errorf("hubspot: tickets of emails: %w", err)
	}
	changes := t.changes(tickets, emails, byTicket)
	return changes, formatCursor(ticketsNext, emailsNext), nil
}

// searchLag is how far behind the present a search cursor stays.
const searchLag = 30 * time.Second

// maxChanged bounds the records one search reads in one Changes call; the
// rest come with the next call.
const maxChanged = 1000

// searchPage is the page size of the searches (HubSpot's maximum).
const searchPage = 200

// maxSearchResults is HubSpot's limit of results for one query: paging
// beyond it is refused with 400.
const maxSearchResults = 10000

// filter is one filter of a search request.
type filter struct {
	PropertyName string `json:"propertyName"`
	Operator     string `json:"operator"`
	Value        string `json:"value,omitempty"`
}

type filterGroup struct {
	Filters []filter `json:"filters"`
}

type sortRule struct {
	PropertyName string `json:"propertyName"`
	Direction    string `json:"direction"`
}

type searchRequest struct {
	FilterGroups []filterGroup `json:"filterGroups"`
	Sorts        []sortRule    `json:"sorts"`
	Properties   []string      `json:"properties"`
	Limit        int           `json:"limit"`
	After        string        `json:"after,omitempty"`
}

// search returns the records of kind modified after from that pass the
// filters, oldest change first, and the position to search from next
// time.
func (t *Target) search(ctx context.Context, kind string, from, now time.Time, filters []filter, props []string) ([]record, time.Time, error) {
	req := searchRequest{
		FilterGroups: []filterGroup{{Filters: append([]filter{
			{PropertyName: "hs_lastmodifieddate", Operator: "GT", Value: millis(from)},
		}, filters...)}},
		Sorts:      []sortRule{{PropertyName: "hs_lastmodifieddate", Direction: "ASCENDING"}},
		Properties: props,
		Limit:      searchPage,
	}
	var out []record
	more := false
	for {
		resp, err := t.do(ctx, sync.Request{Method: http.MethodPost, Path: "/crm/v3/objects/" + kind + "/search", JSON: req})
		if err != nil {
			return nil, from, err
		}
		p, err := decodePage(resp.Body)
		if err != nil {
			return nil, from, ticket.Permanent(err)
		}
		out = append(out, p.Results...)
		next := p.next()
		if next == "" {
			break
		}
		n, _ := strconv.Atoi(next)
		if len(out) >= maxChanged || n+searchPage > maxSearchResults || next == req.After {
			more = true
			break
		}
		req.After = next
	}
	return out, advance(out, from, now, more), nil
}

// advance returns the next search position: the latest modification read,
// a millisecond less when records are left for the next call (others may
// share its time), and never later than searchLag before now or earlier
// than from.
func advance(read []record, from, now time.Time, more bool) time.Time {
	latest := from
	for _, r := range read {
		if at, ok := parseTime(r.prop("hs_lastmodifieddate")); ok && at.After(latest) {
			latest = at
		}
	}
	if more && latest.After(from.Add(time.Millisecond)) {
		latest = latest.Add(-time.Millisecond)
	}
	if !more {
		if limit := now.Add(-searchLag); latest.After(limit) {
			latest = limit
		}
	}
	if latest.Before(from) {
		latest = from
	}
	return latest
}

// emailTickets returns the ticket ids of each email, by email id.
func (t *Target) emailTickets(ctx context.Context, emails []record) (map[string][]string, error) {
	out := make(map[string][]string)
	var ids []string
	for _, e := range emails {
		if isReply(&e) {
			ids = append(ids, e.ID)
		}
	}
	for start := 0; start < len(ids); start += 1000 {
		chunk := ids[start:min(start+1000, len(ids))]
		inputs := make([]map[string]string, len(chunk))
		for i, id := range chunk {
			inputs[i] = map[string]string{"id": id}
		}
		resp, err := t.do(ctx, sync.Request{
			Method: http.MethodPost,
			Path:   "/crm/v4/associations/emails/tickets/batch/read",
			JSON:   map[string]any{"inputs": inputs},
		})
		if err != nil {
			return nil, err
		}
		m, err := decodeAssocBatch(resp.Body)
		if err != nil {
			return nil, ticket.Permanent(err)
		}
		for k, v := range m {
			out[k] = append(out[k], v...)
		}
	}
	return out, nil
}

// isReply reports whether email e is a public reply written by staff.
func isReply(e *record) bool {
	if e.prop("hs_email_direction") != "EMAIL" || e.prop("hubspot_owner_id") == "" {
		return false
	}
	switch e.prop("hs_email_status") {
	case "", "SENT":
		return true
	}
	return false
}

// changes assembles the changed tickets from the searches' records,
// oldest change first, each with its replies oldest first.
func (t *Target) changes(tickets, emails []record, byTicket map[string][]string) []sync.RemoteChange {
	index := make(map[string]int)
	var out []sync.RemoteChange
	get := func(id string) *sync.RemoteChange {
		if i, ok := index[id]; ok {
			return &out[i]
		}
		index[id] = len(out)
		out = append(out, sync.RemoteChange{ID: id})
		return &out[len(out)-1]
	}
	for _, r := range tickets {
		ch := get(r.ID)
		ch.ExternalID = r.prop(t.idField)
		if r.prop("hs_pipeline") == t.pipeline || r.prop("hs_pipeline") == "" {
			ch.Status = t.statusOf(r.ID, r.prop("hs_pipeline_stage"))
		} else {
			ch.Status = ""
		}
		if at, ok := parseTime(r.prop("hs_lastmodifieddate")); ok {
			ch.At = at
		} else {
			ch.At = r.UpdatedAt
		}
	}
	for _, e := range emails {
		if !isReply(&e) {
			continue
		}
		reply := replyOf(&e)
		for _, tid := range byTicket[e.ID] {
			ch := get(tid)
			if !slices.ContainsFunc(ch.Replies, func(m sync.RemoteMessage) bool { return m.ID == reply.ID }) {
				ch.Replies = append(ch.Replies, reply)
			}
			if reply.At.After(ch.At) {
				ch.At = reply.At
			}
		}
	}
	for i := range out {
		slices.SortStableFunc(out[i].Replies, func(a, b sync.RemoteMessage) int { return a.At.Compare(b.At) })
	}
	slices.SortStableFunc(out, func(a, b sync.RemoteChange) int { return a.At.Compare(b.At) })
	return out
}

// replyOf returns email e as a public reply.
func replyOf(e *record) sync.RemoteMessage {
	body := strings.TrimSpace(e.prop("hs_email_text"))
	if body == "" {
		body = strings.TrimSpace(htmlText(e.prop("hs_email_html")))
	}
	author := strings.TrimSpace(e.prop("hs_email_from_firstname") + " " + e.prop("hs_email_from_lastname"))
	if from := e.prop("hs_email_from_email"); from != "" {
		if author != "" {
			author += " <" + from + ">"
		} else {
			author = from
		}
	}
	if author == "" {
		author = "HubSpot owner " + e.prop("hubspot_owner_id")
	}
	at, ok := parseTime(e.prop("hs_timestamp"))
	if !ok {
		at = e.CreatedAt
	}
	return sync.RemoteMessage{ID: "email:" + e.ID, Body: body, Public: true, Agent: true, Delivered: true, Author: author, At: at}
}

// cursorPrefix starts every cursor Changes returns.
const cursorPrefix = "v1:"

// parseCursor returns the search positions a cursor holds; "" or a
// cursor it cannot read starts an hour before now.
func parseCursor(cursor string, now time.Time) (tickets, emails time.Time) {
	start := now.Add(-time.Hour)
	rest, ok := strings.CutPrefix(cursor, cursorPrefix)
	if !ok {
		return start, start
	}
	a, b, ok := strings.Cut(rest, ":")
	if !ok {
		return start, start
	}
	ta, err1 := strconv.ParseInt(a, 10, 64)
	tb, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || ta <= 0 || tb <= 0 {
		return start, start
	}
	return time.UnixMilli(ta).UTC(), time.UnixMilli(tb).UTC()
}

// formatCursor writes the cursor of two search positions.
func formatCursor(tickets, emails time.Time) string {
	return cursorPrefix + millis(tickets) + ":" + millis(emails)
}
