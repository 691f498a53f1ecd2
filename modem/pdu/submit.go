package pdu

import (
	"fmt"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// SubmitOptions are the settings of the SMS-SUBMIT PDUs that EncodeSubmit
// builds (3GPP TS 23.040 clause 9.2.2.2).
type SubmitOptions struct {
	// SMSC is the service centre address, or "" to let the modem use the one
	// on the SIM (the PDU then starts with 00, 3GPP TS 27.005 clause 3.1).
	SMSC string
	// Reference is the TP-MR of every part. Most modems replace it with their
	// own and report that in +CMGS.
	Reference byte
	// ConcatRef is the reference of a concatenated message. An 8-bit
	// reference element (IEI 0x00) is used when it is below 256 and
	// Use16BitRef is false, a 16-bit one (IEI 0x08) otherwise.
	ConcatRef   uint16
	Use16BitRef bool
	// StatusReport sets TP-SRR to ask for an SMS-STATUS-REPORT.
	StatusReport bool
	// RejectDuplicates sets TP-RD (clause 9.2.3.25).
	RejectDuplicates bool
	// Validity is a relative TP-VP, rounded up to the next period that
	// clause 9.2.3.12.1 can express; 0 means no TP-VP.
	Validity time.Duration
	// ValidUntil is an absolute TP-VP (clause 9.2.3.12.2) in its own zone;
	// the zero time means none. It cannot be combined with Validity.
	ValidUntil time.Time
	// Class is the message class 0 to 3 (0 shows the message at once, a
	// "flash" SMS), or -1 for none.
	Class int
	// NumberType is the type-of-address octet for numbers that do not start
	// with "+", for the destination and the SMSC; 0 means TypeUnknown.
	NumberType byte
}

// partCapacity returns how many septets (GSM7) or UTF-16 units (UCS2) a
// part holds: the whole 140 octets when single, less the room of the
// concatenation header otherwise (6 octets with an 8-bit reference, 7 with a
// 16-bit one; 3GPP TS 23.040 clause 9.2.3.24.1).
func partCapacity(enc Encoding, single, wide bool) int {
	header := 0
	if !single {
		header = 6
		if wide {
			header = 7
		}
	}
	if enc == GSM7 {
		return (maxUserData - header) * 8 / 7
	}
	return (maxUserData - header) / 2
}

// chooseEncoding returns GSM7 when every character of text is in the GSM
// 7-bit default alphabet or its extension table, UCS2 otherwise.
func chooseEncoding(text string) Encoding {
	for _, r := range text {
		if gsm7Len(r) == 0 {
			return UCS2
		}
	}
	return GSM7
}

// split cuts text into the units of enc (septets, or big-endian UTF-16
// octets) for each part, never between an escape and its character nor
// between the halves of a surrogate pair.
func split(text string, enc Encoding, wide bool) [][]byte {
	var units [][]byte // one entry per character
	total := 0
	for _, r := range text {
		var u []byte
		if enc == GSM7 {
			s, n := gsm7Septets(r)
			u = s[:n]
			total += n
		} else {
			if r1, r2 := utf16.EncodeRune(r); r1 != utf8.RuneError {
				u = []byte{byte(r1 >> 8), byte(r1), byte(r2 >> 8), byte(r2)}
			} else {
				u = []byte{byte(r >> 8), byte(r)}
			}
			total += len(u) / 2
		}
		units = append(units, u)
	}
	size := func(u []byte) int {
		if enc == GSM7 {
			return len(u)
		}
		return len(u) / 2
	}
	if total <= partCapacity(enc, true, wide) {
		var whole []byte
		for _, u := range units {
			whole = append(whole, u...)
		}
		return [][]byte{whole}
	}
	capacity := partCapacity(enc, false, wide)
	var parts [][]byte
	var cur []byte
	used := 0
	for _, u := range units {
		if used+size(u) > capacity {
			parts = append(parts, cur)
			cur, used = nil, 0
		}
		cur = append(cur, u...)
		used += size(u)
	}
	return append(parts, cur)
}

// Segments returns how many SMS-SUBMIT parts EncodeSubmit needs for text
// with an 8-bit concatenation reference, and the alphabet it uses: GSM7
// with 160 septets in one part or 153 a part (an extension character costs
// two), UCS2 with 70 UTF-16 units in one part or 67 a part.
func Segments(text string) (parts int, enc Encoding) {
	enc = chooseEncoding(text)
	return len(split(text, enc, false)), enc
}

// TPDULength returns the length that AT+CMGS and AT+CMGW expect for pdu:
// its octets without the SMSC address (3GPP TS 27.005 clause 3.5.1). It
// returns 0 when pdu is too short to hold the SMSC address it announces.
func TPDULength(pdu []byte) int {
	if len(pdu) == 0 || int(pdu[0])+1 > len(pdu) {
		return 0
	}
	return len(pdu) - 1 - int(pdu[0])
}

// maxParts is the most parts a concatenated message can have: the part
// count is one octet (3GPP TS 23.040 clause 9.2.3.24.1).
const maxParts = 255

// EncodeSubmit builds the SMS-SUBMIT PDUs (3GPP TS 23.040 clause 9.2.2.2)
// that send text to the number to, with the SMSC address in front as
// AT+CMGS takes it in PDU mode (3GPP TS 27.005 clause 3.5.1). It uses the
// GSM 7-bit alphabet when every character is in the default alphabet or the
// extension table, UCS-2 otherwise (3GPP TS 23.038 clause 4), and splits a
// long text into parts with a concatenation header (clause 9.2.3.24.1),
// never between an escape and its character nor inside a surrogate pair.
// The destination is international when it starts with "+".
func EncodeSubmit(to, text string, o SubmitOptions) ([][]byte, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("pdu: encode submit: %w", ErrBadText)
	}
	if o.Class > 3 || o.Class < -1 {
		return nil, fmt.Errorf("pdu: encode submit: message class %d is not -1 to 3", o.Class)
	}
	smsc, err := encodeSMSC(o.SMSC, numberType(o.SMSC, o.NumberType))
	if err != nil {
		return nil, fmt.Errorf("pdu: encode submit: smsc: %w", err)
	}
	da, err := encodeAddress(to, numberType(to, o.NumberType))
	if err != nil {
		return nil, fmt.Errorf("pdu: encode submit: destination: %w", err)
	}
	fo := byte(0x01) // TP-MTI SMS-SUBMIT
	var vp []byte
	switch {
	case o.Validity != 0 && !o.ValidUntil.IsZero():
		return nil, fmt.Errorf("pdu: encode submit: both a relative and an absolute validity period")
	case o.Validity < 0:
		return nil, fmt.Errorf("pdu: encode submit: negative validity period %v", o.Validity)
	case o.Validity > 0:
		fo |= byte(ValidityRelative) << 3
		vp = []byte{relativeOctet(o.Validity)}
	case !o.ValidUntil.IsZero():
		fo |= byte(ValidityAbsolute) << 3
		if vp, err = encodeTimestamp(o.ValidUntil); err != nil {
			return nil, fmt.Errorf("pdu: encode submit: validity: %w", err)
		}
	}
	if o.RejectDuplicates {
		fo |= 0x04
	}
	if o.StatusReport {
		fo |= 0x20
	}
	enc := chooseEncoding(text)
	wide := o.Use16BitRef || o.ConcatRef > 0xFF
	chunks := split(text, enc, wide)
	if len(chunks) > maxParts {
		return nil, fmt.Errorf("pdu: encode submit: text needs %d parts, at most %d: %w", len(chunks), maxParts, ErrBadLength)
	}
	pdus := make([][]byte, 0, len(chunks))
	for i, chunk := range chunks {
		var udh []byte
		partFO := fo
		if len(chunks) > 1 {
			ie := concatIE(o.ConcatRef, wide, byte(len(chunks)), byte(i+1))
			udh = append([]byte{byte(len(ie))}, ie...)
			partFO |= 0x40 // TP-UDHI
		}
		var udl int
		var ud []byte
		if enc == GSM7 {
			headerSeptets := (len(udh)*8 + 6) / 7
			udl = headerSeptets + len(chunk)
			ud = append(udh, Pack7(chunk, headerSeptets*7-len(udh)*8)...)
		} else {
			ud = append(udh, chunk...)
			udl = len(ud)
		}
		p := make([]byte, 0, len(smsc)+len(da)+len(vp)+len(ud)+5)
		p = append(p, smsc...)
		p = append(p, partFO, o.Reference)
		p = append(p, da...)
		p = append(p, 0x00, makeDCS(enc, o.Class)) // TP-PID, TP-DCS
		p = append(p, vp...)
		p = append(p, byte(udl))
		p = append(p, ud...)
		pdus = append(pdus, p)
	}
	return pdus, nil
}
