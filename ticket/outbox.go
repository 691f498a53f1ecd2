package ticket

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

// OutboxOptions bound the outbox.
type OutboxOptions struct {
	// MaxAttempts is how many failed deliveries park a row as dead.
	MaxAttempts int
	// Lease is how long a claimed row belongs to its consumer; a row whose
	// consumer died is claimed again after it.
	Lease       time.Duration
	BackoffBase time.Duration
	BackoffMax  time.Duration
	// MaxPending is the most rows the outbox holds. A change that would
	// add more fails with ErrOutboxFull, so the peer keeps its request and
	// tries again later.
	MaxPending int
}

// Defaults for OutboxOptions.
const (
	DefaultMaxAttempts = 12
	DefaultLease       = 2 * time.Minute
	DefaultBackoffBase = 10 * time.Second
	DefaultBackoffMax  = time.Hour
	DefaultMaxPending  = 100000
)

func (o OutboxOptions) withDefaults() OutboxOptions {
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = DefaultMaxAttempts
	}
	if o.Lease <= 0 {
		o.Lease = DefaultLease
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = DefaultBackoffBase
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = max(DefaultBackoffMax, o.BackoffBase)
	}
	if o.MaxPending <= 0 {
		o.MaxPending = DefaultMaxPending
	}
	return o
}

// Effect is something a change causes outside the box: an SMS to send, a
// copy for a cloud helpdesk. It becomes an outbox row in the transaction of
// the change.
type Effect struct {
	// Kind names the consumer, such as "deliver.sms" or "sync.zendesk".
	Kind string
	// Key is the idempotency key: the same key is queued once, and a
	// consumer passes it to its peer so that a second delivery of the
	// row makes no second remote effect.
	Key string
	// Payload is encoded as JSON into the row.
	Payload any
	// NotBefore delays the first attempt.
	NotBefore time.Time
}

// Planner turns a committed change into effects. Sync targets and
// notification rules are planners; each runs inside the transaction of the
// change, so a change and its effects commit together.
type Planner interface {
	Plan(c Change) []Effect
}

// PlannerFunc adapts a function to a Planner.
type PlannerFunc func(c Change) []Effect

// Plan calls f.
func (f PlannerFunc) Plan(c Change) []Effect { return f(c) }

// The states of an outbox row.
const (
	RowPending = "pending" // waiting for its next attempt, or leased
	RowDead    = "dead"    // parked after its last attempt; retried only by hand
)

