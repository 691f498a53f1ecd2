package pdu

import (
	"fmt"
	"strings"
)

// escape is the septet that switches to the extension table for the next
// septet (3GPP TS 23.038 clause 6.2.1.1).
const escape = 0x1B

// gsm7Basic is the GSM 7-bit default alphabet of 3GPP TS 23.038 clause
// 6.2.1, as mapped to Unicode by the Unicode Consortium's GSM0338.TXT (table
// version 2.0). Position 0x1B is the escape to the extension table; it is
// shown as a no-break space when no valid escape sequence follows.
var gsm7Basic = [128]rune{
	'@', '£', '$', '¥', 'è', 'é', 'ù', 'ì', 'ò', 'ç', '\n', 'Ø', 'ø', '\r', 'Å', 'å',
	'Δ', '_', 'Φ', 'Γ', 'Λ', 'Ω', 'Π', 'Ψ', 'Σ', 'Θ', 'Ξ', '\u00a0', 'Æ', 'æ', 'ß', 'É',
	' ', '!', '"', '#', '¤', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
	'0', '1', '2', '3', '4', '5', '6', '7', '8', '9', ':', ';', '<', '=', '>', '?',
	'¡', 'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O',
	'P', 'Q', 'R', 'S', 'T', 'U', 'V', 'W', 'X', 'Y', 'Z', 'Ä', 'Ö', 'Ñ', 'Ü', '§',
	'¿', 'a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l', 'm', 'n', 'o',
	'p', 'q', 'r', 's', 't', 'u', 'v', 'w', 'x', 'y', 'z', 'ä', 'ö', 'ñ', 'ü', 'à',
}

// gsm7Septets returns the septets that encode r: one for the default
// alphabet, two (escape first) for the extension table, none when r is in
// neither. The no-break space shown for a lone escape is not encodable.
func gsm7Septets(r rune) (septets [2]byte, n int) {
	switch r {
	case '\f':
		return [2]byte{escape, 0x0A}, 2
	case '^':
		return [2]byte{escape, 0x14}, 2
	case '{':
		return [2]byte{escape, 0x28}, 2
	case '}':
		return [2]byte{escape, 0x29}, 2
	case '\\':
		return [2]byte{escape, 0x2F}, 2
	case '[':
		return [2]byte{escape, 0x3C}, 2
	case '~':
		return [2]byte{escape, 0x3D}, 2
	case ']':
		return [2]byte{escape, 0x3E}, 2
	case '|':
		return [2]byte{escape, 0x40}, 2
	case '€':
		return [2]byte{escape, 0x65}, 2
	case '\u00a0':
		return septets, 0
	}
	if r >= 0x20 && r < 0x7F {
		// Printable ASCII sits at its own code, except for the few that the
		// GSM alphabet puts elsewhere or only in the extension table.
		switch r {
		case '@':
			return [2]byte{0x00}, 1
		case '$':
			return [2]byte{0x02}, 1
		case '_':
			return [2]byte{0x11}, 1
		case '`':
			return septets, 0
		}
		return [2]byte{byte(r)}, 1
	}
	for i, c := range gsm7Basic {
		if c == r && i != escape {
			return [2]byte{byte(i)}, 1
		}
	}
	return septets, 0
}

// gsm7Len returns the number of septets r needs, 0 when it has no GSM 7-bit
// encoding.
func gsm7Len(r rune) int {
	_, n := gsm7Septets(r)
	return n
}

// EncodeGSM7 converts text to unpacked septets of the GSM 7-bit default
// alphabet (3GPP TS 23.038 clause 6.2.1), one septet per byte, with an escape
// septet before each character of the extension table. It returns an error
// wrapping ErrNotGSM7 that names the first character outside both tables.
func EncodeGSM7(text string) ([]byte, error) {
	out := make([]byte, 0, len(text))
	for i, r := range text {
		s, n := gsm7Septets(r)
		if n == 0 {
			return nil, fmt.Errorf("pdu: encode gsm 7-bit: character %q at byte %d: %w", r, i, ErrNotGSM7)
		}
		out = append(out, s[:n]...)
	}
	return out, nil
}

// DecodeGSM7 converts unpacked septets of the GSM 7-bit default alphabet to
// text (3GPP TS 23.038 clause 6.2.1). The high bit of each byte is ignored.
// An escape followed by a septet that the extension table does not define
// gives the default-alphabet character of that septet, as clause 6.2.1.1
// asks; two escapes in a row give a space; a lone escape at the end gives a
// no-break space, as GSM0338.TXT maps it.
func DecodeGSM7(septets []byte) string {
	return decodeGSM7(septets, &defaultBasic.chars, &defaultExt.chars)
}

// decodeGSM7 converts septets with basic in place of the default alphabet
// and ext in place of the extension table (0 where ext defines nothing).
func decodeGSM7(septets []byte, basic, ext *[128]rune) string {
	var b strings.Builder
	b.Grow(len(septets))
	for i := 0; i < len(septets); i++ {
		c := septets[i] & 0x7F
		if c != escape {
			b.WriteRune(basic[c])
			continue
		}
		if i+1 == len(septets) {
			b.WriteRune('\u00a0')
			break
		}
		i++
		next := septets[i] & 0x7F
		switch r := ext[next]; {
		case r != 0:
			b.WriteRune(r)
		case next == escape:
			b.WriteByte(' ')
		default:
			b.WriteRune(basic[next])
		}
	}
	return b.String()
}

// Pack7 packs septets (one per byte, high bit ignored) into octets as 3GPP
// TS 23.038 clause 6.1.2.1.1 describes, least significant bit first. The
// first fillBits bits (0 to 6) stay zero; 3GPP TS 23.040 clause 9.2.3.24 uses
// them to align the text to a septet boundary after a user data header.
// Values outside 0 to 7 are treated as 0.
func Pack7(septets []byte, fillBits int) []byte {
	if fillBits < 0 || fillBits > 7 {
		fillBits = 0
	}
	total := fillBits + 7*len(septets)
	out := make([]byte, (total+7)/8)
	bit := fillBits
	for _, s := range septets {
		s &= 0x7F
		idx, sh := bit/8, bit%8
		out[idx] |= s << sh
		if sh > 1 {
			out[idx+1] |= s >> (8 - sh)
		}
		bit += 7
	}
	return out
}

// Unpack7 reads count septets from the packed octets b, skipping the first
// fillBits bits (3GPP TS 23.038 clause 6.1.2.1.1). It returns fewer septets
// when b is too short to hold count of them, and none for a negative count
// or fillBits outside 0 to 7.
func Unpack7(b []byte, count, fillBits int) []byte {
	if count <= 0 || fillBits < 0 || fillBits > 7 {
		return []byte{}
	}
	if avail := (len(b)*8 - fillBits) / 7; count > avail {
		count = max(avail, 0)
	}
	out := make([]byte, count)
	for i := range out {
		bit := fillBits + 7*i
		idx, sh := bit/8, bit%8
		v := uint16(b[idx]) >> sh
		if idx+1 < len(b) {
			v |= uint16(b[idx+1]) << (8 - sh)
		}
		out[i] = byte(v) & 0x7F
	}
	return out
}
