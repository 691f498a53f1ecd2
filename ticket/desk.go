package ticket

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Delivery states of an outbound message.
const (
	DeliveryQueued    = "queued"
	DeliverySent      = "sent"
	DeliveryDelivered = "delivered"
	DeliveryFailed    = "failed"
)

// Reply is a public answer from staff to the customer.
type Reply struct {
	Body        string
	Attachments []NewAttachment
	// Status moves the ticket after the reply; empty moves a new ticket to
	// open and leaves others as they are.
	Status Status
	// Remote is set for a reply written in a cloud helpdesk: the same
	// remote reply is stored once, and the message records where it came
	// from (Meta "remote" and "remote_id"), so that it is never copied back.
	Remote *RemoteRef
}

// RemoteRef names a message in a sync target.
type RemoteRef struct {
	Target string // the target's name
	ID     string // the message's id in the target
	// Delivered is set when the target itself delivered the reply to the
	// customer (a helpdesk that emails its replies): the box records it
	// as sent through the cloud channel and sends nothing.
	Delivered bool
}

// Delivery is the payload of a "deliver.<route>" outbox row: one outbound
// message for a channel's consumer to send.
type Delivery struct {
	Ticket    uint64 `json:"ticket"`
	TicketRef string `json:"ticket_ref"`
	// MessageID is the message of the thread sent; 0 for a page to staff,
	// which is no message of the thread.
	MessageID uint64 `json:"message_id"`
	To        string `json:"to"` // E.164 phone or email address
	Subject   string `json:"subject,omitempty"`
	Body      string `json:"body"`
}

// Outbound routes: the consumers that send replies to customers.
const (
	RouteSMS   = "sms"
	RouteEmail = "email"
	// RouteCloud is a reply a cloud helpdesk delivered itself; nothing
	// is queued for it.
	RouteCloud = "cloud"
)

// DeliverKind is the outbox kind of replies sent by route.
func DeliverKind(route string) string { return "deliver." + route }

// route picks how a reply reaches the contact: by the channel they used
// when it can carry a reply, else by whatever address they have.
func route(ch Channel, c *Contact) (string, string, error) {
	phone, email := "", ""
	if len(c.Phones) > 0 {
		phone = c.Phones[0]
	}
	if len(c.Emails) > 0 {
		email = c.Emails[0]
	}
	switch {
	case ch == ChannelEmail && email != "":
		return RouteEmail, email, nil
	case (ch == ChannelSMS || ch == ChannelMissedCall || ch == ChannelVoicemail) && phone != "":
		return RouteSMS, phone, nil
	case email != "":
		return RouteEmail, email, nil
	case phone != "":
		return RouteSMS, phone, nil
	}
	return "", "", invalid("contact", "has no phone number or email address to reply to")
}

