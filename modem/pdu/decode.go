package pdu

import (
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is the kind of TPDU, from the TP-MTI bits of the first octet (3GPP
// TS 23.040 clause 9.2.3.1) as a modem reports stored and received messages.
type Type byte

// The TPDU types this package decodes.
const (
	Deliver      Type = iota // SMS-DELIVER, TP-MTI 00: a received message
	Submit                   // SMS-SUBMIT, TP-MTI 01: a message to send or stored as sent
	StatusReport             // SMS-STATUS-REPORT, TP-MTI 10
)

// String returns the name 3GPP TS 23.040 gives the type.
func (t Type) String() string {
	switch t {
	case Deliver:
		return "SMS-DELIVER"
	case Submit:
		return "SMS-SUBMIT"
	case StatusReport:
		return "SMS-STATUS-REPORT"
	}
	return fmt.Sprintf("type(%d)", byte(t))
}

// Message is a decoded PDU as a modem hands it over in PDU mode (3GPP TS
// 27.005 clause 3.1): the service centre address and one TPDU (3GPP TS
// 23.040 clause 9.2.2).
type Message struct {
	Type       Type
	FirstOctet byte   // the TPDU's first octet, with TP-MTI, TP-UDHI, TP-SRR and friends
	SMSC       string // "+447785016005", or "" when the PDU carries none
	// Address is the originator of an SMS-DELIVER, the destination of an
	// SMS-SUBMIT, or the recipient of an SMS-STATUS-REPORT: "+" and digits
	// for an international number, the digits for any other number (with
	// "*", "#", "a", "b", "c" for the extended semi-octets of clause
	// 9.1.2.3), or the text of an alphanumeric sender.
	Address      string
	AddressType  byte      // the type-of-address octet (clause 9.1.2.5)
	Alphanumeric bool      // AddressType has type of number 101
	Timestamp    time.Time // TP-SCTS in its own zone (SMS-DELIVER, SMS-STATUS-REPORT)
	Discharge    time.Time // TP-DT in its own zone (SMS-STATUS-REPORT)
	Status       byte      // TP-ST (SMS-STATUS-REPORT)
	Reference    byte      // TP-MR (SMS-SUBMIT, SMS-STATUS-REPORT)
	PID, DCS     byte      // TP-PID and TP-DCS
	Encoding     Encoding  // alphabet from TP-DCS (3GPP TS 23.038 clause 4)
	Class        int       // message class 0 to 3, or -1 for none
	// Text is the decoded user text for GSM7 and UCS2, empty for Eightbit.
	Text string
	// Data is the user data after the header: the octets for Eightbit and
	// UCS2, the unpacked septets (one a byte) for GSM7. Joining the Data of
	// all parts of a concatenated message and decoding it with DecodeUCS2 or
	// DecodeGSM7 handles a surrogate pair or escape split between parts.
	Data           []byte
	UDH            []IE     // information elements of the user data header
	Concat         *Concat  // concatenation information, or nil
	Ports          *Ports   // application port addressing, or nil
	ValidityPeriod Validity // TP-VP (SMS-SUBMIT)
	// Shift names the national language tables that the header's elements
	// 0x25 and 0x24 select for GSM7 text (3GPP TS 23.038 clause 6.2.1.2.4),
	// as received; zero for the default alphabet and extension table, and
	// for UCS2 and Eightbit. Text is already decoded with them; pass it to
	// DecodeGSM7Shift with the joined Data of a concatenated message.
	Shift Shift
}

// DecodeHex decodes a PDU given as hex, as AT+CMGR, AT+CMGL and +CMT show it
// (3GPP TS 27.005 clause 3.1). Surrounding white space is ignored; an odd
// length or a character that is not a hex digit returns an error wrapping
// ErrBadHex.
func DecodeHex(s string) (*Message, error) {
	s = strings.TrimSpace(s)
	if len(s)%2 != 0 {
		return nil, &DecodeError{Offset: len(s) / 2, Field: "hex", Err: fmt.Errorf("odd number of hex digits (%d): %w", len(s), ErrBadHex)}
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		off := 0
		if ie, ok := err.(hex.InvalidByteError); ok {
			off = strings.IndexByte(s, byte(ie)) / 2
		}
		return nil, &DecodeError{Offset: off, Field: "hex", Err: fmt.Errorf("%v: %w", err, ErrBadHex)}
	}
	return Decode(b)
}

// Decode decodes a PDU that starts with the service centre address, as a
// modem in PDU mode hands it over (3GPP TS 27.005 clause 3.1), followed by an
// SMS-DELIVER, SMS-SUBMIT or SMS-STATUS-REPORT TPDU (3GPP TS 23.040 clauses
// 9.2.2.1, 9.2.2.2 and 9.2.2.3). Octets after the end of the user data are
// ignored, since SIM storage pads records. Every malformed input returns an
// error, a *DecodeError that names the field and its offset.
func Decode(pdu []byte) (*Message, error) {
	r := &reader{b: pdu}
	m := &Message{Class: -1}
	var err error
	if m.SMSC, _, err = r.readSMSC(); err != nil {
		return nil, err
	}
	fo, err := r.byte("first octet")
	if err != nil {
		return nil, err
	}
	m.FirstOctet = fo
	switch fo & 0x03 {
	case 0:
		m.Type = Deliver
		err = decodeDeliver(r, m)
	case 1:
		m.Type = Submit
		err = decodeSubmit(r, m)
	case 2:
		m.Type = StatusReport
		err = decodeStatusReport(r, m)
	default:
		r.off--
		return nil, r.fail("TP-MTI", fmt.Errorf("first octet %02X has the reserved message type 3: %w", fo, ErrUnsupported))
	}
	if err != nil {
		return nil, err
	}
	m.Alphanumeric = m.AddressType&tonMask == tonAlphanumeric
	return m, nil
}

// decodeDeliver reads an SMS-DELIVER after its first octet (3GPP TS 23.040
// clause 9.2.2.1).
func decodeDeliver(r *reader, m *Message) error {
	var err error
	if m.Address, m.AddressType, err = r.readAddress("TP-OA"); err != nil {
		return err
	}
	if err = readPIDDCS(r, m); err != nil {
		return err
	}
	if m.Timestamp, err = r.readTimestamp("TP-SCTS"); err != nil {
		return err
	}
	return readUserData(r, m)
}

// decodeSubmit reads an SMS-SUBMIT after its first octet (3GPP TS 23.040
// clause 9.2.2.2).
func decodeSubmit(r *reader, m *Message) error {
	var err error
	if m.Reference, err = r.byte("TP-MR"); err != nil {
		return err
	}
	if m.Address, m.AddressType, err = r.readAddress("TP-DA"); err != nil {
		return err
	}
	if err = readPIDDCS(r, m); err != nil {
		return err
	}
	if m.ValidityPeriod, err = r.readValidity(ValidityFormat(m.FirstOctet >> 3 & 0x03)); err != nil {
		return err
	}
	return readUserData(r, m)
}

// decodeStatusReport reads an SMS-STATUS-REPORT after its first octet (3GPP
// TS 23.040 clause 9.2.2.3), including the optional TP-PI and the fields it
// announces. A TP-PI of 0xFF is taken for the filler that SIM storage pads
// records with, not for a parameter indicator with every bit set.
func decodeStatusReport(r *reader, m *Message) error {
	var err error
	if m.Reference, err = r.byte("TP-MR"); err != nil {
		return err
	}
	if m.Address, m.AddressType, err = r.readAddress("TP-RA"); err != nil {
		return err
	}
	if m.Timestamp, err = r.readTimestamp("TP-SCTS"); err != nil {
		return err
	}
	if m.Discharge, err = r.readTimestamp("TP-DT"); err != nil {
		return err
	}
	if m.Status, err = r.byte("TP-ST"); err != nil {
		return err
	}
	if r.left() == 0 || r.b[r.off] == 0xFF {
		return nil
	}
	pi, _ := r.byte("TP-PI")
	// Clause 9.2.3.27: bit 7 announces another TP-PI octet.
	for ext := pi; ext&0x80 != 0; {
		if ext, err = r.byte("TP-PI"); err != nil {
			return err
		}
	}
	if pi&0x01 != 0 {
		if m.PID, err = r.byte("TP-PID"); err != nil {
			return err
		}
	}
	if pi&0x02 != 0 {
		if m.DCS, err = r.byte("TP-DCS"); err != nil {
			return err
		}
	}
	if m.Encoding, m.Class, err = parseDCS(m.DCS); err != nil {
		return r.fail("TP-DCS", err)
	}
	if pi&0x04 != 0 {
		return readUserData(r, m)
	}
	return nil
}

func readPIDDCS(r *reader, m *Message) error {
	var err error
	if m.PID, err = r.byte("TP-PID"); err != nil {
		return err
	}
	if m.DCS, err = r.byte("TP-DCS"); err != nil {
		return err
	}
	if m.Encoding, m.Class, err = parseDCS(m.DCS); err != nil {
		r.off--
		return r.fail("TP-DCS", err)
	}
	return nil
}

func (r *reader) readTimestamp(field string) (time.Time, error) {
	start := r.off
	b, err := r.take(7, field)
	if err != nil {
		return time.Time{}, err
	}
	t, err := decodeTimestamp(b)
	if err != nil {
		return time.Time{}, &DecodeError{Offset: start, Field: field, Err: err}
	}
	return t, nil
}

// maxUserData is the size limit of TP-UD in octets (3GPP TS 23.040 clause
// 9.2.3.16), and maxSeptets its count in GSM 7-bit septets.
const (
	maxUserData = 140
	maxSeptets  = 160
)

// readUserData reads TP-UDL and TP-UD (3GPP TS 23.040 clauses 9.2.3.16 and
// 9.2.3.24), splits off the user data header when TP-UDHI is set, and
// decodes the text in the alphabet of the TP-DCS, with the national language
// tables that the header names (3GPP TS 23.038 clause 6.2.1.2.4). For GSM
// 7-bit data the length counts septets, header included, and the text
// starts at the next septet boundary after the header.
func readUserData(r *reader, m *Message) error {
	udlOff := r.off
	udl, err := r.byte("TP-UDL")
	if err != nil {
		return err
	}
	n := int(udl)
	octets := n
	if m.Encoding == GSM7 {
		octets = (7*n + 7) / 8
		if n > maxSeptets {
			r.off = udlOff
			return r.fail("TP-UDL", fmt.Errorf("user data length %d septets exceeds %d: %w", n, maxSeptets, ErrBadLength))
		}
	} else if n > maxUserData {
		r.off = udlOff
		return r.fail("TP-UDL", fmt.Errorf("user data length %d octets exceeds %d: %w", n, maxUserData, ErrBadLength))
	}
	if octets > r.left() {
		r.off = udlOff
		unit := "octets"
		if m.Encoding == GSM7 {
			unit = "septets"
		}
		return r.fail("TP-UDL", fmt.Errorf("user data length %d %s needs %d octets, %d left: %w", n, unit, octets, r.left()-1, ErrBadLength))
	}
	udOff := r.off
	ud, _ := r.take(octets, "TP-UD")
	body, fill := ud, 0
	// A header flag with no user data at all is tolerated as an empty
	// header: real modems store such SMS-SUBMITs (gammu at-sms 20.dump).
	if m.FirstOctet&0x40 != 0 && octets > 0 {
		hl := int(ud[0])
		if 1+hl > octets {
			return &DecodeError{Offset: udOff, Field: "TP-UDHL", Err: fmt.Errorf("header length %d does not fit %d octets of user data: %w", hl, octets, ErrBadLength)}
		}
		if m.UDH, m.Concat, m.Ports, err = parseUDH(ud[1 : 1+hl]); err != nil {
			return &DecodeError{Offset: udOff + 1, Field: "TP-UDH", Err: err}
		}
		if m.UDH == nil {
			m.UDH = []IE{}
		}
		body = ud[1+hl:]
		if m.Encoding == GSM7 {
			headerSeptets := ((1+hl)*8 + 6) / 7
			if headerSeptets > n {
				return &DecodeError{Offset: udlOff, Field: "TP-UDL", Err: fmt.Errorf("user data length %d septets is shorter than the %d-septet header: %w", n, headerSeptets, ErrBadLength)}
			}
			fill = headerSeptets*7 - (1+hl)*8
			n -= headerSeptets
		}
	}
	switch m.Encoding {
	case GSM7:
		m.Shift = shiftOf(m.UDH)
		m.Data = Unpack7(body, n, fill)
		m.Text = DecodeGSM7Shift(m.Data, m.Shift)
	case UCS2:
		if len(body)%2 != 0 {
			return &DecodeError{Offset: udOff, Field: "TP-UD", Err: fmt.Errorf("ucs-2 text of %d octets is odd: %w", len(body), ErrBadLength)}
		}
		m.Data = body
		m.Text = decodeUCS2Lenient(body)
	default:
		m.Data = body
	}
	if !utf8.ValidString(m.Text) {
		return &DecodeError{Offset: udOff, Field: "TP-UD", Err: fmt.Errorf("decoded text is not valid utf-8: %w", ErrBadUCS2)}
	}
	return nil
}
