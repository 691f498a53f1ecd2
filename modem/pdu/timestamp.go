package pdu

import (
	"fmt"
	"time"
)

// decodeTimestamp decodes the 7 semi-octet octets of a TP-SCTS, TP-DT or
// absolute TP-VP (3GPP TS 23.040 clauses 9.2.3.11, 9.2.3.13 and 9.2.3.12.2):
// year, month, day, hour, minute, second and the time zone in quarters of an
// hour, whose sign is bit 3 of the last octet. The result carries the zone as
// a fixed zone. Two-digit years from 90 are read as 19xx, the rest as 20xx.
func decodeTimestamp(b []byte) (time.Time, error) {
	if len(b) != 7 {
		return time.Time{}, fmt.Errorf("timestamp needs 7 octets, got %d: %w", len(b), ErrTruncated)
	}
	var v [6]int
	for i := range 6 {
		lo, hi := int(b[i]&0x0F), int(b[i]>>4)
		if lo > 9 || hi > 9 {
			return time.Time{}, fmt.Errorf("octet %d (%02X) is not two decimal digits: %w", i+1, b[i], ErrBadTimestamp)
		}
		v[i] = lo*10 + hi
	}
	tzTens, tzUnits := int(b[6]&0x07), int(b[6]>>4)
	if tzUnits > 9 {
		return time.Time{}, fmt.Errorf("time zone octet %02X is not two decimal digits: %w", b[6], ErrBadTimestamp)
	}
	quarters := tzTens*10 + tzUnits
	if quarters > 4*18 {
		return time.Time{}, fmt.Errorf("time zone of %d quarter hours is out of range: %w", quarters, ErrBadTimestamp)
	}
	if b[6]&0x08 != 0 {
		quarters = -quarters
	}
	year, month, day, hour, minute, second := v[0], v[1], v[2], v[3], v[4], v[5]
	if month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 59 {
		return time.Time{}, fmt.Errorf("%02d-%02d-%02d %02d:%02d:%02d is not a valid time: %w", year, month, day, hour, minute, second, ErrBadTimestamp)
	}
	if year >= 90 {
		year += 1900
	} else {
		year += 2000
	}
	zone := time.FixedZone("", quarters*15*60)
	return time.Date(year, time.Month(month), day, hour, minute, second, 0, zone), nil
}

// encodeTimestamp encodes t in its own zone for an absolute TP-VP (3GPP TS
// 23.040 clauses 9.2.3.12.2 and 9.2.3.11). The zone offset is rounded to a
// quarter hour; years outside 1990-2089 cannot be encoded.
func encodeTimestamp(t time.Time) ([]byte, error) {
	year := t.Year()
	if year < 1990 || year > 2089 {
		return nil, fmt.Errorf("year %d cannot be encoded in two digits: %w", year, ErrBadTimestamp)
	}
	_, offset := t.Zone()
	quarters := offset / (15 * 60)
	neg := quarters < 0
	if neg {
		quarters = -quarters
	}
	if quarters > 4*18 {
		return nil, fmt.Errorf("time zone offset %ds is out of range: %w", offset, ErrBadTimestamp)
	}
	swap := func(n int) byte { return byte(n%10)<<4 | byte(n/10) }
	out := []byte{
		swap(year % 100), swap(int(t.Month())), swap(t.Day()),
		swap(t.Hour()), swap(t.Minute()), swap(t.Second()), swap(quarters),
	}
	if neg {
		out[6] |= 0x08
	}
	return out, nil
}
