package stream

import (
	"errors"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/internal/testvectors"
	"github.com/counterdesk/counterdesk/telephony/media"
)

// The input of FuzzJitter is a run of datagrams, each after a length byte.
// Two lengths are commands instead: fuzzTick advances the clock by 100 ms
// and fires the reader's deadline; fuzzSwap makes the datagrams that follow
// come from the other of two addresses, the peer's or a stranger's.
//
// An input whose first byte has the top bit set is read instead as 4-byte
// records that describe well-formed packets (see fuzzRecords), so that the
// fuzzer spends its time on the jitter buffer rather than on headers that
// do not parse.
const (
	fuzzTick = 0
	fuzzSwap = 1
)

// fuzzRecords turns the records of a structured FuzzJitter input into the
// datagram form. Each record is flags, sequence step, timestamp step and
// payload length. The flags: bit 0 picks SSRC 5 or 6, bit 1 sends from the
// stranger, bit 2 ticks before the packet, bit 3 makes it a
// telephone-event, bit 4 PCMA; bits 5-7 scale the timestamp step (in units
// of 80 samples) by 8 to their power, to reach discontinuities and wraps.
func fuzzRecords(t testing.TB, in []byte) []byte {
	var out []byte
	seq, ts := uint16(0), uint32(0)
	stranger := false
	audio := media.AppendULaw(nil, tone(255))
	for ; len(in) >= 4; in = in[4:] {
		flags, dseq, dts, n := in[0], int8(in[1]), int8(in[2]), int(in[3])
		if flags&4 != 0 {
			out = append(out, fuzzTick)
		}
		if s := flags&2 != 0; s != stranger {
			out = append(out, fuzzSwap)
			stranger = s
		}
		seq += uint16(dseq)
		ts += uint32(int32(dts)*80) << (3 * (flags >> 5))
		pt, payload := uint8(media.PayloadTypePCMU), audio[:min(n, 255-12)]
		switch {
		case flags&8 != 0:
			pt, payload = 101, Event{Code: uint8(n % 20), End: n&1 != 0, Duration: uint16(n) * 8}.Append(nil)
		case flags&16 != 0:
			pt = media.PayloadTypePCMA
		}
		d := marshal(t, pt, seq, ts, 5+uint32(flags&1), payload)
		out = append(append(out, byte(len(d))), d...)
	}
	return out
}

// fuzzStream builds a FuzzJitter input from datagrams; a nil datagram is a
// tick.
func fuzzStream(datagrams ...[]byte) []byte {
	var b []byte
	for _, d := range datagrams {
		if d == nil {
			b = append(b, fuzzTick)
			continue
		}
		b = append(append(b, byte(len(d))), d...)
	}
	return b
}

// fuzzSeeds returns seed inputs: streams built here, and the RTP seeds of
// the pjsip project's fuzzer, read from the shared corpus when it is there
// (they are GPL-2.0 and so not copied into this project; see
// testdata/README.md).
func fuzzSeeds(f *testing.F) [][]byte {
	pkt := func(pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
		return marshal(f, pt, seq, ts, ssrc, payload)
	}
	frame := media.AppendULaw(nil, tone(FrameSamples))
	seeds := [][]byte{
		fuzzStream(pkt(0, 1, 0, 5, frame), pkt(0, 3, 320, 5, frame), pkt(0, 2, 160, 5, frame), pkt(0, 2, 160, 5, frame)),
		fuzzStream(pkt(8, 65535, 1<<32-160, 5, frame[:80]), pkt(8, 0, 0, 5, frame[:80]), nil, pkt(8, 5, 9000, 5, frame[:80])),
		fuzzStream(pkt(0, 9, 0, 5, frame), pkt(101, 10, 160, 5, []byte{1, 0x80, 0, 160}), pkt(0, 11, 99999, 6, frame)),
		append([]byte{fuzzSwap}, fuzzStream(pkt(0, 1, 0, 5, frame), pkt(13, 2, 160, 5, []byte{40}))...),
		// Structured (the top bit of the first record's flags selects the
		// form, and scales that record's timestamp step): a swap, a loss,
		// a tick, an event, an SSRC change, a jump of 2^21 units.
		{0x80, 1, 2, 160, 0, 2, 4, 160, 0, 0xFF, 0xFE, 160, 0, 3, 6, 160, 4, 1, 2, 160, 8, 1, 0, 9, 1, 1, 2, 160, 0xE0, 1, 100, 160},
	}
	if shared := testvectors.Find(); shared != "" {
		dir := filepath.Join(shared, "pjsip-fuzz-seeds", "rtp")
		names, _ := filepath.Glob(filepath.Join(dir, "*.rtp"))
		for _, name := range names {
			if b, err := os.ReadFile(name); err == nil {
				seeds = append(seeds, b)
			}
		}
	}
	return seeds
}

