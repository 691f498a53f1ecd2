package stream

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/counterdesk/counterdesk/telephony/media"
)

// Config describes the media of one call, as the SDP offer and answer
// negotiated it.
type Config struct {
	// Conn is the socket, from ListenRange. The Session owns it after
	// Start and closes it on Close.
	Conn *net.UDPConn
	// Remote is the address the peer's SDP gave for its media. When it
	// is nil, or its IP is unspecified or its port 0, the session latches
	// on to the address of the first RTP packet of a negotiated payload
	// type it receives (symmetric RTP, RFC 4961) and sends nothing before.
	Remote *net.UDPAddr
	// PayloadType is the audio payload type, media.PayloadTypePCMU (0) or
	// media.PayloadTypePCMA (8). The session sends it; it receives both,
	// since their meaning is fixed by RFC 3551.
	PayloadType uint8
	// EventType is the dynamic payload type the SDP mapped to
	// telephone-event/8000 (RFC 4733 section 7), commonly 101; 0 means
	// none was negotiated and DTMF is not received.
	EventType uint8
	// JitterFrames is the reorder window in 20 ms packets: a packet that
	// arrives ahead of a missing one waits for at most this many packets,
	// or this many times 20 ms plus 40 ms. 0 means DefaultJitterFrames;
	// it is capped at MaxJitterFrames.
	JitterFrames int
	// OnAudio receives the caller's audio in order, as 160-sample (20 ms)
	// frames, from one goroutine. Lost packets arrive as silence, so that
	// the frames keep real time. The slice is reused after OnAudio
	// returns. OnAudio must not call Close.
	OnAudio func(pcm []int16)
	// OnDTMF receives each key the caller presses, '0'-'9', '*', '#' or
	// 'A'-'D', once, from the same goroutine as OnAudio.
	OnDTMF func(digit byte)
	// Log receives the session's events; nil discards them.
	Log *slog.Logger
	// Now returns the time used for the jitter buffer's deadlines; nil
	// means time.Now.
	Now func() time.Time
}

// Stats counts what a session sent and received.
type Stats struct {
	// Received counts the RTP packets accepted from the peer: audio,
	// telephone-events and comfort noise, duplicates included.
	Received uint64
	// Duplicates counts packets received twice.
	Duplicates uint64
	// Late counts packets that arrived after their place in the stream
	// was passed over, or too far from the stream's sequence numbers to
	// be placed (RFC 3550 appendix A.1).
	Late uint64
	// Lost counts the packets that never arrived in time: their sequence
	// numbers were passed over.
	Lost uint64
	// SilenceFrames counts the 20 ms of silence inserted for lost
	// packets, silence suppression and discontinuities.
	SilenceFrames uint64
	// Frames counts the frames given to OnAudio.
	Frames uint64
	// Foreign counts packets ignored because they came from another
	// address than the peer's, or from a stream (SSRC) the peer replaced.
	Foreign uint64
	// Malformed counts datagrams that are not RTP version 2, that do not
	// parse, that are too big, and telephone-events shorter than 4 bytes.
	Malformed uint64
	// UnknownType counts packets of a payload type that was not
	// negotiated.
	UnknownType uint64
	// Digits counts the DTMF key presses received.
	Digits uint64
	// SSRCChanges counts the times the peer restarted its stream with a
	// new SSRC.
	SSRCChanges uint64
	// Resyncs counts jumps in the peer's sequence numbers or timestamps
	// that were followed without filling the gap.
	Resyncs uint64
	// Sent counts the packets sent.
	Sent uint64
	// SendErrors counts the packets the socket refused to send.
	SendErrors uint64
}

// remote is where the peer's media is. latch means it is not known yet.
type remote struct {
	addr  netip.AddrPort
	latch bool
}

func newRemote(a *net.UDPAddr) *remote {
	if a == nil || a.IP == nil || a.IP.IsUnspecified() || a.Port == 0 {
		return &remote{latch: true}
	}
	ap := a.AddrPort()
	return &remote{addr: netip.AddrPortFrom(ap.Addr().Unmap(), ap.Port())}
}

// Session is the RTP media of one call: a sender and a reader goroutine on
// one socket.
type Session struct {
	conn      *net.UDPConn
	log       *slog.Logger
	now       func() time.Time
	pt        uint8
	eventType uint8
	onAudio   func([]int16)
	onDTMF    func(byte)
	window    int

	remote atomic.Pointer[remote]
	c      counters

	// sendMu is held while a packet is built and sent, so that Hold
	// returns only when no packet is in flight.
	sendMu  sync.Mutex
	held    bool
	marker  bool
	seq     uint16
	ts0     uint32
	ssrc    uint32
	silence []byte // one frame of encoded silence
	plays   chan *playReq

	done      chan struct{}
	closeOnce sync.Once
	closeErr  error
	stopCtx   func() bool
	wg        sync.WaitGroup
}

