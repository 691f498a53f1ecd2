package stream

import (
	"encoding/binary"
	"log/slog"
	"net/netip"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/telephony/media"
)

// baselineCopy returns the time to copy one 172-byte RTP packet (12 bytes
// of header and 20 ms of G.711) into another buffer after writing its
// sequence number and timestamp, the least a receive path can do with a
// packet: the best of five batches, so that one descheduling does not move
// the ratio.
func baselineCopy(b *testing.B, pkt []byte) (nsPerPacket float64) {
	dst := make([]byte, len(pkt))
	const rounds = 200_000
	best := time.Duration(1<<63 - 1)
	for range 5 {
		start := time.Now()
		for i := range rounds {
			binary.BigEndian.PutUint16(pkt[2:], uint16(i))
			binary.BigEndian.PutUint32(pkt[4:], uint32(i)*FrameSamples)
			copy(dst, pkt)
		}
		best = min(best, time.Since(start))
	}
	if dst[len(dst)-1] != pkt[len(pkt)-1] {
		b.Fatal("copy lost bytes")
	}
	return float64(best.Nanoseconds()) / rounds
}

// BenchmarkReceive measures the reader's work for one packet of 20 ms:
// the address check, unmarshal, payload type, G.711 decode, and the jitter
// buffer up to the frame given to OnAudio. Besides ns/op it reports the
// ratio to copying the packet (x-copy, baseline measured in the same run)
// and the share of the 20 ms the packet lasts (x-realtime).
func BenchmarkReceive(b *testing.B) {
	for _, bc := range []struct {
		name string
		pt   uint8
		// reorder swaps the packets of each pair after the first and
		// drops one packet in 50.
		reorder bool
	}{
		{"pcmu-in-order", media.PayloadTypePCMU, false},
		{"pcma-in-order", media.PayloadTypePCMA, false},
		{"pcmu-swapped-pairs-2pct-loss", media.PayloadTypePCMU, true},
	} {
		b.Run(bc.name, func(b *testing.B) {
			peer := netip.MustParseAddrPort("192.0.2.10:4000")
			s := &Session{
				log:       slog.New(slog.DiscardHandler),
				now:       time.Now,
				pt:        bc.pt,
				eventType: 101,
			}
			s.remote.Store(&remote{addr: peer})
			var sum int
			rc := &receiver{
				s:   s,
				j:   newJitter(DefaultJitterFrames, func(pcm []int16) { sum += int(pcm[0]) }, &s.c),
				pcm: make([]int16, 0, maxDatagram),
			}
			pkt := marshal(b, bc.pt, 0, 0, 0x5eed, encode(bc.pt, tone(FrameSamples)))
			if len(pkt) != 172 {
				b.Fatalf("packet of %d bytes", len(pkt))
			}
			baseline := baselineCopy(b, pkt)
			number := func(i int) int { return i }
			if bc.reorder {
				number = func(i int) int {
					if i < 2 {
						return i // the first packet starts the stream
					}
					return i ^ 1
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				n := number(i)
				if bc.reorder && n%50 == 7 {
					continue // lost
				}
				binary.BigEndian.PutUint16(pkt[2:], uint16(n))
				binary.BigEndian.PutUint32(pkt[4:], uint32(n)*FrameSamples)
				rc.handle(pkt, peer)
			}
			b.StopTimer()
			if st := s.Stats(); st.Malformed+st.Late+st.Foreign != 0 || st.Frames == 0 && b.N > 10 {
				b.Fatalf("stats %+v", st)
			}
			per := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
			b.ReportMetric(baseline, "copy-ns/packet")
			b.ReportMetric(per/baseline, "x-copy")
			b.ReportMetric(per/float64(FrameDuration.Nanoseconds()), "x-realtime")
		})
	}
}