// Reply stores a public reply and queues its delivery to the customer.
func (d *Desk) Reply(ctx context.Context, actor Actor, n uint64, r Reply) (Message, error) {
	if err := checkText("body", r.Body, d.opts.Limits.MaxMessageBytes, true); err != nil {
		return Message{}, err
	}
	if strings.TrimSpace(r.Body) == "" {
		return Message{}, invalid("body", "is required")
	}
	if err := checkAttachments(r.Attachments, d.opts.Limits); err != nil {
		return Message{}, err
	}
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}
	atts, err := d.storeAttachments(r.Attachments)
	if err != nil {
		return Message{}, err
	}
	var remoteKey []byte
	if r.Remote != nil {
		if err := checkText("remote target", r.Remote.Target, 64, false); err != nil {
			return Message{}, err
		}
		if err := checkText("remote id", r.Remote.ID, 256, false); err != nil {
			return Message{}, err
		}
		remoteKey = lookupKey(lkRemote, r.Remote.Target+"\x00"+r.Remote.ID)
	}
	var out Message
	err = d.update(actor, func(t *txn) error {
		if remoteKey != nil {
			if v := t.tx.Bucket(bLookup).Get(remoteKey); v != nil {
				_, err := getJSON(t.tx.Bucket(bThread), threadKey(beU64(v[:8]), recMessage, beU64(v[8:])), &out)
				return err
			}
		}
		tk, err := t.live(n)
		if err != nil {
			return err
		}
		old := clone(tk)
		m, err := t.reply(tk, actor, r.Body, atts, true, r.Remote != nil && r.Remote.Delivered)
		if err != nil {
			return err
		}
		if remoteKey != nil {
			m.Meta = Meta{"remote": r.Remote.Target, "remote_id": r.Remote.ID}
			if err := t.putMessage(m); err != nil {
				return err
			}
			if err := t.tx.Bucket(bLookup).Put(remoteKey, key(u64(n), u64(m.ID))); err != nil {
				return err
			}
		}
		to := r.Status
		if to == "" && tk.Status == StatusNew {
			to = StatusOpen
		}
		if err := t.setStatus(tk, to, "staff replied"); err != nil {
			return err
		}
		if err := t.save(old, tk); err != nil {
			return err
		}
		t.change(MessageAdded, tk, m)
		out = *m
		return nil
	})
	return out, err
}

// reply adds an outbound message to tk and queues its delivery by the
// route that reaches the contact. A staff reply also counts as the first
// response and makes the staff member the contact's owner; an automatic
// reply does neither. The caller saves tk.
//
// A reply already delivered by a cloud helpdesk (delivered) is recorded on
// the cloud channel as sent, and nothing is queued.
func (t *txn) reply(tk *Ticket, actor Actor, body string, atts []Attachment, staff, delivered bool) (*Message, error) {
	var c Contact
	if tk.ContactID != 0 {
		if _, err := getJSON(t.tx.Bucket(bContacts), u64(tk.ContactID), &c); err != nil {
			return nil, err
		}
	}
	rt, to, ch := RouteCloud, "", ChannelCloud
	if !delivered {
		var err error
		if rt, to, err = route(tk.Channel, &c); err != nil {
			return nil, err
		}
		if rt == RouteSMS && c.NoSMS {
			return nil, invalid("contact", "%s texted STOP and gets no SMS until they text START", to)
		}
		ch = Channel(channelOfRoute(rt))
	}
	m, err := t.addMessage(tk, Outgoing, ch, actor.Name, body, atts)
	if err != nil {
		return nil, err
	}
	m.Delivery = DeliveryQueued
	if delivered {
		m.Delivery = DeliverySent
	}
	if err := t.putMessage(m); err != nil {
		return nil, err
	}
	if staff {
		tk.LastOutboundAt = t.now
		if tk.FirstResponseAt.IsZero() {
			tk.FirstResponseAt = t.now
		}
		if c.ID != 0 && c.Owner != actor.Name {
			c.Owner = actor.Name
			if err := putJSON(t.tx.Bucket(bContacts), u64(c.ID), &c); err != nil {
				return nil, err
			}
		}
	}
	if err := t.eventBy(actor, tk.Number, "reply", "", fmt.Sprintf("message %d by %s", m.ID, rt), ""); err != nil {
		return nil, err
	}
	if delivered {
		return m, nil
	}
	err = t.enqueue(tk.Number, Effect{
		Kind: DeliverKind(rt),
		Key:  "message:" + strconv.FormatUint(m.ID, 10),
		Payload: Delivery{
			Ticket: tk.Number, TicketRef: tk.Ref(), MessageID: m.ID, To: to,
			Subject: "Re: " + tk.Subject + " [" + tk.Ref() + "]", Body: body,
		},
	})
	return m, err
}

func channelOfRoute(rt string) string {
	if rt == RouteEmail {
		return string(ChannelEmail)
	}
	return string(ChannelSMS)
}

