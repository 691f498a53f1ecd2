package media

import (
	"encoding/binary"
	"fmt"
	"math"
)

// Limits of ToTelephony's input sampling rate, in Hz.
const (
	MinConvertRate = 4000
	MaxConvertRate = 192000
)

// Parameters of the anti-aliasing low-pass filter ToTelephony applies
// before it decimates to 8000 Hz.
const (
	// lowPassCutoff is the -6 dB point of the filter, in Hz.
	lowPassCutoff = 3700
	// lowPassTransition is the width of the transition band, in Hz: with
	// a Hamming window the stopband (about -53 dB) starts at
	// lowPassCutoff + lowPassTransition/2 = 4000 Hz, the Nyquist
	// frequency of the telephone rate, and the passband is flat to
	// 3400 Hz, the top of the telephone band of ITU-T G.712.
	lowPassTransition = 600
)

// ToTelephony converts a WAV file to 16-bit linear mono at 8000 Hz, the
// rate of G.711 (RFC 3551 section 4.5.14), ready for AppendALaw or
// AppendULaw. It averages the channels into one, then:
//
//   - at 8000 Hz it only rounds;
//   - above 8000 Hz it applies a windowed-sinc FIR low-pass filter at the
//     input rate (Hamming window, -6 dB at 3700 Hz, about -53 dB from
//     4000 Hz up) and takes the 8000 Hz samples by linear interpolation
//     between filtered input samples, which is accurate because the
//     filtered signal is oversampled at least 2.2 times;
//   - below 8000 Hz it interpolates linearly, with no filter.
//
// Samples are rounded to the nearest integer and clipped to the int16
// range. It returns ErrUnsupported for a format, channel count or rate
// (MinConvertRate to MaxConvertRate) it cannot convert, and ErrMalformed for
// a data chunk that is not a whole number of frames.
func ToTelephony(w *WAV) ([]int16, error) {
	mono, err := monoSamples(w)
	if err != nil {
		return nil, err
	}
	if w.SampleRate < MinConvertRate || w.SampleRate > MaxConvertRate {
		return nil, fmt.Errorf("convert: %w: sample rate %d Hz (%d to %d)", ErrUnsupported, w.SampleRate, MinConvertRate, MaxConvertRate)
	}
	return resample(mono, w.SampleRate, ClockRate), nil
}

// monoSamples decodes the data chunk of w and averages its channels, on the
// scale of 16-bit samples.
func monoSamples(w *WAV) ([]float64, error) {
	if w.Channels < 1 || w.Channels > MaxChannels {
		return nil, fmt.Errorf("convert: %w: %d channels", ErrUnsupported, w.Channels)
	}
	var sample func(b []byte) float64
	switch {
	case w.Format == FormatPCM && w.BitsPerSample == 8:
		sample = func(b []byte) float64 { return float64((int(b[0]) - 128) << 8) }
	case w.Format == FormatPCM && w.BitsPerSample == 16:
		sample = func(b []byte) float64 { return float64(int16(binary.LittleEndian.Uint16(b))) }
	case w.Format == FormatPCM && w.BitsPerSample == 24:
		sample = func(b []byte) float64 {
			v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
			return float64(v) / 256
		}
	case w.Format == FormatPCM && w.BitsPerSample == 32:
		sample = func(b []byte) float64 { return float64(int32(binary.LittleEndian.Uint32(b))) / 65536 }
	case w.Format == FormatFloat && w.BitsPerSample == 32:
		sample = func(b []byte) float64 {
			f := float64(math.Float32frombits(binary.LittleEndian.Uint32(b)))
			if math.IsNaN(f) {
				return 0
			}
			return max(-1, min(1, f)) * 32768
		}
	case w.Format == FormatALaw && w.BitsPerSample == 8:
		sample = func(b []byte) float64 { return float64(DecodeALaw(b[0])) }
	case w.Format == FormatULaw && w.BitsPerSample == 8:
		sample = func(b []byte) float64 { return float64(DecodeULaw(b[0])) }
	default:
		return nil, fmt.Errorf("convert: %w: %s with %d bits per sample", ErrUnsupported, w.Format, w.BitsPerSample)
	}
	size := w.BitsPerSample / 8
	ba := w.BlockAlign()
	if len(w.Data)%ba != 0 {
		return nil, fmt.Errorf("convert: %w: %d data bytes is not a whole number of %d-byte frames", ErrMalformed, len(w.Data), ba)
	}
	out := make([]float64, len(w.Data)/ba)
	scale := 1 / float64(w.Channels)
	for i := range out {
		frame := w.Data[i*ba : (i+1)*ba]
		var sum float64
		for c := 0; c < len(frame); c += size {
			sum += sample(frame[c:])
		}
		out[i] = sum * scale
	}
	return out, nil
}

// resample converts x from rate in to rate out as ToTelephony documents.
func resample(x []float64, in, out int) []int16 {
	if len(x) == 0 {
		return []int16{}
	}
	if in == out {
		y := make([]int16, len(x))
		for i, v := range x {
			y[i] = toInt16(v)
		}
		return y
	}
	at := func(i int) float64 { return x[i] }
	if in > out {
		taps := lowPass(in)
		h := len(taps) / 2
		at = func(i int) float64 {
			var sum float64
			lo, hi := max(i-h, 0), min(i+h, len(x)-1)
			for k := lo; k <= hi; k++ {
				sum += taps[k-i+h] * x[k]
			}
			return sum
		}
	}
	// Output sample n lies at input position n*in/out, computed exactly
	// in integers; the last one is at or before the last input sample.
	n := int((int64(len(x)-1)*int64(out))/int64(in)) + 1
	y := make([]int16, n)
	cached, a, b := -1, 0.0, 0.0
	for j := range y {
		pos := int64(j) * int64(in)
		i := int(pos / int64(out))
		frac := float64(pos%int64(out)) / float64(out)
		if i != cached {
			if i == cached+1 {
				a = b
			} else {
				a = at(i)
			}
			b = a
			if i+1 < len(x) {
				b = at(i + 1)
			}
			cached = i
		}
		y[j] = toInt16(a + (b-a)*frac)
	}
	return y
}

// lowPass returns the taps of a linear-phase windowed-sinc low-pass FIR
// filter for sampling rate fs: an ideal low-pass at lowPassCutoff times a
// Hamming window, of odd length chosen for a transition band of
// lowPassTransition Hz (length about 3.3 fs / transition), normalised to
// unity gain at 0 Hz.
func lowPass(fs int) []float64 {
	n := int(math.Ceil(3.3*float64(fs)/lowPassTransition)) | 1
	taps := make([]float64, n)
	fc := float64(lowPassCutoff) / float64(fs) // cycles per sample
	m := float64(n - 1)
	var sum float64
	for i := range taps {
		t := float64(i) - m/2
		v := 2 * fc
		if t != 0 {
			v = math.Sin(2*math.Pi*fc*t) / (math.Pi * t)
		}
		v *= 0.54 - 0.46*math.Cos(2*math.Pi*float64(i)/m)
		taps[i] = v
		sum += v
	}
	for i := range taps {
		taps[i] /= sum
	}
	return taps
}

// toInt16 rounds v to the nearest int16, clipping at the ends of the range.
func toInt16(v float64) int16 {
	return int16(max(-32768, min(32767, math.Round(v))))
}
