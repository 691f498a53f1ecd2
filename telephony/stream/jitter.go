package stream

import (
	"sync/atomic"
	"time"

	"github.com/counterdesk/counterdesk/telephony/media"
)

const (
	// FrameSamples is the number of samples in the 20 ms frames OnAudio
	// receives and Play sends: 20 ms at 8000 Hz.
	FrameSamples = media.ClockRate / 50
	// FrameDuration is the duration of one frame.
	FrameDuration = 20 * time.Millisecond

	// DefaultJitterFrames is the reorder window when Config.JitterFrames
	// is 0.
	DefaultJitterFrames = 3
	// MaxJitterFrames bounds Config.JitterFrames (one second).
	MaxJitterFrames = 50

	// maxGapSamples is the longest timestamp gap filled with silence:
	// two seconds. A longer jump is a discontinuity (the peer's clock
	// restarted, or it stopped sending while it held the call).
	maxGapSamples = 2 * media.ClockRate
	// maxDropout and maxMisorder are the sequence number limits of RFC
	// 3550 appendix A.1: a packet more than maxDropout ahead of the
	// stream, or more than maxMisorder behind it, is not placed unless the
	// next packet confirms the jump.
	maxDropout  = 3000
	maxMisorder = 100
	// waitSlack is added to the reorder window's length to give the time
	// a packet waits for a missing one before the gap is passed over.
	waitSlack = 40 * time.Millisecond
	// maxSkipped bounds the count of packets lost since the last audio
	// packet, which sizes the fill at a discontinuity.
	maxSkipped = 1 << 16
)

// counters are the statistics of a session. The reader and the jitter
// buffer add to them; Stats reads them from any goroutine.
type counters struct {
	received, duplicates, late, lost atomic.Uint64
	foreign, malformed, unknownType  atomic.Uint64
	sent, sendFailures, digits       atomic.Uint64
	ssrcChanges, resyncs             atomic.Uint64
	silenceSamples, deliveredFrames  atomic.Uint64
}

// packet is what the jitter buffer needs of an RTP packet. pcm is only
// borrowed for the duration of push. A packet without samples (a
// telephone-event, comfort noise, an empty payload) takes its place in the
// sequence and plays nothing.
type packet struct {
	seq  uint16
	ts   uint32
	ssrc uint32
	pcm  []int16
}

// slot holds a packet that arrived ahead of a missing one.
type slot struct {
	used bool
	ext  uint64
	ts   uint32
	at   time.Time
	pcm  []int16
}

// jitter puts the packets of one RTP stream back in order and turns them
// into 160-sample frames. A packet that follows the last one played is
// played at once; one that arrives ahead of a missing packet waits, at most
// window packets and maxWait, for the gap to fill. Once the gap is passed
// over, the missing packet is Lost and, if it turns up after all, Late.
//
// Silence fills the time that no packet covers, measured by RTP timestamps
// (RFC 3550 section 5.1), so that loss and silence suppression keep the
// recording in real time; a jump of more than two seconds is treated as a
// discontinuity and filled with no more than the window's length.
//
// jitter is used by one goroutine; only its counters are shared.
type jitter struct {
	window  int
	maxWait time.Duration
	deliver func([]int16)
	c       *counters

	started  bool
	ssrc     uint32
	prevSSRC uint32
	hasPrev  bool

	// next is the extended sequence number (RFC 3550 appendix A.1) of the
	// next packet to play; extended numbers start at 1<<32 so that
	// arithmetic near the start never goes below zero.
	next uint64
	// played has bit k set when packet next-1-k was played (not passed
	// over), to tell a duplicate from a late packet.
	played uint64
	slots  []slot // indexed by extended sequence number modulo window
	// pending counts the used slots.
	pending int

	probing  bool
	probeSeq uint16

	tsValid bool
	nextTS  uint32 // timestamp of the sample after the last one played
	lastLen int    // samples in the last audio packet played
	skipped int    // packets passed over since the last audio packet

	frame []int16
	fill  int
}

