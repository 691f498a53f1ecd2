package ticket

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/triage"
	"github.com/google/uuid"
	bolt "go.etcd.io/bbolt"
)

// Result tells a channel what Ingest did with its request.
type Result struct {
	Ticket    uint64 `json:"ticket"`     // the ticket number
	UUID      string `json:"uuid"`       // the ticket's stable id
	MessageID uint64 `json:"message_id"` // the stored message
	Created   bool   `json:"created"`    // a new ticket was opened
	Duplicate bool   `json:"duplicate"`  // the source key was seen before; nothing was written
}

// Ingest stores an inbound request: it finds or creates the contact, joins
// the contact's open ticket or opens a new one, runs triage, and writes the
// message, its audit events and the outbox rows it causes in one
// transaction. It returns only after that transaction is on disk, so a
// channel may acknowledge to its peer as soon as it returns. Ingesting a
// source key a second time writes nothing and returns the first result
// with Duplicate set. Concurrent ingests share commits.
func (d *Desk) Ingest(ctx context.Context, in Inbound) (res Result, err error) {
	start := time.Now()
	defer func() { d.meter.observe(time.Since(start), res, err) }()
	return d.ingest(ctx, in)
}

func (d *Desk) ingest(ctx context.Context, in Inbound) (Result, error) {
	if err := in.Validate(d.opts.Limits); err != nil {
		return Result{}, err
	}
	phone, err := NormalizePhone(in.From.Phone, d.opts.Region)
	if err != nil {
		return Result{}, err
	}
	email, err := normalizeEmail(in.From.Email)
	if err != nil {
		return Result{}, err
	}
	if err := ctx.Err(); err != nil {
		return Result{}, err
	}
	// Attachment files are on disk before the transaction that refers to
	// them commits.
	atts, err := d.storeAttachments(in.Attachments)
	if err != nil {
		return Result{}, err
	}
	// Reading the text against the triage rules is the costly part of
	// triage; it needs nothing from the store, so it runs here, before the
	// write transaction that every channel shares.
	var matches *triage.Matches
	if m, ok := d.opts.Triager.(textMatcher); ok {
		matches = m.Match(triage.Input{Subject: in.Subject, Body: in.Body, Transcript: in.Transcript})
	}
	actor := Actor{Kind: ActorChannel, Name: string(in.Channel)}
	var res Result
	var done *txn
	// Batch may run this function more than once (when another function of
	// the same batch fails); it is idempotent, and only the run that
	// committed sets the results.
	err = d.db.Batch(func(tx *bolt.Tx) error {
		t := &txn{tx: tx, d: d, now: d.opts.Now().UTC(), actor: actor}
		r, err := t.ingest(&in, phone, email, atts, matches)
		if err != nil {
			return err
		}
		if err := t.automate(); err != nil {
			return err
		}
		if err := t.plan(); err != nil {
			return err
		}
		res, done = r, t
		return nil
	})
	if err != nil {
		return Result{}, fmt.Errorf("ingest %s %q: %w", in.Channel, in.SourceKey, err)
	}
	d.committed(done)
	return res, nil
}

// textMatcher is a Triager that can read a request's text ahead of the
// decision; triage.Engine is one.
type textMatcher interface {
	Match(in triage.Input) *triage.Matches
}