// AddNote stores an internal note on ticket n. Notes are never sent.
func (d *Desk) AddNote(ctx context.Context, actor Actor, n uint64, body string) (Message, error) {
	if err := checkText("body", body, d.opts.Limits.MaxMessageBytes, true); err != nil {
		return Message{}, err
	}
	if strings.TrimSpace(body) == "" {
		return Message{}, invalid("body", "is required")
	}
	if err := ctx.Err(); err != nil {
		return Message{}, err
	}
	var out Message
	err := d.update(actor, func(t *txn) error {
		tk, err := t.live(n)
		if err != nil {
			return err
		}
		old := clone(tk)
		m, err := t.addMessage(tk, Internal, ChannelStaff, actor.Name, body, nil)
		if err != nil {
			return err
		}
		if err := t.event(n, "note", "", fmt.Sprintf("message %d", m.ID), ""); err != nil {
			return err
		}
		if err := t.save(old, tk); err != nil {
			return err
		}
		t.change(MessageAdded, tk, m)
		out = *m
		return nil
	})
	return out, err
}

func (t *txn) addMessage(tk *Ticket, dir Direction, ch Channel, author, body string, atts []Attachment) (*Message, error) {
	id, err := t.tx.Bucket(bThread).NextSequence()
	if err != nil {
		return nil, err
	}
	m := &Message{ID: id, Ticket: tk.Number, Direction: dir, Channel: ch, Author: author, Body: body, Attachments: atts, At: t.now}
	if err := t.putMessage(m); err != nil {
		return nil, err
	}
	if err := t.indexWords(tk.Number, body); err != nil {
		return nil, err
	}
	tk.Messages++
	tk.UpdatedAt = t.now
	return m, nil
}

// Patch is a set of changes to a ticket's fields made at once. Nil fields
// stay as they are.
type Patch struct {
	Status     *Status
	Priority   *Priority
	Assignee   *string // "" unassigns
	AddTags    []string
	RemoveTags []string
	Why        string // recorded in the audit trail
}

// Update applies p to ticket n in one transaction, with one audit event per
// field that changed.
func (d *Desk) Update(ctx context.Context, actor Actor, n uint64, p Patch) (Ticket, error) {
	if err := checkText("why", p.Why, maxWhy, false); err != nil {
		return Ticket{}, err
	}
	if p.Status != nil {
		if _, err := ParseStatus(string(*p.Status)); err != nil {
			return Ticket{}, invalid("status", "%v", err)
		}
	}
	if p.Priority != nil {
		if _, err := ParsePriority(string(*p.Priority)); err != nil {
			return Ticket{}, invalid("priority", "%v", err)
		}
	}
	if p.Assignee != nil && *p.Assignee != "" {
		if err := checkUser("assignee", *p.Assignee); err != nil {
			return Ticket{}, err
		}
	}
	if len(p.AddTags)+len(p.RemoveTags) > maxTags {
		return Ticket{}, invalid("tags", "at most %d tags at once", maxTags)
	}
	add, err := normalizeTags(p.AddTags)
	if err != nil {
		return Ticket{}, err
	}
	remove, err := normalizeTags(p.RemoveTags)
	if err != nil {
		return Ticket{}, err
	}
	if err := ctx.Err(); err != nil {
		return Ticket{}, err
	}
	var out Ticket
	err = d.update(actor, func(t *txn) error {
		tk, err := t.live(n)
		if err != nil {
			return err
		}
		old := clone(tk)
		if p.Status != nil {
			if err := t.setStatus(tk, *p.Status, p.Why); err != nil {
				return err
			}
		}
		if p.Priority != nil && *p.Priority != tk.Priority {
			if err := t.event(n, "priority", string(tk.Priority), string(*p.Priority), p.Why); err != nil {
				return err
			}
			tk.Priority = *p.Priority
		}
		if p.Assignee != nil && *p.Assignee != tk.Assignee {
			if err := t.event(n, "assign", tk.Assignee, *p.Assignee, p.Why); err != nil {
				return err
			}
			tk.Assignee = *p.Assignee
			t.fire(EventAssigned, n)
		}
		tags := slices.DeleteFunc(slices.Clone(tk.Tags), func(tag string) bool { return slices.Contains(remove, tag) })
		for _, tag := range add {
			if !slices.Contains(tags, tag) {
				tags = append(tags, tag)
			}
		}
		if len(tags) > maxTags {
			return invalid("tags", "a ticket holds at most %d tags", maxTags)
		}
		// Audit what changed, not what was asked: removing and adding the
		// same tag changes nothing.
		for _, tag := range tk.Tags {
			if !slices.Contains(tags, tag) {
				if err := t.event(n, "untag", tag, "", p.Why); err != nil {
					return err
				}
			}
		}
		for _, tag := range tags {
			if !slices.Contains(tk.Tags, tag) {
				if err := t.event(n, "tag", "", tag, p.Why); err != nil {
					return err
				}
			}
		}
		tk.Tags = tags
		if sameTicket(old, tk) {
			out = *tk
			return nil
		}
		tk.UpdatedAt = t.now
		if err := t.save(old, tk); err != nil {
			return err
		}
		t.change(TicketUpdated, tk, nil)
		out = *tk
		return nil
	})
	return out, err
}