// Start starts the media of a call on cfg.Conn. The session runs until
// Close is called or ctx ends; in both cases its goroutines stop, the socket
// is closed and the jitter buffer's remaining frames reach OnAudio. Start
// takes ownership of cfg.Conn, and closes it also when it fails.
func Start(ctx context.Context, cfg Config) (*Session, error) {
	if cfg.Conn == nil {
		return nil, fmt.Errorf("stream: start: no socket: %w", ErrConfig)
	}
	var silence []byte
	switch cfg.PayloadType {
	case media.PayloadTypePCMU:
		silence = media.AppendULaw(nil, make([]int16, FrameSamples))
	case media.PayloadTypePCMA:
		silence = media.AppendALaw(nil, make([]int16, FrameSamples))
	default:
		cfg.Conn.Close()
		return nil, fmt.Errorf("stream: start: audio payload type %d is neither PCMU (0) nor PCMA (8): %w", cfg.PayloadType, ErrConfig)
	}
	if cfg.EventType > 127 {
		cfg.Conn.Close()
		return nil, fmt.Errorf("stream: start: telephone-event payload type %d is not 7 bits: %w", cfg.EventType, ErrConfig)
	}
	s := &Session{
		conn:      cfg.Conn,
		log:       cfg.Log,
		now:       cfg.Now,
		pt:        cfg.PayloadType,
		eventType: cfg.EventType,
		onAudio:   cfg.OnAudio,
		onDTMF:    cfg.OnDTMF,
		window:    cfg.JitterFrames,
		marker:    true,
		// RFC 3550 section 5.1: the initial sequence number and
		// timestamp are random, and so is the SSRC (section 8).
		seq:     uint16(rand.Uint32()),
		ts0:     rand.Uint32(),
		ssrc:    rand.Uint32(),
		silence: silence,
		plays:   make(chan *playReq),
		done:    make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.log = s.log.With("local", cfg.Conn.LocalAddr().String(), "ssrc", s.ssrc)
	s.remote.Store(newRemote(cfg.Remote))
	s.wg.Add(2)
	go s.send()
	go s.read()
	s.stopCtx = context.AfterFunc(ctx, s.shutdown)
	return s, nil
}

// SetRemote moves the peer's media to addr, after a re-INVITE. A nil or
// unspecified addr latches on to the next packet's address again.
func (s *Session) SetRemote(addr *net.UDPAddr) {
	r := newRemote(addr)
	s.remote.Store(r)
	if r.latch {
		s.log.Info("rtp remote unset; latching on the next packet")
	} else {
		s.log.Info("rtp remote moved", "remote", r.addr.String())
	}
}

// Hold stops sending (on) or resumes it. When Hold returns, no packet is
// in flight and none is sent until Hold(false). Audio queued with Play
// waits while the call is held. The RTP clock keeps running, so the first
// packet after a hold carries the marker bit and a timestamp that has
// advanced by the length of the hold (RFC 3550 section 5.1).
func (s *Session) Hold(on bool) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	if s.held == on {
		return
	}
	s.held = on
	if !on {
		s.marker = true
	}
}

// Stats returns the session's counters so far. It may be called at any
// time, also after Close.
func (s *Session) Stats() Stats {
	return Stats{
		Received:      s.c.received.Load(),
		Duplicates:    s.c.duplicates.Load(),
		Late:          s.c.late.Load(),
		Lost:          s.c.lost.Load(),
		SilenceFrames: s.c.silenceSamples.Load() / FrameSamples,
		Frames:        s.c.deliveredFrames.Load(),
		Foreign:       s.c.foreign.Load(),
		Malformed:     s.c.malformed.Load(),
		UnknownType:   s.c.unknownType.Load(),
		Digits:        s.c.digits.Load(),
		SSRCChanges:   s.c.ssrcChanges.Load(),
		Resyncs:       s.c.resyncs.Load(),
		Sent:          s.c.sent.Load(),
		SendErrors:    s.c.sendFailures.Load(),
	}
}

// SSRC returns the synchronisation source of the packets the session sends.
func (s *Session) SSRC() uint32 { return s.ssrc }

// LocalAddr returns the address of the session's socket, for the SDP.
func (s *Session) LocalAddr() *net.UDPAddr {
	a, _ := s.conn.LocalAddr().(*net.UDPAddr)
	return a
}

// Done is closed when the session ends, by Close or by its context. The
// goroutines may still be finishing; Close waits for them.
func (s *Session) Done() <-chan struct{} { return s.done }

// Close ends the session: it stops both goroutines, closes the socket and
// delivers the frames left in the jitter buffer to OnAudio, and returns when
// all of that is done. It returns the error of closing the socket; calling
// it again returns the same.
func (s *Session) Close() error {
	s.stopCtx()
	s.shutdown()
	s.wg.Wait()
	return s.closeErr
}

// shutdown signals the goroutines to stop and closes the socket, which
// unblocks the reader. It does not wait.
func (s *Session) shutdown() {
	s.closeOnce.Do(func() {
		close(s.done)
		s.closeErr = s.conn.Close()
	})
}