func (t *txn) ingest(in *Inbound, phone, email string, atts []Attachment, matches *triage.Matches) (Result, error) {
	srcKey := lookupKey(lkSource, string(in.Channel)+":"+in.SourceKey)
	if v := t.tx.Bucket(bLookup).Get(srcKey); v != nil {
		n, id := beU64(v[:8]), beU64(v[8:])
		tk, err := loadTicket(t.tx, n)
		if err != nil {
			return Result{}, err
		}
		return Result{Ticket: n, UUID: tk.UUID, MessageID: id, Duplicate: true}, nil
	}
	at := in.At.UTC()
	if in.At.IsZero() {
		at = t.now
	}
	contact, err := t.resolveContact(in.From.Name, phone, email)
	if err != nil {
		return Result{}, err
	}
	tk, err := t.threadTarget(in, contact.ID)
	if err != nil {
		return Result{}, err
	}
	created := tk == nil
	if created && in.Automatic {
		return Result{}, ErrNoThread
	}
	var old *Ticket
	if created {
		tk, err = t.newTicket(in, contact.ID)
		if err != nil {
			return Result{}, err
		}
	} else {
		old = clone(tk)
		if !in.Automatic && (tk.Status == StatusPending || tk.Status == StatusResolved || tk.Status == StatusArchived) {
			before := tk.Status
			if err := tk.move(StatusOpen, t.now); err != nil {
				return Result{}, err
			}
			if err := t.event(tk.Number, "status", string(before), string(StatusOpen), "the customer wrote again"); err != nil {
				return Result{}, err
			}
			t.fire(EventStatusChanged, tk.Number)
		}
	}

	author := contact.Name
	if author == "" {
		author = firstNonEmpty(phone, email, string(in.Channel))
	}
	id, err := t.tx.Bucket(bThread).NextSequence()
	if err != nil {
		return Result{}, err
	}
	m := &Message{
		ID: id, Ticket: tk.Number, Direction: Incoming, Channel: in.Channel,
		Author: author, Subject: in.Subject, Body: in.Body, Transcript: in.Transcript,
		Attachments: atts, SourceKey: in.SourceKey, Flags: in.Flags, Meta: in.Meta, At: at,
	}
	if !t.d.clockSynced() {
		if err := t.stampUnsynced(m); err != nil {
			return Result{}, err
		}
	}
	if err := t.putMessage(m); err != nil {
		return Result{}, err
	}
	if err := t.tx.Bucket(bLookup).Put(srcKey, key(u64(tk.Number), u64(id))); err != nil {
		return Result{}, err
	}
	if err := t.indexWords(tk.Number, in.Subject, in.Body, in.Transcript); err != nil {
		return Result{}, err
	}
	tk.Messages++
	tk.UpdatedAt = t.now
	tk.LastInboundAt = at

	var priority string
	if !created {
		priority = string(tk.Priority)
	}
	dec := t.d.opts.Triager.Triage(triage.Input{
		Channel: string(in.Channel), Subject: in.Subject, Body: in.Body, Transcript: in.Transcript,
		Name: contact.Name, Phone: phone, Email: email, ReceivedAt: at, NewTicket: created,
		Recent: contact.Recent, ContactOwner: contact.Owner, Priority: priority,
		OpenByStaff: openCounts(t.tx), LastAssigned: lastAssigned(t.tx), Matches: matches,
	})
	if err := t.applyDecision(tk, dec); err != nil {
		return Result{}, err
	}
	if !in.Automatic {
		if err := t.noteRequest(&contact, at); err != nil {
			return Result{}, err
		}
	}
	if created {
		if err := t.indexWords(tk.Number, tk.Subject, contact.Name, phone, email); err != nil {
			return Result{}, err
		}
		if err := t.event(tk.Number, "created", "", string(tk.Status), "request arrived by "+string(in.Channel)); err != nil {
			return Result{}, err
		}
	} else if err := t.event(tk.Number, "message", "", fmt.Sprintf("message %d", id), "request arrived by "+string(in.Channel)); err != nil {
		return Result{}, err
	}
	if err := t.save(old, tk); err != nil {
		return Result{}, err
	}
	if created {
		t.change(TicketCreated, tk, m)
		t.fire(EventCreated, tk.Number)
	} else {
		t.change(MessageAdded, tk, m)
		t.fire(EventMessage, tk.Number)
	}
	return Result{Ticket: tk.Number, UUID: tk.UUID, MessageID: id, Created: created}, nil
}

