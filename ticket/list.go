package ticket

import (
	"bytes"
	"encoding/base64"
	"slices"

	bolt "go.etcd.io/bbolt"
)

// Filter selects tickets for List. Empty fields match everything.
type Filter struct {
	Status     Status
	Channel    Channel
	Priority   Priority
	Assignee   string
	Unassigned bool // only tickets with no assignee
	Tag        string
	Category   string // a triage category, such as "warranty"
	Team       string
	ContactID  uint64
	// Query is full-text: every word must appear in the ticket's subject,
	// messages or contact.
	Query string
	// Deleted lists deleted tickets instead of live ones.
	Deleted bool
	Limit   int    // page size; default 50, at most 500
	Cursor  string // from the previous Page.Next
}

// Page is one page of a listing, newest change first (for a full-text
// query: highest ticket number first).
type Page struct {
	Tickets []Ticket `json:"tickets"`
	// Next is the cursor of the following page, empty on the last page.
	Next string `json:"next,omitempty"`
}

// Page sizes.
const (
	DefaultPageSize = 50
	MaxPageSize     = 500
)

// maxExamined bounds how many index entries one List call reads when the
// filter combines fields that no single index covers. Reaching it returns
// a short page with a cursor to go on from.
const maxExamined = 20000

// List returns the tickets that match f. It walks the most selective index
// for f and never scans every ticket.
func (d *Desk) List(f Filter) (Page, error) {
	if f.Limit <= 0 {
		f.Limit = DefaultPageSize
	}
	if f.Limit > MaxPageSize {
		f.Limit = MaxPageSize
	}
	var cursor []byte
	if f.Cursor != "" {
		c, err := base64.RawURLEncoding.DecodeString(f.Cursor)
		if err != nil || len(c) == 0 {
			return Page{}, invalid("cursor", "is not a cursor this server gave out")
		}
		cursor = c
	}
	if f.Tag != "" {
		tag, err := NormalizeTag(f.Tag)
		if err != nil {
			return Page{}, err
		}
		f.Tag = tag
	}
	var page Page
	err := d.db.View(func(tx *bolt.Tx) error {
		if f.Query != "" {
			return d.search(tx, f, cursor, &page)
		}
		prefix := f.index()
		c := tx.Bucket(bIndex).Cursor()
		var k []byte
		if cursor != nil {
			if !hasPrefix(cursor, prefix) {
				return invalid("cursor", "belongs to another listing")
			}
			// The cursor is the first entry not yet returned: start on
			// it, or just before where it was if it moved since.
			k, _ = c.Seek(cursor)
			if k == nil {
				k, _ = c.Last()
			} else if !bytes.Equal(k, cursor) {
				k, _ = c.Prev()
			}
		} else {
			k = lastWithPrefix(c, prefix)
		}
		examined := 0
		for ; k != nil && hasPrefix(k, prefix); k, _ = c.Prev() {
			if len(page.Tickets) == f.Limit || examined == maxExamined {
				page.Next = base64.RawURLEncoding.EncodeToString(k)
				return nil
			}
			examined++
			tk, err := loadTicket(tx, beU64(k[len(k)-8:]))
			if err != nil {
				return err
			}
			if f.Match(tk) {
				page.Tickets = append(page.Tickets, *tk)
			}
		}
		return nil
	})
	return page, err
}

// index picks the index that narrows f the most and returns its prefix.
func (f *Filter) index() []byte {
	switch {
	case f.Deleted:
		return ix(ixStatus, strPrefix(deletedStatus))
	case f.ContactID != 0:
		return ix(ixContact, u64(f.ContactID))
	case f.Tag != "":
		return ix(ixTag, strPrefix(f.Tag))
	case f.Assignee != "":
		return ix(ixAssignee, strPrefix(f.Assignee))
	case f.Unassigned:
		return ix(ixAssignee, strPrefix(""))
	case f.Status != "":
		return ix(ixStatus, strPrefix(string(f.Status)))
	case f.Channel != "":
		return ix(ixChannel, strPrefix(string(f.Channel)))
	case f.Priority != "":
		return ix(ixPriority, strPrefix(string(f.Priority)))
	}
	return ix(ixUpdated)
}

// Match reports whether tk belongs in a listing filtered by f (the query
// aside): List checks with it the fields its index did not, and the live
// list of the staff pages the changes it is told of.
func (f *Filter) Match(tk *Ticket) bool {
	switch {
	case tk.Deleted != f.Deleted,
		f.Status != "" && tk.Status != f.Status,
		f.Channel != "" && tk.Channel != f.Channel,
		f.Priority != "" && tk.Priority != f.Priority,
		f.Assignee != "" && tk.Assignee != f.Assignee,
		f.Unassigned && tk.Assignee != "",
		f.Category != "" && tk.Category != f.Category,
		f.Team != "" && tk.Team != f.Team,
		f.ContactID != 0 && tk.ContactID != f.ContactID,
		f.Tag != "" && !slices.Contains(tk.Tags, f.Tag):
		return false
	}
	return true
}