// SetStatus moves ticket n to status s, if the state machine allows it.
func (d *Desk) SetStatus(ctx context.Context, actor Actor, n uint64, s Status, why string) (Ticket, error) {
	return d.Update(ctx, actor, n, Patch{Status: &s, Why: why})
}

// SetPriority changes the priority of ticket n.
func (d *Desk) SetPriority(ctx context.Context, actor Actor, n uint64, p Priority, why string) (Ticket, error) {
	return d.Update(ctx, actor, n, Patch{Priority: &p, Why: why})
}

// Assign gives ticket n to a staff user; "" unassigns it.
func (d *Desk) Assign(ctx context.Context, actor Actor, n uint64, assignee, why string) (Ticket, error) {
	return d.Update(ctx, actor, n, Patch{Assignee: &assignee, Why: why})
}

// Tag adds and removes tags of ticket n.
func (d *Desk) Tag(ctx context.Context, actor Actor, n uint64, add, remove []string, why string) (Ticket, error) {
	return d.Update(ctx, actor, n, Patch{AddTags: add, RemoveTags: remove, Why: why})
}

func (t *txn) setStatus(tk *Ticket, s Status, why string) error {
	if s == "" || s == tk.Status {
		return nil
	}
	if _, err := ParseStatus(string(s)); err != nil {
		return err
	}
	before := tk.Status
	if err := tk.move(s, t.now); err != nil {
		return err
	}
	after := string(s)
	if s == StatusClosed {
		after += " (" + tk.ClosedAs + ")"
	}
	t.fire(EventStatusChanged, tk.Number)
	return t.event(tk.Number, "status", string(before), after, why)
}