// newJitter returns a jitter buffer with a reorder window of window packets
// (0 means DefaultJitterFrames) that calls deliver with each 160-sample
// frame; deliver must not keep the slice.
func newJitter(window int, deliver func([]int16), c *counters) *jitter {
	if window <= 0 {
		window = DefaultJitterFrames
	}
	window = min(window, MaxJitterFrames)
	if c == nil {
		c = new(counters)
	}
	return &jitter{
		window:  window,
		maxWait: time.Duration(window)*FrameDuration + waitSlack,
		deliver: deliver,
		c:       c,
		slots:   make([]slot, window),
		frame:   make([]int16, FrameSamples),
	}
}

// push takes one packet that arrived at now.
func (j *jitter) push(now time.Time, p packet) {
	switch {
	case !j.started:
		j.begin(p.seq, p.ssrc)
	case p.ssrc != j.ssrc:
		if j.hasPrev && p.ssrc == j.prevSSRC {
			// A straggler of the stream the peer replaced.
			j.c.foreign.Add(1)
			return
		}
		// The peer restarted its stream (RFC 3550 section 8.2): play what
		// the old one left, and start over without a silence fill.
		j.drain()
		j.prevSSRC, j.hasPrev = j.ssrc, true
		j.c.ssrcChanges.Add(1)
		j.begin(p.seq, p.ssrc)
		j.tsValid = false
	}

	d := p.seq - uint16(j.next)
	switch {
	case d < maxDropout:
		j.probing = false
	case d > 1<<16-maxMisorder:
		j.behind(uint64(-d))
		return
	case j.probing && p.seq == j.probeSeq+1:
		// Two packets in sequence far from the stream: the peer jumped
		// (RFC 3550 appendix A.1). Resynchronise on them.
		j.drain()
		j.begin(p.seq, p.ssrc)
		j.tsValid = false
		j.c.resyncs.Add(1)
		d = 0
	default:
		j.probing, j.probeSeq = true, p.seq
		j.c.late.Add(1)
		return
	}

	ext := j.next + uint64(d)
	if ext-j.next > uint64(j.window) {
		// The window is full: pass over the gaps in front of it.
		j.passTo(ext - uint64(j.window))
	}
	if ext == j.next {
		j.play(p.ts, p.pcm)
		j.advance(true)
		j.release()
		return
	}
	s := &j.slots[ext%uint64(j.window)]
	if s.used {
		// Only the same packet can hold the slot: the window spans
		// exactly one packet per slot.
		j.c.duplicates.Add(1)
		return
	}
	s.used, s.ext, s.ts, s.at = true, ext, p.ts, now
	s.pcm = append(s.pcm[:0], p.pcm...)
	j.pending++
}

// begin starts a new stream at seq.
func (j *jitter) begin(seq uint16, ssrc uint32) {
	j.started = true
	j.ssrc = ssrc
	j.next = 1<<32 | uint64(seq)
	j.played = 0
	j.probing = false
}

// behind handles a packet k places before the next one to play: a
// duplicate if it was played, late otherwise.
func (j *jitter) behind(k uint64) {
	if k <= 64 && j.played&(1<<(k-1)) != 0 {
		j.c.duplicates.Add(1)
		return
	}
	j.c.late.Add(1)
}

// advance moves past the next packet, played or passed over.
func (j *jitter) advance(played bool) {
	j.next++
	j.played <<= 1
	if played {
		j.played |= 1
	} else {
		j.c.lost.Add(1)
		j.skipped = min(j.skipped+1, maxSkipped)
	}
}

// step plays the next packet if it is there and passes over it otherwise.
func (j *jitter) step() {
	s := &j.slots[j.next%uint64(j.window)]
	if s.used && s.ext == j.next {
		j.play(s.ts, s.pcm)
		s.used = false
		j.pending--
		j.advance(true)
		return
	}
	j.advance(false)
}

