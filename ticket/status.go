package ticket

import (
	"fmt"
	"slices"
	"time"
)

// Status is where a ticket stands in its life.
type Status string

// The statuses. A ticket starts new, is worked while open, waits on the
// customer while pending, is resolved when the shop has answered it, and is
// closed when nothing more will happen. Spam and archived take a ticket out
// of the working views.
const (
	StatusNew      Status = "new"
	StatusOpen     Status = "open"
	StatusPending  Status = "pending"
	StatusResolved Status = "resolved"
	StatusClosed   Status = "closed"
	StatusSpam     Status = "spam"
	StatusArchived Status = "archived"
)

// Statuses lists every status in the order of a ticket's life.
var Statuses = []Status{
	StatusNew, StatusOpen, StatusPending, StatusResolved,
	StatusClosed, StatusSpam, StatusArchived,
}

// The ways a closed ticket ended, kept in Ticket.ClosedAs. Notifications
// depend on the difference: closing without resolving tells no one.
const (
	ClosedResolved   = "resolved"
	ClosedUnresolved = "unresolved"
)

// transitions is the state machine: the statuses each status may move to.
var transitions = map[Status][]Status{
	StatusNew:      {StatusOpen, StatusPending, StatusResolved, StatusClosed, StatusSpam, StatusArchived},
	StatusOpen:     {StatusPending, StatusResolved, StatusClosed, StatusSpam, StatusArchived},
	StatusPending:  {StatusOpen, StatusResolved, StatusClosed, StatusSpam, StatusArchived},
	StatusResolved: {StatusOpen, StatusClosed, StatusArchived},
	StatusClosed:   {StatusArchived},
	StatusSpam:     {StatusOpen, StatusArchived},
	StatusArchived: {StatusOpen},
}

// ParseStatus returns the status named s.
func ParseStatus(s string) (Status, error) {
	st := Status(s)
	if _, ok := transitions[st]; !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownStatus, s)
	}
	return st, nil
}

// CanMove reports whether the state machine allows from -> to.
func CanMove(from, to Status) bool {
	return slices.Contains(transitions[from], to)
}

// Active reports whether the ticket is still being worked: new, open or pending.
func (s Status) Active() bool {
	return s == StatusNew || s == StatusOpen || s == StatusPending
}

// move applies a status change to t, keeping ClosedAs and ResolvedAt right.
// It returns a *TransitionError when the state machine forbids the change.
func (t *Ticket) move(to Status, now time.Time) error {
	if t.Status == to {
		return nil
	}
	if !CanMove(t.Status, to) {
		return &TransitionError{From: t.Status, To: to}
	}
	switch to {
	case StatusResolved:
		t.ResolvedAt = now
	case StatusClosed:
		if t.Status == StatusResolved {
			t.ClosedAs = ClosedResolved
		} else {
			t.ClosedAs = ClosedUnresolved
		}
	case StatusOpen, StatusNew, StatusPending:
		t.ClosedAs = ""
		t.ResolvedAt = time.Time{}
	}
	t.Status = to
	t.StatusSince = now
	return nil
}
