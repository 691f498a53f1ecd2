package media

import "errors"

// Errors returned by this package. Callers test for them with errors.Is; the
// wrapping error says which chunk or field and why.
var (
	// ErrTruncated means the input ended inside a header or a chunk.
	ErrTruncated = errors.New("truncated")
	// ErrMalformed means the input is not a well-formed RIFF/WAVE file: a
	// missing signature, a chunk that overruns its parent, a block
	// alignment that does not match the sample format.
	ErrMalformed = errors.New("malformed")
	// ErrUnsupported means the file is well formed but holds audio this
	// package does not convert (a compressed codec, too many channels, a
	// sampling rate out of range).
	ErrUnsupported = errors.New("unsupported format")
	// ErrTooLarge means a WAV file's data chunk is bigger than the limit
	// the caller passed to ReadWAV; nothing of that size was allocated.
	ErrTooLarge = errors.New("too large")
	// ErrTooLong means a WAVWriter reached its MaxBytes limit: the samples
	// that fitted were written, the rest and every later write were not.
	ErrTooLong = errors.New("recording limit reached")
	// ErrClosed means a WAVWriter was used after Close.
	ErrClosed = errors.New("writer closed")
)
