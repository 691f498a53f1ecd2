package pdu

import "fmt"

// Information element identifiers of 3GPP TS 23.040 clause 9.2.3.24.
const (
	IEConcat8      byte = 0x00 // concatenated message, 8-bit reference
	IESpecialSMS   byte = 0x01 // special SMS message indication
	IEPorts8       byte = 0x04 // application port addressing, 8-bit ports
	IEPorts16      byte = 0x05 // application port addressing, 16-bit ports
	IEConcat16     byte = 0x08 // concatenated message, 16-bit reference
	IESingleShift  byte = 0x24 // national language single shift table (clause 9.2.3.24.15)
	IELockingShift byte = 0x25 // national language locking shift table (clause 9.2.3.24.16)
)

// IE is one information element of a user data header (3GPP TS 23.040
// clause 9.2.3.24): its identifier and its data.
type IE struct {
	ID   byte
	Data []byte
}

// Concat describes one part of a concatenated message, from the
// information element 0x00 (clause 9.2.3.24.1) or 0x08 (clause 9.2.3.24.8).
type Concat struct {
	Ref   uint16 // reference shared by all parts
	Total byte   // number of parts, at least 1
	Seq   byte   // this part's number, 1 to Total
	Ref16 bool   // the reference came from IEI 0x08 (16 bits)
}

// Ports is application port addressing, from the information element 0x04
// (clause 9.2.3.24.3) or 0x05 (clause 9.2.3.24.4).
type Ports struct {
	Dest, Src uint16
	Bits16    bool
}

// parseUDH splits a user data header (without its length octet) into
// information elements (3GPP TS 23.040 clause 9.2.3.24). An element whose
// length runs past the header is an error. The concatenation and port
// elements are interpreted; as clause 9.2.3.24.1 asks, a concatenation
// element with a zero part count, a zero or too large sequence number, or the
// wrong length is ignored.
func parseUDH(h []byte) (ies []IE, concat *Concat, ports *Ports, err error) {
	for i := 0; i < len(h); {
		if i+2 > len(h) {
			return nil, nil, nil, fmt.Errorf("information element at header octet %d: needs 2 octets, %d left: %w", i, len(h)-i, ErrBadLength)
		}
		id, n := h[i], int(h[i+1])
		if i+2+n > len(h) {
			return nil, nil, nil, fmt.Errorf("information element %02X at header octet %d: length %d, %d left: %w", id, i, n, len(h)-i-2, ErrBadLength)
		}
		data := h[i+2 : i+2+n]
		ies = append(ies, IE{ID: id, Data: data})
		switch {
		case id == IEConcat8 && n == 3:
			concat = validConcat(Concat{Ref: uint16(data[0]), Total: data[1], Seq: data[2]})
		case id == IEConcat16 && n == 4:
			concat = validConcat(Concat{Ref: uint16(data[0])<<8 | uint16(data[1]), Total: data[2], Seq: data[3], Ref16: true})
		case id == IEPorts8 && n == 2:
			ports = &Ports{Dest: uint16(data[0]), Src: uint16(data[1])}
		case id == IEPorts16 && n == 4:
			ports = &Ports{Dest: uint16(data[0])<<8 | uint16(data[1]), Src: uint16(data[2])<<8 | uint16(data[3]), Bits16: true}
		}
		i += 2 + n
	}
	return ies, concat, ports, nil
}

func validConcat(c Concat) *Concat {
	if c.Total == 0 || c.Seq == 0 || c.Seq > c.Total {
		return nil
	}
	return &c
}

// concatIE builds the concatenation element for part seq of total: IEI 0x00
// with an 8-bit reference, or IEI 0x08 with a 16-bit one (3GPP TS 23.040
// clauses 9.2.3.24.1 and 9.2.3.24.8).
func concatIE(ref uint16, wide bool, total, seq byte) []byte {
	if wide {
		return []byte{IEConcat16, 4, byte(ref >> 8), byte(ref), total, seq}
	}
	return []byte{IEConcat8, 3, byte(ref), total, seq}
}

// shiftOf returns the national language tables that the information
// elements 0x25 (locking shift) and 0x24 (single shift) of a user data header
// name (3GPP TS 23.040 clauses 9.2.3.24.15 and 9.2.3.24.16). An element of
// the wrong length is ignored; when one is repeated the last one counts, as
// clause 9.2.3.24 asks for elements that are not repeatable.
func shiftOf(ies []IE) Shift {
	var s Shift
	for _, ie := range ies {
		switch {
		case ie.ID == IELockingShift && len(ie.Data) == 1:
			s.Locking = Language(ie.Data[0])
		case ie.ID == IESingleShift && len(ie.Data) == 1:
			s.Single = Language(ie.Data[0])
		}
	}
	return s
}

// shiftIEs appends the information elements that announce s: 0x25 for a
// locking shift table, then 0x24 for a single shift table.
func shiftIEs(h []byte, s Shift) []byte {
	if s.Locking != 0 {
		h = append(h, IELockingShift, 1, byte(s.Locking))
	}
	if s.Single != 0 {
		h = append(h, IESingleShift, 1, byte(s.Single))
	}
	return h
}
