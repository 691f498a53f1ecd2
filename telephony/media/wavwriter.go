package media

import (
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// DefaultMaxWAVBytes is the largest data chunk a RIFF/WAVE file can hold:
// the RIFF size field is 32 bits and counts the 36 bytes of header that
// follow it besides the data; rounded down to whole 16-bit samples.
const DefaultMaxWAVBytes = (0xFFFFFFFF - 36) &^ 1

// wavHeaderSize is the size of the canonical 44-byte header WAVWriter
// writes: RIFF header, 16-byte PCM fmt chunk, data chunk header.
const wavHeaderSize = 44

// WAVWriter writes 16-bit linear PCM mono RIFF/WAVE files: a voicemail as it
// is recorded. It writes the header first with zero sizes and patches the
// RIFF and data chunk sizes when it is closed. It stops at a byte limit, so
// a recording has a maximum length. A WAVWriter is not safe for concurrent
// use.
type WAVWriter struct {
	ws         io.WriteSeeker
	start      int64 // offset of the RIFF header in ws
	sampleRate int
	maxBytes   int64
	n          int64 // data bytes written
	full       bool
	closed     bool
	buf        []byte
}

// NewWAVWriter writes the header of a 16-bit PCM mono WAV file at the
// current offset of ws and returns a writer for its samples. A sampleRate
// of 0 means 8000 Hz. maxBytes limits the data chunk, rounded down to whole
// samples; 0 or a value above DefaultMaxWAVBytes means DefaultMaxWAVBytes.
func NewWAVWriter(ws io.WriteSeeker, sampleRate int, maxBytes int64) (*WAVWriter, error) {
	if sampleRate == 0 {
		sampleRate = ClockRate
	}
	if sampleRate < 1 || sampleRate > MaxSampleRate {
		return nil, fmt.Errorf("wav writer: %w: sample rate %d Hz", ErrUnsupported, sampleRate)
	}
	if maxBytes <= 0 || maxBytes > DefaultMaxWAVBytes {
		maxBytes = DefaultMaxWAVBytes
	}
	start, err := ws.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, fmt.Errorf("wav writer: %w", err)
	}
	w := &WAVWriter{ws: ws, start: start, sampleRate: sampleRate, maxBytes: maxBytes &^ 1}
	if _, err := ws.Write(w.header()); err != nil {
		return nil, fmt.Errorf("wav writer: header: %w", err)
	}
	return w, nil
}

// header returns the 44-byte canonical header for the data written so far.
func (w *WAVWriter) header() []byte {
	h := make([]byte, wavHeaderSize)
	le := binary.LittleEndian
	copy(h[0:4], "RIFF")
	le.PutUint32(h[4:8], uint32(36+w.n))
	copy(h[8:12], "WAVE")
	copy(h[12:16], "fmt ")
	le.PutUint32(h[16:20], 16)
	le.PutUint16(h[20:22], uint16(FormatPCM))
	le.PutUint16(h[22:24], 1) // mono
	le.PutUint32(h[24:28], uint32(w.sampleRate))
	le.PutUint32(h[28:32], uint32(w.sampleRate*2)) // byte rate
	le.PutUint16(h[32:34], 2)                      // block align
	le.PutUint16(h[34:36], 16)                     // bits per sample
	copy(h[36:40], "data")
	le.PutUint32(h[40:44], uint32(w.n))
	return h
}

// WriteSamples appends pcm to the data chunk and returns how many samples
// it wrote. When the samples do not all fit under the byte limit, it writes
// those that fit and returns ErrTooLong; every later call writes nothing and
// returns ErrTooLong.
func (w *WAVWriter) WriteSamples(pcm []int16) (int, error) {
	if w.closed {
		return 0, fmt.Errorf("wav writer: %w", ErrClosed)
	}
	if w.full {
		return 0, fmt.Errorf("wav writer: %w: %d bytes", ErrTooLong, w.maxBytes)
	}
	room := int((w.maxBytes - w.n) / 2)
	todo := pcm
	if len(todo) > room {
		todo = todo[:room]
	}
	written := 0
	for len(todo) > 0 {
		chunk := todo[:min(len(todo), 4096)]
		w.buf = w.buf[:0]
		for _, s := range chunk {
			w.buf = binary.LittleEndian.AppendUint16(w.buf, uint16(s))
		}
		n, err := w.ws.Write(w.buf)
		w.n += int64(n &^ 1)
		written += n / 2
		if err != nil {
			return written, fmt.Errorf("wav writer: %w", err)
		}
		todo = todo[len(chunk):]
	}
	if written < len(pcm) {
		w.full = true
		return written, fmt.Errorf("wav writer: %w: %d bytes", ErrTooLong, w.maxBytes)
	}
	return written, nil
}

// Bytes returns the number of data bytes written.
func (w *WAVWriter) Bytes() int64 { return w.n }

// Duration returns the playing time of the samples written.
func (w *WAVWriter) Duration() time.Duration {
	return time.Duration(w.n / 2 * int64(time.Second) / int64(w.sampleRate))
}

// Close patches the RIFF size and the data chunk size in the header, adds
// no pad byte (16-bit data is always even), and leaves ws positioned after
// the data. It does not close ws. Closing twice is a no-op.
func (w *WAVWriter) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	if _, err := w.ws.Seek(w.start, io.SeekStart); err != nil {
		return fmt.Errorf("wav writer: patch header: %w", err)
	}
	if _, err := w.ws.Write(w.header()); err != nil {
		return fmt.Errorf("wav writer: patch header: %w", err)
	}
	if _, err := w.ws.Seek(w.start+wavHeaderSize+w.n, io.SeekStart); err != nil {
		return fmt.Errorf("wav writer: %w", err)
	}
	return nil
}
