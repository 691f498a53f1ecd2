package media

import (
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"
)

// stlDir holds the ITU-T G.191 STL G.711 conformance vectors.
const stlDir = "testdata/itu-t-stl-g711"

// readWords reads a file of the STL test set as 16-bit little-endian words
// and checks its CRC-32 against the "CRC32-LE" column of the upstream
// README, so that a corrupted or byte-swapped copy fails loudly.
func readWords(t *testing.T, name string, crc uint32) []uint16 {
	b, err := os.ReadFile(filepath.Join(stlDir, name))
	if err != nil {
		t.Fatal(err)
	}
	if got := crc32.ChecksumIEEE(b); got != crc {
		t.Fatalf("%s: crc32 %08X, want %08X", name, got, crc)
	}
	if len(b) != 2*65536 {
		t.Fatalf("%s: %d bytes, want %d", name, len(b), 2*65536)
	}
	w := make([]uint16, len(b)/2)
	for i := range w {
		w[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return w
}

// TestG711Conformance runs the encoders and decoders over the ITU-T G.191
// reference files: all 65,536 int16 inputs, their A-law and µ-law codes, and
// the decoded results, and requires every value to match.
func TestG711Conformance(t *testing.T) {
	src := readWords(t, "sweep.src", 0xC8BA7682)
	for i, w := range src {
		if int16(w) != int16(i-32768) {
			t.Fatalf("sweep.src[%d] = %d, want %d", i, int16(w), i-32768)
		}
	}
	for _, law := range []struct {
		name           string
		codes, decoded string
		roundTrip      string
		crcCodes       uint32
		crcDecoded     uint32
		encode         func(int16) byte
		decode         func(byte) int16
		appendCodes    func([]byte, []int16) []byte
		appendPCM      func([]int16, []byte) []int16
	}{
		{"alaw", "sweep-r.a", "sweep-r.a-a", "sweep-r.rea", 0x74719FE4, 0xABCEAA69,
			EncodeALaw, DecodeALaw, AppendALaw, AppendPCMFromALaw},
		{"ulaw", "sweep-r.u", "sweep-r.u-u", "sweep-r.reu", 0xCD170E15, 0x63641C01,
			EncodeULaw, DecodeULaw, AppendULaw, AppendPCMFromULaw},
	} {
		t.Run(law.name, func(t *testing.T) {
			codes := readWords(t, law.codes, law.crcCodes)
			decoded := readWords(t, law.decoded, law.crcDecoded)
			roundTrip := readWords(t, law.roundTrip, law.crcDecoded)
			pcm := make([]int16, len(src))
			want := make([]byte, len(src))
			for i, w := range src {
				pcm[i] = int16(w)
				if codes[i] > 0xFF {
					t.Fatalf("%s[%d] = %#04x: code not in the low byte", law.codes, i, codes[i])
				}
				want[i] = byte(codes[i])
			}
			bad := 0
			for i, x := range pcm {
				if got := law.encode(x); got != want[i] {
					if bad++; bad <= 10 {
						t.Errorf("encode(%d) = %#02x, want %#02x", x, got, want[i])
					}
				}
				if got := law.decode(want[i]); got != int16(decoded[i]) {
					if bad++; bad <= 10 {
						t.Errorf("decode(%#02x) = %d, want %d", want[i], got, int16(decoded[i]))
					}
				}
				if got := law.decode(law.encode(x)); got != int16(roundTrip[i]) {
					if bad++; bad <= 10 {
						t.Errorf("decode(encode(%d)) = %d, want %d", x, got, int16(roundTrip[i]))
					}
				}
			}
			// The slice forms must give the same answers, appended after
			// what dst already holds.
			gotCodes := law.appendCodes([]byte{0xAA}, pcm)
			if len(gotCodes) != 1+len(pcm) || gotCodes[0] != 0xAA || string(gotCodes[1:]) != string(want) {
				t.Errorf("append codes differs from the reference")
			}
			gotPCM := law.appendPCM([]int16{7}, want)
			if len(gotPCM) != 1+len(want) || gotPCM[0] != 7 {
				t.Fatalf("append pcm: len %d, first %d", len(gotPCM), gotPCM[0])
			}
			for i, v := range gotPCM[1:] {
				if v != int16(decoded[i]) {
					t.Fatalf("append pcm [%d] = %d, want %d", i, v, int16(decoded[i]))
				}
			}
		})
	}
}

// TestG711Exhaustive checks the properties of G.711 over every int16 input
// and every code, independently of the reference files: decoding is
// monotonic in the code's level, decode(encode(x)) stays within half a
// quantisation step of x (one step for the one's-complement rounding of
// negative samples), and encode(decode(c)) == c except for µ-law 0x7F,
// which decodes to 0 like 0xFF and so encodes back to 0xFF.
func TestG711Exhaustive(t *testing.T) {
	for _, law := range []struct {
		name   string
		encode func(int16) byte
		decode func(byte) int16
		// step returns the quantisation step, in 16-bit units, of the
		// segment of a decoded value.
		step func(int16) int32
		// exceptions are codes c with encode(decode(c)) != c.
		exceptions map[byte]byte
	}{
		{"alaw", EncodeALaw, DecodeALaw, alawStep, nil},
		{"ulaw", EncodeULaw, DecodeULaw, ulawStep, map[byte]byte{0x7F: 0xFF}},
	} {
		t.Run(law.name, func(t *testing.T) {
			for c := range 256 {
				want := byte(c)
				if e, ok := law.exceptions[want]; ok {
					want = e
				}
				if got := law.encode(law.decode(byte(c))); got != want {
					t.Errorf("encode(decode(%#02x)) = %#02x, want %#02x", c, got, want)
				}
			}
			prev := law.decode(law.encode(-32768))
			for i := -32768; i <= 32767; i++ {
				x := int16(i)
				y := law.decode(law.encode(x))
				if y < prev {
					t.Fatalf("not monotonic: decode(encode(%d)) = %d < %d", x, y, prev)
				}
				prev = y
				step := law.step(y)
				if d := int32(y) - int32(x); d > step || d < -step {
					t.Fatalf("decode(encode(%d)) = %d: off by %d, step %d", x, y, d, step)
				}
			}
		})
	}
}

// alawStep returns the quantisation step of the A-law segment holding v:
// 32 in the two innermost segments, doubling in each one after.
func alawStep(v int16) int32 {
	m := int32(v)
	if m < 0 {
		m = -m
	}
	step := int32(32)
	for lim := int32(1024); m >= lim && step < 2048; lim <<= 1 {
		step <<= 1
	}
	return step
}

// ulawStep returns the quantisation step of the µ-law segment holding v:
// 8 in the innermost segment, doubling in each one after.
func ulawStep(v int16) int32 {
	m := int32(v)
	if m < 0 {
		m = -m
	}
	step := int32(8)
	for lim := int32(124); m >= lim && step < 1024; lim = 2*lim + 132 {
		step <<= 1
	}
	return step
}

// TestG711Table checks hand-picked codes from G.711 tables 1a and 2a.
func TestG711Table(t *testing.T) {
	for _, tc := range []struct {
		name string
		x    int16
		a, u byte
	}{
		{"zero", 0, 0xD5, 0xFF},
		{"minus one", -1, 0x55, 0x7F},
		{"max", 32767, 0xAA, 0x80},
		{"min", -32768, 0x2A, 0x00},
		{"a-law segment edge", 256, 0xC5, 0xE7},
		{"mid", 1000, 0xFA, 0xCE},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := EncodeALaw(tc.x); got != tc.a {
				t.Errorf("EncodeALaw(%d) = %#02x, want %#02x", tc.x, got, tc.a)
			}
			if got := EncodeULaw(tc.x); got != tc.u {
				t.Errorf("EncodeULaw(%d) = %#02x, want %#02x", tc.x, got, tc.u)
			}
		})
	}
}
