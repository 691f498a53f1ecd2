package pdu

import "fmt"

// Encoding is the alphabet of the user data, from the TP-DCS (3GPP TS
// 23.038 clause 4).
type Encoding byte

// The alphabets of 3GPP TS 23.038 clause 4.
const (
	GSM7     Encoding = iota // GSM 7-bit default alphabet, packed
	Eightbit                 // 8-bit data, not text
	UCS2                     // 16-bit UCS-2 / UTF-16 big endian
)

// String returns the alphabet's name.
func (e Encoding) String() string {
	switch e {
	case GSM7:
		return "gsm7"
	case Eightbit:
		return "8bit"
	case UCS2:
		return "ucs2"
	}
	return fmt.Sprintf("encoding(%d)", byte(e))
}

// parseDCS reads the alphabet and message class from a TP-DCS octet as
// 3GPP TS 23.038 clause 4 lays them out. Compressed text is unsupported.
// Reserved alphabets and reserved coding groups are read as the GSM 7-bit
// default alphabet, which clause 4 asks of a receiving entity.
func parseDCS(dcs byte) (enc Encoding, class int, err error) {
	class = -1
	switch dcs >> 4 {
	case 0x0, 0x1, 0x2, 0x3, 0x4, 0x5, 0x6, 0x7:
		// General data coding and automatic deletion groups (00xx, 01xx).
		if dcs&0x20 != 0 {
			return 0, 0, fmt.Errorf("data coding scheme %02X says compressed: %w", dcs, ErrUnsupported)
		}
		if dcs&0x10 != 0 {
			class = int(dcs & 0x03)
		}
		switch dcs >> 2 & 0x03 {
		case 1:
			enc = Eightbit
		case 2:
			enc = UCS2
		}
	case 0xC, 0xD:
		// Message waiting indication groups, discard or store (1100, 1101).
	case 0xE:
		// Message waiting indication group, store, UCS2 (1110).
		enc = UCS2
	case 0xF:
		// Data coding/message class group (1111).
		if dcs&0x04 != 0 {
			enc = Eightbit
		}
		class = int(dcs & 0x03)
	}
	return enc, class, nil
}

// makeDCS builds the TP-DCS octet for enc in the general data coding group
// (3GPP TS 23.038 clause 4), with the message class when class is 0 to 3.
func makeDCS(enc Encoding, class int) byte {
	var dcs byte
	switch enc {
	case Eightbit:
		dcs = 0x04
	case UCS2:
		dcs = 0x08
	}
	if class >= 0 && class <= 3 {
		dcs |= 0x10 | byte(class)
	}
	return dcs
}
