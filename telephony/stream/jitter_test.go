package stream

import (
	"fmt"
	"slices"
	"testing"
	"time"
)

// step is one thing that happens to a jitter buffer in a test: a packet
// arrives, or the reader's deadline fires (expire).
type step struct {
	expire bool
	at     time.Duration // since the test's start; 0 means the step's index × 20 ms
	seq    uint16
	ts     uint32
	ssrc   uint32
	n      int // samples; 0 means 160, -1 none (a telephone-event)
	val    int16
}

// au is an audio packet of 160 samples of the value val, from SSRC 1.
func au(seq uint16, ts uint32, val int16) step {
	return step{seq: seq, ts: ts, ssrc: 1, val: val}
}

func (s step) from(ssrc uint32) step         { s.ssrc = ssrc; return s }
func (s step) samples(n int) step            { s.n = n; return s }
func (s step) arrives(at time.Duration) step { s.at = at; return s }

// expireAt is the reader's deadline firing at.
func expireAt(at time.Duration) step { return step{expire: true, at: at} }

// run is a stretch of equal samples in the output.
type run struct {
	val int16
	n   int
}

func (r run) String() string { return fmt.Sprintf("%d×%d", r.val, r.n) }

// runs compresses samples to runs of equal values.
func runs(pcm []int16) []run {
	var out []run
	for _, v := range pcm {
		if len(out) > 0 && out[len(out)-1].val == v {
			out[len(out)-1].n++
			continue
		}
		out = append(out, run{v, 1})
	}
	return out
}

// frames is n frames of the value val.
func frames(val int16, n int) run { return run{val, n * FrameSamples} }

// jitterCounts are the counters a jitter test checks.
type jitterCounts struct {
	lost, late, dup, foreign, ssrc, resync, silence uint64
}

func countsOf(c *counters) jitterCounts {
	return jitterCounts{
		lost:    c.lost.Load(),
		late:    c.late.Load(),
		dup:     c.duplicates.Load(),
		foreign: c.foreign.Load(),
		ssrc:    c.ssrcChanges.Load(),
		resync:  c.resyncs.Load(),
		silence: c.silenceSamples.Load(),
	}
}

// recorder collects the frames a jitter buffer delivers and checks that
// each has 160 samples.
type recorder struct {
	t   testing.TB
	pcm []int16
	n   int
}

func (r *recorder) deliver(pcm []int16) {
	if len(pcm) != FrameSamples {
		r.t.Fatalf("frame of %d samples", len(pcm))
	}
	r.pcm = append(r.pcm, pcm...)
	r.n++
}

// feed runs the steps through a jitter buffer of the given window and
// returns the output before and after the final flush.
func feed(t *testing.T, window int, steps []step) (j *jitter, rec *recorder) {
	t.Helper()
	rec = &recorder{t: t}
	j = newJitter(window, rec.deliver, nil)
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	for i, s := range steps {
		at := s.at
		if at == 0 {
			at = time.Duration(i) * FrameDuration
		}
		if s.expire {
			j.expire(start.Add(at))
			continue
		}
		n := s.n
		if n == 0 {
			n = FrameSamples
		}
		var pcm []int16
		for range max(n, 0) {
			pcm = append(pcm, s.val)
		}
		j.push(start.Add(at), packet{seq: s.seq, ts: s.ts, ssrc: s.ssrc, pcm: pcm})
	}
	return j, rec
}

