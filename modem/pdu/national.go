package pdu

import (
	"fmt"
	"strings"
)

// Language is a national language identifier of 3GPP TS 23.038 clause
// 6.2.1.2.4, as the information elements 0x24 and 0x25 of 3GPP TS 23.040
// clauses 9.2.3.24.15 and 9.2.3.24.16 carry it. The zero value stands for
// the GSM 7-bit default alphabet and its extension table.
type Language byte

// The national languages whose tables this package implements (3GPP TS
// 23.038 Annex A). Spanish has a single shift table only: its locking shift
// table (clause A.3.2) is void.
const (
	Turkish    Language = 1
	Spanish    Language = 2
	Portuguese Language = 3
)

// String returns the language's name, or "language(n)" for an identifier
// this package has no table for.
func (l Language) String() string {
	switch l {
	case 0:
		return "default"
	case Turkish:
		return "turkish"
	case Spanish:
		return "spanish"
	case Portuguese:
		return "portuguese"
	}
	return fmt.Sprintf("language(%d)", byte(l))
}

// Supported reports whether this package has a national language table for
// l: Turkish, Spanish or Portuguese.
func (l Language) Supported() bool {
	return l == Turkish || l == Spanish || l == Portuguese
}

// Shift names the tables a GSM 7-bit text is written in (3GPP TS 23.038
// clause 6.2.1.2): Locking replaces the default alphabet (information
// element 0x25) and Single replaces the extension table reached through the
// escape septet (information element 0x24). Zero means the default table.
// A decoded message keeps the identifiers it received; an identifier without
// a table (an unknown language, or Spanish as a locking shift) is read with
// the default table, which clause 6.2.1.2.4 asks of a receiving entity that
// does not support the language.
type Shift struct {
	Locking Language
	Single  Language
}

// IsZero reports whether s names the default alphabet and extension table.
func (s Shift) IsZero() bool { return s == Shift{} }

// String returns "turkish locking + turkish single", "portuguese single",
// or "default".
func (s Shift) String() string {
	var parts []string
	if s.Locking != 0 {
		parts = append(parts, s.Locking.String()+" locking")
	}
	if s.Single != 0 {
		parts = append(parts, s.Single.String()+" single")
	}
	if parts == nil {
		return "default"
	}
	return strings.Join(parts, " + ")
}

// table is one 128-entry GSM 7-bit table: chars maps a septet to its
// character (0 where a shift table defines none), index maps back, and bit
// marks the characters of the table in charMask.
type table struct {
	bit   uint16
	chars [128]rune
	index map[rune]byte
}

func newTable(bit uint16, chars [128]rune) *table {
	t := &table{bit: bit, chars: chars, index: make(map[rune]byte, 128)}
	for i, r := range chars {
		if r == 0 || i == escape {
			continue
		}
		if _, dup := t.index[r]; !dup {
			t.index[r] = byte(i)
		}
	}
	return t
}

// shiftTable builds a single shift table from its defined entries.
func shiftTable(bit uint16, entries map[byte]rune) *table {
	var chars [128]rune
	for c, r := range entries {
		chars[c] = r
	}
	return newTable(bit, chars)
}

// The tables, each with its own bit in charMask.
var (
	defaultBasic = newTable(1<<0, gsm7Basic)
	defaultExt   = shiftTable(1<<1, map[byte]rune{
		0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
		0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|', 0x65: '€',
	})

	// turkishLocking is the Turkish national language locking shift table
	// of 3GPP TS 23.038 clause A.3.1. Position 0x1B is the escape.
	turkishLocking = newTable(1<<2, [128]rune{
		'@', '£', '$', '¥', '€', 'é', 'ù', 'ı', 'ò', 'Ç', '\n', 'Ğ', 'ğ', '\r', 'Å', 'å',
		'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u00a0', 'Ş', 'ş', 'ß', 'É',
		' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
		'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
		'İ', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
		'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
		'ç', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
		'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
	})
	// turkishSingle is the Turkish national language single shift table of
	// 3GPP TS 23.038 clause A.2.1.
	turkishSingle = shiftTable(1<<3, map[byte]rune{
		0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
		0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|',
		0x47: 'Ğ', 0x49: 'İ', 0x53: 'Ş', 0x63: 'ç', 0x65: '€',
		0x67: 'ğ', 0x69: 'ı', 0x73: 'ş',
	})
	// spanishSingle is the Spanish national language single shift table
	// of 3GPP TS 23.038 clause A.2.2.
	spanishSingle = shiftTable(1<<4, map[byte]rune{
		0x09: 'ç', 0x0A: '\f', 0x14: '^', 0x28: '{', 0x29: '}', 0x2F: '\\',
		0x3C: '[', 0x3D: '~', 0x3E: ']', 0x40: '|',
		0x41: 'Á', 0x49: 'Í', 0x4F: 'Ó', 0x55: 'Ú', 0x61: 'á', 0x65: '€',
		0x69: 'í', 0x6F: 'ó', 0x75: 'ú',
	})
	// portugueseLocking is the Portuguese national language locking shift
	// table of 3GPP TS 23.038 clause A.3.3. Position 0x1B is the escape.
	portugueseLocking = newTable(1<<5, [128]rune{
		'@', '£', '$', '¥', 'ê', 'é', 'ú', 'í', 'ó', 'ç', '\n', 'Ô', 'ô', '\r', 'Á', 'á',
		'Δ', '_', 'ª', 'Ç', 'À', '∞', '^', '\\', '€', 'Ó', '|', '\u00a0', 'Â', 'â', 'Ê', 'É',
		' ', '!', '"', '#', 'º', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
		'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
		'Í', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
		'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ã', 'Õ', 'Ú', 'Ü', '§',
		'~', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
		'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ã', 'õ', '`', 'ü', 'à',
	})
	// portugueseSingle is the Portuguese national language single shift
	// table of 3GPP TS 23.038 clause A.2.3.
	portugueseSingle = shiftTable(1<<6, map[byte]rune{
		0x05: 'ê', 0x09: 'ç', 0x0A: '\f', 0x0B: 'Ô', 0x0C: 'ô', 0x0E: 'Á', 0x0F: 'á',
		0x12: 'Φ', 0x13: 'Γ', 0x14: '^', 0x15: 'Ω', 0x16: 'Π', 0x17: 'Ψ', 0x18: 'Σ', 0x19: 'Θ',
		0x1F: 'Ê', 0x28: '{', 0x29: '}', 0x2F: '\\', 0x3C: '[', 0x3D: '~', 0x3E: ']',
		0x40: '|', 0x41: 'À', 0x49: 'Í', 0x4F: 'Ó', 0x55: 'Ú', 0x5B: 'Ã', 0x5C: 'Õ',
		0x61: 'Â', 0x65: '€', 0x69: 'í', 0x6F: 'ó', 0x75: 'ú', 0x7B: 'ã', 0x7C: 'õ', 0x7F: 'â',
	})

	allTables = []*table{defaultBasic, defaultExt, turkishLocking, turkishSingle, spanishSingle, portugueseLocking, portugueseSingle}
	// charMask has, for every character of any table, the bits of the
	// tables that hold it; asciiMask is the same for the first 128 code
	// points, to spare the map lookup for most text.
	charMask  = buildMask(allTables)
	asciiMask = buildASCIIMask(charMask)
)

