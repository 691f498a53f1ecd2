package ticket

import (
	stdsync "sync"
	"time"
)

// ChangeKind says what a committed change did.
type ChangeKind string

// The kinds of change.
const (
	TicketCreated ChangeKind = "ticket.created"
	TicketUpdated ChangeKind = "ticket.updated"
	MessageAdded  ChangeKind = "message.added"
	TicketDeleted ChangeKind = "ticket.deleted"
	TicketMerged  ChangeKind = "ticket.merged"
)

// Change is one committed change to a ticket, as planners see it inside the
// transaction and feed subscribers see it after the commit.
type Change struct {
	Kind    ChangeKind `json:"kind"`
	Ticket  Ticket     `json:"ticket"`            // the ticket after the change
	Message *Message   `json:"message,omitempty"` // the message, for message.added
	Actor   Actor      `json:"actor"`
	At      time.Time  `json:"at"`
}

// Subscription receives committed changes. When the subscriber falls more
// than the feed buffer behind, it is dropped: C is closed and Dropped
// reports true. The writer never waits for a subscriber.
type Subscription struct {
	C <-chan Change

	c       chan Change
	f       *feed
	mu      stdsync.Mutex
	dropped bool
	closed  bool
}

// Dropped reports whether the subscription ended because the subscriber was
// too slow (as opposed to being closed).
func (s *Subscription) Dropped() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// Close ends the subscription.
func (s *Subscription) Close() {
	s.f.remove(s, false)
}

type feed struct {
	buf  int
	mu   stdsync.Mutex
	subs map[*Subscription]struct{}
	done bool
}

func newFeed(buf int) *feed {
	return &feed{buf: buf, subs: make(map[*Subscription]struct{})}
}

// Subscribe returns a subscription to every change committed from now on.
func (d *Desk) Subscribe() *Subscription {
	f := d.feed
	c := make(chan Change, f.buf)
	s := &Subscription{C: c, c: c, f: f}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.done {
		s.closed = true
		close(c)
		return s
	}
	f.subs[s] = struct{}{}
	return s
}

func (f *feed) publish(c Change) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		select {
		case s.c <- c:
		default:
			f.removeLocked(s, true)
		}
	}
}

func (f *feed) remove(s *Subscription, dropped bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.removeLocked(s, dropped)
}

func (f *feed) removeLocked(s *Subscription, dropped bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.closed = true
	s.dropped = dropped
	delete(f.subs, s)
	close(s.c)
}

func (f *feed) close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.done = true
	for s := range f.subs {
		f.removeLocked(s, false)
	}
}

// Subscribers returns the number of live subscriptions.
func (d *Desk) Subscribers() int {
	d.feed.mu.Lock()
	defer d.feed.mu.Unlock()
	return len(d.feed.subs)
}
