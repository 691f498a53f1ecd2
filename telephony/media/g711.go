package media

import (
	"math/bits"
	"slices"
)

// This file implements ITU-T Recommendation G.711 (11/88), "Pulse code
// modulation (PCM) of voice frequencies", bit-exact with the reference
// implementation in the ITU-T Software Tool Library (ITU-T G.191, module
// g711.c, functions alaw_compress, alaw_expand, ulaw_compress and
// ulaw_expand).
//
// The reference works on 16-bit left-justified samples: A-law looks at the
// 12 most significant magnitude bits (a 13-bit signed sample), µ-law at the
// 13 most significant magnitude bits (a 14-bit signed sample). Negative
// samples are turned into magnitudes with a one's complement (^x, not -x),
// so -1 encodes like 0 with the sign bit clear. Decoding returns the middle
// of the quantisation interval, scaled back to 16 bits.

// EncodeALaw returns the G.711 A-law code of a 16-bit linear sample, with the
// even bits inverted as transmitted (G.711 table 1a; the code of a small
// positive sample is 0xD5).
func EncodeALaw(sample int16) byte {
	x := int32(sample)
	s := x >> 31                      // 0 for x >= 0, -1 otherwise
	m := uint32((x ^ s) >> 4)         // one's-complement magnitude, 0..2047 (11 bits)
	e := uint32(bits.Len32(m|16)) - 5 // segment - 1, 0..6
	code := e<<4 + m>>e               // m>>e is 16..31 in segments above the first
	code |= uint32(^s) & 0x80         // sign bit set for x >= 0
	return byte(code ^ 0x55)
}

// EncodeULaw returns the G.711 µ-law code of a 16-bit linear sample, with all
// bits inverted as transmitted (G.711 table 2a; the code of a small positive
// sample is 0xFF, of a small negative one 0x7F).
func EncodeULaw(sample int16) byte {
	x := int32(sample)
	s := x >> 31
	a := min(uint32((x^s)>>2)+33, 0x1FFF) // biased 13-bit magnitude
	seg := uint32(bits.Len32(a>>6)) + 1   // 1..8
	code := (8-seg)<<4 | (15 - (a>>seg)&15)
	code |= uint32(^s) & 0x80
	return byte(code)
}

// DecodeALaw returns the 16-bit linear sample of a G.711 A-law code: the
// middle of its quantisation interval, as in G.711 table 1a.
func DecodeALaw(b byte) int16 { return alawTable[b] }

// DecodeULaw returns the 16-bit linear sample of a G.711 µ-law code: the
// middle of its quantisation interval, as in G.711 table 2a. Both 0x7F and
// 0xFF decode to 0.
func DecodeULaw(b byte) int16 { return ulawTable[b] }

// AppendALaw appends the G.711 A-law codes of pcm to dst and returns the
// extended slice, one byte per sample: an RTP PCMA payload (RFC 3551
// section 4.5.14).
func AppendALaw(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(pcm))[:n+len(pcm)]
	out := dst[n:]
	t := &alawEncodeTable
	for i, s := range pcm {
		out[i] = t[uint16(s)>>4]
	}
	return dst
}

// AppendULaw appends the G.711 µ-law codes of pcm to dst and returns the
// extended slice, one byte per sample: an RTP PCMU payload (RFC 3551
// section 4.5.14).
func AppendULaw(dst []byte, pcm []int16) []byte {
	n := len(dst)
	dst = slices.Grow(dst, len(pcm))[:n+len(pcm)]
	out := dst[n:]
	t := &ulawEncodeTable
	for i, s := range pcm {
		out[i] = t[uint16(s)>>2]
	}
	return dst
}

// AppendPCMFromALaw appends the 16-bit linear samples of the G.711 A-law
// codes in a to dst and returns the extended slice.
func AppendPCMFromALaw(dst []int16, a []byte) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, len(a))[:n+len(a)]
	out := dst[n:]
	t := &alawTable
	for i, c := range a {
		out[i] = t[c]
	}
	return dst
}

// AppendPCMFromULaw appends the 16-bit linear samples of the G.711 µ-law
// codes in u to dst and returns the extended slice.
func AppendPCMFromULaw(dst []int16, u []byte) []int16 {
	n := len(dst)
	dst = slices.Grow(dst, len(u))[:n+len(u)]
	out := dst[n:]
	t := &ulawTable
	for i, c := range u {
		out[i] = t[c]
	}
	return dst
}

// alawTable and ulawTable are the 256-entry decoding tables;
// alawEncodeTable and ulawEncodeTable are the encoding tables the slice
// forms use. A-law looks only at the top 12 bits of a sample and µ-law at
// the top 14 (x>>4 and x>>2, since the one's complement of a negative
// sample commutes with an arithmetic shift), so the encoding tables are
// indexed by those bits: 4 KiB and 16 KiB. All four are filled once when
// the package is initialised and only read afterwards.
var (
	alawEncodeTable = func() (t [1 << 12]byte) {
		for i := range t {
			t[i] = EncodeALaw(int16(uint16(i) << 4))
		}
		return t
	}()
	ulawEncodeTable = func() (t [1 << 14]byte) {
		for i := range t {
			t[i] = EncodeULaw(int16(uint16(i) << 2))
		}
		return t
	}()
	alawTable = func() (t [256]int16) {
		for c := range t {
			t[c] = expandALaw(byte(c))
		}
		return t
	}()
	ulawTable = func() (t [256]int16) {
		for c := range t {
			t[c] = expandULaw(byte(c))
		}
		return t
	}()
)

// expandALaw decodes one A-law code as alaw_expand in ITU-T G.191 does.
func expandALaw(c byte) int16 {
	ix := int32(c^0x55) & 0x7F
	exp := ix >> 4
	mant := ix & 0x0F
	if exp > 0 {
		mant += 16 // the implicit leading one of segments 2..8
	}
	mant = mant<<4 + 8 // middle of the interval, left-justified to 16 bits
	if exp > 1 {
		mant <<= exp - 1
	}
	if c > 127 {
		return int16(mant)
	}
	return int16(-mant)
}

// expandULaw decodes one µ-law code as ulaw_expand in ITU-T G.191 does.
func expandULaw(c byte) int16 {
	sign := int32(1)
	if c < 0x80 {
		sign = -1
	}
	m := int32(^c)
	exp := (m >> 4) & 7
	step := int32(4) << (exp + 1)
	m &= 0x0F
	return int16(sign * ((0x80 << exp) + step*m + step/2 - 4*33))
}
