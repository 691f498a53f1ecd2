package media

import (
	"math"
	"time"
)

// Defaults of SilenceDetector.
const (
	// DefaultSilenceThreshold is the level, in dBFS, below which a frame
	// counts as silent: well above the noise of a quiet phone line
	// (around -60 dBFS) and well below speech (-30 to -10 dBFS).
	DefaultSilenceThreshold = -45.0
	// DefaultSilenceWindow is the length of one analysis frame.
	DefaultSilenceWindow = 20 * time.Millisecond
)

// SilenceDetector tells how long a caller has been silent, so that a
// voicemail recording can end a few seconds after the caller stops talking.
// It cuts the 16-bit linear samples it is fed into frames of Window and
// compares the RMS level of each frame with Threshold, in dBFS, where 0 dBFS
// is the RMS of a full-scale square wave (32768). Set the fields before the
// first Feed; the zero value works, at 8000 Hz with the defaults above. A
// SilenceDetector is not safe for concurrent use.
type SilenceDetector struct {
	// Threshold is the RMS level in dBFS below which a frame is silent;
	// 0 means DefaultSilenceThreshold. Levels are negative: -45 is
	// quieter than -30.
	Threshold float64
	// Window is the length of one frame; 0 means DefaultSilenceWindow.
	Window time.Duration
	// SampleRate is the rate of the samples fed, in Hz; 0 means 8000.
	SampleRate int

	frame  int     // samples per frame, 0 until the first Feed
	limit  float64 // sum of squares below which a frame is silent
	sum    float64 // sum of squares of the current partial frame
	filled int     // samples in the current partial frame
	silent int     // whole silent frames since the last loud one
}

// Feed adds pcm to the detector and returns how long the signal has been
// silent: the length of the run of silent frames that ends with the last
// whole frame fed, or 0 if that frame was loud. A partial frame is kept
// for the next call.
func (d *SilenceDetector) Feed(pcm []int16) (silentFor time.Duration) {
	if d.frame == 0 {
		d.init()
	}
	for _, s := range pcm {
		v := float64(s)
		d.sum += v * v
		d.filled++
		if d.filled == d.frame {
			if d.sum < d.limit {
				d.silent++
			} else {
				d.silent = 0
			}
			d.sum, d.filled = 0, 0
		}
	}
	return d.SilentFor()
}

// SilentFor returns what the last Feed returned.
func (d *SilenceDetector) SilentFor() time.Duration {
	if d.frame == 0 {
		d.init()
	}
	return time.Duration(int64(d.silent) * int64(d.frame) * int64(time.Second) / int64(d.rate()))
}

// Reset forgets everything fed so far, and rereads the fields.
func (d *SilenceDetector) Reset() {
	d.frame, d.sum, d.filled, d.silent = 0, 0, 0, 0
}

func (d *SilenceDetector) rate() int {
	if d.SampleRate > 0 {
		return d.SampleRate
	}
	return ClockRate
}

// init computes the frame size and the energy limit from the fields.
func (d *SilenceDetector) init() {
	win := d.Window
	if win <= 0 {
		win = DefaultSilenceWindow
	}
	th := d.Threshold
	if th == 0 {
		th = DefaultSilenceThreshold
	}
	d.frame = max(1, int(int64(win)*int64(d.rate())/int64(time.Second)))
	rms := 32768 * math.Pow(10, th/20)
	d.limit = rms * rms * float64(d.frame)
}
