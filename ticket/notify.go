package ticket

import (
	"errors"
	"fmt"
	"time"
)

// Notifier decides what the customer is told after a change: that their
// request arrived, that it is resolved, that the shop waits on them. The
// notify package provides it; a Desk without one tells the customer
// nothing by itself.
type Notifier interface {
	Notices(event string, in NoticeInput) []Notice
	// Pages returns the staff phones to page by SMS now about tk, which a
	// safety flag or a rule's notify action raised with text.
	Pages(tk Ticket, text string, now time.Time) []StaffPage
}

// StaffPage is an SMS to a staff member's phone.
type StaffPage struct {
	To   string // E.164
	Body string
}

// NoticeInput is what a Notifier decides on.
type NoticeInput struct {
	Ticket  Ticket
	Contact Contact
	// Request is the customer's latest message (the one that caused
	// EventCreated or EventMessage), or nil when there is none.
	Request *Message
	Now     time.Time
}

// Notice is one notification for the customer, sent as an automatic reply
// by the route that reaches them.
type Notice struct {
	Rule string // such as "acknowledge", for the audit trail
	Body string
	// Ack marks an acknowledgement: the contact's LastAckAt is set, for
	// the notifier's one-per-window guard.
	Ack bool
}

// notify sends the notices for event on ticket n. A notice that cannot
// reach the customer (no address, opted out) is audited, not an error.
func (t *txn) notify(event string, n uint64) error {
	nf := t.d.opts.Notifier
	if nf == nil {
		return nil
	}
	tk, err := t.live(n)
	if errors.Is(err, ErrDeleted) || errors.Is(err, ErrMerged) {
		return nil
	}
	if err != nil {
		return err
	}
	in := NoticeInput{Ticket: *clone(tk), Now: t.now}
	if tk.ContactID != 0 {
		if _, err := getJSON(t.tx.Bucket(bContacts), u64(tk.ContactID), &in.Contact); err != nil {
			return err
		}
	}
	if in.Request, err = t.lastInbound(n); err != nil {
		return err
	}
	notices := nf.Notices(event, in)
	if len(notices) == 0 {
		return nil
	}
	old := clone(tk)
	var added []*Message
	for _, nt := range notices {
		actor := Actor{Kind: ActorRule, Name: "notify " + nt.Rule}
		m, err := t.reply(tk, actor, nt.Body, nil, false, false)
		if errors.Is(err, ErrInvalid) {
			if err := t.eventBy(actor, n, "notify", "", "skipped", fmt.Sprintf("the customer was not told: %v", err)); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		added = append(added, m)
		if nt.Ack && in.Contact.ID != 0 {
			in.Contact.LastAckAt = t.now
			if err := putJSON(t.tx.Bucket(bContacts), u64(in.Contact.ID), &in.Contact); err != nil {
				return err
			}
		}
	}
	if len(added) == 0 {
		return nil
	}
	tk.UpdatedAt = t.now
	if err := t.save(old, tk); err != nil {
		return err
	}
	for _, m := range added {
		t.change(MessageAdded, tk, m)
	}
	return nil
}

// lastInbound returns ticket n's latest message from the customer, or nil.
func (t *txn) lastInbound(n uint64) (*Message, error) {
	prefix := key(u64(n), []byte{recMessage})
	b := t.tx.Bucket(bThread)
	c := b.Cursor()
	for k := lastWithPrefix(c, prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Prev() {
		var m Message
		if err := jsonUnmarshal(b.Get(k), &m); err != nil {
			return nil, err
		}
		if m.Direction == Incoming {
			return &m, nil
		}
	}
	return nil, nil
}
