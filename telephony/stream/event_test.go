package stream

import (
	"errors"
	"testing"
)

func TestParseEvent(t *testing.T) {
	tests := []struct {
		name    string
		payload []byte
		want    Event
		digit   byte // 0: not a digit
		err     error
	}{
		{"digit 5 start", []byte{5, 10, 0, 0}, Event{Code: 5, Volume: 10}, '5', nil},
		{"digit 0 end", []byte{0, 0x80 | 10, 0x03, 0x20}, Event{Code: 0, End: true, Volume: 10, Duration: 800}, '0', nil},
		{"star", []byte{10, 0x80, 0, 160}, Event{Code: 10, End: true, Duration: 160}, '*', nil},
		{"pound", []byte{11, 63, 0xFF, 0xFF}, Event{Code: 11, Volume: 63, Duration: 65535}, '#', nil},
		{"A", []byte{12, 0x80, 1, 0}, Event{Code: 12, End: true, Duration: 256}, 'A', nil},
		{"D", []byte{15, 0x80, 1, 0}, Event{Code: 15, End: true, Duration: 256}, 'D', nil},
		{"flash is not a digit", []byte{16, 0x80, 1, 0}, Event{Code: 16, End: true, Duration: 256}, 0, nil},
		{"fax tone is not a digit", []byte{36, 0, 0, 8}, Event{Code: 36, Duration: 8}, 0, nil},
		{"reserved bit ignored", []byte{9, 0x80 | 0x40 | 7, 0, 80}, Event{Code: 9, End: true, Volume: 7, Duration: 80}, '9', nil},
		{"extra bytes ignored", []byte{1, 0x80, 0, 80, 2, 0x80, 0, 80}, Event{Code: 1, End: true, Duration: 80}, '1', nil},
		{"empty", nil, Event{}, 0, ErrShortEvent},
		{"three bytes", []byte{1, 0x80, 0}, Event{}, 0, ErrShortEvent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseEvent(tt.payload)
			if !errors.Is(err, tt.err) {
				t.Fatalf("error %v, want %v", err, tt.err)
			}
			if got != tt.want {
				t.Fatalf("event %+v, want %+v", got, tt.want)
			}
			if err != nil {
				return
			}
			d, ok := got.Digit()
			if ok != (tt.digit != 0) || d != tt.digit {
				t.Errorf("digit %q %v, want %q", d, ok, tt.digit)
			}
			// Append writes the block back, with the R bit cleared.
			back := got.Append(nil)
			want := append([]byte(nil), tt.payload[:4]...)
			want[1] &^= 0x40
			if string(back) != string(want) {
				t.Errorf("Append gives % x, want % x", back, want)
			}
		})
	}
}

// TestKeyPresses sends the packets of RFC 4733 section 2.5.1 for a few key
// presses: start and update packets, then the end packet three times, some
// of them out of order, and checks that each key is reported once.
func TestKeyPresses(t *testing.T) {
	type pkt struct {
		ssrc, ts uint32
		end      bool
	}
	press := func(ssrc, ts uint32) []pkt {
		return []pkt{{ssrc, ts, false}, {ssrc, ts, false}, {ssrc, ts, true}, {ssrc, ts, true}, {ssrc, ts, true}}
	}
	tests := []struct {
		name string
		pkts []pkt
		want int
	}{
		{"one press", press(1, 1000), 1},
		{"same digit twice", append(press(1, 1000), press(1, 2600)...), 2},
		{"end packets interleaved with the next press", []pkt{
			{1, 1000, true}, {1, 2600, false}, {1, 1000, true}, {1, 2600, true}, {1, 1000, true}, {1, 2600, true},
		}, 2},
		{"same timestamp from a new stream", append(press(1, 1000), press(2, 1000)...), 2},
		{"no end packet, no press", []pkt{{1, 1000, false}, {1, 1000, false}}, 0},
		{"ten presses", func() []pkt {
			var p []pkt
			for i := range 10 {
				p = append(p, press(1, uint32(i)*1600)...)
			}
			return p
		}(), 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var k keyPresses
			got := 0
			for _, p := range tt.pkts {
				if p.end && k.end(p.ssrc, p.ts) {
					got++
				}
			}
			if got != tt.want {
				t.Fatalf("%d presses, want %d", got, tt.want)
			}
		})
	}
}
