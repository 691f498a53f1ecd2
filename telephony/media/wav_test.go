package media

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// memFile is an in-memory io.WriteSeeker, like a file.
type memFile struct {
	b   []byte
	off int64
}

func (m *memFile) Write(p []byte) (int, error) {
	if end := m.off + int64(len(p)); end > int64(len(m.b)) {
		m.b = append(m.b, make([]byte, end-int64(len(m.b)))...)
	}
	copy(m.b[m.off:], p)
	m.off += int64(len(p))
	return len(p), nil
}

func (m *memFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += m.off
	case io.SeekEnd:
		off += int64(len(m.b))
	}
	if off < 0 {
		return 0, errors.New("negative offset")
	}
	m.off = off
	return off, nil
}

// chunk returns a RIFF chunk with its pad byte.
func chunk(id string, body []byte) []byte {
	b := append([]byte(id), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	b = append(b, body...)
	if len(body)%2 == 1 {
		b = append(b, 0)
	}
	return b
}

// fmtBody returns a 16-byte WAVEFORMAT body.
func fmtBody(format Format, channels, rate, bits int) []byte {
	b := make([]byte, 16)
	le := binary.LittleEndian
	le.PutUint16(b[0:], uint16(format))
	le.PutUint16(b[2:], uint16(channels))
	le.PutUint32(b[4:], uint32(rate))
	le.PutUint32(b[8:], uint32(rate*channels*bits/8))
	le.PutUint16(b[12:], uint16(channels*bits/8))
	le.PutUint16(b[14:], uint16(bits))
	return b
}

// extensibleBody returns a 40-byte WAVEFORMATEXTENSIBLE body whose
// SubFormat carries sub.
func extensibleBody(sub Format, channels, rate, bits int) []byte {
	b := fmtBody(formatExtensible, channels, rate, bits)
	b = binary.LittleEndian.AppendUint16(b, 22)
	b = binary.LittleEndian.AppendUint16(b, uint16(bits))
	b = binary.LittleEndian.AppendUint32(b, 3)
	b = binary.LittleEndian.AppendUint16(b, uint16(sub))
	return append(b, extensibleGUIDTail[:]...)
}

// riff wraps chunks in a RIFF/WAVE header with the right size.
func riff(chunks ...[]byte) []byte {
	body := []byte("WAVE")
	for _, c := range chunks {
		body = append(body, c...)
	}
	b := append([]byte("RIFF"), 0, 0, 0, 0)
	binary.LittleEndian.PutUint32(b[4:], uint32(len(body)))
	return append(b, body...)
}

func TestReadWAV(t *testing.T) {
	pcm := []byte{1, 0, 2, 0, 0xFF, 0xFF}
	stereo := []byte{1, 0, 2, 0, 3, 0, 4, 0}
	claims4G := riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)))
	claims4G = append(claims4G, 'd', 'a', 't', 'a', 0x00, 0x00, 0xFF, 0xFF)
	binary.LittleEndian.PutUint32(claims4G[4:], 0xFFFFFFFF)
	lies := riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)))
	lies = append(lies, 'd', 'a', 't', 'a', 0x00, 0x00, 0x10, 0x00, 1, 2, 3, 4)
	binary.LittleEndian.PutUint32(lies[4:], 0xFFFFFFFF)
	for _, tc := range []struct {
		name    string
		in      []byte
		max     int64
		err     error
		format  Format
		chans   int
		rate    int
		bits    int
		data    []byte
		wantDur time.Duration
	}{
		{name: "pcm mono 8k", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", pcm)),
			format: FormatPCM, chans: 1, rate: 8000, bits: 16, data: pcm},
		{name: "stereo 44.1k", in: riff(chunk("fmt ", fmtBody(FormatPCM, 2, 44100, 16)), chunk("data", stereo)),
			format: FormatPCM, chans: 2, rate: 44100, bits: 16, data: stereo},
		{name: "a-law", in: riff(chunk("fmt ", fmtBody(FormatALaw, 1, 8000, 8)), chunk("fact", []byte{3, 0, 0, 0}), chunk("data", []byte{0xD5, 0x55, 0x2A})),
			format: FormatALaw, chans: 1, rate: 8000, bits: 8, data: []byte{0xD5, 0x55, 0x2A}},
		{name: "µ-law 18-byte fmt", in: riff(chunk("fmt ", append(fmtBody(FormatULaw, 1, 8000, 8), 0, 0)), chunk("data", []byte{0xFF})),
			format: FormatULaw, chans: 1, rate: 8000, bits: 8, data: []byte{0xFF}},
		{name: "extensible 24-bit", in: riff(chunk("fmt ", extensibleBody(FormatPCM, 2, 48000, 24)), chunk("data", make([]byte, 12))),
			format: FormatPCM, chans: 2, rate: 48000, bits: 24, data: make([]byte, 12)},
		{name: "odd LIST chunk skipped with pad", in: riff(chunk("LIST", []byte("INFOabc")), chunk("fmt ", fmtBody(FormatPCM, 1, 16000, 16)), chunk("data", pcm)),
			format: FormatPCM, chans: 1, rate: 16000, bits: 16, data: pcm},
		{name: "8000 frames is one second", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", make([]byte, 16000))),
			format: FormatPCM, chans: 1, rate: 8000, bits: 16, data: make([]byte, 16000), wantDur: time.Second},
		{name: "empty data", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", nil)),
			format: FormatPCM, chans: 1, rate: 8000, bits: 16, data: []byte{}},

		{name: "empty", in: nil, err: ErrTruncated},
		{name: "not riff", in: []byte("RIFX\x04\x00\x00\x00WAVE"), err: ErrMalformed},
		{name: "not wave", in: []byte("RIFF\x04\x00\x00\x00AVI "), err: ErrMalformed},
		{name: "no fmt", in: riff(), err: ErrMalformed},
		{name: "no data", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16))), err: ErrMalformed},
		{name: "data before fmt", in: riff(chunk("data", pcm), chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16))), err: ErrMalformed},
		{name: "two fmt", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", pcm)), err: ErrMalformed},
		{name: "short fmt", in: riff(chunk("fmt ", make([]byte, 14)), chunk("data", pcm)), err: ErrMalformed},
		{name: "bad block align", in: riff(chunk("fmt ", func() []byte { b := fmtBody(FormatPCM, 1, 8000, 16); b[12] = 3; return b }()), chunk("data", pcm)), err: ErrMalformed},
		{name: "half a frame", in: riff(chunk("fmt ", fmtBody(FormatPCM, 2, 8000, 16)), chunk("data", pcm)), err: ErrMalformed},
		{name: "odd pcm16 data", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", []byte{1, 2, 3})), err: ErrMalformed},
		{name: "chunk overruns riff", in: func() []byte {
			b := riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", pcm))
			binary.LittleEndian.PutUint32(b[4:], uint32(len(b)-8-2))
			return b
		}(), err: ErrMalformed},
		{name: "truncated data", in: func() []byte {
			b := riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", pcm))
			return b[:len(b)-2]
		}(), err: ErrTruncated},
		{name: "truncated in fmt", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)))[:30], err: ErrTruncated},
		{name: "truncated in skipped chunk", in: riff(chunk("LIST", make([]byte, 100)))[:60], err: ErrTruncated},
		{name: "header claims 4 GB", in: claims4G, max: 1 << 20, err: ErrTooLarge},
		{name: "header claims 1 MB, has 4 bytes", in: lies, max: 1 << 21, err: ErrTruncated},
		{name: "over the caller's limit", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", make([]byte, 102))), max: 100, err: ErrTooLarge},
		{name: "mp3 in wav", in: riff(chunk("fmt ", fmtBody(0x55, 1, 8000, 0)), chunk("data", pcm)), err: ErrUnsupported},
		{name: "12-bit pcm", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 12)), chunk("data", pcm)), err: ErrUnsupported},
		{name: "16-bit a-law", in: riff(chunk("fmt ", fmtBody(FormatALaw, 1, 8000, 16)), chunk("data", pcm)), err: ErrUnsupported},
		{name: "no channels", in: riff(chunk("fmt ", fmtBody(FormatPCM, 0, 8000, 16)), chunk("data", pcm)), err: ErrUnsupported},
		{name: "9 channels", in: riff(chunk("fmt ", fmtBody(FormatPCM, 9, 8000, 16)), chunk("data", pcm)), err: ErrUnsupported},
		{name: "zero rate", in: riff(chunk("fmt ", fmtBody(FormatPCM, 1, 0, 16)), chunk("data", pcm)), err: ErrUnsupported},
		{name: "extensible unknown guid", in: riff(chunk("fmt ", func() []byte { b := extensibleBody(FormatPCM, 1, 8000, 16); b[39] = 0; return b }()), chunk("data", pcm)), err: ErrUnsupported},
		{name: "extensible too short", in: riff(chunk("fmt ", extensibleBody(FormatPCM, 1, 8000, 16)[:24]), chunk("data", pcm)), err: ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			max := tc.max
			if max == 0 {
				max = 1 << 20
			}
			w, err := ReadWAV(bytes.NewReader(tc.in), max)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if w.Format != tc.format || w.Channels != tc.chans || w.SampleRate != tc.rate || w.BitsPerSample != tc.bits {
				t.Errorf("got %s %d ch %d Hz %d bits, want %s %d ch %d Hz %d bits",
					w.Format, w.Channels, w.SampleRate, w.BitsPerSample, tc.format, tc.chans, tc.rate, tc.bits)
			}
			if !bytes.Equal(w.Data, tc.data) {
				t.Errorf("data = %x, want %x", w.Data, tc.data)
			}
			if tc.wantDur != 0 && w.Duration() != tc.wantDur {
				t.Errorf("duration = %v, want %v", w.Duration(), tc.wantDur)
			}
		})
	}
}

