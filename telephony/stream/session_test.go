package stream

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"math"
	"net"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/pion/rtp"
)

// waitTimeout bounds every wait for something a goroutine does: generous,
// since a loaded 2-core machine running -race can stall for a while.
const waitTimeout = 20 * time.Second

// waitFor polls cond until it holds, and fails the test after waitTimeout.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// udp opens a socket on the loopback interface.
func udp(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func addrOf(c *net.UDPConn) *net.UDPAddr { return c.LocalAddr().(*net.UDPAddr) }

// tone returns n samples of a 440 Hz sine at a third of full scale.
func tone(n int) []int16 {
	pcm := make([]int16, n)
	for i := range pcm {
		pcm[i] = int16(10000 * math.Sin(2*math.Pi*440*float64(i)/media.ClockRate))
	}
	return pcm
}

// encode encodes pcm with the law of the payload type pt.
func encode(pt uint8, pcm []int16) []byte {
	if pt == media.PayloadTypePCMA {
		return media.AppendALaw(nil, pcm)
	}
	return media.AppendULaw(nil, pcm)
}

// decode decodes a payload of the payload type pt.
func decode(pt uint8, b []byte) []int16 {
	if pt == media.PayloadTypePCMA {
		return media.AppendPCMFromALaw(nil, b)
	}
	return media.AppendPCMFromULaw(nil, b)
}

// marshal builds an RTP packet.
func marshal(t testing.TB, pt uint8, seq uint16, ts, ssrc uint32, payload []byte) []byte {
	t.Helper()
	b, err := (&rtp.Packet{
		Header:  rtp.Header{Version: 2, PayloadType: pt, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc},
		Payload: payload,
	}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sink collects what a session delivers, for checking from the test.
type sink struct {
	mu     sync.Mutex
	frames [][]int16
	digits []byte
}

func (k *sink) audio(pcm []int16) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.frames = append(k.frames, slices.Clone(pcm))
}

func (k *sink) dtmf(d byte) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.digits = append(k.digits, d)
}

func (k *sink) snapshot() ([][]int16, string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.frames), string(k.digits)
}

// start starts a session on a loopback socket with the sink's callbacks.
func start(t *testing.T, cfg Config, k *sink) *Session {
	t.Helper()
	if cfg.Conn == nil {
		cfg.Conn = udp(t)
	}
	if k != nil {
		cfg.OnAudio, cfg.OnDTMF = k.audio, k.dtmf
	}
	cfg.Log = slog.New(slog.DiscardHandler)
	s, err := Start(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestSessionReceive sends 50 packets of a tone to a session, with a pair
// swapped, one duplicated and two dropped, while a stranger floods the
// session's port, and checks the frames OnAudio receives.
func TestSessionReceive(t *testing.T) {
	tests := []struct {
		name  string
		pt    uint8
		latch bool // Config.Remote is nil: latch on the first packet
		flood bool
	}{
		{"PCMU", media.PayloadTypePCMU, false, false},
		{"PCMA", media.PayloadTypePCMA, false, false},
		{"PCMU with a flood", media.PayloadTypePCMU, false, true},
		{"PCMA latching", media.PayloadTypePCMA, true, false},
		{"PCMU latching with a flood", media.PayloadTypePCMU, true, true},
	}
	const (
		frames = 50
		ssrc   = 0x1234abcd
		seq0   = 65500 // wraps during the call
		ts0    = 1<<32 - 3000
		floodN = 4 // stranger packets per packet of the peer
	)
	pcm := tone(frames * FrameSamples)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			peer, stranger := udp(t), udp(t)
			var k sink
			cfg := Config{PayloadType: tt.pt, EventType: 101}
			if !tt.latch {
				cfg.Remote = addrOf(peer)
			}
			s := start(t, cfg, &k)
			to := s.LocalAddr()

			// The order the peer sends in: 11 before 10, 20 twice, no 30
			// and 31.
			var order []int
			for i := range frames {
				switch i {
				case 10:
					order = append(order, 11, 10)
				case 11, 30, 31:
				case 20:
					order = append(order, 20, 20)
				default:
					order = append(order, i)
				}
			}
			loud := bytes.Repeat([]byte{0x80}, FrameSamples) // near full scale in both laws
			var sent, flooded uint64
			for n, i := range order {
				payload := encode(tt.pt, pcm[i*FrameSamples:(i+1)*FrameSamples])
				if _, err := peer.WriteToUDP(marshal(t, tt.pt, seq0+uint16(i), ts0+uint32(i*FrameSamples), ssrc, payload), to); err != nil {
					t.Fatal(err)
				}
				sent++
				if tt.flood && (!tt.latch || n > 0) {
					// The stranger copies the peer's SSRC and numbers.
					for f := range floodN {
						b := marshal(t, tt.pt, seq0+uint16(i+f), ts0+uint32((i+f)*FrameSamples), ssrc, loud)
						if _, err := stranger.WriteToUDP(b, to); err != nil {
							t.Fatal(err)
						}
						flooded++
					}
				}
				if n == 0 || n%8 == 7 {
					// Let the reader catch up, so that no socket buffer
					// overflows however slow the machine.
					waitFor(t, "the session to read the packets", func() bool {
						st := s.Stats()
						return st.Received == sent && st.Foreign == flooded
					})
				}
			}
			waitFor(t, "every packet", func() bool {
				st := s.Stats()
				return st.Received == sent && st.Foreign == flooded
			})
			waitFor(t, "50 frames", func() bool { return s.Stats().Frames == frames })
			waitFor(t, "the session to send", func() bool { return s.Stats().Sent > 0 })
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}

			got, _ := k.snapshot()
			if len(got) != frames {
				t.Fatalf("%d frames, want %d", len(got), frames)
			}
			for i, f := range got {
				want := decode(tt.pt, encode(tt.pt, pcm[i*FrameSamples:(i+1)*FrameSamples]))
				if i == 30 || i == 31 {
					want = make([]int16, FrameSamples)
				}
				if !slices.Equal(f, want) {
					t.Fatalf("frame %d differs: % d…, want % d…", i, f[:8], want[:8])
				}
			}
			st := s.Stats()
			want := Stats{
				Received: sent, Duplicates: 1, Lost: 2, SilenceFrames: 2, Frames: frames,
				Foreign: flooded, Sent: st.Sent,
			}
			if st != want {
				t.Errorf("stats %+v\nwant  %+v", st, want)
			}
		})
	}
}

