package media

import (
	"encoding/binary"
	"errors"
	"math"
	"testing"
)

// encodeWAV builds a WAV from float samples per channel (16-bit scale) in
// the given format.
func encodeWAV(format Format, bits, rate int, chans ...[]float64) *WAV {
	w := &WAV{Format: format, Channels: len(chans), SampleRate: rate, BitsPerSample: bits}
	for i := range chans[0] {
		for _, ch := range chans {
			v := ch[i]
			switch {
			case format == FormatPCM && bits == 8:
				w.Data = append(w.Data, byte(int(math.Round(v/256))+128))
			case format == FormatPCM && bits == 16:
				w.Data = binary.LittleEndian.AppendUint16(w.Data, uint16(toInt16(v)))
			case format == FormatPCM && bits == 24:
				s := uint32(int32(math.Round(v * 256)))
				w.Data = append(w.Data, byte(s), byte(s>>8), byte(s>>16))
			case format == FormatPCM && bits == 32:
				w.Data = binary.LittleEndian.AppendUint32(w.Data, uint32(int32(math.Round(v*65536))))
			case format == FormatFloat:
				w.Data = binary.LittleEndian.AppendUint32(w.Data, math.Float32bits(float32(v/32768)))
			case format == FormatALaw:
				w.Data = append(w.Data, EncodeALaw(toInt16(v)))
			case format == FormatULaw:
				w.Data = append(w.Data, EncodeULaw(toInt16(v)))
			}
		}
	}
	return w
}

// level returns the amplitude of the hz component of y, sampled at 8000
// Hz, measured over the middle of y (away from the filter's edges) with a
// single-bin DFT.
func level(y []int16, hz float64) float64 {
	lo, hi := len(y)/8, len(y)-len(y)/8
	var re, im float64
	for i := lo; i < hi; i++ {
		a := 2 * math.Pi * hz * float64(i) / 8000
		re += float64(y[i]) * math.Cos(a)
		im += float64(y[i]) * math.Sin(a)
	}
	return 2 * math.Hypot(re, im) / float64(hi-lo)
}

// rms returns the RMS of the middle of y.
func rms(y []int16) float64 {
	lo, hi := len(y)/8, len(y)-len(y)/8
	var s float64
	for _, v := range y[lo:hi] {
		s += float64(v) * float64(v)
	}
	return math.Sqrt(s / float64(hi-lo))
}

func db(ratio float64) float64 { return 20 * math.Log10(ratio) }

func TestToTelephony(t *testing.T) {
	const amp = 10000
	for _, tc := range []struct {
		name string
		w    *WAV
		hz   float64 // tone to measure at 8000 Hz
		// gain is the wanted gain in dB of the tone at hz, within tol; a
		// gain of math.Inf(-1) means the output RMS must be below tol dB.
		gain, tol float64
	}{
		{"8 kHz pcm16 passes", encodeWAV(FormatPCM, 16, 8000, sine(8000, 8000, 1000, amp)), 1000, 0, 0.01},
		{"44.1 kHz stereo 1 kHz", encodeWAV(FormatPCM, 16, 44100, sine(44100, 44100, 1000, amp), sine(44100, 44100, 1000, amp)), 1000, 0, 0.1},
		{"48 kHz 3 kHz in the passband", encodeWAV(FormatPCM, 16, 48000, sine(48000, 48000, 3000, amp)), 3000, 0, 0.5},
		{"44.1 kHz 6 kHz is filtered, not aliased to 2 kHz", encodeWAV(FormatPCM, 16, 44100, sine(44100, 44100, 6000, amp)), 2000, math.Inf(-1), -45},
		{"48 kHz 11 kHz is filtered, not aliased to 3 kHz", encodeWAV(FormatPCM, 16, 48000, sine(48000, 48000, 11000, amp)), 3000, math.Inf(-1), -45},
		{"opposite channels cancel", encodeWAV(FormatPCM, 16, 44100, sine(44100, 44100, 1000, amp), sine(44100, 44100, 1000, -amp)), 1000, math.Inf(-1), -80},
		{"16 kHz", encodeWAV(FormatPCM, 16, 16000, sine(16000, 16000, 440, amp)), 440, 0, 0.1},
		{"4 kHz upsampled", encodeWAV(FormatPCM, 16, 4000, sine(4000, 4000, 250, amp)), 250, 0, 0.2},
		{"pcm8", encodeWAV(FormatPCM, 8, 8000, sine(8000, 8000, 1000, amp)), 1000, 0, 0.1},
		{"pcm24 48 kHz", encodeWAV(FormatPCM, 24, 48000, sine(48000, 48000, 1000, amp)), 1000, 0, 0.1},
		{"pcm32 22.05 kHz", encodeWAV(FormatPCM, 32, 22050, sine(22050, 22050, 1000, amp)), 1000, 0, 0.1},
		{"float 44.1 kHz", encodeWAV(FormatFloat, 32, 44100, sine(44100, 44100, 1000, amp)), 1000, 0, 0.1},
		{"a-law", encodeWAV(FormatALaw, 8, 8000, sine(8000, 8000, 1000, amp)), 1000, 0, 0.1},
		{"µ-law", encodeWAV(FormatULaw, 8, 8000, sine(8000, 8000, 1000, amp)), 1000, 0, 0.1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			y, err := ToTelephony(tc.w)
			if err != nil {
				t.Fatal(err)
			}
			frames := tc.w.Frames()
			if want := (frames-1)*8000/tc.w.SampleRate + 1; len(y) != want {
				t.Fatalf("%d samples, want %d", len(y), want)
			}
			if math.IsInf(tc.gain, -1) {
				if r := db(rms(y) / amp); r > tc.tol {
					t.Fatalf("output at %.1f dB, want below %.1f dB", r, tc.tol)
				}
				return
			}
			if g := db(level(y, tc.hz) / amp); math.Abs(g-tc.gain) > tc.tol {
				t.Fatalf("gain %.3f dB, want %.1f ± %.2f dB", g, tc.gain, tc.tol)
			}
		})
	}
}

