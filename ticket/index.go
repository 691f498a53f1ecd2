package ticket

import (
	bolt "go.etcd.io/bbolt"
)

// The indexes, by their one-byte prefix in the index bucket. The list
// indexes end in the ticket's update time and number, so that a prefix
// walked backwards gives the most recently changed tickets first. The word
// index ends in the inverted ticket number, so that walked forwards it
// gives the newest tickets first.
const (
	ixUpdated  = 'U' // updated, number
	ixStatus   = 'S' // status 0 updated number
	ixAssignee = 'A' // assignee 0 updated number
	ixChannel  = 'C' // channel 0 updated number
	ixPriority = 'P' // priority 0 updated number
	ixTag      = 'T' // tag 0 updated number
	ixContact  = 'K' // contact id, updated, number
	ixWords    = 'W' // token 0 ^number
)

// ix builds a key of index id from parts.
func ix(id byte, parts ...[]byte) []byte {
	return key(append([][]byte{{id}}, parts...)...)
}

// deletedStatus is the status index key of deleted tickets, so an admin can
// still list them; it can never be a real status.
const deletedStatus = "~deleted"

// indexEntries returns every list-index key of tk. Listing reads these
// instead of scanning tickets; save keeps them in step with the ticket.
func indexEntries(tk *Ticket) [][]byte {
	num := u64(tk.Number)
	upd := timeKey(tk.UpdatedAt)
	if tk.Deleted {
		return [][]byte{ix(ixStatus, strPrefix(deletedStatus), upd, num)}
	}
	es := [][]byte{
		ix(ixUpdated, upd, num),
		ix(ixStatus, strPrefix(string(tk.Status)), upd, num),
		ix(ixAssignee, strPrefix(tk.Assignee), upd, num),
		ix(ixChannel, strPrefix(string(tk.Channel)), upd, num),
		ix(ixPriority, strPrefix(string(tk.Priority)), upd, num),
	}
	if tk.ContactID != 0 {
		es = append(es, ix(ixContact, u64(tk.ContactID), upd, num))
	}
	for _, tag := range tk.Tags {
		es = append(es, ix(ixTag, strPrefix(tag), upd, num))
	}
	return es
}

// lastWithPrefix positions c on the last key that starts with prefix.
func lastWithPrefix(c *bolt.Cursor, prefix []byte) (k []byte) {
	end := prefixEnd(prefix)
	if end == nil {
		k, _ = c.Last()
	} else if k, _ = c.Seek(end); k == nil {
		k, _ = c.Last()
	} else {
		k, _ = c.Prev()
	}
	if k == nil || !hasPrefix(k, prefix) {
		return nil
	}
	return k
}

// prefixEnd returns the smallest key greater than every key with prefix p,
// or nil when there is none.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func hasPrefix(k, p []byte) bool {
	return len(k) >= len(p) && string(k[:len(p)]) == string(p)
}
