package webhook

import "errors"

// Errors of Verify and ParseEvent. Receivers check them with errors.Is to
// choose their answer: 401 for a signature or timestamp that fails, 422
// for an event that breaks the contract.
var (
	// ErrNoSignature is a request without a signature or timestamp
	// header, or whose signature header holds no "v1=" entry.
	ErrNoSignature = errors.New("webhook: no signature")
	// ErrSignature is a signature that does not match the body: the
	// secret differs or the body was changed on the way.
	ErrSignature = errors.New("webhook: signature does not match")
	// ErrTimestamp is a timestamp that is not unix seconds or lies more
	// than Tolerance away from the receiver's clock (a replayed request,
	// or a clock that is wrong).
	ErrTimestamp = errors.New("webhook: timestamp outside the accepted window")
	// ErrInvalidEvent is a body that is not an event of this contract.
	ErrInvalidEvent = errors.New("webhook: invalid event")
)