// release plays the packets that follow the last one played without a gap.
func (j *jitter) release() {
	for j.pending > 0 {
		s := &j.slots[j.next%uint64(j.window)]
		if !s.used || s.ext != j.next {
			return
		}
		j.step()
	}
}

// passTo plays or passes over every packet before target, then releases
// what follows without a gap.
func (j *jitter) passTo(target uint64) {
	for j.next < target {
		if j.pending == 0 {
			n := target - j.next
			j.c.lost.Add(n)
			j.skipped = int(min(uint64(j.skipped)+n, maxSkipped))
			if n >= 64 {
				j.played = 0
			} else {
				j.played <<= n
			}
			j.next = target
			break
		}
		j.step()
	}
	j.release()
}

// drain plays every waiting packet, passing over the gaps between them.
func (j *jitter) drain() {
	for j.pending > 0 {
		j.step()
	}
}

// expire passes over the gaps in front of every packet that has waited
// maxWait or longer: the peer stopped sending, or the missing packet is
// lost.
func (j *jitter) expire(now time.Time) {
	var target uint64
	for i := range j.slots {
		s := &j.slots[i]
		if s.used && now.Sub(s.at) >= j.maxWait && s.ext >= target {
			target = s.ext + 1
		}
	}
	if target != 0 {
		j.passTo(target)
	}
}

// deadline returns when expire has work to do, if a packet is waiting.
func (j *jitter) deadline() (time.Time, bool) {
	var first time.Time
	found := false
	for i := range j.slots {
		s := &j.slots[i]
		if s.used && (!found || s.at.Before(first)) {
			first, found = s.at, true
		}
	}
	return first.Add(j.maxWait), found
}

// flush plays every waiting packet and delivers the last partial frame,
// completed with silence.
func (j *jitter) flush() {
	j.drain()
	if j.fill > 0 {
		clear(j.frame[j.fill:])
		j.fill = 0
		j.emitFrame()
	}
}

// play plays one packet: the silence its timestamp says is missing before
// it, then its samples.
func (j *jitter) play(ts uint32, pcm []int16) {
	if len(pcm) == 0 {
		return
	}
	if j.tsValid {
		switch d := int32(ts - j.nextTS); {
		case d == 0:
		case d > 0 && d <= maxGapSamples:
			// Lost packets, or silence suppression (RFC 3551 section 4.1).
			j.silence(int(d))
		case d < 0 && d > -maxGapSamples:
			// Overlapping timestamps: play the samples as they come.
		default:
			// A discontinuity: fill no more than the window for what was
			// lost, and follow the new timestamps.
			j.silence(min(j.skipped*j.lastLen, j.window*FrameSamples))
			j.c.resyncs.Add(1)
		}
	}
	j.samples(pcm)
	j.nextTS = ts + uint32(len(pcm))
	j.lastLen = len(pcm)
	j.tsValid = true
	j.skipped = 0
}

// samples adds pcm to the frames.
func (j *jitter) samples(pcm []int16) {
	for len(pcm) > 0 {
		n := copy(j.frame[j.fill:], pcm)
		j.fill += n
		pcm = pcm[n:]
		if j.fill == len(j.frame) {
			j.fill = 0
			j.emitFrame()
		}
	}
}

// silence adds n samples of silence to the frames.
func (j *jitter) silence(n int) {
	j.c.silenceSamples.Add(uint64(n))
	for n > 0 {
		k := min(n, len(j.frame)-j.fill)
		clear(j.frame[j.fill : j.fill+k])
		j.fill += k
		n -= k
		if j.fill == len(j.frame) {
			j.fill = 0
			j.emitFrame()
		}
	}
}

func (j *jitter) emitFrame() {
	j.c.deliveredFrames.Add(1)
	if j.deliver != nil {
		j.deliver(j.frame)
	}
}
