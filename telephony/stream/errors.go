package stream

import "errors"

// Errors returned by this package. Callers test for them with errors.Is; the
// wrapping error says which operation failed.
var (
	// ErrClosed means the session was closed, by Close or because the
	// context given to Start ended.
	ErrClosed = errors.New("session closed")
	// ErrPortsExhausted means ListenRange found no free even port in its
	// range.
	ErrPortsExhausted = errors.New("no free RTP port")
	// ErrConfig means Start was given a Config it cannot work with: no
	// socket, or an audio payload type other than PCMU (0) or PCMA (8).
	ErrConfig = errors.New("bad configuration")
	// ErrShortEvent means a telephone-event payload is shorter than the
	// four bytes of RFC 4733 section 2.3.
	ErrShortEvent = errors.New("telephone-event payload shorter than 4 bytes")
)
