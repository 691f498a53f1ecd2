package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// Two-way sync reads the cursor-based Incremental Ticket Export (GET
// /api/v2/incremental/tickets/cursor, "Using the Incremental Exports
// API"): the first request gives start_time, each later one the
// after_cursor of the page before; end_of_stream says the export has
// caught up. For each changed ticket that carries an external_id the
// target then lists its comments and keeps the public ones that staff
// other than the API user wrote.

const (
	// firstLookBack is how far back the first poll starts.
	firstLookBack = time.Hour
	// replyMargin is how far before the last caught-up export a reply may
	// have been written and still be returned: Zendesk leaves the latest
	// minute out of an export, and the clocks of the box and Zendesk may
	// differ. Replies older than that were returned by earlier polls; the
	// engine applies each reply once by its id anyway.
	replyMargin = 15 * time.Minute
	// maxExportPages bounds the export pages read by one poll. Zendesk
	// allows 10 export requests a minute; the next poll goes on where this
	// one stopped.
	maxExportPages = 3
	// cursorVersion starts every cursor the target returns.
	cursorVersion = "z1"
)

// cursor is the position of the target in the export, as the opaque
// string Changes returns: "z1|UNIX|AFTER", where UNIX is the time from
// which replies are returned and AFTER Zendesk's after_cursor (empty until
// the first page was read).
type cursor struct {
	since time.Time
	after string
}

func (c cursor) String() string {
	return cursorVersion + "|" + strconv.FormatInt(c.since.Unix(), 10) + "|" + c.after
}

// parseCursor reads a cursor Changes returned; "" is no cursor.
func parseCursor(s string) (cursor, bool, error) {
	if s == "" {
		return cursor{}, false, nil
	}
	parts := strings.SplitN(s, "|", 3)
	if len(parts) != 3 || parts[0] != cursorVersion {
		return cursor{}, false, fmt.Errorf("zendesk: cursor %q is not one of this target's", s)
	}
	sec, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || sec < 0 {
		return cursor{}, false, fmt.Errorf("zendesk: cursor %q has no valid time", s)
	}
	return cursor{since: time.Unix(sec, 0).UTC(), after: parts[2]}, true, nil
}

// Changes returns the remote tickets changed since cur that carry the box's
// external_id, with their status mapped and the public replies of staff
// written since the export last caught up, oldest first; and the cursor
// for the next poll. The first poll ("" cursor) starts an hour back. The
// API user must be an admin: Zendesk allows the export to admins only.
func (t *Target) Changes(ctx context.Context, curText string) ([]sync.RemoteChange, string, error) {
	cur, ok, err := parseCursor(curText)
	if err != nil {
		// A cursor of another version or target: start again from now.
		ok = false
	}
	if !ok {
		cur = cursor{since: t.now().Add(-firstLookBack).UTC()}
	}
	me, err := t.self(ctx)
	if err != nil {
		return nil, curText, err
	}
	var changes []sync.RemoteChange
	at := make(map[int64]int) // remote id -> index in changes
	next := cur
	for range maxExportPages {
		q := url.Values{}
		if next.after == "" {
			q.Set("start_time", strconv.FormatInt(cur.since.Unix(), 10))
		} else {
			q.Set("cursor", next.after)
		}
		resp, err := t.client.Do(ctx, sync.Request{Method: http.MethodGet, Path: "/api/v2/incremental/tickets/cursor", Query: q}, nil)
		if err != nil {
			return nil, curText, fmt.Errorf("zendesk: incremental ticket export: %w", err)
		}
		page, err := decodeExport(resp.Body)
		if err != nil {
			return nil, curText, ticket.Permanent(err)
		}
		for i := range page.Tickets {
			zt := &page.Tickets[i]
			if zt.ExternalID == "" || zt.Status == statusDeleted {
				continue
			}
			ch, err := t.change(ctx, zt, me, cur.since)
			if err != nil {
				return nil, curText, err
			}
			if j, seen := at[zt.ID]; seen {
				changes[j] = ch
				continue
			}
			at[zt.ID] = len(changes)
			changes = append(changes, ch)
		}
		if page.AfterCursor != "" {
			next.after = page.AfterCursor
		}
		if page.EndOfStream {
			// Caught up: every change until a minute before the answer is
			// in. Later polls return replies from a little before that.
			next.since = serverTime(resp.Header, t.now()).Add(-replyMargin).UTC()
			if next.since.Before(cur.since) {
				next.since = cur.since
			}
			break
		}
	}
	return changes, next.String(), nil
}

// change returns remote ticket zt as a change, with the public replies
// that staff other than me wrote at or after since.
func (t *Target) change(ctx context.Context, zt *wireTicket, me int64, since time.Time) (sync.RemoteChange, error) {
	id := strconv.FormatInt(zt.ID, 10)
	ch := sync.RemoteChange{ID: id, ExternalID: zt.ExternalID, Status: boxStatus(zt.Status), At: zt.UpdatedAt}
	err := t.comments(ctx, "/api/v2/tickets/"+id+"/comments", func(c *wireComment, author *wireUser) {
		if r, ok := reply(c, author, me, since); ok {
			ch.Replies = append(ch.Replies, r)
		}
	})
	if err != nil {
		return ch, fmt.Errorf("zendesk: list comments of ticket %s: %w", id, err)
	}
	return ch, nil
}

// reply returns comment c as a staff reply when it is one: public, written
// by an agent or admin who is not the API user, at or after since, with
// text.
func reply(c *wireComment, author *wireUser, me int64, since time.Time) (sync.RemoteMessage, bool) {
	if !c.Public || author == nil || !author.staff() || author.ID == me || c.AuthorID == me {
		return sync.RemoteMessage{}, false
	}
	if c.CreatedAt.Before(since) {
		return sync.RemoteMessage{}, false
	}
	body := strings.TrimSpace(c.replyText())
	if body == "" {
		return sync.RemoteMessage{}, false
	}
	return remoteMessage(c, author, me, body), true
}

// serverTime returns the time of an answer by its Date header, or now.
func serverTime(h http.Header, now time.Time) time.Time {
	if t, err := http.ParseTime(h.Get("Date")); err == nil {
		return t
	}
	return now
}
