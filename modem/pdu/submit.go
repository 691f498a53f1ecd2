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
	// NationalLanguages lists the national language shift tables (3GPP TS
	// 23.038 clause 6.2.1.2.4 and Annex A) that EncodeSubmit may use for a
	// text that the default alphabet and extension table cannot hold
	// (Turkish, Spanish, Portuguese), in order of preference. Such a text goes
	// as GSM 7-bit with the elements 0x24 and 0x25 in every part's header
	// when that needs fewer parts than UCS-2. Empty, the default, means
	// never: a phone that does not know the tables shows the wrong letters,
	// while every phone shows UCS-2, so the sender turns them on for the
	// languages its recipients' phones support (Turkish widely so in
	// Turkey). A language without tables here is an error.
	NationalLanguages []Language
	// SingleShiftOnly restricts NationalLanguages to single shift tables
	// (element 0x24): the default alphabet stays, only the extension table
	// is replaced, for recipients whose phones know single shift tables
	// only.
	SingleShiftOnly bool
}

// udhOctets returns the size of a part's user data header, its length
// octet included, or 0 when the part needs none: 5 octets for a
// concatenation element with an 8-bit reference, 6 with a 16-bit one (3GPP TS
// 23.040 clauses 9.2.3.24.1 and 9.2.3.24.8), and 3 for each national language
// shift element (clauses 9.2.3.24.15 and 9.2.3.24.16).
func udhOctets(concat, wide bool, s Shift) int {
	n := 0
	if concat {
		n = 5
		if wide {
			n = 6
		}
	}
	if s.Locking != 0 {
		n += 3
	}
	if s.Single != 0 {
		n += 3
	}
	if n > 0 {
		n++
	}
	return n
}

// capacity returns how many septets (GSM7) or UTF-16 units (UCS2) fit in
// the 140 octets of TP-UD after a header of header octets. GSM 7-bit text
// starts at the septet boundary after the header (3GPP TS 23.040 clause
// 9.2.3.24), so the header takes ceil(8*header/7) septets of the 160.
func capacity(enc Encoding, header int) int {
	if enc == GSM7 {
		return (maxUserData - header) * 8 / 7
	}
	return (maxUserData - header) / 2
}

