package stream

import (
	"encoding/binary"
	"fmt"
)

// Event is one telephone-event payload block of RFC 4733 section 2.3:
//
//	 0                   1                   2                   3
//	 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
//	|     event     |E|R| volume    |          duration             |
//	+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
type Event struct {
	// Code is the event code; RFC 4733 section 3.2 gives 0-9 for the
	// digits, 10 for '*', 11 for '#' and 12-15 for 'A'-'D'.
	Code uint8
	// End is the E bit: this packet ends the event. RFC 4733 section
	// 2.5.1.4 has the sender send the end packet three times.
	End bool
	// Volume is the power level of the tone in -dBm0, 0 to 63.
	Volume uint8
	// Duration is the length of the event so far, in RTP timestamp units
	// counted from the packet's timestamp (the event's start).
	Duration uint16
}

// eventSize is the size of one telephone-event block.
const eventSize = 4

// ParseEvent parses the first telephone-event block of an RTP payload. The
// R bit is reserved and ignored, as RFC 4733 section 2.3 asks of receivers;
// bytes after the first block are ignored too.
func ParseEvent(payload []byte) (Event, error) {
	if len(payload) < eventSize {
		return Event{}, fmt.Errorf("stream: parse telephone-event of %d bytes: %w", len(payload), ErrShortEvent)
	}
	return Event{
		Code:     payload[0],
		End:      payload[1]&0x80 != 0,
		Volume:   payload[1] & 0x3F,
		Duration: binary.BigEndian.Uint16(payload[2:4]),
	}, nil
}

// Append appends the four-byte payload of e to b, with the R bit clear and
// the volume cut to its six bits.
func (e Event) Append(b []byte) []byte {
	flags := e.Volume & 0x3F
	if e.End {
		flags |= 0x80
	}
	return binary.BigEndian.AppendUint16(append(b, e.Code, flags), e.Duration)
}

// Digit returns the DTMF key of the event: '0'-'9', '*', '#' or 'A'-'D'
// (RFC 4733 section 3.2, table 7). It returns false for any other event
// (flash, fax and modem tones).
func (e Event) Digit() (byte, bool) {
	switch {
	case e.Code <= 9:
		return '0' + e.Code, true
	case e.Code == 10:
		return '*', true
	case e.Code == 11:
		return '#', true
	case e.Code <= 15:
		return 'A' + e.Code - 12, true
	}
	return 0, false
}

// keyPresses turns telephone-event packets into key presses: one per event,
// when its first end packet arrives. An event is known by its SSRC and RTP
// timestamp, which RFC 4733 section 2.5.1.1 keeps the same in every packet
// of one event, so the retransmitted end packets (section 2.5.1.4) are
// recognised and dropped. The last few events are remembered, enough for
// end packets that arrive out of order across two quick key presses.
type keyPresses struct {
	seen [4]eventID
	n    int // events recorded so far; seen[n%len(seen)] is the next slot
}

type eventID struct {
	ssrc, ts uint32
}

// end reports whether the end packet of the event (ssrc, ts) is the first
// one seen, and records it.
func (k *keyPresses) end(ssrc, ts uint32) bool {
	id := eventID{ssrc, ts}
	for i := range min(k.n, len(k.seen)) {
		if k.seen[i] == id {
			return false
		}
	}
	k.seen[k.n%len(k.seen)] = id
	k.n++
	return true
}