// threadTarget returns the ticket an inbound request joins, or nil when it
// opens a new one.
func (t *txn) threadTarget(in *Inbound, contactID uint64) (*Ticket, error) {
	if in.NewTicket {
		return nil, nil
	}
	if in.TicketNumber != 0 {
		tk, err := loadTicket(t.tx, in.TicketNumber)
		if err == nil && !tk.Deleted && tk.MergedInto != 0 {
			tk, err = loadTicket(t.tx, tk.MergedInto)
		}
		if err == nil && !tk.Deleted && tk.Status != StatusClosed && tk.Status != StatusSpam {
			return tk, nil
		}
	}
	if contactID == 0 {
		return nil, nil
	}
	// Walk the contact's tickets from the most recently changed back to
	// the edge of the window; the first one still being worked (or just
	// resolved) takes the request. A ticket merged away leads to the one
	// it was merged into.
	c := t.tx.Bucket(bIndex).Cursor()
	prefix := ix(ixContact, u64(contactID))
	for k := lastWithPrefix(c, prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Prev() {
		tk, err := loadTicket(t.tx, beU64(k[len(k)-8:]))
		if err != nil {
			return nil, err
		}
		if t.now.Sub(tk.UpdatedAt) > t.d.opts.ThreadWindow {
			return nil, nil
		}
		if tk.MergedInto != 0 {
			if tk, err = loadTicket(t.tx, tk.MergedInto); err != nil {
				return nil, err
			}
			if tk.Deleted || tk.MergedInto != 0 {
				continue
			}
		}
		if tk.Status.Active() || tk.Status == StatusResolved {
			return tk, nil
		}
	}
	return nil, nil
}

func (t *txn) newTicket(in *Inbound, contactID uint64) (*Ticket, error) {
	seq, err := t.tx.Bucket(bTickets).NextSequence()
	if err != nil {
		return nil, err
	}
	tk := &Ticket{
		Number:    seq + FirstNumber - 1,
		UUID:      uuid.NewString(),
		Subject:   subjectOf(in),
		Status:    StatusNew,
		Priority:  PriorityNormal,
		Channel:   in.Channel,
		ContactID: contactID,
		CreatedAt: t.now,
		UpdatedAt: t.now,
	}
	if err := t.tx.Bucket(bLookup).Put(lookupKey(lkUUID, tk.UUID), u64(tk.Number)); err != nil {
		return nil, err
	}
	return tk, nil
}

// subjectOf returns the subject a new ticket gets: the request's own, or
// the start of its first line, or what happened.
func subjectOf(in *Inbound) string {
	if s := strings.TrimSpace(in.Subject); s != "" {
		return s
	}
	text := strings.TrimSpace(in.Body)
	if text == "" {
		text = strings.TrimSpace(in.Transcript)
	}
	if line, _, _ := strings.Cut(text, "\n"); line != "" {
		return truncateRunes(strings.TrimSpace(line), 80)
	}
	who := firstNonEmpty(in.From.Name, in.From.Phone, in.From.Email, "unknown caller")
	switch in.Channel {
	case ChannelMissedCall:
		return "Missed call from " + who
	case ChannelVoicemail:
		return "Voicemail from " + who
	}
	return "Request from " + who
}

func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

// applyTriage applies a triage decision to tk and records why.
func (t *txn) applyTriage(tk *Ticket, dec triage.Decision) error {
	rule := Actor{Kind: ActorRule, Name: firstNonEmpty(dec.Rule, "triage")}
	why := dec.Why
	if dec.Priority != "" {
		p, err := ParsePriority(dec.Priority)
		if err != nil {
			return fmt.Errorf("triage rule %s: %w", dec.Rule, err)
		}
		if p != tk.Priority {
			if err := t.eventBy(rule, tk.Number, "priority", string(tk.Priority), string(p), why); err != nil {
				return err
			}
			tk.Priority = p
		} else if err := t.eventBy(rule, tk.Number, "triage", "", "priority "+string(p), why); err != nil {
			return err
		}
	}
	if dec.Category != "" && dec.Category != tk.Category {
		if err := t.eventBy(rule, tk.Number, "category", tk.Category, dec.Category, why); err != nil {
			return err
		}
		tk.Category = dec.Category
	}
	if dec.Team != "" && dec.Team != tk.Team {
		if err := t.eventBy(rule, tk.Number, "team", tk.Team, dec.Team, why); err != nil {
			return err
		}
		tk.Team = dec.Team
	}
	if dec.Assignee != "" && dec.Assignee != tk.Assignee {
		if err := t.eventBy(rule, tk.Number, "assign", tk.Assignee, dec.Assignee, why); err != nil {
			return err
		}
		tk.Assignee = dec.Assignee
	}
	for _, tag := range dec.Tags {
		tag, err := NormalizeTag(tag)
		if err != nil {
			return fmt.Errorf("triage rule %s: %w", dec.Rule, err)
		}
		if slices.Contains(tk.Tags, tag) {
			continue
		}
		if err := t.eventBy(rule, tk.Number, "tag", "", tag, why); err != nil {
			return err
		}
		tk.Tags = append(tk.Tags, tag)
	}
	return nil
}

// resolveContact finds the contact with this phone or email, or creates
// one, and records any new phone, email or name on it. It returns a zero
// contact when the request carries neither phone nor email.
func (t *txn) resolveContact(name, phone, email string) (Contact, error) {
	var c Contact
	if phone == "" && email == "" {
		c.Name = name
		return c, nil
	}
	var id uint64
	if phone != "" {
		if v := t.tx.Bucket(bLookup).Get(lookupKey(lkPhone, phone)); v != nil {
			id = beU64(v)
		}
	}
	if id == 0 && email != "" {
		if v := t.tx.Bucket(bLookup).Get(lookupKey(lkEmail, email)); v != nil {
			id = beU64(v)
		}
	}
	contacts := t.tx.Bucket(bContacts)
	changed := false
	if id != 0 {
		if _, err := getJSON(contacts, u64(id), &c); err != nil {
			return c, err
		}
	} else {
		seq, err := contacts.NextSequence()
		if err != nil {
			return c, err
		}
		c = Contact{ID: seq, CreatedAt: t.now}
		changed = true
	}
	if c.Name == "" && name != "" {
		c.Name, changed = name, true
	}
	if phone != "" && !slices.Contains(c.Phones, phone) {
		c.Phones = append(c.Phones, phone)
		changed = true
		if err := t.tx.Bucket(bLookup).Put(lookupKey(lkPhone, phone), u64(c.ID)); err != nil {
			return c, err
		}
	}
	if email != "" && !slices.Contains(c.Emails, email) {
		c.Emails = append(c.Emails, email)
		changed = true
		if err := t.tx.Bucket(bLookup).Put(lookupKey(lkEmail, email), u64(c.ID)); err != nil {
			return c, err
		}
	}
	if changed {
		if err := putJSON(contacts, u64(c.ID), &c); err != nil {
			return c, err
		}
	}
	return c, nil
}

// noteRequest records the time of a request on its contact, for the
// repeat-contact rule.
func (t *txn) noteRequest(c *Contact, at time.Time) error {
	if c.ID == 0 {
		return nil
	}
	c.Recent = append([]time.Time{at}, c.Recent...)
	if len(c.Recent) > maxRecent {
		c.Recent = c.Recent[:maxRecent]
	}
	return putJSON(t.tx.Bucket(bContacts), u64(c.ID), c)
}

func (t *txn) putMessage(m *Message) error {
	// An attachment keeps the name and type it first arrived with; the
	// same bytes sent again under another name do not rename it.
	b := t.tx.Bucket(bAttachments)
	for _, a := range m.Attachments {
		if b.Get([]byte(a.ID)) != nil {
			continue
		}
		if err := putJSON(b, []byte(a.ID), &a); err != nil {
			return err
		}
	}
	return putJSON(t.tx.Bucket(bThread), threadKey(m.Ticket, recMessage, m.ID), m)
}