func TestJitter(t *testing.T) {
	const wrapTS = 1<<32 - 320
	tests := []struct {
		name   string
		window int
		steps  []step
		want   []run
		counts jitterCounts
	}{
		{
			name:  "in order",
			steps: []step{au(10, 1000, 1), au(11, 1160, 2), au(12, 1320, 3), au(13, 1480, 4)},
			want:  []run{frames(1, 1), frames(2, 1), frames(3, 1), frames(4, 1)},
		},
		{
			name:  "reordered within the window",
			steps: []step{au(10, 0, 1), au(12, 320, 3), au(11, 160, 2), au(14, 640, 5), au(13, 480, 4)},
			want:  []run{frames(1, 1), frames(2, 1), frames(3, 1), frames(4, 1), frames(5, 1)},
		},
		{
			name:   "duplicate of a played packet",
			steps:  []step{au(10, 0, 1), au(11, 160, 2), au(11, 160, 2), au(10, 0, 1), au(12, 320, 3)},
			want:   []run{frames(1, 1), frames(2, 1), frames(3, 1)},
			counts: jitterCounts{dup: 2},
		},
		{
			name:   "duplicate of a waiting packet",
			steps:  []step{au(10, 0, 1), au(12, 320, 3), au(12, 320, 3), au(11, 160, 2)},
			want:   []run{frames(1, 1), frames(2, 1), frames(3, 1)},
			counts: jitterCounts{dup: 1},
		},
		{
			name: "late after the window passed over it",
			steps: []step{
				au(10, 0, 1), au(12, 320, 3), au(13, 480, 4), au(14, 640, 5),
				au(15, 800, 6), // the window of 3 is full: 11 is passed over
				au(11, 160, 2), // and arrives late
				au(16, 960, 7),
			},
			want:   []run{frames(1, 1), frames(0, 1), frames(3, 1), frames(4, 1), frames(5, 1), frames(6, 1), frames(7, 1)},
			counts: jitterCounts{lost: 1, late: 1, silence: 160},
		},
		{
			name: "loss filled with silence",
			steps: []step{
				au(10, 0, 1), au(11, 160, 2), au(14, 640, 5), au(15, 800, 6), au(16, 960, 7), au(17, 1120, 8),
			},
			want:   []run{frames(1, 1), frames(2, 1), frames(0, 2), frames(5, 1), frames(6, 1), frames(7, 1), frames(8, 1)},
			counts: jitterCounts{lost: 2, silence: 320},
		},
		{
			name:   "loss at the end is not filled",
			steps:  []step{au(10, 0, 1), au(12, 320, 3)},
			want:   []run{frames(1, 1), frames(0, 1), frames(3, 1)},
			counts: jitterCounts{lost: 1, silence: 160},
		},
		{
			name:   "window of one",
			window: 1,
			steps:  []step{au(10, 0, 1), au(12, 320, 3), au(11, 160, 2), au(13, 480, 4)},
			want:   []run{frames(1, 1), frames(2, 1), frames(3, 1), frames(4, 1)},
		},
		{
			name: "sequence wraps at 65535",
			steps: []step{
				au(65533, 0, 1), au(65534, 160, 2), au(0, 480, 4), au(65535, 320, 3), au(2, 800, 6), au(1, 640, 5),
				au(65534, 160, 2), // a duplicate from before the wrap
			},
			want:   []run{frames(1, 1), frames(2, 1), frames(3, 1), frames(4, 1), frames(5, 1), frames(6, 1)},
			counts: jitterCounts{dup: 1},
		},
		{
			name: "timestamp wraps at 2^32",
			steps: []step{
				au(100, wrapTS, 1), au(101, wrapTS+160, 2), au(102, 0, 3), au(104, 320, 5),
				au(105, 480, 6), au(106, 640, 7), au(107, 800, 8),
			},
			want:   []run{frames(1, 1), frames(2, 1), frames(3, 1), frames(0, 1), frames(5, 1), frames(6, 1), frames(7, 1), frames(8, 1)},
			counts: jitterCounts{lost: 1, silence: 160},
		},
		{
			name: "silence suppression leaves a timestamp gap",
			steps: []step{
				au(10, 0, 1), au(11, 160, 2),
				au(12, 160*6, 3).arrives(200 * time.Millisecond), // 4 frames not sent (RFC 3551 section 4.1)
				au(13, 160*7, 4).arrives(220 * time.Millisecond),
			},
			want:   []run{frames(1, 1), frames(2, 1), frames(0, 4), frames(3, 1), frames(4, 1)},
			counts: jitterCounts{silence: 640},
		},
		{
			name: "timestamp jump beyond 2 s resyncs without a long fill",
			steps: []step{
				au(10, 0, 1), au(11, 160, 2),
				au(13, 10*8000, 4), au(14, 10*8000+160, 5), au(15, 10*8000+320, 6), au(16, 10*8000+480, 7),
			},
			want:   []run{frames(1, 1), frames(2, 1), frames(0, 1), frames(4, 1), frames(5, 1), frames(6, 1), frames(7, 1)},
			counts: jitterCounts{lost: 1, resync: 1, silence: 160},
		},
		{
			name: "SSRC change flushes and restarts without silence",
			steps: []step{
				au(10, 0, 1), au(11, 160, 2), au(13, 480, 4), // 12 missing
				au(5000, 123456789, 7).from(2), au(5001, 123456789+160, 8).from(2),
				au(12, 320, 3),                     // a straggler of the old stream
				au(5002, 123456789+320, 9).from(2), //
			},
			want:   []run{frames(1, 1), frames(2, 1), frames(0, 1), frames(4, 1), frames(7, 1), frames(8, 1), frames(9, 1)},
			counts: jitterCounts{lost: 1, foreign: 1, ssrc: 1, silence: 160},
		},
		{
			name: "deadline releases what waits when the peer stops",
			steps: []step{
				au(10, 0, 1), au(12, 320, 3).arrives(40 * time.Millisecond),
				expireAt(40*time.Millisecond + 99*time.Millisecond), // window 3: waits 3×20+40 ms
				expireAt(40*time.Millisecond + 100*time.Millisecond),
			},
			want:   []run{frames(1, 1), frames(0, 1), frames(3, 1)},
			counts: jitterCounts{lost: 1, silence: 160},
		},
		{
			name: "10 ms packets",
			steps: []step{
				au(1, 0, 1).samples(80), au(2, 80, 2).samples(80), au(4, 240, 4).samples(80), au(3, 160, 3).samples(80),
				au(5, 320, 5).samples(80),
			},
			want: []run{{1, 80}, {2, 80}, {3, 80}, {4, 80}, {5, 80}, {0, 80}},
		},
		{
			name: "30 ms packets with a loss",
			steps: []step{
				au(1, 0, 1).samples(240), au(2, 240, 2).samples(240),
				au(4, 720, 4).samples(240), au(5, 960, 5).samples(240), au(6, 1200, 6).samples(240), au(7, 1440, 7).samples(240),
			},
			want:   []run{{1, 240}, {2, 240}, {0, 240}, {4, 240}, {5, 240}, {6, 240}, {7, 240}, {0, 80}},
			counts: jitterCounts{lost: 1, silence: 240},
		},
		{
			name: "telephone-events keep their place in the sequence",
			steps: []step{
				au(10, 0, 1), au(11, 160, 0).samples(-1), au(12, 160, 0).samples(-1), au(13, 160, 2),
			},
			want: []run{frames(1, 1), frames(2, 1)},
		},
		{
			name: "a wild sequence number is dropped unless the next confirms it",
			steps: []step{
				au(10, 0, 1), au(30000, 160, 9), au(11, 160, 2),
				au(40000, 320, 3), au(40001, 480, 4), au(40002, 640, 5),
			},
			want:   []run{frames(1, 1), frames(2, 1), frames(4, 1), frames(5, 1)},
			counts: jitterCounts{late: 2, resync: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j, rec := feed(t, tt.window, tt.steps)
			j.flush()
			if got := runs(rec.pcm); !slices.Equal(got, tt.want) {
				t.Errorf("output %v, want %v", got, tt.want)
			}
			if got := countsOf(j.c); got != tt.counts {
				t.Errorf("counters %+v, want %+v", got, tt.counts)
			}
			if j.pending != 0 || j.fill != 0 {
				t.Errorf("after flush: %d packets pending, %d samples in the frame", j.pending, j.fill)
			}
		})
	}
}