// FuzzJitter feeds datagrams through the reader's path (address check,
// unmarshal, payload type, G.711 decode, telephone-events, jitter buffer)
// and checks that it never panics, delivers only 160-sample frames, keeps
// the stranger's datagrams out, and delivers no more audio than the
// datagrams and the bounded silence fills account for.
func FuzzJitter(f *testing.F) {
	for _, s := range fuzzSeeds(f) {
		f.Add(s)
	}
	peer := netip.MustParseAddrPort("192.0.2.10:4000")
	stranger := netip.MustParseAddrPort("198.51.100.7:4000")
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) > 0 && in[0]&0x80 != 0 {
			in = fuzzRecords(t, in)
		}
		clock := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
		s := &Session{
			log:       slog.New(slog.DiscardHandler),
			now:       func() time.Time { return clock },
			pt:        media.PayloadTypePCMU,
			eventType: 101,
		}
		s.remote.Store(&remote{addr: peer})
		var samples, frames int
		rc := &receiver{s: s}
		rc.j = newJitter(3, func(pcm []int16) {
			if len(pcm) != FrameSamples {
				t.Fatalf("frame of %d samples", len(pcm))
			}
			samples += len(pcm)
			frames++
		}, &s.c)
		from := peer
		var fromPeer, bound int
		for len(in) > 0 {
			n := int(in[0])
			in = in[1:]
			switch n {
			case fuzzTick:
				clock = clock.Add(100 * time.Millisecond)
				rc.j.expire(clock)
				continue
			case fuzzSwap:
				if from == peer {
					from = stranger
				} else {
					from = peer
				}
				continue
			}
			n = min(n, len(in))
			d := in[:n]
			in = in[n:]
			if from == peer {
				fromPeer++
				bound += n + maxGapSamples
			}
			clock = clock.Add(FrameDuration)
			rc.handle(d, from)
			if rc.j.pending > rc.j.window {
				t.Fatalf("%d packets pending in a window of %d", rc.j.pending, rc.j.window)
			}
		}
		rc.j.flush()
		st := s.Stats()
		if st.Received > uint64(fromPeer) {
			t.Fatalf("received %d packets, %d came from the peer", st.Received, fromPeer)
		}
		if samples > bound+FrameSamples {
			t.Fatalf("%d samples delivered, at most %d expected", samples, bound+FrameSamples)
		}
		if rc.j.pending != 0 || rc.j.fill != 0 {
			t.Fatalf("after flush: %d pending, %d samples in the frame", rc.j.pending, rc.j.fill)
		}
		if uint64(frames) != st.Frames {
			t.Fatalf("%d frames delivered, %d counted", frames, st.Frames)
		}
	})
}

// FuzzParseEvent checks that ParseEvent never panics, refuses exactly the
// payloads shorter than 4 bytes, and that Append writes back what it read.
func FuzzParseEvent(f *testing.F) {
	for _, s := range [][]byte{{}, {1}, {5, 10, 0, 0}, {11, 0xBF, 0xFF, 0xFF}, {16, 0x80, 1, 0, 7}} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := ParseEvent(b)
		if len(b) < eventSize {
			if !errors.Is(err, ErrShortEvent) {
				t.Fatalf("%d bytes: error %v", len(b), err)
			}
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Volume > 63 {
			t.Fatalf("volume %d", ev.Volume)
		}
		want := []byte{b[0], b[1] &^ 0x40, b[2], b[3]}
		if got := ev.Append(nil); string(got) != string(want) {
			t.Fatalf("Append % x, want % x", got, want)
		}
		if d, ok := ev.Digit(); ok != (ev.Code <= 15) || (ok && d == 0) {
			t.Fatalf("code %d: digit %q %v", ev.Code, d, ok)
		}
	})
}