func normalizeTags(tags []string) ([]string, error) {
	out := make([]string, 0, len(tags))
	for _, tag := range tags {
		t, err := NormalizeTag(tag)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

// Merge moves every message of ticket from into ticket into and closes
// from, pointing it at into. Later requests that quote from's number
// thread onto into.
func (d *Desk) Merge(ctx context.Context, actor Actor, from, into uint64, why string) (Ticket, error) {
	if from == into {
		return Ticket{}, invalid("into", "a ticket cannot be merged into itself")
	}
	if err := checkText("why", why, maxWhy, false); err != nil {
		return Ticket{}, err
	}
	if err := ctx.Err(); err != nil {
		return Ticket{}, err
	}
	var out Ticket
	err := d.update(actor, func(t *txn) error {
		src, err := t.live(from)
		if err != nil {
			return err
		}
		dst, err := t.live(into)
		if err != nil {
			return err
		}
		oldSrc, oldDst := clone(src), clone(dst)
		msgs := t.tx.Bucket(bThread)
		c := msgs.Cursor()
		prefix := key(u64(from), []byte{recMessage})
		var moved []Message
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Seek(prefix) {
			var m Message
			if err := jsonUnmarshal(v, &m); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
			m.Ticket = into
			if err := putJSON(msgs, threadKey(into, recMessage, m.ID), &m); err != nil {
				return err
			}
			if m.SourceKey != "" {
				sk := lookupKey(lkSource, string(m.Channel)+":"+m.SourceKey)
				if err := t.tx.Bucket(bLookup).Put(sk, key(u64(into), u64(m.ID))); err != nil {
					return err
				}
			}
			if err := t.indexWords(into, m.Subject, m.Body, m.Transcript); err != nil {
				return err
			}
			moved = append(moved, m)
		}
		if err := t.indexWords(into, src.Subject); err != nil {
			return err
		}
		dst.Messages += len(moved)
		dst.UpdatedAt = t.now
		for _, tag := range src.Tags {
			if !slices.Contains(dst.Tags, tag) && len(dst.Tags) < maxTags {
				dst.Tags = append(dst.Tags, tag)
			}
		}
		if err := t.setStatus(src, StatusClosed, "merged into "+dst.Ref()); err != nil {
			// Closed or spam tickets cannot move to closed; they keep their status.
			if _, ok := err.(*TransitionError); !ok {
				return err
			}
		}
		src.MergedInto, src.Messages, src.UpdatedAt = into, 0, t.now
		if err := t.event(from, "merge", src.Ref(), dst.Ref(), why); err != nil {
			return err
		}
		if err := t.event(into, "merge", src.Ref(), dst.Ref(), fmt.Sprintf("%d messages moved; %s", len(moved), why)); err != nil {
			return err
		}
		if err := t.save(oldSrc, src); err != nil {
			return err
		}
		if err := t.save(oldDst, dst); err != nil {
			return err
		}
		t.change(TicketMerged, src, nil)
		t.change(TicketUpdated, dst, nil)
		out = *dst
		return nil
	})
	return out, err
}

// Delete marks ticket n deleted. It disappears from every listing but the
// deleted one; its messages and audit trail stay.
func (d *Desk) Delete(ctx context.Context, actor Actor, n uint64, why string) error {
	if err := checkText("why", why, maxWhy, false); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.update(actor, func(t *txn) error {
		tk, err := t.live(n)
		if err != nil {
			return err
		}
		old := clone(tk)
		tk.Deleted, tk.DeletedAt, tk.UpdatedAt = true, t.now, t.now
		if err := t.event(n, "delete", string(tk.Status), "deleted", why); err != nil {
			return err
		}
		if err := t.save(old, tk); err != nil {
			return err
		}
		t.change(TicketDeleted, tk, nil)
		return nil
	})
}

// SetSMSOptOut records that the contact of ticket n texted STOP (out) or
// START (!out), audited on that ticket. While opted out, no reply or
// notification goes to them by SMS.
func (d *Desk) SetSMSOptOut(ctx context.Context, actor Actor, n uint64, out bool) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.update(actor, func(t *txn) error {
		tk, err := loadTicket(t.tx, n)
		if err != nil {
			return err
		}
		if tk.ContactID == 0 {
			return invalid("ticket", "ticket #%d has no contact", n)
		}
		var c Contact
		if _, err := getJSON(t.tx.Bucket(bContacts), u64(tk.ContactID), &c); err != nil {
			return err
		}
		if c.NoSMS == out {
			return nil
		}
		c.NoSMS = out
		before, after, why := "sms", "no sms", "the customer texted STOP"
		if !out {
			before, after, why = after, before, "the customer texted START"
		}
		if err := t.event(n, "opt_out", before, after, why); err != nil {
			return err
		}
		return putJSON(t.tx.Bucket(bContacts), u64(c.ID), &c)
	})
}

// AnsweredCall is a call that rang the box while someone at the shop
// answered it elsewhere (at the desk phone of the same ring group).
type AnsweredCall struct {
	Channel Channel
	// Key is the channel's id for the call, such as the SIP Call-ID.
	Key   string
	At    time.Time
	From  From
	Ring  time.Duration
	Where string // who answered, such as "answered elsewhere"
}

// RecordCall notes an answered call on the caller's contact, creating the
// contact if it is new, and, when the contact has a ticket open, records it
// there as an audit event so the staff see the customer already got through.
// It opens no ticket. A call without a phone number has nobody to note it on
// and is ignored; recording the same Key twice records it once.
func (d *Desk) RecordCall(ctx context.Context, call AnsweredCall) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := checkText("call key", call.Key, 512, false); err != nil {
		return err
	}
	if call.Key == "" {
		return invalid("call key", "must not be empty")
	}
	if err := checkText("caller name", call.From.Name, 256, false); err != nil {
		return err
	}
	phone, err := NormalizePhone(call.From.Phone, d.opts.Region)
	if err != nil {
		return err
	}
	if phone == "" {
		return nil
	}
	if call.Where == "" {
		call.Where = "answered elsewhere"
	}
	return d.update(Actor{Kind: ActorChannel, Name: string(call.Channel)}, func(t *txn) error {
		c, err := t.resolveContact(call.From.Name, phone, "")
		if err != nil {
			return err
		}
		if slices.ContainsFunc(c.Calls, func(l CallLog) bool { return l.Key == call.Key }) {
			return nil
		}
		at := call.At
		if at.IsZero() {
			at = t.now
		}
		c.Calls = append([]CallLog{{At: at.UTC(), Ring: call.Ring, Outcome: call.Where, Key: call.Key}}, c.Calls...)
		if len(c.Calls) > maxCalls {
			c.Calls = c.Calls[:maxCalls]
		}
		if err := putJSON(t.tx.Bucket(bContacts), u64(c.ID), &c); err != nil {
			return err
		}
		tk, err := t.threadTarget(&Inbound{Channel: call.Channel}, c.ID)
		if err != nil || tk == nil {
			return err
		}
		why := fmt.Sprintf("the call from %s rang %s", phone, call.Ring.Round(time.Second))
		return t.event(tk.Number, "call", "", call.Where, why)
	})
}

