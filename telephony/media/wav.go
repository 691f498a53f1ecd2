package media

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// This file reads RIFF/WAVE files as Microsoft and IBM defined them in
// "Multimedia Programming Interface and Data Specifications 1.0" (1991),
// with the WAVE_FORMAT_EXTENSIBLE fmt chunk of Microsoft's "Multiple
// Channel Audio Data and WAVE Files" (2001). A RIFF file is the four bytes
// "RIFF", a little-endian 32-bit size, the form type "WAVE", and then
// chunks of a four-byte id, a 32-bit size and that many bytes, padded to an
// even length.

// Format is the format tag (wFormatTag) of a WAVE fmt chunk.
type Format uint16

// The format tags this package reads, from the Microsoft registry of WAVE
// format tags (mmreg.h).
const (
	// FormatPCM is linear PCM: unsigned 8-bit, or signed 16, 24 or 32-bit
	// little-endian samples.
	FormatPCM Format = 1
	// FormatFloat is 32-bit IEEE 754 floating point samples in [-1, 1].
	FormatFloat Format = 3
	// FormatALaw is 8-bit ITU-T G.711 A-law.
	FormatALaw Format = 6
	// FormatULaw is 8-bit ITU-T G.711 µ-law.
	FormatULaw Format = 7

	// formatExtensible is WAVE_FORMAT_EXTENSIBLE: the real format tag is
	// in the first two bytes of the SubFormat GUID.
	formatExtensible Format = 0xFFFE
)

// String returns the name of a format tag.
func (f Format) String() string {
	switch f {
	case FormatPCM:
		return "pcm"
	case FormatFloat:
		return "float"
	case FormatALaw:
		return "a-law"
	case FormatULaw:
		return "µ-law"
	}
	return fmt.Sprintf("format 0x%04x", uint16(f))
}

// Limits on what ReadWAV accepts.
const (
	// MaxChannels is the largest channel count ReadWAV accepts.
	MaxChannels = 8
	// MaxSampleRate is the highest sampling rate ReadWAV accepts, in Hz.
	MaxSampleRate = 384000
	// maxFmtSize bounds the fmt chunk; the largest defined one
	// (WAVE_FORMAT_EXTENSIBLE) is 40 bytes.
	maxFmtSize = 256
	// readStep is how much of a data chunk ReadWAV reads before it trusts
	// the chunk's size enough to allocate all of it.
	readStep = 64 << 10
)

// extensibleGUIDTail is bytes 2..15 of the KSDATAFORMAT_SUBTYPE GUIDs
// (xxxxxxxx-0000-0010-8000-00aa00389b71) whose first two bytes are a
// format tag.
var extensibleGUIDTail = [14]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71}

// WAV is a decoded RIFF/WAVE file: its sample format and the bytes of its
// data chunk.
type WAV struct {
	// Format is the sample format; a WAVE_FORMAT_EXTENSIBLE file reports
	// the format of its SubFormat.
	Format Format
	// Channels is the number of interleaved channels, 1 to MaxChannels.
	Channels int
	// SampleRate is the number of sample frames per second, in Hz.
	SampleRate int
	// BitsPerSample is the size of one sample of one channel.
	BitsPerSample int
	// Data is the data chunk as stored: interleaved little-endian samples,
	// a whole number of frames.
	Data []byte
}

// BlockAlign returns the size in bytes of one frame (one sample of every
// channel).
func (w *WAV) BlockAlign() int { return w.Channels * w.BitsPerSample / 8 }

// Frames returns the number of sample frames in Data.
func (w *WAV) Frames() int {
	if ba := w.BlockAlign(); ba > 0 {
		return len(w.Data) / ba
	}
	return 0
}

// Duration returns the playing time of Data.
func (w *WAV) Duration() time.Duration {
	if w.SampleRate <= 0 {
		return 0
	}
	return time.Duration(int64(w.Frames()) * int64(time.Second) / int64(w.SampleRate))
}