// partCapacity returns how many septets (GSM7) or UTF-16 units (UCS2) a
// part holds without national language tables: the whole 140 octets when
// single, less the room of the concatenation header otherwise (6 octets with
// an 8-bit reference, 7 with a 16-bit one; 3GPP TS 23.040 clause 9.2.3.24.1).
func partCapacity(enc Encoding, single, wide bool) int {
	return capacity(enc, udhOctets(!single, wide, Shift{}))
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

// choose returns the alphabet and national language tables EncodeSubmit
// uses for text. Text that the default alphabet and extension table hold is
// GSM7 without shift tables, as before national tables existed. Otherwise,
// when o.NationalLanguages is not empty, every combination of their tables
// that holds the text is counted (single shift only; locking shift only;
// locking and single shift, unless o.SingleShiftOnly), and the one with the
// fewest parts wins if it needs fewer parts than UCS-2; on a tie UCS-2 wins,
// because every phone displays it. Among combinations with as many parts the
// first in that order wins, which prefers the smaller header. Languages
// without a table are skipped.
func choose(text string, o SubmitOptions, wide bool) (Encoding, Shift) {
	if chooseEncoding(text) == GSM7 {
		return GSM7, Shift{}
	}
	if len(o.NationalLanguages) == 0 {
		return UCS2, Shift{}
	}
	masks := make([]uint16, 0, len(text))
	for _, r := range text {
		m := maskOf(r)
		if m == 0 {
			return UCS2, Shift{} // in no table at all, an emoji say
		}
		masks = append(masks, m)
	}
	best, bestShift := ucs2Parts(text, wide), Shift{}
	try := func(s Shift) {
		if n, ok := gsm7Parts(masks, s, wide); ok && n < best {
			best, bestShift = n, s
		}
	}
	for _, l := range o.NationalLanguages {
		if l.Supported() {
			try(Shift{Single: l})
		}
	}
	if !o.SingleShiftOnly {
		for _, l := range o.NationalLanguages {
			if hasLocking(l) {
				try(Shift{Locking: l})
			}
		}
		for _, l := range o.NationalLanguages {
			if !hasLocking(l) {
				continue
			}
			for _, m := range o.NationalLanguages {
				if m.Supported() {
					try(Shift{Locking: l, Single: m})
				}
			}
		}
	}
	if bestShift.IsZero() {
		return UCS2, Shift{}
	}
	return GSM7, bestShift
}

// gsm7Parts counts the parts that split would make of the characters whose
// table bits are masks, with the tables of s; ok is false when a character
// is in neither table.
func gsm7Parts(masks []uint16, s Shift, wide bool) (parts int, ok bool) {
	lock, single := lockingTable(s.Locking).bit, singleTable(s.Single).bit
	total := 0
	for _, m := range masks {
		switch {
		case m&lock != 0:
			total++
		case m&single != 0:
			total += 2
		default:
			return 0, false
		}
	}
	if total <= capacity(GSM7, udhOctets(false, wide, s)) {
		return 1, true
	}
	c := capacity(GSM7, udhOctets(true, wide, s))
	parts, used := 1, 0
	for _, m := range masks {
		n := 1
		if m&lock == 0 {
			n = 2
		}
		if used+n > c {
			parts, used = parts+1, 0
		}
		used += n
	}
	return parts, true
}

// ucs2Parts counts the parts that split would make of text in UCS-2.
func ucs2Parts(text string, wide bool) int {
	total := 0
	for _, r := range text {
		total += utf16Len(r)
	}
	if total <= capacity(UCS2, udhOctets(false, wide, Shift{})) {
		return 1
	}
	c := capacity(UCS2, udhOctets(true, wide, Shift{}))
	parts, used := 1, 0
	for _, r := range text {
		n := utf16Len(r)
		if used+n > c {
			parts, used = parts+1, 0
		}
		used += n
	}
	return parts
}

func utf16Len(r rune) int {
	if r > 0xFFFF {
		return 2
	}
	return 1
}

// split cuts text into the units of enc (septets, or big-endian UTF-16
// octets) for each part, never between an escape and its character nor
// between the halves of a surrogate pair.
func split(text string, enc Encoding, wide bool) [][]byte {
	return splitShift(text, enc, Shift{}, wide)
}

// splitShift is split with the national language tables of s for GSM7,
// whose information elements take room in every part's header.
func splitShift(text string, enc Encoding, s Shift, wide bool) [][]byte {
	var units [][]byte // one entry per character
	total := 0
	for _, r := range text {
		var u []byte
		if enc == GSM7 {
			c, n := s.septets(r)
			u = c[:n]
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
	if enc != GSM7 {
		s = Shift{}
	}
	if total <= capacity(enc, udhOctets(false, wide, s)) {
		var whole []byte
		for _, u := range units {
			whole = append(whole, u...)
		}
		return [][]byte{whole}
	}
	limit := capacity(enc, udhOctets(true, wide, s))
	var parts [][]byte
	var cur []byte
	used := 0
	for _, u := range units {
		if used+size(u) > limit {
			parts = append(parts, cur)
			cur, used = nil, 0
		}
		cur = append(cur, u...)
		used += size(u)
	}
	return append(parts, cur)
}

// Segments returns how many SMS-SUBMIT parts EncodeSubmit needs for text
// with an 8-bit concatenation reference and no national language tables,
// and the alphabet it uses: GSM7 with 160 septets in one part or 153 a part
// (an extension character costs two), UCS2 with 70 UTF-16 units in one part
// or 67 a part. SegmentsWith takes the options EncodeSubmit gets.
func Segments(text string) (parts int, enc Encoding) {
	enc = chooseEncoding(text)
	return len(split(text, enc, false)), enc
}

// SegmentsWith returns how many SMS-SUBMIT parts EncodeSubmit needs for text
// with the options o, the alphabet, and the national language tables it
// uses (zero when none). A user interface that counts parts as the user
// types should call it with the options the sender will use. Languages that
// EncodeSubmit would reject are skipped.
func SegmentsWith(text string, o SubmitOptions) (parts int, enc Encoding, shift Shift) {
	wide := o.Use16BitRef || o.ConcatRef > 0xFF
	enc, shift = choose(text, o, wide)
	if enc == GSM7 && !shift.IsZero() {
		n, _ := gsm7Parts(masksOf(text), shift, wide)
		return n, enc, shift
	}
	return len(splitShift(text, enc, shift, wide)), enc, shift
}

func masksOf(text string) []uint16 {
	masks := make([]uint16, 0, len(text))
	for _, r := range text {
		masks = append(masks, maskOf(r))
	}
	return masks
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
// extension table; otherwise the national language tables of
// o.NationalLanguages when they hold the text in fewer parts than UCS-2
// (3GPP TS 23.038 clause 6.2.1.2.4, announced in every part's header), and
// UCS-2 (3GPP TS 23.038 clause 4) when they do not. It splits a long text
// into parts with a concatenation header (clause 9.2.3.24.1), never between
// an escape and its character nor inside a surrogate pair. The destination
// is international when it starts with "+".
func EncodeSubmit(to, text string, o SubmitOptions) ([][]byte, error) {
	if !utf8.ValidString(text) {
		return nil, fmt.Errorf("pdu: encode submit: %w", ErrBadText)
	}
	if o.Class > 3 || o.Class < -1 {
		return nil, fmt.Errorf("pdu: encode submit: message class %d is not -1 to 3", o.Class)
	}
	for _, l := range o.NationalLanguages {
		if !l.Supported() {
			return nil, fmt.Errorf("pdu: encode submit: national language %v: %w", l, ErrUnsupported)
		}
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
	wide := o.Use16BitRef || o.ConcatRef > 0xFF
	enc, shift := choose(text, o, wide)
	chunks := splitShift(text, enc, shift, wide)
	if len(chunks) > maxParts {
		return nil, fmt.Errorf("pdu: encode submit: text needs %d parts, at most %d: %w", len(chunks), maxParts, ErrBadLength)
	}
	pdus := make([][]byte, 0, len(chunks))
	for i, chunk := range chunks {
		var udh []byte
		partFO := fo
		if len(chunks) > 1 || !shift.IsZero() {
			udh = []byte{0}
			if len(chunks) > 1 {
				udh = append(udh, concatIE(o.ConcatRef, wide, byte(len(chunks)), byte(i+1))...)
			}
			udh = shiftIEs(udh, shift)
			udh[0] = byte(len(udh) - 1)
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