// TestReadWAVErrorText checks that an error names the part of the file
// at fault.
func TestReadWAVErrorText(t *testing.T) {
	in := riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", make([]byte, 400)))
	_, err := ReadWAV(bytes.NewReader(in), 100)
	if want := "wav: data chunk: too large: 400 bytes, limit 100"; err == nil || err.Error() != want {
		t.Fatalf("err = %v, want %q", err, want)
	}
}

func TestWAVWriter(t *testing.T) {
	for _, tc := range []struct {
		name     string
		rate     int
		max      int64
		writes   [][]int16
		wantN    []int
		wantErr  []error
		wantData []int16
	}{
		{name: "default rate", writes: [][]int16{{1, -1, 32767}, {-32768}},
			wantN: []int{3, 1}, wantErr: []error{nil, nil}, wantData: []int16{1, -1, 32767, -32768}},
		{name: "16 kHz", rate: 16000, writes: [][]int16{{5}},
			wantN: []int{1}, wantErr: []error{nil}, wantData: []int16{5}},
		{name: "limit cuts a write", max: 6, writes: [][]int16{{1, 2}, {3, 4}, {5}},
			wantN: []int{2, 1, 0}, wantErr: []error{nil, ErrTooLong, ErrTooLong}, wantData: []int16{1, 2, 3}},
		{name: "odd limit rounds down", max: 5, writes: [][]int16{{1, 2, 3}},
			wantN: []int{2}, wantErr: []error{ErrTooLong}, wantData: []int16{1, 2}},
		{name: "exactly the limit", max: 4, writes: [][]int16{{1, 2}, {}, {3}},
			wantN: []int{2, 0, 0}, wantErr: []error{nil, nil, ErrTooLong}, wantData: []int16{1, 2}},
		{name: "nothing", writes: nil, wantData: []int16{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &memFile{b: []byte("prefix"), off: 6} // the header goes where ws is
			w, err := NewWAVWriter(f, tc.rate, tc.max)
			if err != nil {
				t.Fatal(err)
			}
			for i, pcm := range tc.writes {
				n, err := w.WriteSamples(pcm)
				if n != tc.wantN[i] || !errors.Is(err, tc.wantErr[i]) {
					t.Errorf("write %d: %d, %v; want %d, %v", i, n, err, tc.wantN[i], tc.wantErr[i])
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			if err := w.Close(); err != nil {
				t.Fatalf("second close: %v", err)
			}
			if _, err := w.WriteSamples([]int16{1}); !errors.Is(err, ErrClosed) {
				t.Errorf("write after close: %v", err)
			}
			if string(f.b[:6]) != "prefix" {
				t.Fatalf("writer touched bytes before its start")
			}
			if f.off != int64(len(f.b)) {
				t.Errorf("offset after close %d, want end %d", f.off, len(f.b))
			}
			got, err := ReadWAV(bytes.NewReader(f.b[6:]), 1<<20)
			if err != nil {
				t.Fatal(err)
			}
			rate := tc.rate
			if rate == 0 {
				rate = 8000
			}
			if got.Format != FormatPCM || got.Channels != 1 || got.SampleRate != rate || got.BitsPerSample != 16 {
				t.Errorf("header %+v", got)
			}
			if riffSize := binary.LittleEndian.Uint32(f.b[10:]); int(riffSize) != len(f.b)-6-8 {
				t.Errorf("riff size %d, file has %d bytes after it", riffSize, len(f.b)-6-8)
			}
			if len(got.Data) != 2*len(tc.wantData) {
				t.Fatalf("data %d bytes, want %d", len(got.Data), 2*len(tc.wantData))
			}
			for i, v := range tc.wantData {
				if s := int16(binary.LittleEndian.Uint16(got.Data[2*i:])); s != v {
					t.Errorf("sample %d = %d, want %d", i, s, v)
				}
			}
			if w.Bytes() != int64(2*len(tc.wantData)) {
				t.Errorf("Bytes() = %d", w.Bytes())
			}
		})
	}
}

// TestWAVWriterFile writes a voicemail to a real file, as the appliance
// does, and checks its duration.
func TestWAVWriterFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vm.wav")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := NewWAVWriter(f, 8000, 8000*2*3) // 3 s at most
	if err != nil {
		t.Fatal(err)
	}
	frame := make([]int16, 160)
	var total int
	for {
		n, err := w.WriteSamples(frame)
		total += n
		if errors.Is(err, ErrTooLong) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if total != 24000 || w.Duration() != 3*time.Second {
		t.Fatalf("wrote %d samples, %v", total, w.Duration())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ReadWAV(bytes.NewReader(b), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if got.Duration() != 3*time.Second {
		t.Fatalf("read back %v", got.Duration())
	}
}

func TestNewWAVWriterRate(t *testing.T) {
	if _, err := NewWAVWriter(&memFile{}, -1, 0); !errors.Is(err, ErrUnsupported) {
		t.Fatalf("err = %v", err)
	}
}

// FuzzReadWAV feeds arbitrary bytes to ReadWAV. It must not panic, must not
// allocate much more than its limit whatever sizes the headers claim, and
// every 16-bit PCM mono file it accepts must come back unchanged through
// WAVWriter.
func FuzzReadWAV(f *testing.F) {
	pcm := []byte{1, 0, 2, 0, 0xFF, 0xFF}
	f.Add(riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)), chunk("data", pcm)))
	f.Add(riff(chunk("LIST", []byte("INFOabc")), chunk("fmt ", fmtBody(FormatPCM, 2, 44100, 16)), chunk("data", pcm[:4])))
	f.Add(riff(chunk("fmt ", fmtBody(FormatALaw, 1, 8000, 8)), chunk("fact", []byte{1, 0, 0, 0}), chunk("data", []byte{0xD5})))
	f.Add(riff(chunk("fmt ", extensibleBody(FormatPCM, 2, 48000, 24)), chunk("data", make([]byte, 12))))
	f.Add(riff(chunk("fmt ", fmtBody(FormatFloat, 1, 22050, 32)), chunk("data", make([]byte, 8))))
	big := riff(chunk("fmt ", fmtBody(FormatPCM, 1, 8000, 16)))
	big = append(big, 'd', 'a', 't', 'a', 0xF0, 0xFF, 0x0F, 0x00, 1, 2)
	binary.LittleEndian.PutUint32(big[4:], 0xFFFFFFFF)
	f.Add(big)
	const limit = 1 << 20
	f.Fuzz(func(t *testing.T, in []byte) {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		w, err := ReadWAV(bytes.NewReader(in), limit)
		runtime.ReadMemStats(&after)
		if alloc := after.TotalAlloc - before.TotalAlloc; alloc > limit+readStep+4096 {
			t.Fatalf("allocated %d bytes for a %d-byte input", alloc, len(in))
		}
		if err != nil {
			if !errors.Is(err, ErrTruncated) && !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error wraps no sentinel: %v", err)
			}
			return
		}
		if len(w.Data) > limit || len(w.Data)%w.BlockAlign() != 0 {
			t.Fatalf("data of %d bytes", len(w.Data))
		}
		if w.SampleRate >= MinConvertRate && w.SampleRate <= MaxConvertRate && w.Frames() <= 4096 {
			if _, err := ToTelephony(w); err != nil {
				t.Fatalf("accepted file does not convert: %v", err)
			}
		}
		if w.Format != FormatPCM || w.Channels != 1 || w.BitsPerSample != 16 {
			return
		}
		samples := make([]int16, len(w.Data)/2)
		for i := range samples {
			samples[i] = int16(binary.LittleEndian.Uint16(w.Data[2*i:]))
		}
		var out memFile
		ww, err := NewWAVWriter(&out, w.SampleRate, 0)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := ww.WriteSamples(samples); err != nil {
			t.Fatal(err)
		}
		if err := ww.Close(); err != nil {
			t.Fatal(err)
		}
		again, err := ReadWAV(bytes.NewReader(out.b), limit)
		if err != nil {
			t.Fatalf("written file does not read back: %v", err)
		}
		if again.SampleRate != w.SampleRate || !bytes.Equal(again.Data, w.Data) {
			t.Fatalf("round trip changed the file: %d Hz %d bytes, want %d Hz %d bytes",
				again.SampleRate, len(again.Data), w.SampleRate, len(w.Data))
		}
	})
}

// sine returns n samples of a sine of frequency hz at rate, with amplitude
// amp (in 16-bit units).
func sine(n, rate int, hz, amp float64) []float64 {
	x := make([]float64, n)
	for i := range x {
		x[i] = amp * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
	}
	return x
}
