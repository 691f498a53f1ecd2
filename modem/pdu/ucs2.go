package pdu

import (
	"fmt"
	"unicode/utf16"
)

// EncodeUCS2 converts text to the big-endian 16-bit user data of the UCS2
// alphabet (3GPP TS 23.038 clause 6.2.3). Characters outside the Basic
// Multilingual Plane, such as emoji, become UTF-16 surrogate pairs, which is
// what phones send and display.
func EncodeUCS2(text string) []byte {
	units := utf16.Encode([]rune(text))
	out := make([]byte, 0, 2*len(units))
	for _, u := range units {
		out = append(out, byte(u>>8), byte(u))
	}
	return out
}

// DecodeUCS2 converts big-endian 16-bit user data (3GPP TS 23.038 clause
// 6.2.3) to text, joining UTF-16 surrogate pairs. It returns an error wrapping
// ErrBadLength for an odd number of octets and ErrBadUCS2 for an unpaired
// surrogate. Callers reassembling a concatenated message should join the
// parts' Data before calling it, because a sender may split a pair.
func DecodeUCS2(b []byte) (string, error) {
	if len(b)%2 != 0 {
		return "", fmt.Errorf("pdu: decode ucs-2: %d octets is odd: %w", len(b), ErrBadLength)
	}
	units := ucs2Units(b)
	for i := 0; i < len(units); i++ {
		u := units[i]
		switch {
		case u >= 0xD800 && u < 0xDC00:
			if i+1 >= len(units) || units[i+1] < 0xDC00 || units[i+1] >= 0xE000 {
				return "", fmt.Errorf("pdu: decode ucs-2: high surrogate %04X at octet %d without a low one: %w", u, 2*i, ErrBadUCS2)
			}
			i++
		case u >= 0xDC00 && u < 0xE000:
			return "", fmt.Errorf("pdu: decode ucs-2: low surrogate %04X at octet %d without a high one: %w", u, 2*i, ErrBadUCS2)
		}
	}
	return string(utf16.Decode(units)), nil
}

// decodeUCS2Lenient is DecodeUCS2 for one part of a message: an unpaired
// surrogate, which a sender may leave at the end of a concatenated part,
// becomes U+FFFD so that the text stays valid UTF-8.
func decodeUCS2Lenient(b []byte) string {
	// utf16.Decode already gives U+FFFD for a lone surrogate.
	return string(utf16.Decode(ucs2Units(b)))
}

func ucs2Units(b []byte) []uint16 {
	units := make([]uint16, len(b)/2)
	for i := range units {
		units[i] = uint16(b[2*i])<<8 | uint16(b[2*i+1])
	}
	return units
}