// ReadWAV reads a RIFF/WAVE file from r up to the end of its data chunk.
// It reads the fmt chunk, skips any other chunk before the data chunk
// (LIST, fact, bext, ...) including its pad byte, and returns the data
// chunk. Data chunks bigger than maxBytes are rejected with ErrTooLarge
// before anything is allocated for them, and ReadWAV allocates at most
// maxBytes plus 64 KiB for the data however big a size the header claims.
// Errors wrap ErrTruncated, ErrMalformed, ErrUnsupported or ErrTooLarge.
//
// It accepts linear PCM of 8, 16, 24 or 32 bits, 32-bit float, A-law and
// µ-law, in 1 to MaxChannels channels at 1 to MaxSampleRate Hz, also inside
// a WAVE_FORMAT_EXTENSIBLE fmt chunk. The byte rate field is not checked;
// the block alignment is.
func ReadWAV(r io.Reader, maxBytes int64) (*WAV, error) {
	var hdr [12]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return nil, fmt.Errorf("wav: riff header: %w", eofAsTruncated(err))
	}
	if string(hdr[0:4]) != "RIFF" || string(hdr[8:12]) != "WAVE" {
		return nil, fmt.Errorf("wav: %w: not a RIFF/WAVE file", ErrMalformed)
	}
	riffSize := int64(binary.LittleEndian.Uint32(hdr[4:8]))
	if riffSize < 4 {
		return nil, fmt.Errorf("wav: %w: riff size %d", ErrMalformed, riffSize)
	}
	left := riffSize - 4 // bytes of chunks the RIFF size allows
	var w *WAV
	for {
		if left < 8 {
			if w == nil {
				return nil, fmt.Errorf("wav: %w: no fmt chunk", ErrMalformed)
			}
			return nil, fmt.Errorf("wav: %w: no data chunk", ErrMalformed)
		}
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return nil, fmt.Errorf("wav: chunk header: %w", eofAsTruncated(err))
		}
		left -= 8
		id := string(ch[0:4])
		size := int64(binary.LittleEndian.Uint32(ch[4:8]))
		if size > left {
			return nil, fmt.Errorf("wav: %w: chunk %q of %d bytes overruns the riff size (%d bytes left)", ErrMalformed, id, size, left)
		}
		left -= size
		pad := size & 1
		switch id {
		case "fmt ":
			if w != nil {
				return nil, fmt.Errorf("wav: %w: second fmt chunk", ErrMalformed)
			}
			if size < 16 || size > maxFmtSize {
				return nil, fmt.Errorf("wav: %w: fmt chunk of %d bytes", ErrMalformed, size)
			}
			b := make([]byte, size)
			if _, err := io.ReadFull(r, b); err != nil {
				return nil, fmt.Errorf("wav: fmt chunk: %w", eofAsTruncated(err))
			}
			var err error
			if w, err = parseFmt(b); err != nil {
				return nil, err
			}
		case "data":
			if w == nil {
				return nil, fmt.Errorf("wav: %w: data chunk before fmt chunk", ErrMalformed)
			}
			if size > maxBytes {
				return nil, fmt.Errorf("wav: data chunk: %w: %d bytes, limit %d", ErrTooLarge, size, maxBytes)
			}
			if ba := int64(w.BlockAlign()); size%ba != 0 {
				return nil, fmt.Errorf("wav: %w: data chunk of %d bytes is not a whole number of %d-byte frames", ErrMalformed, size, ba)
			}
			data, err := readBounded(r, size)
			if err != nil {
				return nil, fmt.Errorf("wav: data chunk: %w", err)
			}
			w.Data = data
			return w, nil
		default:
			// The pad byte of a chunk may lie past a RIFF size that
			// does not count it.
			skip := size + min(pad, left)
			left -= min(pad, left)
			if n, err := io.CopyN(io.Discard, r, skip); err != nil {
				return nil, fmt.Errorf("wav: chunk %q: %w after %d of %d bytes", id, eofAsTruncated(err), n, skip)
			}
			continue
		}
		if pad == 1 && left > 0 {
			if _, err := io.ReadFull(r, ch[:1]); err != nil {
				return nil, fmt.Errorf("wav: chunk %q pad byte: %w", id, eofAsTruncated(err))
			}
			left--
		}
	}
}

// parseFmt decodes a WAVE fmt chunk (WAVEFORMATEX, optionally
// WAVEFORMATEXTENSIBLE) and checks that this package can read its samples.
func parseFmt(b []byte) (*WAV, error) {
	le := binary.LittleEndian
	f := Format(le.Uint16(b[0:2]))
	w := &WAV{
		Format:        f,
		Channels:      int(le.Uint16(b[2:4])),
		SampleRate:    int(le.Uint32(b[4:8])),
		BitsPerSample: int(le.Uint16(b[14:16])),
	}
	blockAlign := int(le.Uint16(b[12:14]))
	if f == formatExtensible {
		// cbSize (2 bytes), wValidBitsPerSample (2), dwChannelMask (4),
		// SubFormat (16).
		if len(b) < 40 || le.Uint16(b[16:18]) < 22 {
			return nil, fmt.Errorf("wav: %w: extensible fmt chunk of %d bytes", ErrMalformed, len(b))
		}
		if [14]byte(b[26:40]) != extensibleGUIDTail {
			return nil, fmt.Errorf("wav: %w: extensible sub-format %x", ErrUnsupported, b[24:40])
		}
		w.Format = Format(le.Uint16(b[24:26]))
	}
	if w.Channels < 1 || w.Channels > MaxChannels {
		return nil, fmt.Errorf("wav: %w: %d channels (1 to %d)", ErrUnsupported, w.Channels, MaxChannels)
	}
	if w.SampleRate < 1 || w.SampleRate > MaxSampleRate {
		return nil, fmt.Errorf("wav: %w: sample rate %d Hz (1 to %d)", ErrUnsupported, w.SampleRate, MaxSampleRate)
	}
	ok := false
	switch w.Format {
	case FormatPCM:
		ok = w.BitsPerSample == 8 || w.BitsPerSample == 16 || w.BitsPerSample == 24 || w.BitsPerSample == 32
	case FormatFloat:
		ok = w.BitsPerSample == 32
	case FormatALaw, FormatULaw:
		ok = w.BitsPerSample == 8
	}
	if !ok {
		return nil, fmt.Errorf("wav: %w: %s with %d bits per sample", ErrUnsupported, w.Format, w.BitsPerSample)
	}
	if blockAlign != w.BlockAlign() {
		return nil, fmt.Errorf("wav: %w: block align %d, want %d for %d channels of %d bits", ErrMalformed, blockAlign, w.BlockAlign(), w.Channels, w.BitsPerSample)
	}
	return w, nil
}

// readBounded reads exactly n bytes from r. It reads the first 64 KiB
// before allocating the rest, so a header that lies about a big size costs
// no more than 64 KiB unless the bytes are really there.
func readBounded(r io.Reader, n int64) ([]byte, error) {
	first := min(n, readStep)
	b := make([]byte, first, first)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, eofAsTruncated(err)
	}
	if n == first {
		return b, nil
	}
	all := make([]byte, n)
	copy(all, b)
	if got, err := io.ReadFull(r, all[first:]); err != nil {
		return nil, fmt.Errorf("%w: %d of %d bytes", eofAsTruncated(err), first+int64(got), n)
	}
	return all, nil
}

// eofAsTruncated turns the end of input in the middle of a structure into
// ErrTruncated and leaves other read errors alone.
func eofAsTruncated(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return ErrTruncated
	}
	return err
}
