package ticket

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// txn is one write transaction of the Desk. It collects the changes it
// makes so that planners can turn them into outbox rows before the commit
// and the feed can publish them after it.
type txn struct {
	tx       *bolt.Tx
	d        *Desk
	now      time.Time
	actor    Actor
	changes  []Change
	queued   bool // outbox rows were added
	postings int  // recent word postings added

	ruleEvents []ruleEvent
	// saved holds the tickets this transaction saved, so that rules
	// reading them again need not decode them.
	saved map[uint64]*Ticket
}

// update runs fn in one write transaction and publishes its changes after
// the commit.
func (d *Desk) update(actor Actor, fn func(t *txn) error) error {
	var done *txn
	err := d.db.Update(func(tx *bolt.Tx) error {
		t := &txn{tx: tx, d: d, now: d.opts.Now().UTC(), actor: actor}
		if err := fn(t); err != nil {
			return err
		}
		if err := t.automate(); err != nil {
			return err
		}
		if err := t.plan(); err != nil {
			return err
		}
		done = t
		return nil
	})
	if err != nil {
		return err
	}
	d.committed(done)
	return nil
}

// committed tells the feed, the outbox consumers and the word index about
// a commit.
func (d *Desk) committed(t *txn) {
	d.words.added(t.postings)
	changes, queued := t.changes, t.queued
	for _, c := range changes {
		d.feed.publish(c)
	}
	if queued {
		d.wakeConsumers()
	}
}

// plan runs the planners over the changes of this transaction and adds the
// outbox rows they ask for.
func (t *txn) plan() error {
	for _, c := range t.changes {
		for _, p := range t.d.opts.Planners {
			for _, e := range p.Plan(c) {
				if err := t.enqueue(c.Ticket.Number, e); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (t *txn) change(kind ChangeKind, tk *Ticket, m *Message) {
	c := Change{Kind: kind, Ticket: *tk, Actor: t.actor, At: t.now}
	c.Ticket.Tags = slices.Clone(tk.Tags)
	if m != nil {
		mc := *m
		c.Message = &mc
	}
	t.changes = append(t.changes, c)
}

func getJSON(b *bolt.Bucket, k []byte, v any) (bool, error) {
	data := b.Get(k)
	if data == nil {
		return false, nil
	}
	if err := json.Unmarshal(data, v); err != nil {
		return true, fmt.Errorf("decode record %x: %w", k, err)
	}
	return true, nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}

// ticket loads ticket n.
func loadTicket(tx *bolt.Tx, n uint64) (*Ticket, error) {
	var tk Ticket
	ok, err := getJSON(tx.Bucket(bTickets), u64(n), &tk)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("ticket #%d: %w", n, ErrNotFound)
	}
	return &tk, nil
}

// live loads ticket n for a change. Deleted tickets cannot change, nor can
// a ticket merged into another: its thread lives on there.
func (t *txn) live(n uint64) (*Ticket, error) {
	tk, ok := t.saved[n]
	if ok {
		tk = clone(tk)
	} else {
		var err error
		if tk, err = loadTicket(t.tx, n); err != nil {
			return nil, err
		}
	}
	if tk.Deleted {
		return nil, fmt.Errorf("ticket #%d: %w", n, ErrDeleted)
	}
	if tk.MergedInto != 0 {
		return nil, &FieldError{Field: "ticket", Msg: fmt.Sprintf("ticket #%d was merged into #%d; work on that one", n, tk.MergedInto), Err: ErrMerged}
	}
	return tk, nil
}

// save stores tk and moves its index entries from what old had to what tk
// has. old is nil for a new ticket.
func (t *txn) save(old, tk *Ticket) error {
	idx := t.tx.Bucket(bIndex)
	if old != nil {
		for _, k := range append(indexEntries(old), t.timerKeys(old)...) {
			if err := idx.Delete(k); err != nil {
				return err
			}
		}
	}
	for _, k := range append(indexEntries(tk), t.timerKeys(tk)...) {
		if err := idx.Put(k, nil); err != nil {
			return err
		}
	}
	if err := t.countOpen(old, tk); err != nil {
		return err
	}
	if t.saved == nil {
		t.saved = make(map[uint64]*Ticket)
	}
	t.saved[tk.Number] = clone(tk)
	return putJSON(t.tx.Bucket(bTickets), u64(tk.Number), tk)
}

// event appends an audit event to ticket n.
func (t *txn) event(n uint64, action, before, after, why string) error {
	return t.eventBy(t.actor, n, action, before, after, why)
}

func (t *txn) eventBy(a Actor, n uint64, action, before, after, why string) error {
	return t.record(Event{Ticket: n, Actor: a, Action: action, Before: before, After: after, Why: why})
}

// record stores e, numbered and timed, in its ticket's thread.
func (t *txn) record(e Event) error {
	b := t.tx.Bucket(bThread)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	e.ID, e.At = id, t.now
	return putJSON(b, threadKey(e.Ticket, recEvent, id), &e)
}

func beU64(b []byte) uint64 {
	var v uint64
	for _, c := range b[:8] {
		v = v<<8 | uint64(c)
	}
	return v
}

func jsonUnmarshal(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode record: %w", err)
	}
	return nil
}
