package stream

import (
	"errors"
	"net"
	"net/netip"
	"os"
	"time"

	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/pion/rtp"
)

const (
	// maxDatagram is the largest datagram read. A bigger one arrives cut
	// to this size and is counted Malformed; G.711 packets of up to 240
	// ms fit.
	maxDatagram = 2048
	// idleWait is how long a read waits when no packet is waiting in the
	// jitter buffer.
	idleWait = 250 * time.Millisecond
	// errorPause is how long the reader pauses after a read error that is
	// neither a timeout nor the socket's closing, so that a persistent
	// error does not spin.
	errorPause = 10 * time.Millisecond
	// payloadTypeCN is comfort noise, RFC 3389 section 4: static payload
	// type 13.
	payloadTypeCN = 13
)

// receiver is the state of the reader goroutine.
type receiver struct {
	s    *Session
	j    *jitter
	keys keyPresses
	pkt  rtp.Packet
	pcm  []int16
}

// read is the reader goroutine. Between packets it wakes at the jitter
// buffer's deadline, so that packets waiting for a missing one are released
// even when the peer stops sending; when the session ends it flushes the
// jitter buffer.
func (s *Session) read() {
	defer s.wg.Done()
	deliver := s.onAudio
	if deliver == nil {
		deliver = func([]int16) {}
	}
	rc := &receiver{
		s:   s,
		j:   newJitter(s.window, deliver, &s.c),
		pcm: make([]int16, 0, maxDatagram),
	}
	defer rc.j.flush()
	buf := make([]byte, maxDatagram)
	var lastErr string
	for {
		wait := idleWait
		if at, ok := rc.j.deadline(); ok {
			wait = min(max(at.Sub(s.now()), time.Millisecond), idleWait)
		}
		if err := s.conn.SetReadDeadline(time.Now().Add(wait)); err != nil && s.closing() {
			return
		}
		n, from, err := s.conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			switch {
			case s.closing() || errors.Is(err, net.ErrClosed):
				return
			case errors.Is(err, os.ErrDeadlineExceeded):
				rc.j.expire(s.now())
				continue
			}
			if msg := err.Error(); msg != lastErr {
				lastErr = msg
				s.log.Warn("rtp read failed", "err", err)
			}
			select {
			case <-s.done:
				return
			case <-time.After(errorPause):
			}
			continue
		}
		rc.handle(buf[:n], from)
		rc.j.expire(s.now())
	}
}

// closing reports whether the session is ending.
func (s *Session) closing() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// handle takes one datagram from the address from.
func (rc *receiver) handle(b []byte, from netip.AddrPort) {
	s := rc.s
	from = netip.AddrPortFrom(from.Addr().Unmap(), from.Port())
	r := s.remote.Load()
	if !r.latch && from != r.addr {
		s.c.foreign.Add(1)
		return
	}
	if len(b) == maxDatagram {
		s.c.malformed.Add(1)
		return
	}
	p := &rc.pkt
	if err := p.Unmarshal(b); err != nil || p.Version != 2 {
		s.c.malformed.Add(1)
		return
	}
	audio := p.PayloadType == media.PayloadTypePCMU || p.PayloadType == media.PayloadTypePCMA
	event := s.eventType != 0 && p.PayloadType == s.eventType
	if !audio && !event && p.PayloadType != payloadTypeCN {
		s.c.unknownType.Add(1)
		return
	}
	if r.latch {
		// Symmetric RTP (RFC 4961): the peer sends from where it
		// receives. Latch on the first packet of a negotiated type.
		if !s.remote.CompareAndSwap(r, &remote{addr: from}) {
			// SetRemote ran meanwhile; the next packet is judged by it.
			s.c.foreign.Add(1)
			return
		}
		s.log.Info("rtp remote latched", "remote", from.String())
	}
	in := packet{seq: p.SequenceNumber, ts: p.Timestamp, ssrc: p.SSRC}
	switch {
	case audio && p.PayloadType == media.PayloadTypePCMA:
		rc.pcm = media.AppendPCMFromALaw(rc.pcm[:0], p.Payload)
		in.pcm = rc.pcm
	case audio:
		rc.pcm = media.AppendPCMFromULaw(rc.pcm[:0], p.Payload)
		in.pcm = rc.pcm
	case event:
		ev, err := ParseEvent(p.Payload)
		if err != nil {
			s.c.malformed.Add(1)
			return
		}
		rc.event(ev, p.SSRC, p.Timestamp)
	}
	// Events and comfort noise take their place in the sequence with no
	// samples, so that they do not count as lost audio.
	s.c.received.Add(1)
	rc.j.push(s.now(), in)
}

// event reports a key press when its first end packet arrives.
func (rc *receiver) event(ev Event, ssrc, ts uint32) {
	digit, ok := ev.Digit()
	if !ok || !ev.End || !rc.keys.end(ssrc, ts) {
		return
	}
	rc.s.c.digits.Add(1)
	if rc.s.onDTMF != nil {
		rc.s.onDTMF(digit)
	}
}
