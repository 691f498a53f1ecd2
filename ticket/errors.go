package ticket

import (
	"errors"
	"fmt"
)

// Errors returned by the Desk. Callers test for them with errors.Is.
var (
	// ErrNotFound means the ticket, message, attachment or outbox row does not exist.
	ErrNotFound = errors.New("not found")
	// ErrInvalid means the input was rejected; nothing was written. The
	// wrapping error says which field and why.
	ErrInvalid = errors.New("invalid input")
	// ErrUnknownChannel means a channel name is not one of Channels.
	ErrUnknownChannel = errors.New("unknown channel")
	// ErrUnknownPriority means a priority name is not one of Priorities.
	ErrUnknownPriority = errors.New("unknown priority")
	// ErrUnknownStatus means a status name is not one of Statuses.
	ErrUnknownStatus = errors.New("unknown status")
	// ErrTooLarge means a body or an attachment is over its configured limit.
	ErrTooLarge = errors.New("too large")
	// ErrDiskFull means an attachment was refused to keep room on the disk
	// for the database (Limits.MinFreeBytes).
	ErrDiskFull = errors.New("the disk is nearly full")
	// ErrDeleted means the ticket was deleted and can no longer change.
	ErrDeleted = errors.New("ticket deleted")
	// ErrMerged means the ticket was merged into another and can no longer
	// change; the error names the ticket to use.
	ErrMerged = errors.New("ticket merged")
	// ErrLeaseLost means an outbox row was reclaimed by another consumer
	// after its lease ran out; the late ack or fail was ignored.
	ErrLeaseLost = errors.New("outbox lease lost")
	// ErrOutboxFull means the outbox holds its configured maximum of rows.
	ErrOutboxFull = errors.New("outbox full")
	// ErrClosed means the store was closed.
	ErrClosed = errors.New("store closed")
	// ErrNoThread means an automatic request (Inbound.Automatic) found no
	// ticket to join; nothing was stored.
	ErrNoThread = errors.New("no ticket to join")
)

// TransitionError is returned when a status change is not allowed by the
// state machine.
type TransitionError struct {
	From, To Status
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("status cannot go from %s to %s", e.From, e.To)
}

// FieldError says which field of an input was rejected. It wraps ErrInvalid
// (or ErrTooLarge for size limits).
type FieldError struct {
	Field string
	Msg   string
	Err   error
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// Unwrap returns ErrInvalid or ErrTooLarge.
func (e *FieldError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrInvalid}
}

func tooLarge(field, format string, args ...any) error {
	return &FieldError{Field: field, Msg: fmt.Sprintf(format, args...), Err: ErrTooLarge}
}
