package ticket

import (
	bolt "go.etcd.io/bbolt"
)

type indexEntry struct {
	bucket []byte
	key    []byte
}

// deletedStatus is the status index key of deleted tickets, so an admin can
// still list them; it can never be a real status.
const deletedStatus = "~deleted"

// indexEntries returns every list-index key of tk. Listing reads these
// instead of scanning tickets; save keeps them in step with the ticket.
func indexEntries(tk *Ticket) []indexEntry {
	num := u64(tk.Number)
	upd := timeKey(tk.UpdatedAt)
	if tk.Deleted {
		return []indexEntry{{bIdxStatus, key(strPrefix(deletedStatus), upd, num)}}
	}
	es := []indexEntry{
		{bIdxUpdated, key(upd, num)},
		{bIdxStatus, key(strPrefix(string(tk.Status)), upd, num)},
		{bIdxAssignee, key(strPrefix(tk.Assignee), upd, num)},
		{bIdxChannel, key(strPrefix(string(tk.Channel)), upd, num)},
		{bIdxPriority, key(strPrefix(string(tk.Priority)), upd, num)},
	}
	if tk.ContactID != 0 {
		es = append(es, indexEntry{bIdxContact, key(u64(tk.ContactID), upd, num)})
	}
	for _, tag := range tk.Tags {
		es = append(es, indexEntry{bIdxTag, key(strPrefix(tag), upd, num)})
	}
	return es
}

// indexWords adds the tokens of text to the full-text index of ticket n.
func (t *txn) indexWords(n uint64, texts ...string) error {
	b := t.tx.Bucket(bIdxWords)
	inv := u64(^n)
	for _, text := range texts {
		for _, tok := range Tokens(text) {
			if err := b.Put(key(strPrefix(tok), inv), nil); err != nil {
				return err
			}
		}
	}
	return nil
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
