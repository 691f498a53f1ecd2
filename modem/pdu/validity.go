package pdu

import (
	"fmt"
	"time"
)

// ValidityFormat is the TP-VPF of an SMS-SUBMIT (3GPP TS 23.040 clause
// 9.2.3.3).
type ValidityFormat byte

// The validity period formats, numbered as the TP-VPF bits (4 and 3 of the
// first octet) number them.
const (
	ValidityNone     ValidityFormat = 0 // no TP-VP field
	ValidityEnhanced ValidityFormat = 1 // 7 octets, clause 9.2.3.12.3
	ValidityRelative ValidityFormat = 2 // 1 octet, clause 9.2.3.12.1
	ValidityAbsolute ValidityFormat = 3 // 7 octets, clause 9.2.3.12.2
)

// Validity is the TP-VP of an SMS-SUBMIT: how long the service centre keeps
// trying to deliver the message.
type Validity struct {
	Format ValidityFormat
	// Relative is the period for the relative format and for the relative
	// forms of the enhanced format.
	Relative time.Duration
	// Absolute is the expiry time of the absolute format.
	Absolute time.Time
	// Raw holds the field's octets as received.
	Raw []byte
}

// relativeDuration decodes a relative TP-VP octet (3GPP TS 23.040 clause
// 9.2.3.12.1).
func relativeDuration(vp byte) time.Duration {
	v := time.Duration(vp)
	switch {
	case vp <= 143:
		return (v + 1) * 5 * time.Minute
	case vp <= 167:
		return 12*time.Hour + (v-143)*30*time.Minute
	case vp <= 196:
		return (v - 166) * 24 * time.Hour
	default:
		return (v - 192) * 7 * 24 * time.Hour
	}
}

// relativeOctet returns the smallest relative TP-VP octet (3GPP TS 23.040
// clause 9.2.3.12.1) whose period is at least d, or 255 (63 weeks) when d is
// longer than that.
func relativeOctet(d time.Duration) byte {
	for vp := 0; vp < 255; vp++ {
		if relativeDuration(byte(vp)) >= d {
			return byte(vp)
		}
	}
	return 255
}

// decodeValidity reads the TP-VP field of the given format.
func (r *reader) readValidity(f ValidityFormat) (Validity, error) {
	const field = "TP-VP"
	v := Validity{Format: f}
	switch f {
	case ValidityRelative:
		b, err := r.take(1, field)
		if err != nil {
			return v, err
		}
		v.Raw, v.Relative = b, relativeDuration(b[0])
	case ValidityAbsolute:
		start := r.off
		b, err := r.take(7, field)
		if err != nil {
			return v, err
		}
		v.Raw = b
		if v.Absolute, err = decodeTimestamp(b); err != nil {
			return v, &DecodeError{Offset: start, Field: field, Err: err}
		}
	case ValidityEnhanced:
		b, err := r.take(7, field)
		if err != nil {
			return v, err
		}
		v.Raw = b
		// Clause 9.2.3.12.3: bits 2-0 of the functionality indicator give
		// the form; the remaining octets are padding.
		switch b[0] & 0x07 {
		case 1:
			v.Relative = relativeDuration(b[1])
		case 2:
			v.Relative = time.Duration(b[1]) * time.Second
		case 3:
			var hms [3]int
			for i := range hms {
				lo, hi := int(b[1+i]&0x0F), int(b[1+i]>>4)
				if lo > 9 || hi > 9 {
					return v, r.fail(field, fmt.Errorf("enhanced period %02X is not decimal: %w", b[1+i], ErrBadTimestamp))
				}
				hms[i] = lo*10 + hi
			}
			v.Relative = time.Duration(hms[0])*time.Hour + time.Duration(hms[1])*time.Minute + time.Duration(hms[2])*time.Second
		}
	}
	return v, nil
}
