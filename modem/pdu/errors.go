package pdu

import (
	"errors"
	"fmt"
)

// Sentinel errors returned, wrapped, by the functions of this package. Test
// for them with errors.Is.
var (
	// ErrTruncated means the PDU ends before a field that 3GPP TS 23.040
	// clause 9.2.2 says must be present.
	ErrTruncated = errors.New("truncated")
	// ErrBadLength means a length field (TP-UDL, TP-UDHL, an information
	// element length) does not fit the octets that follow it, or exceeds the
	// 140-octet limit of 3GPP TS 23.040 clause 9.2.3.16.
	ErrBadLength = errors.New("bad length")
	// ErrUnsupported means the PDU is well formed but uses something this
	// package does not implement: the reserved TP-MTI value 3 or compressed
	// user data (3GPP TS 23.038 clause 4).
	ErrUnsupported = errors.New("unsupported")
	// ErrNotGSM7 means a text holds a character that is in neither the GSM
	// 7-bit default alphabet nor its extension table (3GPP TS 23.038 clause 6.2.1).
	ErrNotGSM7 = errors.New("not in the gsm 7-bit alphabet")
	// ErrBadHex means a hex PDU has an odd length or a character that is not
	// a hex digit (3GPP TS 27.005 clause 3.1 describes PDU mode as hex pairs).
	ErrBadHex = errors.New("bad hex")
	// ErrBadAddress means an address field breaks 3GPP TS 23.040 clause
	// 9.1.2.5: too long, a filler digit inside the number, or a type-of-address
	// octet whose bit 7 is not set. It is also returned for a destination
	// number that cannot be encoded.
	ErrBadAddress = errors.New("bad address")
	// ErrBadTimestamp means a TP-SCTS, TP-DT or absolute TP-VP field holds a
	// digit or a value out of range (3GPP TS 23.040 clause 9.2.3.11).
	ErrBadTimestamp = errors.New("bad timestamp")
	// ErrBadUCS2 means UCS-2 user data holds an unpaired UTF-16 surrogate.
	ErrBadUCS2 = errors.New("bad ucs-2 text")
	// ErrBadText means a text to encode is not valid UTF-8.
	ErrBadText = errors.New("text is not valid utf-8")
)

// DecodeError reports where decoding failed: the byte offset in the whole
// PDU (the SMSC address included) and the name of the field, as 3GPP TS
// 23.040 names it, that could not be read.
type DecodeError struct {
	Offset int
	Field  string
	Err    error
}

// Error returns the message, for example
// "pdu: byte 12: TP-UDL: user data length 160 septets needs 140 octets, 133 left: bad length".
func (e *DecodeError) Error() string {
	return fmt.Sprintf("pdu: byte %d: %s: %v", e.Offset, e.Field, e.Err)
}

// Unwrap returns the underlying error, which wraps one of the Err sentinels.
func (e *DecodeError) Unwrap() error { return e.Err }
