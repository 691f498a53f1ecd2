package modem

import (
	"errors"
	"fmt"
)

// Errors of the AT engine.
var (
	// ErrTimeout means a command got no final result in its time.
	ErrTimeout = errors.New("modem: no answer in time")
	// ErrError means the modem answered a plain ERROR (no code: verbose
	// errors are off or the command is unknown).
	ErrError = errors.New("modem: ERROR")
	// ErrClosed means the port closed or failed while a command waited.
	ErrClosed = errors.New("modem: port closed")
	// ErrLineTooLong means the modem sent a line longer than MaxLine; the
	// line is dropped up to its end.
	ErrLineTooLong = errors.New("modem: line too long")
	// ErrBadCommand means a command held a character that would end it
	// early (CR, LF, Ctrl-Z or ESC).
	ErrBadCommand = errors.New("modem: bad command")
)

// CMEError is a +CME ERROR result: an equipment or network error (3GPP TS
// 27.007 section 9.2), such as 10 "SIM not inserted" or 11 "SIM PIN
// required".
type CMEError struct {
	Code int    // -1 when the modem gave text only (AT+CMEE=2)
	Text string // the text the modem gave, if any
}

func (e *CMEError) Error() string { return resultError("+CME ERROR", e.Code, e.Text) }

// CMSError is a +CMS ERROR result: a message service error (3GPP TS
// 27.005 section 3.2.5), such as 321 "invalid memory index" or 500
// "unknown error".
type CMSError struct {
	Code int
	Text string
}

func (e *CMSError) Error() string { return resultError("+CMS ERROR", e.Code, e.Text) }

func resultError(kind string, code int, text string) string {
	switch {
	case code >= 0 && text != "":
		return fmt.Sprintf("modem: %s %d (%s)", kind, code, text)
	case code >= 0:
		return fmt.Sprintf("modem: %s %d", kind, code)
	}
	return fmt.Sprintf("modem: %s %s", kind, text)
}

// CallResult is a final result that ends a call attempt: NO CARRIER, BUSY,
// NO ANSWER or NO DIALTONE (ITU-T V.250 section 5.7.1).
type CallResult struct{ Result string }

func (e *CallResult) Error() string { return "modem: " + e.Result }