// OutboxRow is one effect waiting to be delivered.
type OutboxRow struct {
	ID          uint64          `json:"id"`
	Kind        string          `json:"kind"`
	Ticket      uint64          `json:"ticket"`
	Key         string          `json:"key"`
	Payload     json.RawMessage `json:"payload"`
	State       string          `json:"state"`
	Attempts    int             `json:"attempts"`
	NextAttempt time.Time       `json:"next_attempt"`
	LastError   string          `json:"last_error,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	// Lease identifies the current claim; Ack and Fail must quote it.
	Lease      uint64    `json:"lease,omitempty"`
	LeaseUntil time.Time `json:"lease_until,omitzero"`
}

// PermanentError marks a delivery failure that retrying cannot fix (a 4xx
// answer, a rejected number). The outbox parks the row at once.
type PermanentError struct{ Err error }

func (e *PermanentError) Error() string { return "permanent: " + e.Err.Error() }

// Unwrap returns the underlying error.
func (e *PermanentError) Unwrap() error { return e.Err }

// Permanent wraps err as a PermanentError.
func Permanent(err error) error { return &PermanentError{Err: err} }

var keyLeaseSeq = []byte("lease_seq")

const maxLastError = 1024

// enqueue adds an effect of ticket n as an outbox row, unless its
// idempotency key was queued before.
func (t *txn) enqueue(n uint64, e Effect) error {
	if e.Kind == "" || e.Key == "" {
		return fmt.Errorf("outbox: effect for ticket #%d needs a kind and a key", n)
	}
	idem := t.tx.Bucket(bOutboxIdem)
	ik := []byte(e.Kind + "\x00" + e.Key)
	if idem.Get(ik) != nil {
		return nil
	}
	meta := t.tx.Bucket(bMeta)
	var count uint64
	if v := meta.Get(keyOutboxCount); len(v) == 8 {
		count = beU64(v)
	}
	if count >= uint64(t.d.opts.Outbox.MaxPending) {
		t.d.log.Error("outbox full: change refused", "kind", e.Kind, "ticket", n, "max_pending", t.d.opts.Outbox.MaxPending)
		return fmt.Errorf("%w: %d rows", ErrOutboxFull, count)
	}
	payload, err := json.Marshal(e.Payload)
	if err != nil {
		return fmt.Errorf("outbox: encode %s payload: %w", e.Kind, err)
	}
	b := t.tx.Bucket(bOutbox)
	id, err := b.NextSequence()
	if err != nil {
		return err
	}
	due := t.now
	if e.NotBefore.After(due) {
		due = e.NotBefore.UTC()
	}
	row := OutboxRow{
		ID: id, Kind: e.Kind, Ticket: n, Key: e.Key, Payload: payload,
		State: RowPending, NextAttempt: due, CreatedAt: t.now,
	}
	if err := putJSON(b, u64(id), &row); err != nil {
		return err
	}
	if err := t.tx.Bucket(bOutboxDue).Put(dueKey(&row), nil); err != nil {
		return err
	}
	if err := idem.Put(ik, u64(id)); err != nil {
		return err
	}
	t.queued = true
	return meta.Put(keyOutboxCount, u64(count+1))
}

// Enqueue queues an effect that belongs to no ticket, such as the staff's
// daily digest. Its key makes it idempotent: an effect whose key was
// queued before is not queued again.
func (d *Desk) Enqueue(e Effect) error {
	return d.update(System, func(t *txn) error { return t.enqueue(0, e) })
}

// dueKey orders the claimable rows of a kind by the time they are due. A
// leased row is due again when its lease ends.
func dueKey(r *OutboxRow) []byte {
	at := r.NextAttempt
	if r.LeaseUntil.After(at) {
		at = r.LeaseUntil
	}
	return key(strPrefix(r.Kind), timeKey(at), u64(r.ID))
}

// Claim leases up to max due rows of kind, oldest due first. Each must be
// answered with Ack or Fail before its lease ends, or it is claimed again.
func (d *Desk) Claim(kind string, max int) ([]OutboxRow, error) {
	var rows []OutboxRow
	err := d.db.Update(func(tx *bolt.Tx) error {
		rows = rows[:0]
		now := d.opts.Now().UTC()
		due := tx.Bucket(bOutboxDue)
		c := due.Cursor()
		prefix := strPrefix(kind)
		limit := key(prefix, timeKey(now), u64(^uint64(0)))
		var keys [][]byte
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix) && string(k) <= string(limit) && len(keys) < max; k, _ = c.Next() {
			keys = append(keys, append([]byte(nil), k...))
		}
		meta := tx.Bucket(bMeta)
		for _, k := range keys {
			var r OutboxRow
			id := beU64(k[len(k)-8:])
			ok, err := getJSON(tx.Bucket(bOutbox), u64(id), &r)
			if err != nil {
				return err
			}
			if !ok {
				if err := due.Delete(k); err != nil {
					return err
				}
				continue
			}
			lease := uint64(1)
			if v := meta.Get(keyLeaseSeq); len(v) == 8 {
				lease = beU64(v) + 1
			}
			if err := meta.Put(keyLeaseSeq, u64(lease)); err != nil {
				return err
			}
			if err := due.Delete(k); err != nil {
				return err
			}
			r.Lease, r.LeaseUntil = lease, now.Add(d.opts.Outbox.Lease)
			if err := due.Put(dueKey(&r), nil); err != nil {
				return err
			}
			if err := putJSON(tx.Bucket(bOutbox), u64(id), &r); err != nil {
				return err
			}
			rows = append(rows, r)
		}
		return nil
	})
	return rows, err
}

// releaseLeases makes the rows leased by an earlier process due now. Only
// one process opens the store, so no lease survives it: without this, the
// rows a killed process had claimed would wait for their leases to run
// out. A leased row is due at its lease's end, in the future, so only the
// due entries after now are read.
func (d *Desk) releaseLeases() error {
	return d.db.Update(func(tx *bolt.Tx) error {
		now := d.opts.Now().UTC()
		due := tx.Bucket(bOutboxDue)
		var stale []OutboxRow
		c := due.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			// kind, 0, time, id: the time is the 16 bytes before the end.
			if len(k) < 16 || int64(beU64(k[len(k)-16:len(k)-8])) <= now.UnixNano() {
				continue
			}
			var r OutboxRow
			ok, err := getJSON(tx.Bucket(bOutbox), k[len(k)-8:], &r)
			if err != nil {
				return err
			}
			if ok && r.Lease != 0 {
				stale = append(stale, r)
			}
		}
		for _, r := range stale {
			if err := due.Delete(dueKey(&r)); err != nil {
				return err
			}
			r.Lease, r.LeaseUntil = 0, time.Time{}
			if err := due.Put(dueKey(&r), nil); err != nil {
				return err
			}
			if err := putJSON(tx.Bucket(bOutbox), u64(r.ID), &r); err != nil {
				return err
			}
		}
		if len(stale) > 0 {
			d.log.Info("outbox rows claimed before a restart are due again", "rows", len(stale))
		}
		return nil
	})
}

// leased loads row id and checks that lease is still its claim.
func leased(tx *bolt.Tx, id, lease uint64) (*OutboxRow, error) {
	var r OutboxRow
	ok, err := getJSON(tx.Bucket(bOutbox), u64(id), &r)
	if err != nil {
		return nil, err
	}
	if !ok || r.State != RowPending {
		return nil, fmt.Errorf("outbox row %d: %w", id, ErrLeaseLost)
	}
	if r.Lease != lease {
		return nil, fmt.Errorf("outbox row %d: %w", id, ErrLeaseLost)
	}
	return &r, nil
}

// Ack removes a delivered row. Its idempotency key stays, so the same
// effect is never queued again.
func (d *Desk) Ack(id, lease uint64) error {
	return d.db.Update(func(tx *bolt.Tx) error {
		r, err := leased(tx, id, lease)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bOutboxDue).Delete(dueKey(r)); err != nil {
			return err
		}
		if err := tx.Bucket(bOutbox).Delete(u64(id)); err != nil {
			return err
		}
		return decCount(tx)
	})
}

func decCount(tx *bolt.Tx) error {
	meta := tx.Bucket(bMeta)
	var count uint64
	if v := meta.Get(keyOutboxCount); len(v) == 8 {
		count = beU64(v)
	}
	if count > 0 {
		count--
	}
	return meta.Put(keyOutboxCount, u64(count))
}

// Fail records a failed delivery. The row is tried again after an
// exponential backoff with jitter, or parked as dead when cause is a
// PermanentError or the row has used its attempts. Parking is audited on
// the row's ticket.
func (d *Desk) Fail(id, lease uint64, cause error) error {
	msg := cause.Error()
	if len(msg) > maxLastError {
		msg = msg[:maxLastError]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
	}
	var perm *PermanentError
	permanent := errors.As(cause, &perm)
	return d.update(System, func(t *txn) error {
		r, err := leased(t.tx, id, lease)
		if err != nil {
			return err
		}
		if err := t.tx.Bucket(bOutboxDue).Delete(dueKey(r)); err != nil {
			return err
		}
		r.Attempts++
		r.LastError = msg
		r.Lease, r.LeaseUntil = 0, time.Time{}
		if permanent || r.Attempts >= d.opts.Outbox.MaxAttempts {
			r.State = RowDead
			if err := t.tx.Bucket(bOutboxDead).Put(u64(id), nil); err != nil {
				return err
			}
			why := fmt.Sprintf("gave up after %d attempts: %s", r.Attempts, msg)
			if permanent {
				why = "permanent failure: " + msg
			}
			d.log.Error("outbox row parked", "id", id, "kind", r.Kind, "ticket", r.Ticket, "attempts", r.Attempts, "err", msg)
			if r.Ticket != 0 {
				if err := t.event(r.Ticket, "outbox", r.Kind, RowDead, why); err != nil {
					return err
				}
			}
		} else {
			r.NextAttempt = t.now.Add(d.backoff(r.Attempts))
			if err := t.tx.Bucket(bOutboxDue).Put(dueKey(r), nil); err != nil {
				return err
			}
		}
		return putJSON(t.tx.Bucket(bOutbox), u64(id), r)
	})
}

// Release gives a claimed row back, due again at at, without counting an
// attempt: its consumer could not try it (the peer is offline or asked to
// wait), so the row must neither use up its attempts nor be parked.
func (d *Desk) Release(id, lease uint64, at time.Time) error {
	err := d.db.Update(func(tx *bolt.Tx) error {
		r, err := leased(tx, id, lease)
		if err != nil {
			return err
		}
		if err := tx.Bucket(bOutboxDue).Delete(dueKey(r)); err != nil {
			return err
		}
		r.NextAttempt = at.UTC()
		r.Lease, r.LeaseUntil = 0, time.Time{}
		if err := tx.Bucket(bOutboxDue).Put(dueKey(r), nil); err != nil {
			return err
		}
		return putJSON(tx.Bucket(bOutbox), u64(id), r)
	})
	if err == nil {
		d.wakeConsumers()
	}
	return err
}

// Pending counts the rows of kind waiting for delivery, parked ones left
// out.
func (d *Desk) Pending(kind string) (int, error) {
	n := 0
	err := d.db.View(func(tx *bolt.Tx) error {
		prefix := strPrefix(kind)
		c := tx.Bucket(bOutboxDue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			n++
		}
		return nil
	})
	return n, err
}

// WaitDue blocks until a row of kind may be due: a commit queued rows, the
// soonest row's time came, or maxIdleWait passed. It returns ctx's error
// when ctx ends first.
func (d *Desk) WaitDue(ctx context.Context, kind string) error {
	wake := d.wakeChan()
	timer := time.NewTimer(d.nextDue(kind))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-timer.C:
	}
	return nil
}

// backoff returns the wait before attempt n+1: base doubling per attempt up
// to the cap, with the upper half jittered so that many rows failing
// together do not retry together.
func (d *Desk) backoff(n int) time.Duration {
	o := d.opts.Outbox
	wait := o.BackoffBase
	for i := 1; i < n && wait < o.BackoffMax; i++ {
		wait *= 2
	}
	wait = min(wait, o.BackoffMax)
	half := wait / 2
	return half + rand.N(half+1)
}

// Retry puts a dead row back in the queue, due now, with its attempts
// counted from zero. The retry is audited on the row's ticket.
func (d *Desk) Retry(actor Actor, id uint64) error {
	return d.update(actor, func(t *txn) error {
		var r OutboxRow
		ok, err := getJSON(t.tx.Bucket(bOutbox), u64(id), &r)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("outbox row %d: %w", id, ErrNotFound)
		}
		if r.State != RowDead {
			return invalid("id", "outbox row %d is not parked", id)
		}
		r.State, r.Attempts, r.NextAttempt = RowPending, 0, t.now
		if err := t.tx.Bucket(bOutboxDead).Delete(u64(id)); err != nil {
			return err
		}
		if err := t.tx.Bucket(bOutboxDue).Put(dueKey(&r), nil); err != nil {
			return err
		}
		if r.Ticket != 0 {
			if err := t.event(r.Ticket, "outbox", RowDead, RowPending, "retried by hand: "+r.Kind); err != nil {
				return err
			}
		}
		t.queued = true
		return putJSON(t.tx.Bucket(bOutbox), u64(id), &r)
	})
}

// OutboxStats counts the rows of the outbox.
type OutboxStats struct {
	Pending int `json:"pending"`
	Dead    int `json:"dead"`
	Max     int `json:"max"`
}

// OutboxStats returns how many rows wait and how many are parked.
func (d *Desk) OutboxStats() (OutboxStats, error) {
	s := OutboxStats{Max: d.opts.Outbox.MaxPending}
	err := d.db.View(func(tx *bolt.Tx) error {
		var total int
		if v := tx.Bucket(bMeta).Get(keyOutboxCount); len(v) == 8 {
			total = int(beU64(v))
		}
		c := tx.Bucket(bOutboxDead).Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			s.Dead++
		}
		s.Pending = total - s.Dead
		return nil
	})
	return s, err
}

// Outbox lists up to limit rows in state (RowPending or RowDead), oldest
// first.
func (d *Desk) Outbox(state string, limit int) ([]OutboxRow, error) {
	if limit <= 0 || limit > MaxPageSize {
		limit = MaxPageSize
	}
	var rows []OutboxRow
	err := d.db.View(func(tx *bolt.Tx) error {
		src := tx.Bucket(bOutbox)
		if state == RowDead {
			src = tx.Bucket(bOutboxDead)
		}
		c := src.Cursor()
		for k, _ := c.First(); k != nil && len(rows) < limit; k, _ = c.Next() {
			var r OutboxRow
			if _, err := getJSON(tx.Bucket(bOutbox), k, &r); err != nil {
				return err
			}
			if r.State == state {
				rows = append(rows, r)
			}
		}
		return nil
	})
	return rows, err
}

// Handler delivers one outbox row. It returns nil when the effect took
// place (or had already taken place: the row's Key tells), a
// PermanentError when retrying cannot help, or another error to retry.
type Handler func(ctx context.Context, r OutboxRow) error

// consumeBatch is how many rows a consumer claims at a time.
const consumeBatch = 16

// Consume delivers the rows of kind with h until ctx ends. Retries, backoff
// and parking live here, once, for every consumer; h only delivers.
func (d *Desk) Consume(ctx context.Context, kind string, h Handler) error {
	failing := false
	for {
		wake := d.wakeChan()
		rows, err := d.Claim(kind, consumeBatch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("outbox %s: claim: %w", kind, err)
		}
		for _, r := range rows {
			err := h(ctx, r)
			if err != nil && ctx.Err() != nil {
				return nil // the lease runs out and the row is claimed again
			}
			if err == nil {
				if err := d.Ack(r.ID, r.Lease); err != nil && !errors.Is(err, ErrLeaseLost) {
					return fmt.Errorf("outbox %s: ack %d: %w", kind, r.ID, err)
				}
				if failing {
					d.log.Info("outbox delivering again", "kind", kind)
					failing = false
				}
				continue
			}
			if !failing {
				d.log.Warn("outbox delivery failed", "kind", kind, "id", r.ID, "ticket", r.Ticket, "attempt", r.Attempts+1, "err", err)
				failing = true
			}
			if err := d.Fail(r.ID, r.Lease, err); err != nil && !errors.Is(err, ErrLeaseLost) {
				return fmt.Errorf("outbox %s: fail %d: %w", kind, r.ID, err)
			}
		}
		if len(rows) == consumeBatch {
			continue
		}
		wait := d.nextDue(kind)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-wake:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// maxIdleWait bounds how long an idle consumer sleeps before it looks again.
const maxIdleWait = 30 * time.Second

// nextDue returns how long until the next row of kind is due, at most
// maxIdleWait.
func (d *Desk) nextDue(kind string) time.Duration {
	wait := maxIdleWait
	_ = d.db.View(func(tx *bolt.Tx) error {
		prefix := strPrefix(kind)
		k, _ := tx.Bucket(bOutboxDue).Cursor().Seek(prefix)
		if k != nil && hasPrefix(k, prefix) {
			at := time.Unix(0, int64(beU64(k[len(prefix):])))
			wait = min(wait, max(at.Sub(d.opts.Now()), time.Millisecond))
		}
		return nil
	})
	return wait
}

// wakeChan returns a channel closed at the next commit that adds outbox rows.
func (d *Desk) wakeChan() <-chan struct{} {
	d.wakeMu.Lock()
	defer d.wakeMu.Unlock()
	return d.wake
}

func (d *Desk) wakeConsumers() {
	d.wakeMu.Lock()
	defer d.wakeMu.Unlock()
	close(d.wake)
	d.wake = make(chan struct{})
}
