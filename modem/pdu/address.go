package pdu

import (
	"fmt"
	"strings"
)

// Type-of-address octets (3GPP TS 23.040 clause 9.1.2.5): bit 7 set, the
// type of number in bits 6-4, the numbering plan in bits 3-0.
const (
	// TypeInternational is an international number in the ISDN/E.164 plan.
	TypeInternational byte = 0x91
	// TypeUnknown is a number of unknown type in the ISDN/E.164 plan, the
	// usual choice for a number without a country code.
	TypeUnknown byte = 0x81
	// TypeNational is a national number in the ISDN/E.164 plan.
	TypeNational byte = 0xA1
	// TypeAlphanumeric is an alphanumeric address in GSM 7-bit packed
	// characters, as sent by businesses and networks ("Megafon").
	TypeAlphanumeric byte = 0xD0
)

const (
	tonMask          = 0x70
	tonInternational = 0x10
	tonAlphanumeric  = 0x50
	// maxAddressDigits is the 10-octet limit on the address value of 3GPP
	// TS 23.040 clause 9.1.2.5, in semi-octets.
	maxAddressDigits = 20
)

// semiOctetDigits are the characters of the semi-octet values 0-14 in an
// address (3GPP TS 23.040 clause 9.1.2.3); 15 is the end filler.
const semiOctetDigits = "0123456789*#abc"

// decodeSemiOctets reads n digits from b, low nibble first (3GPP TS 23.040
// clause 9.1.2.3). A filler nibble (0xF) ends the number when it is the last
// of the n digits, as some senders count it; anywhere else it is an error.
func decodeSemiOctets(b []byte, n int) (string, error) {
	if n > 2*len(b) {
		return "", fmt.Errorf("%d digits need %d octets, have %d: %w", n, (n+1)/2, len(b), ErrTruncated)
	}
	var s strings.Builder
	for i := range n {
		d := b[i/2] >> (4 * (i % 2)) & 0x0F
		if d == 0x0F && i == n-1 {
			break
		}
		if d == 0x0F {
			return "", fmt.Errorf("filler semi-octet at digit %d of %d: %w", i+1, n, ErrBadAddress)
		}
		s.WriteByte(semiOctetDigits[d])
	}
	return s.String(), nil
}

// encodeSemiOctets packs digits two to an octet, low nibble first, with a
// 0xF filler in the last high nibble when the count is odd (3GPP TS 23.040
// clause 9.1.2.3).
func encodeSemiOctets(digits string) ([]byte, error) {
	out := make([]byte, (len(digits)+1)/2)
	for i := range out {
		out[i] = 0xF0
	}
	for i := 0; i < len(digits); i++ {
		d := strings.IndexByte(semiOctetDigits, digits[i])
		if d < 0 {
			return nil, fmt.Errorf("character %q in number %q: %w", digits[i], digits, ErrBadAddress)
		}
		if i%2 == 0 {
			out[i/2] = out[i/2]&0xF0 | byte(d)
		} else {
			out[i/2] = out[i/2]&0x0F | byte(d)<<4
		}
	}
	return out, nil
}

// formatAddress turns the type of address and its value octets into text:
// "+" and the digits for an international number, the GSM 7-bit text for an
// alphanumeric one, the digits otherwise (3GPP TS 23.040 clause 9.1.2.5).
// n is the number of useful semi-octets.
func formatAddress(toa byte, value []byte, n int) (string, error) {
	if toa&tonMask == tonAlphanumeric {
		return DecodeGSM7(Unpack7(value, n*4/7, 0)), nil
	}
	digits, err := decodeSemiOctets(value, n)
	if err != nil {
		return "", err
	}
	if toa&tonMask == tonInternational && digits != "" {
		return "+" + digits, nil
	}
	return digits, nil
}

// readAddress reads a TP-OA, TP-DA or TP-RA field (3GPP TS 23.040 clause
// 9.1.2.5): the number of useful semi-octets, the type of address, and the
// value.
func (r *reader) readAddress(field string) (addr string, toa byte, err error) {
	start := r.off
	n, err := r.byte(field)
	if err != nil {
		return "", 0, err
	}
	if n > maxAddressDigits {
		r.off = start
		return "", 0, r.fail(field, fmt.Errorf("address length %d semi-octets exceeds %d: %w", n, maxAddressDigits, ErrBadAddress))
	}
	if toa, err = r.byte(field); err != nil {
		return "", 0, err
	}
	if toa&0x80 == 0 {
		r.off--
		return "", 0, r.fail(field, fmt.Errorf("type of address %02X lacks bit 7: %w", toa, ErrBadAddress))
	}
	value, err := r.take((int(n)+1)/2, field)
	if err != nil {
		return "", 0, err
	}
	if addr, err = formatAddress(toa, value, int(n)); err != nil {
		return "", 0, &DecodeError{Offset: start, Field: field, Err: err}
	}
	return addr, toa, nil
}