func buildMask(tables []*table) map[rune]uint16 {
	m := make(map[rune]uint16)
	for _, t := range tables {
		for r := range t.index {
			m[r] |= t.bit
		}
	}
	return m
}

func buildASCIIMask(m map[rune]uint16) (a [128]uint16) {
	for r := range a {
		a[r] = m[rune(r)]
	}
	return a
}

func maskOf(r rune) uint16 {
	if r >= 0 && r < 128 {
		return asciiMask[r]
	}
	return charMask[r]
}

// lockingTable returns the table that replaces the default alphabet for l,
// or the default alphabet when l has no locking shift table.
func lockingTable(l Language) *table {
	switch l {
	case Turkish:
		return turkishLocking
	case Portuguese:
		return portugueseLocking
	}
	return defaultBasic
}

// singleTable returns the table reached through the escape for l, or the
// default extension table when l has no single shift table.
func singleTable(l Language) *table {
	switch l {
	case Turkish:
		return turkishSingle
	case Spanish:
		return spanishSingle
	case Portuguese:
		return portugueseSingle
	}
	return defaultExt
}

// hasLocking reports whether l has a locking shift table (3GPP TS 23.038
// clause A.3): Turkish and Portuguese do, Spanish does not.
func hasLocking(l Language) bool { return l == Turkish || l == Portuguese }

// septets returns the septets that encode r with the tables of s: one from
// the locking shift table (or default alphabet), two, escape first, from
// the single shift table (or extension table), none when r is in neither.
func (s Shift) septets(r rune) (septets [2]byte, n int) {
	if s.IsZero() {
		return gsm7Septets(r)
	}
	if c, ok := lockingTable(s.Locking).index[r]; ok {
		return [2]byte{c}, 1
	}
	if c, ok := singleTable(s.Single).index[r]; ok {
		return [2]byte{escape, c}, 2
	}
	return septets, 0
}

// EncodeGSM7Shift converts text to unpacked septets as EncodeGSM7 does, with
// the national language tables of s (3GPP TS 23.038 clause 6.2.1.2.4 and
// Annex A): a character of the locking shift table takes one septet, one of
// the single shift table an escape and a septet. A language without a table
// uses the default one. It returns an error wrapping ErrNotGSM7 that names
// the first character outside both tables.
func EncodeGSM7Shift(text string, s Shift) ([]byte, error) {
	out := make([]byte, 0, len(text))
	for i, r := range text {
		c, n := s.septets(r)
		if n == 0 {
			return nil, fmt.Errorf("pdu: encode gsm 7-bit (%v): character %q at byte %d: %w", s, r, i, ErrNotGSM7)
		}
		out = append(out, c[:n]...)
	}
	return out, nil
}

// DecodeGSM7Shift converts unpacked septets to text as DecodeGSM7 does, with
// the national language tables of s: the locking shift table in place of
// the default alphabet, the single shift table in place of the extension
// table. A language without a table uses the default one (3GPP TS 23.038
// clause 6.2.1.2.4). An escape followed by a septet that the single shift
// table leaves undefined gives the character of the locking shift table (or
// default alphabet) at that septet, as the note to clause 6.2.1.1 asks; two
// escapes give a space and a lone escape at the end a no-break space, as in
// DecodeGSM7. Callers joining the Data of concatenated parts pass the Shift
// of the first part.
func DecodeGSM7Shift(septets []byte, s Shift) string {
	return decodeGSM7(septets, &lockingTable(s.Locking).chars, &singleTable(s.Single).chars)
}