// TestSessionEventsAndJunk sends DTMF between audio packets, and datagrams
// that are not what the session negotiated.
func TestSessionEventsAndJunk(t *testing.T) {
	peer := udp(t)
	var k sink
	s := start(t, Config{Remote: addrOf(peer), PayloadType: media.PayloadTypePCMU, EventType: 101}, &k)
	to := s.LocalAddr()
	const ssrc = 77
	seq, ts := uint16(1), uint32(0)
	var count uint64
	sendRaw := func(b []byte) {
		t.Helper()
		if _, err := peer.WriteToUDP(b, to); err != nil {
			t.Fatal(err)
		}
		count++
		waitFor(t, "the session to read the datagram", func() bool {
			st := s.Stats()
			return st.Received+st.Malformed+st.UnknownType == count
		})
	}
	audio := func(n int) {
		for range n {
			sendRaw(marshal(t, 0, seq, ts, ssrc, encode(0, tone(FrameSamples))))
			seq++
			ts += FrameSamples
		}
	}
	// press sends the packets of one key press as RFC 4733 section 2.5
	// describes: updates every 20 ms, the end packet three times, all with
	// the timestamp of the event's start.
	press := func(code uint8) {
		for d := uint16(160); d <= 480; d += 160 {
			sendRaw(marshal(t, 101, seq, ts, ssrc, Event{Code: code, Volume: 10, Duration: d}.Append(nil)))
			seq++
		}
		for range 3 {
			sendRaw(marshal(t, 101, seq, ts, ssrc, Event{Code: code, End: true, Volume: 10, Duration: 640}.Append(nil)))
			seq++
		}
		ts += 640
	}
	audio(3)
	press(7)
	audio(2)
	press(11)
	press(11)
	audio(2)
	sendRaw([]byte("not RTP at all"))
	v1 := marshal(t, 0, seq, ts, ssrc, encode(0, tone(FrameSamples)))
	v1[0] = v1[0]&0x3F | 1<<6
	sendRaw(v1)
	sendRaw(marshal(t, 101, seq, ts, ssrc, []byte{1, 0x80})) // a short event
	sendRaw(marshal(t, 96, seq, ts, ssrc, []byte{1, 2, 3}))  // not negotiated
	sendRaw(make([]byte, maxDatagram+100))                   // cut by the socket
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	frames, digits := k.snapshot()
	if digits != "7##" {
		t.Errorf("digits %q, want %q", digits, "7##")
	}
	st := s.Stats()
	if st.Lost != 0 || st.Late != 0 || st.Duplicates != 0 || st.Malformed != 4 || st.UnknownType != 1 || st.Digits != 3 {
		t.Errorf("stats %+v", st)
	}
	// 7 audio frames and 3 × 640 samples of key presses, which the
	// timestamps say are silence.
	if want := 7 + 3*640/FrameSamples; len(frames) != want {
		t.Errorf("%d frames, want %d", len(frames), want)
	}
}