// SetRemote records the id ticket n has in sync target target.
func (d *Desk) SetRemote(ctx context.Context, actor Actor, n uint64, target, remoteID string) error {
	if err := checkText("target", target, 64, false); err != nil {
		return err
	}
	if err := checkText("remote_id", remoteID, 256, false); err != nil {
		return err
	}
	return d.update(actor, func(t *txn) error {
		tk, err := loadTicket(t.tx, n)
		if err != nil {
			return err
		}
		if tk.Remote[target] == remoteID {
			return nil
		}
		old := clone(tk)
		if tk.Remote == nil {
			tk.Remote = map[string]string{}
		}
		before := tk.Remote[target]
		tk.Remote[target] = remoteID
		if err := t.event(n, "sync", before, target+":"+remoteID, "copied to "+target); err != nil {
			return err
		}
		return t.save(old, tk)
	})
}

// SetDelivery records the delivery state of outbound message id of ticket n.
func (d *Desk) SetDelivery(ctx context.Context, actor Actor, n, id uint64, state, detail string) error {
	switch state {
	case DeliveryQueued, DeliverySent, DeliveryDelivered, DeliveryFailed:
	default:
		return invalid("state", "unknown delivery state %q", state)
	}
	if err := checkText("detail", detail, maxLastError, false); err != nil {
		return err
	}
	return d.update(actor, func(t *txn) error {
		var m Message
		ok, err := getJSON(t.tx.Bucket(bThread), threadKey(n, recMessage, id), &m)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("message %d of ticket #%d: %w", id, n, ErrNotFound)
		}
		if m.Direction != Outgoing {
			return invalid("id", "message %d is not an outbound message", id)
		}
		if m.Delivery == state {
			return nil
		}
		if err := t.event(n, "delivery", m.Delivery, state, detail); err != nil {
			return err
		}
		m.Delivery = state
		return putJSON(t.tx.Bucket(bThread), threadKey(n, recMessage, id), &m)
	})
}

