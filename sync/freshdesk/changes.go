package freshdesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// changesPages bounds the pages (100 tickets each) one Changes call
// reads; the cursor lets the next call go on from there.
const changesPages = 10

// firstLook is how far back the first Changes call looks.
const firstLook = time.Hour

// Changes returns the Freshdesk tickets updated since the cursor that
// carry a box id, oldest first, each with its status mapped and the
// public replies staff wrote, and the next cursor.
//
// It lists tickets with updated_since, ordered by updated_at ascending
// (GET /api/v2/tickets), and reads the conversations of each. The cursor
// is the updated_at of the last ticket seen, in Freshdesk's own clock
// (RFC 3339); "" starts an hour back. updated_since includes its
// instant, so the last ticket is seen again by the next call; the engine
// applies each reply once by its id.
//
// A status is reported only when it differs from the one that stands
// for the box's (see Target.known): Freshdesk's Open stands for the
// box's new and open alike.
func (t *Target) Changes(ctx context.Context, cursor string) ([]sync.RemoteChange, string, error) {
	since, err := time.Parse(time.RFC3339, cursor)
	if err != nil { // "" or unreadable: start over
		since = t.now().Add(-firstLook).UTC().Truncate(time.Second)
	}
	t.settle(cursor)
	agent, err := t.agent(ctx, false)
	if err != nil {
		return nil, cursor, err
	}
	sinceText := since.UTC().Format(time.RFC3339)
	next := since
	var changes []sync.RemoteChange
	var reported []reportedStatus
	full := true // every page was read up to its last
	for page := 1; ; page++ {
		if page > changesPages {
			full = false
			break
		}
		q := url.Values{
			"updated_since": {sinceText},
			"order_by":      {"updated_at"},
			"order_type":    {"asc"},
			"per_page":      {"100"},
			"page":          {strconv.Itoa(page)},
		}
		resp, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/tickets", Query: q}, nil)
		if err != nil {
			return nil, cursor, fmt.Errorf("freshdesk: changes since %s: %w", sinceText, err)
		}
		ts, err := parseTickets(resp.Body)
		if err != nil {
			return nil, cursor, ticket.Permanent(fmt.Errorf("freshdesk: changes since %s: %w", sinceText, err))
		}
		for i := range ts {
			tk := &ts[i]
			if tk.UpdatedAt.After(next) {
				next = tk.UpdatedAt
			}
			ch, r, ok, err := t.change(ctx, tk, agent)
			if err != nil {
				return nil, cursor, err
			}
			if ok {
				changes = append(changes, ch)
				reported = append(reported, r)
			}
		}
		if len(ts) == 0 || !nextPage(resp.Header) {
			break
		}
	}
	if !full && !next.After(since) {
		// More than changesPages pages changed in one second: step over
		// it rather than read the same pages for ever.
		next = since.Add(time.Second)
	}
	out := next.UTC().Format(time.RFC3339)
	t.keepReported(reported, out)
	return changes, out, nil
}

// change returns what the engine needs of Freshdesk ticket tk and the
// status it reports, or false when tk holds no box id.
func (t *Target) change(ctx context.Context, tk *apiTicket, agent int64) (sync.RemoteChange, reportedStatus, bool, error) {
	ext := tk.field(t.idField)
	if ext == "" {
		return sync.RemoteChange{}, reportedStatus{}, false, nil
	}
	cs, err := t.conversations(ctx, tk.ID)
	if err != nil {
		return sync.RemoteChange{}, reportedStatus{}, false, err
	}
	ch := sync.RemoteChange{ID: idString(tk.ID), ExternalID: ext, At: tk.UpdatedAt}
	for i := range cs {
		if staffReply(&cs[i], agent) {
			ch.Replies = append(ch.Replies, remoteMessage(&cs[i], agent))
		}
	}
	known, gen := t.knownOf(tk.ID)
	if gen == 0 || known != tk.Status {
		ch.Status = boxStatus(tk.Status)
	}
	return ch, reportedStatus{id: tk.ID, code: tk.Status, gen: gen}, true, nil
}