// TestSessionPlay plays a tone and checks the packets a peer receives.
func TestSessionPlay(t *testing.T) {
	for _, pt := range []uint8{media.PayloadTypePCMU, media.PayloadTypePCMA} {
		t.Run(map[uint8]string{0: "PCMU", 8: "PCMA"}[pt], func(t *testing.T) {
			peer := udp(t)
			s := start(t, Config{Remote: addrOf(peer), PayloadType: pt}, nil)
			rec := receive(t, peer)

			const n = 10*FrameSamples + 40 // the last frame is padded
			pcm := tone(n)
			if err := s.Play(t.Context(), pcm); err != nil {
				t.Fatal(err)
			}
			sent := s.Stats().Sent
			waitFor(t, "the peer to receive every packet", func() bool { return uint64(len(rec.packets())) >= sent })
			pkts := rec.packets()

			silence := encode(pt, make([]int16, FrameSamples))
			for i, p := range pkts {
				if p.Version != 2 || p.PayloadType != pt || p.SSRC != s.SSRC() || len(p.Payload) != FrameSamples {
					t.Fatalf("packet %d: %v", i, p)
				}
				if p.Marker != (i == 0) {
					t.Errorf("packet %d: marker %v", i, p.Marker)
				}
				if i == 0 {
					continue
				}
				prev := pkts[i-1]
				if p.SequenceNumber != prev.SequenceNumber+1 {
					t.Errorf("packet %d: sequence %d after %d", i, p.SequenceNumber, prev.SequenceNumber)
				}
				// +160 per packet; a multiple of it if the machine stalled
				// the sender for more than 100 ms.
				if d := p.Timestamp - prev.Timestamp; d == 0 || d%FrameSamples != 0 {
					t.Errorf("packet %d: timestamp %d after %d", i, p.Timestamp, prev.Timestamp)
				}
			}
			first := slices.IndexFunc(pkts, func(p rtp.Packet) bool { return !bytes.Equal(p.Payload, silence) })
			if first < 0 || first+11 > len(pkts) {
				t.Fatalf("the tone is not in the %d packets (starts at %d)", len(pkts), first)
			}
			// What was played, padded to whole frames, through G.711.
			want := decode(pt, encode(pt, append(slices.Clone(pcm), make([]int16, FrameSamples-40)...)))
			var got []int16
			for _, p := range pkts[first : first+11] {
				got = append(got, decode(pt, p.Payload)...)
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("sample %d is %d, want %d (played %d)", i, got[i], want[i], pcm[min(i, n-1)])
				}
			}
			for _, p := range pkts[first+11:] {
				if !bytes.Equal(p.Payload, silence) {
					t.Fatal("audio after what was played")
				}
			}
		})
	}
}

// TestSessionHold holds the call, checks that nothing is sent, and resumes.
func TestSessionHold(t *testing.T) {
	peer := udp(t)
	s := start(t, Config{Remote: addrOf(peer), PayloadType: media.PayloadTypePCMU}, nil)
	rec := receive(t, peer)
	waitFor(t, "a few packets", func() bool { return len(rec.packets()) >= 3 })

	s.Hold(true)
	held := s.Stats().Sent
	waitFor(t, "the peer to receive what was sent", func() bool { return uint64(len(rec.packets())) >= held })
	time.Sleep(200 * time.Millisecond)
	if got := s.Stats().Sent; got != held {
		t.Fatalf("sent %d packets on hold", got-held)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	if err := s.Play(ctx, tone(FrameSamples)); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Play on hold: %v, want the context's end", err)
	}

	s.Hold(false)
	waitFor(t, "a packet after the hold", func() bool { return uint64(len(rec.packets())) > held })
	pkts := rec.packets()
	before, after := pkts[held-1], pkts[held]
	if !after.Marker || after.SequenceNumber != before.SequenceNumber+1 {
		t.Fatalf("after the hold: marker %v, sequence %d after %d", after.Marker, after.SequenceNumber, before.SequenceNumber)
	}
	// The RTP clock ran on during the 200 ms hold.
	if d := after.Timestamp - before.Timestamp; d < 2*FrameSamples || d%FrameSamples != 0 {
		t.Fatalf("timestamp advanced by %d over the hold", d)
	}
}