// Get returns ticket n.
func (d *Desk) Get(n uint64) (Ticket, error) {
	var tk *Ticket
	err := d.db.View(func(tx *bolt.Tx) error {
		var err error
		tk, err = loadTicket(tx, n)
		return err
	})
	if err != nil {
		return Ticket{}, err
	}
	return *tk, nil
}

// FindUUID returns the number of the ticket whose UUID is uuid.
func (d *Desk) FindUUID(uuid string) (uint64, error) {
	var n uint64
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bLookup).Get(lookupKey(lkUUID, uuid))
		if len(v) != 8 {
			return fmt.Errorf("ticket %q: %w", uuid, ErrNotFound)
		}
		n = beU64(v)
		return nil
	})
	return n, err
}

// FindSource returns the number of the ticket that holds the message the
// channel ingested under source key key (for a mail, its Message-ID), so
// that a reply quoting it in In-Reply-To or References threads onto it.
func (d *Desk) FindSource(ch Channel, key string) (uint64, error) {
	var n uint64
	err := d.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bLookup).Get(lookupKey(lkSource, string(ch)+":"+key))
		if len(v) != 16 {
			return fmt.Errorf("%s message %q: %w", ch, key, ErrNotFound)
		}
		n = beU64(v[:8])
		return nil
	})
	return n, err
}

// Thread returns ticket n with its contact, messages and audit events in
// time order.
func (d *Desk) Thread(n uint64) (Thread, error) {
	var th Thread
	err := d.db.View(func(tx *bolt.Tx) error {
		tk, err := loadTicket(tx, n)
		if err != nil {
			return err
		}
		th.Ticket = *tk
		if tk.ContactID != 0 {
			if _, err := getJSON(tx.Bucket(bContacts), u64(tk.ContactID), &th.Contact); err != nil {
				return err
			}
		}
		prefix := u64(n)
		c := tx.Bucket(bThread).Cursor()
		for k, v := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, v = c.Next() {
			switch k[len(prefix)] {
			case recMessage:
				var m Message
				if err := jsonUnmarshal(v, &m); err != nil {
					return err
				}
				th.Messages = append(th.Messages, m)
			case recEvent:
				var e Event
				if err := jsonUnmarshal(v, &e); err != nil {
					return err
				}
				th.Events = append(th.Events, e)
			}
		}
		return nil
	})
	slices.SortStableFunc(th.Messages, func(a, b Message) int { return a.At.Compare(b.At) })
	return th, err
}

// Contact returns contact id.
func (d *Desk) Contact(id uint64) (Contact, error) {
	var c Contact
	err := d.db.View(func(tx *bolt.Tx) error {
		ok, err := getJSON(tx.Bucket(bContacts), u64(id), &c)
		if err == nil && !ok {
			err = fmt.Errorf("contact %d: %w", id, ErrNotFound)
		}
		return err
	})
	return c, err
}

// Count returns the number of tickets ever opened.
func (d *Desk) Count() (uint64, error) {
	var n uint64
	err := d.db.View(func(tx *bolt.Tx) error {
		n = tx.Bucket(bTickets).Sequence()
		return nil
	})
	return n, err
}

func clone(tk *Ticket) *Ticket {
	c := *tk
	c.Tags = slices.Clone(tk.Tags)
	c.Fired = slices.Clone(tk.Fired)
	c.Remote = maps.Clone(tk.Remote)
	c.Fields = maps.Clone(tk.Fields)
	return &c
}

func sameTicket(a, b *Ticket) bool {
	return a.Status == b.Status && a.Priority == b.Priority && a.Assignee == b.Assignee &&
		slices.Equal(a.Tags, b.Tags) && a.ClosedAs == b.ClosedAs
}
