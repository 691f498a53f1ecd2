package stream

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/pion/rtp"
)

// maxSendLag is how far the sender may fall behind its schedule (the
// machine was suspended, or starved of CPU) before it gives up the missed
// slots instead of sending them in a burst.
const maxSendLag = 5 * FrameDuration

// playReq is one call to Play: samples the sender takes 160 at a time.
type playReq struct {
	mu        sync.Mutex
	pcm       []int16
	pos       int
	cancelled bool
	done      chan struct{}
}

// cancel stops the sender from reading the request's samples; when it
// returns, the caller may reuse them.
func (r *playReq) cancel() {
	r.mu.Lock()
	r.cancelled = true
	r.mu.Unlock()
}

// Play queues 8000 Hz samples to send after what earlier calls queued, and
// returns when all of them were sent, when ctx ends or when the session
// ends. The last frame is completed with silence. Play does not keep pcm
// after it returns. While the call is held, or while the peer's address is
// not known yet, the samples wait.
func (s *Session) Play(ctx context.Context, pcm []int16) error {
	select {
	case <-s.done:
		return ErrClosed
	default:
	}
	if len(pcm) == 0 {
		return nil
	}
	r := &playReq{pcm: pcm, done: make(chan struct{})}
	select {
	case s.plays <- r:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.done:
		return ErrClosed
	}
	select {
	case <-r.done:
		return nil
	case <-ctx.Done():
		r.cancel()
		return ctx.Err()
	case <-s.done:
		r.cancel()
		return ErrClosed
	}
}

// send is the sender goroutine. It sends frame n at start + n·20 ms, so
// that timer latency does not add up, and takes a new Play request only
// between frames.
func (s *Session) send() {
	defer s.wg.Done()
	var (
		cur   *playReq
		start = time.Now()
		n     = 0
		timer = time.NewTimer(0)
		buf   = make([]byte, 0, 12+FrameSamples)
		frame = make([]byte, 0, FrameSamples)
	)
	defer timer.Stop()
	for {
		var plays chan *playReq
		if cur == nil {
			plays = s.plays
		}
		select {
		case <-s.done:
			return
		case cur = <-plays:
			continue
		case <-timer.C:
		}
		if lag := time.Since(start.Add(time.Duration(n) * FrameDuration)); lag > maxSendLag {
			// Skip the missed slots: the RTP clock runs on, so the peer
			// sees a gap in the timestamps, not a burst.
			n += int(lag / FrameDuration)
		}
		cur, buf, frame = s.sendFrame(n, cur, buf, frame)
		n++
		timer.Reset(time.Until(start.Add(time.Duration(n) * FrameDuration)))
	}
}

// sendFrame sends the packet of slot n: the next 160 samples of cur, or
// silence. It returns the request still in progress, nil when cur was
// sent in full or cancelled.
func (s *Session) sendFrame(n int, cur *playReq, buf, frame []byte) (*playReq, []byte, []byte) {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	r := s.remote.Load()
	if s.held || r.latch {
		return cur, buf, frame
	}
	payload := s.silence
	finished := false
	if cur != nil {
		cur.mu.Lock()
		if cur.cancelled {
			cur.mu.Unlock()
			cur = nil
		} else {
			end := min(cur.pos+FrameSamples, len(cur.pcm))
			chunk := cur.pcm[cur.pos:end]
			cur.pos = end
			finished = end == len(cur.pcm)
			if s.pt == media.PayloadTypePCMA {
				frame = media.AppendALaw(frame[:0], chunk)
			} else {
				frame = media.AppendULaw(frame[:0], chunk)
			}
			cur.mu.Unlock()
			// Complete a short last frame with silence.
			frame = append(frame, s.silence[len(frame):]...)
			payload = frame
		}
	}
	h := rtp.Header{
		Version:        2,
		Marker:         s.marker,
		PayloadType:    s.pt,
		SequenceNumber: s.seq,
		Timestamp:      s.ts0 + uint32(n)*FrameSamples,
		SSRC:           s.ssrc,
	}
	size := h.MarshalSize() + len(payload)
	buf = slices.Grow(buf[:0], size)[:size]
	if _, err := rtp.MarshalPacketTo(buf, &h, payload); err != nil {
		// Cannot happen: buf has the packet's size.
		s.log.Error("rtp marshal", "err", err)
		return cur, buf, frame
	}
	s.seq++
	s.marker = false
	if _, err := s.conn.WriteToUDPAddrPort(buf, r.addr); err != nil {
		if s.closing() {
			// Close closed the socket under this packet.
			return cur, buf, frame
		}
		if s.c.sendFailures.Add(1) == 1 {
			s.log.Warn("rtp send failed", "remote", r.addr.String(), "err", err)
		}
	} else {
		s.c.sent.Add(1)
	}
	if finished {
		close(cur.done)
		cur = nil
	}
	return cur, buf, frame
}