// TestSendFrame drives the sender's packet building directly, so that the
// numbers can be checked exactly: sequence and timestamp wrap, the marker
// bit on the first packet and after a hold, the padded last frame.
func TestSendFrame(t *testing.T) {
	peer := udp(t)
	conn := udp(t)
	s := &Session{
		conn: conn, log: slog.New(slog.DiscardHandler), pt: media.PayloadTypePCMA, marker: true,
		seq: 65534, ts0: 1<<32 - 320, ssrc: 0xdeadbeef,
		silence: encode(media.PayloadTypePCMA, make([]int16, FrameSamples)),
	}
	s.remote.Store(newRemote(addrOf(peer)))
	pcm := tone(200)
	req := &playReq{pcm: pcm, done: make(chan struct{})}
	var buf, frame []byte
	var cur *playReq
	for n := range 13 {
		switch n {
		case 3:
			s.Hold(true)
		case 10:
			s.Hold(false)
			cur = req
		}
		cur, buf, frame = s.sendFrame(n, cur, buf, frame)
	}
	select {
	case <-req.done:
	default:
		t.Fatal("the play request is not done")
	}
	want := []struct {
		seq     uint16
		ts      uint32
		marker  bool
		payload []int16
	}{
		{65534, 1<<32 - 320, true, make([]int16, 160)},
		{65535, 1<<32 - 160, false, make([]int16, 160)},
		{0, 0, false, make([]int16, 160)},
		{1, 1600 - 320, true, pcm[:160]},
		{2, 1760 - 320, false, append(slices.Clone(pcm[160:]), make([]int16, 120)...)},
		{3, 1920 - 320, false, make([]int16, 160)},
	}
	rec := receive(t, peer)
	waitFor(t, "the packets", func() bool { return len(rec.packets()) >= len(want) })
	for i, p := range rec.packets() {
		w := want[i]
		if p.SequenceNumber != w.seq || p.Timestamp != w.ts || p.Marker != w.marker || p.SSRC != 0xdeadbeef || p.PayloadType != 8 {
			t.Errorf("packet %d: seq %d ts %d marker %v ssrc %x pt %d, want seq %d ts %d marker %v",
				i, p.SequenceNumber, p.Timestamp, p.Marker, p.SSRC, p.PayloadType, w.seq, w.ts, w.marker)
		}
		if got, want := p.Payload, encode(8, w.payload); !bytes.Equal(got, want) {
			t.Errorf("packet %d: payload % x…, want % x…", i, got[:8], want[:8])
		}
	}
	if got := s.Stats().Sent; got != uint64(len(want)) {
		t.Errorf("Sent %d, want %d", got, len(want))
	}
}

// peerReceiver collects the RTP packets a peer socket receives.
type peerReceiver struct {
	mu   sync.Mutex
	pkts []rtp.Packet
}

func (r *peerReceiver) packets() []rtp.Packet {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.pkts)
}

// receive reads RTP packets from c until the test ends.
func receive(t *testing.T, c *net.UDPConn) *peerReceiver {
	r := &peerReceiver{}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFromUDP(buf)
			if err != nil {
				return
			}
			var p rtp.Packet
			if err := p.Unmarshal(slices.Clone(buf[:n])); err != nil {
				continue
			}
			r.mu.Lock()
			r.pkts = append(r.pkts, p)
			r.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		c.Close()
		<-done
	})
	return r
}