func TestToTelephonyExact(t *testing.T) {
	pcm := []int16{0, 1, -1, 32767, -32768, 1234}
	w := &WAV{Format: FormatPCM, Channels: 1, SampleRate: 8000, BitsPerSample: 16}
	for _, s := range pcm {
		w.Data = binary.LittleEndian.AppendUint16(w.Data, uint16(s))
	}
	y, err := ToTelephony(w)
	if err != nil {
		t.Fatal(err)
	}
	for i := range pcm {
		if y[i] != pcm[i] {
			t.Fatalf("sample %d = %d, want %d", i, y[i], pcm[i])
		}
	}
	codes := []byte{0x00, 0x7F, 0x80, 0xFF, 0x2A, 0xD5}
	y, err = ToTelephony(&WAV{Format: FormatULaw, Channels: 1, SampleRate: 8000, BitsPerSample: 8, Data: codes})
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range codes {
		if y[i] != DecodeULaw(c) {
			t.Fatalf("code %#02x gave %d, want %d", c, y[i], DecodeULaw(c))
		}
	}
	// A ramp at 4000 Hz is interpolated halfway between its samples.
	w = &WAV{Format: FormatPCM, Channels: 1, SampleRate: 4000, BitsPerSample: 16, Data: []byte{0, 0, 100, 0, 200, 0}}
	y, err = ToTelephony(w)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int16{0, 50, 100, 150, 200}; len(y) != len(want) || y[1] != 50 || y[3] != 150 || y[4] != 200 {
		t.Fatalf("got %v, want %v", y, want)
	}
	if y, err := ToTelephony(&WAV{Format: FormatPCM, Channels: 2, SampleRate: 44100, BitsPerSample: 16}); err != nil || len(y) != 0 {
		t.Fatalf("empty: %v, %v", y, err)
	}
}

func TestToTelephonyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		w    *WAV
		err  error
	}{
		{"rate too low", &WAV{Format: FormatPCM, Channels: 1, SampleRate: 2000, BitsPerSample: 16}, ErrUnsupported},
		{"rate too high", &WAV{Format: FormatPCM, Channels: 1, SampleRate: 384000, BitsPerSample: 16}, ErrUnsupported},
		{"mp3", &WAV{Format: 0x55, Channels: 1, SampleRate: 8000, BitsPerSample: 16}, ErrUnsupported},
		{"float64", &WAV{Format: FormatFloat, Channels: 1, SampleRate: 8000, BitsPerSample: 64}, ErrUnsupported},
		{"no channels", &WAV{Format: FormatPCM, Channels: 0, SampleRate: 8000, BitsPerSample: 16}, ErrUnsupported},
		{"half a frame", &WAV{Format: FormatPCM, Channels: 2, SampleRate: 8000, BitsPerSample: 16, Data: []byte{1, 2}}, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ToTelephony(tc.w); !errors.Is(err, tc.err) {
				t.Fatalf("err = %v, want %v", err, tc.err)
			}
		})
	}
}