// TestJitterDeadline checks when the reader must wake for a waiting packet.
func TestJitterDeadline(t *testing.T) {
	j := newJitter(3, nil, nil)
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	if _, ok := j.deadline(); ok {
		t.Fatal("deadline with nothing waiting")
	}
	j.push(start, packet{seq: 1, ts: 0, ssrc: 7, pcm: make([]int16, 160)})
	if _, ok := j.deadline(); ok {
		t.Fatal("deadline with nothing waiting after an in-order packet")
	}
	j.push(start.Add(20*time.Millisecond), packet{seq: 3, ts: 320, ssrc: 7, pcm: make([]int16, 160)})
	j.push(start.Add(30*time.Millisecond), packet{seq: 4, ts: 480, ssrc: 7, pcm: make([]int16, 160)})
	at, ok := j.deadline()
	if want := start.Add(20*time.Millisecond + j.maxWait); !ok || !at.Equal(want) {
		t.Fatalf("deadline %v %v, want %v", at, ok, want)
	}
	j.expire(at)
	if j.pending != 0 {
		t.Fatalf("%d packets still waiting after the deadline", j.pending)
	}
}

// TestJitterLongRun feeds a minute of 20 ms packets with every tenth lost
// and later pairs swapped, across both wraps, and checks that the output keeps
// real time exactly.
func TestJitterLongRun(t *testing.T) {
	rec := &recorder{t: t}
	j := newJitter(3, rec.deliver, nil)
	start := time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)
	const n = 3000
	seq0, ts0 := uint16(65000), uint32(1<<32-160*1000)
	order := []int{0, 1} // the first packet starts the stream
	for i := 2; i < n; i += 2 {
		order = append(order, i+1, i) // swapped pairs
	}
	for k, i := range order {
		if i%10 == 5 {
			continue
		}
		pcm := make([]int16, FrameSamples)
		for x := range pcm {
			pcm[x] = int16(i%1000 + 1)
		}
		j.push(start.Add(time.Duration(k)*FrameDuration), packet{
			seq: seq0 + uint16(i), ts: ts0 + uint32(i)*FrameSamples, ssrc: 42, pcm: pcm,
		})
	}
	j.flush()
	if rec.n != n {
		t.Fatalf("%d frames for %d packets", rec.n, n)
	}
	for i := range n {
		want := int16(i%1000 + 1)
		if i%10 == 5 {
			want = 0
		}
		if got := rec.pcm[i*FrameSamples]; got != want {
			t.Fatalf("frame %d is %d, want %d", i, got, want)
		}
	}
	if got := countsOf(j.c); got.lost != n/10 || got.late != 0 || got.dup != 0 {
		t.Fatalf("counters %+v", got)
	}
}