// TestSessionSetRemote moves the media to another address, as a re-INVITE
// does.
func TestSessionSetRemote(t *testing.T) {
	a, b := udp(t), udp(t)
	s := start(t, Config{Remote: addrOf(a), PayloadType: media.PayloadTypePCMU}, nil)
	to := s.LocalAddr()
	pkt := func(seq uint16) []byte { return marshal(t, 0, seq, uint32(seq)*160, 5, encode(0, tone(160))) }

	b.WriteToUDP(pkt(1), to)
	waitFor(t, "b counted foreign", func() bool { return s.Stats().Foreign == 1 })
	s.SetRemote(addrOf(b))
	rec := receive(t, b)
	waitFor(t, "packets sent to b", func() bool { return len(rec.packets()) > 0 })
	b.WriteToUDP(pkt(2), to)
	waitFor(t, "b accepted", func() bool { return s.Stats().Received == 1 })
	a.WriteToUDP(pkt(3), to)
	waitFor(t, "a counted foreign", func() bool { return s.Stats().Foreign == 2 })

	// Unset: latch again, on c.
	c := udp(t)
	s.SetRemote(nil)
	c.WriteToUDP(pkt(4), to)
	waitFor(t, "c latched", func() bool { return s.Stats().Received == 2 })
	b.WriteToUDP(pkt(5), to)
	waitFor(t, "b counted foreign", func() bool { return s.Stats().Foreign == 3 })
}

// TestSessionClose checks that Close delivers what waits in the jitter
// buffer, is idempotent, and that the session refuses work afterwards; and
// that the end of Start's context ends the session too.
func TestSessionClose(t *testing.T) {
	peer := udp(t)
	var k sink
	s := start(t, Config{Remote: addrOf(peer), PayloadType: media.PayloadTypePCMU, JitterFrames: 50}, &k)
	to := s.LocalAddr()
	peer.WriteToUDP(marshal(t, 0, 10, 1600, 9, encode(0, tone(160))), to)
	peer.WriteToUDP(marshal(t, 0, 12, 1920, 9, encode(0, tone(160))), to) // waits for 11, for up to a second
	waitFor(t, "two packets", func() bool { return s.Stats().Received == 2 })
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if frames, _ := k.snapshot(); len(frames) != 3 || !slices.Equal(frames[1], make([]int16, 160)) {
		t.Fatalf("%d frames after Close, want 3 with silence in the middle", len(frames))
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if err := s.Play(t.Context(), tone(160)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Play after Close: %v", err)
	}
	select {
	case <-s.Done():
	default:
		t.Fatal("Done not closed")
	}

	ctx, cancel := context.WithCancel(t.Context())
	s2, err := Start(ctx, Config{Conn: udp(t), Remote: addrOf(peer), PayloadType: media.PayloadTypePCMA})
	if err != nil {
		t.Fatal(err)
	}
	played := make(chan error, 1)
	go func() { played <- s2.Play(t.Context(), tone(8000*60)) }()
	cancel()
	<-s2.Done()
	if err := <-played; !errors.Is(err, ErrClosed) {
		t.Fatalf("Play when the context ended: %v", err)
	}
	s2.Close()
}

func TestStartConfig(t *testing.T) {
	for _, tt := range []struct {
		name string
		cfg  Config
	}{
		{"no socket", Config{PayloadType: 0}},
		{"G.722", Config{Conn: udp(t), PayloadType: 9}},
		{"event type above 127", Config{Conn: udp(t), PayloadType: 0, EventType: 200}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Start(t.Context(), tt.cfg); !errors.Is(err, ErrConfig) {
				t.Fatalf("error %v, want ErrConfig", err)
			}
		})
	}
}

// TestSessionGoroutines starts sessions, ends them every way there is, with
// a Play in progress, and checks that no goroutine of theirs remains.
func TestSessionGoroutines(t *testing.T) {
	peer := udp(t)
	receive(t, peer)
	baseline := runtime.NumGoroutine()
	for i := range 6 {
		ctx, cancel := context.WithCancel(context.Background())
		var remote *net.UDPAddr
		if i%2 == 0 {
			remote = addrOf(peer)
		}
		conn, err := ListenRange(net.IPv4(127, 0, 0, 1), 30000, 39999)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Start(ctx, Config{Conn: conn, Remote: remote, PayloadType: media.PayloadTypePCMU, OnAudio: func([]int16) {}})
		if err != nil {
			t.Fatal(err)
		}
		playing := make(chan error, 1)
		go func() { playing <- s.Play(context.Background(), tone(8000)) }()
		switch i % 3 {
		case 0:
			s.Close()
		case 1:
			cancel()
			<-s.Done()
		case 2:
			cancel()
			s.Close()
			s.Close()
		}
		if err := <-playing; !errors.Is(err, ErrClosed) {
			t.Errorf("session %d: Play returned %v", i, err)
		}
		cancel()
	}
	deadline := time.Now().Add(waitTimeout)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
