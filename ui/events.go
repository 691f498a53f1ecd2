package ui

import (
	"bufio"
	"encoding/json"
	"fmt"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/gofiber/fiber/v2"
)

// DefaultMaxStreams bounds the live feeds open at once when
// Options.MaxStreams is zero.
const DefaultMaxStreams = 32

// streamPing is how often an idle live feed sends a comment, to find out
// that the browser went away and that the session still stands.
const streamPing = 15 * time.Second

// feedEvent is the data of a "ticket" event of the live feed.
type feedEvent struct {
	Number uint64 `json:"number"`
	// Action tells the page what to do with the row: "upsert" (put it at
	// the top, it belongs in this list), "remove" (it no longer does) or
	// "update" (replace it if shown: for a search, whose matches the
	// feed cannot tell).
	Action   string `json:"action"`
	Kind     string `json:"kind"`
	Priority string `json:"priority"`
	Subject  string `json:"subject"`
	HTML     string `json:"html,omitempty"`
}

// events streams the changes to tickets as server-sent events
// (WHATWG HTML, section 9.2), one "ticket" event per change, filtered
// like the list the page shows. A subscriber that falls behind is dropped
// by the Desk; it then gets a "reload" event, and so does a page whose
// session ended.
func (s *Server) events(c *fiber.Ctx) error {
	q := readListQuery(c)
	q.Cursor = ""
	st := staff(c)
	f, err := q.filter(st.user.Name)
	if err != nil {
		return err
	}
	if f.Tag != "" {
		if f.Tag, err = ticket.NormalizeTag(f.Tag); err != nil {
			return httpError(fiber.StatusBadRequest, "%q is not a tag.", f.Tag)
		}
	}
	select {
	case s.streams <- struct{}{}:
	default:
		s.log.Warn("ui: live feed refused: too many open", "max", cap(s.streams))
		c.Set(fiber.HeaderRetryAfter, "30")
		return httpError(fiber.StatusServiceUnavailable, "Too many live lists are open.")
	}
	sub := s.desk.Subscribe()
	back := q.URL()
	c.Set(fiber.HeaderContentType, "text/event-stream")
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set("X-Accel-Buffering", "no")
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		defer func() { <-s.streams }()
		defer sub.Close()
		fmt.Fprint(w, "retry: 3000\n\n")
		if w.Flush() != nil {
			return
		}
		tick := time.NewTicker(streamPing)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				return
			case ch, ok := <-sub.C:
				if !ok {
					if sub.Dropped() {
						s.log.Warn("ui: live feed fell behind; the page reloads", "user", st.user.Name)
						fmt.Fprint(w, "event: reload\ndata: {}\n\n")
						w.Flush()
					}
					return
				}
				ev, err := s.feedEvent(st, &f, back, ch)
				if err != nil {
					s.log.Error("ui: live feed", "err", err)
					continue
				}
				data, _ := json.Marshal(ev)
				fmt.Fprintf(w, "event: ticket\ndata: %s\n\n", data)
				if w.Flush() != nil {
					return
				}
			case <-tick.C:
				if _, _, err := s.opts.Users.Session(st.id); err != nil {
					fmt.Fprint(w, "event: reload\ndata: {}\n\n")
					w.Flush()
					return
				}
				fmt.Fprint(w, ": ping\n\n")
				if w.Flush() != nil {
					return
				}
			}
		}
	})
	return nil
}

// feedEvent says what a list filtered by f does with change ch.
func (s *Server) feedEvent(st *staffCtx, f *ticket.Filter, back string, ch ticket.Change) (feedEvent, error) {
	tk := ch.Ticket
	ev := feedEvent{Number: tk.Number, Kind: string(ch.Kind), Priority: string(tk.Priority), Subject: tk.Subject}
	switch {
	case tk.Deleted || ch.Kind == ticket.TicketDeleted:
		ev.Action = "remove"
		return ev, nil
	case f.Query != "":
		ev.Action = "update"
	case f.Match(&tk):
		ev.Action = "upsert"
	default:
		ev.Action = "remove"
		return ev, nil
	}
	name := ""
	if tk.ContactID != 0 {
		if ct, err := s.desk.Contact(tk.ContactID); err == nil {
			name = contactLabel(ct)
		}
	}
	html, err := s.renderRow(st, row{Ticket: tk, Contact: name, Back: back})
	ev.HTML = html
	return ev, err
}