// readSMSC reads the service centre address that 3GPP TS 27.005 clause 3.1
// puts before the TPDU in PDU mode: a length in octets (type of address
// included, 0 for none), the type of address, and the digits in the
// semi-octets of 3GPP TS 24.011 clause 8.2.5.2.
func (r *reader) readSMSC() (addr string, toa byte, err error) {
	const field = "SMSC address"
	n, err := r.byte(field)
	if err != nil || n == 0 {
		return "", 0, err
	}
	if n > 1+maxAddressDigits/2 {
		r.off--
		return "", 0, r.fail(field, fmt.Errorf("length %d octets exceeds %d: %w", n, 1+maxAddressDigits/2, ErrBadAddress))
	}
	start := r.off
	if toa, err = r.byte(field); err != nil {
		return "", 0, err
	}
	if toa&0x80 == 0 {
		r.off--
		return "", 0, r.fail(field, fmt.Errorf("type of address %02X lacks bit 7: %w", toa, ErrBadAddress))
	}
	value, err := r.take(int(n)-1, field)
	if err != nil {
		return "", 0, err
	}
	digits := 2 * len(value)
	if digits > 0 && value[len(value)-1]>>4 == 0x0F {
		digits--
	}
	if addr, err = formatAddress(toa, value, digits); err != nil {
		return "", 0, &DecodeError{Offset: start, Field: field, Err: err}
	}
	return addr, toa, nil
}

// addressValue encodes addr for the given type of address and returns the
// value octets and the number of useful semi-octets (3GPP TS 23.040 clause
// 9.1.2.5). A leading "+" is dropped for an international number.
func addressValue(addr string, toa byte) (value []byte, n int, err error) {
	if toa&tonMask == tonAlphanumeric {
		septets, err := EncodeGSM7(addr)
		if err != nil {
			return nil, 0, fmt.Errorf("alphanumeric address %q: %w", addr, ErrBadAddress)
		}
		if len(septets) > maxAddressDigits*4/7 {
			return nil, 0, fmt.Errorf("alphanumeric address %q is %d septets, at most %d: %w", addr, len(septets), maxAddressDigits*4/7, ErrBadAddress)
		}
		return Pack7(septets, 0), (7*len(septets) + 3) / 4, nil
	}
	digits := addr
	if toa&tonMask == tonInternational {
		digits = strings.TrimPrefix(digits, "+")
	}
	if digits == "" || len(digits) > maxAddressDigits {
		return nil, 0, fmt.Errorf("number %q must have 1 to %d digits: %w", addr, maxAddressDigits, ErrBadAddress)
	}
	value, err = encodeSemiOctets(digits)
	return value, len(digits), err
}

// encodeAddress encodes a TP-DA (or TP-OA) field: semi-octet count, type of
// address, value (3GPP TS 23.040 clause 9.1.2.5).
func encodeAddress(addr string, toa byte) ([]byte, error) {
	value, n, err := addressValue(addr, toa)
	if err != nil {
		return nil, err
	}
	return append([]byte{byte(n), toa}, value...), nil
}

// encodeSMSC encodes the service centre address of PDU mode (3GPP TS 27.005
// clause 3.1, 3GPP TS 24.011 clause 8.2.5.2): a single zero octet for "",
// otherwise the octet count, the type of address and the value.
func encodeSMSC(addr string, toa byte) ([]byte, error) {
	if addr == "" {
		return []byte{0}, nil
	}
	value, _, err := addressValue(addr, toa)
	if err != nil {
		return nil, err
	}
	return append([]byte{byte(1 + len(value)), toa}, value...), nil
}

// numberType returns the type of address for a number given as text: an
// international number when it starts with "+", otherwise def, or
// TypeUnknown when def is zero.
func numberType(addr string, def byte) byte {
	if strings.HasPrefix(addr, "+") {
		return TypeInternational
	}
	if def == 0 {
		return TypeUnknown
	}
	return def
}
