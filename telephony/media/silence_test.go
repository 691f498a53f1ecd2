package media

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
)

// tone returns d of a sine at hz and peak level dBFS at 8000 Hz.
func tone(d time.Duration, hz, dbfs float64) []int16 {
	n := int(d * 8000 / time.Second)
	amp := 32768 * math.Pow(10, dbfs/20)
	y := make([]int16, n)
	for i := range y {
		y[i] = toInt16(amp * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return y
}

// noise returns d of uniform white noise of peak amplitude amp.
func noise(d time.Duration, amp int) []int16 {
	r := rand.New(rand.NewPCG(1, 2))
	y := make([]int16, int(d*8000/time.Second))
	for i := range y {
		y[i] = int16(r.IntN(2*amp+1) - amp)
	}
	return y
}

func TestSilenceDetector(t *testing.T) {
	ms := time.Millisecond
	for _, tc := range []struct {
		name  string
		d     SilenceDetector
		feeds [][]int16
		want  []time.Duration
	}{
		{"digital silence", SilenceDetector{}, [][]int16{make([]int16, 8000)}, []time.Duration{time.Second}},
		{"speech-level tone", SilenceDetector{}, [][]int16{tone(time.Second, 440, -20)}, []time.Duration{0}},
		{"tone then silence", SilenceDetector{},
			[][]int16{tone(500*ms, 440, -20), make([]int16, 800), make([]int16, 800)},
			[]time.Duration{0, 100 * ms, 200 * ms}},
		{"silence then tone resets", SilenceDetector{},
			[][]int16{make([]int16, 1600), tone(40*ms, 1000, -20)},
			[]time.Duration{200 * ms, 0}},
		{"line noise below threshold is silence", SilenceDetector{},
			[][]int16{noise(time.Second, 30)}, []time.Duration{time.Second}},
		{"noise above a strict threshold is not", SilenceDetector{Threshold: -70},
			[][]int16{noise(time.Second, 30)}, []time.Duration{0}},
		{"quiet tone under a -30 dBFS threshold", SilenceDetector{Threshold: -30},
			[][]int16{tone(time.Second, 440, -40)}, []time.Duration{time.Second}},
		{"partial frames carry over", SilenceDetector{},
			[][]int16{make([]int16, 100), make([]int16, 100), make([]int16, 120)},
			[]time.Duration{0, 20 * ms, 40 * ms}},
		{"50 ms window", SilenceDetector{Window: 50 * ms},
			[][]int16{make([]int16, 799), make([]int16, 1)},
			[]time.Duration{50 * ms, 100 * ms}},
		{"16 kHz", SilenceDetector{SampleRate: 16000},
			[][]int16{make([]int16, 16000)}, []time.Duration{time.Second}},
		{"one loud frame in the middle", SilenceDetector{},
			[][]int16{append(append(make([]int16, 800), tone(20*ms, 440, -10)...), make([]int16, 320)...)},
			[]time.Duration{40 * ms}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := tc.d
			for i, pcm := range tc.feeds {
				if got := d.Feed(pcm); got != tc.want[i] {
					t.Errorf("feed %d: silent for %v, want %v", i, got, tc.want[i])
				}
			}
			if got := d.SilentFor(); got != tc.want[len(tc.want)-1] {
				t.Errorf("SilentFor = %v", got)
			}
			d.Reset()
			if got := d.SilentFor(); got != 0 {
				t.Errorf("after Reset: %v", got)
			}
		})
	}
}

// TestSilenceThreshold checks the dBFS scale at the edge: a full-scale
// square wave is 0 dBFS, so one at -40 dBFS is loud against -41 and silent
// against -39.
func TestSilenceThreshold(t *testing.T) {
	sq := make([]int16, 160)
	for i := range sq {
		sq[i] = 328 // 32768 * 10^(-40/20) = 327.68
		if i%2 == 1 {
			sq[i] = -328
		}
	}
	for _, tc := range []struct {
		threshold float64
		want      time.Duration
	}{{-41, 0}, {-39, 20 * time.Millisecond}} {
		d := SilenceDetector{Threshold: tc.threshold}
		if got := d.Feed(sq); got != tc.want {
			t.Errorf("threshold %v: %v, want %v", tc.threshold, got, tc.want)
		}
	}
}
