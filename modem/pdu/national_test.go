package pdu

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// The tables of 3GPP TS 23.038 Annex A written out a second time, in another
// form than national.go, so that a slip in either shows. Locking shift
// tables are 128 characters in septet order, with '·' for the escape 0x1B;
// single shift tables list "septet character" pairs.
var (
	wantTurkishLocking = "@£$¥€éùıòÇ\nĞğ\rÅå" + "Δ_ΦΓΛΩΠΨΣΘΞ·ŞşßÉ" + " !\"#¤%&'()*+,-./" + "0123456789:;<=>?" +
		"İABCDEFGHIJKLMNO" + "PQRSTUVWXYZÄÖÑÜ§" + "çabcdefghijklmno" + "pqrstuvwxyzäöñüà"
	wantPortugueseLocking = "@£$¥êéúíóç\nÔô\rÁá" + "Δ_ªÇÀ∞^\\€Ó|·ÂâÊÉ" + " !\"#º%&'()*+,-./" + "0123456789:;<=>?" +
		"ÍABCDEFGHIJKLMNO" + "PQRSTUVWXYZÃÕÚÜ§" + "~abcdefghijklmno" + "pqrstuvwxyzãõ`üà"
	wantTurkishSingle    = "0A \f 14 ^ 28 { 29 } 2F \\ 3C [ 3D ~ 3E ] 40 | 47 Ğ 49 İ 53 Ş 63 ç 65 € 67 ğ 69 ı 73 ş"
	wantSpanishSingle    = "09 ç 0A \f 14 ^ 28 { 29 } 2F \\ 3C [ 3D ~ 3E ] 40 | 41 Á 49 Í 4F Ó 55 Ú 61 á 65 € 69 í 6F ó 75 ú"
	wantPortugueseSingle = "05 ê 09 ç 0A \f 0B Ô 0C ô 0E Á 0F á 12 Φ 13 Γ 14 ^ 15 Ω 16 Π 17 Ψ 18 Σ 19 Θ 1F Ê " +
		"28 { 29 } 2F \\ 3C [ 3D ~ 3E ] 40 | 41 À 49 Í 4F Ó 55 Ú 5B Ã 5C Õ 61 Â 65 € 69 í 6F ó 75 ú 7B ã 7C õ 7F â"
	wantDefaultSingle = "0A \f 14 ^ 28 { 29 } 2F \\ 3C [ 3D ~ 3E ] 40 | 65 €"
)

// lockingRunes returns the 128 characters of a locking table transcription,
// 0 at the escape.
func lockingRunes(t testing.TB, s string) [128]rune {
	t.Helper()
	rs := []rune(s)
	if len(rs) != 128 {
		t.Fatalf("locking table of %d characters", len(rs))
	}
	var out [128]rune
	for i, r := range rs {
		if r != '·' {
			out[i] = r
		}
	}
	if out[escape] != 0 {
		t.Fatal("escape position holds a character")
	}
	return out
}

// singleRunes returns a single shift table transcription as 128 entries, 0
// where it defines none.
func singleRunes(t testing.TB, s string) [128]rune {
	t.Helper()
	var out [128]rune
	f := strings.Split(s, " ")
	for i := 0; i+1 < len(f); i += 2 {
		c, err := hex.DecodeString(f[i])
		if err != nil || len(c) != 1 || c[0] >= 128 || utf8.RuneCountInString(f[i+1]) != 1 {
			t.Fatalf("bad pair %q %q", f[i], f[i+1])
		}
		out[c[0]], _ = utf8.DecodeRuneInString(f[i+1])
	}
	return out
}

// wantTables returns the transcribed locking (or default) and single (or
// extension) tables of s.
func wantTables(t testing.TB, s Shift) (lock, single [128]rune) {
	t.Helper()
	switch s.Locking {
	case Turkish:
		lock = lockingRunes(t, wantTurkishLocking)
	case Portuguese:
		lock = lockingRunes(t, wantPortugueseLocking)
	default:
		lock = gsm7Basic
		lock[escape] = 0
	}
	switch s.Single {
	case Turkish:
		single = singleRunes(t, wantTurkishSingle)
	case Spanish:
		single = singleRunes(t, wantSpanishSingle)
	case Portuguese:
		single = singleRunes(t, wantPortugueseSingle)
	default:
		single = singleRunes(t, wantDefaultSingle)
	}
	return lock, single
}

// TestNationalLockingTables decodes every septet of each locking shift
// table (3GPP TS 23.038 clauses A.3.1 and A.3.3) and encodes the character
// back to the same septet.
func TestNationalLockingTables(t *testing.T) {
	for _, l := range []Language{Turkish, Portuguese} {
		t.Run(l.String(), func(t *testing.T) {
			s := Shift{Locking: l}
			want, _ := wantTables(t, s)
			shown := want
			shown[escape] = '\u00a0' // a lone escape, as DecodeGSM7 shows it
			if got := lockingTable(l).chars; got != shown {
				t.Fatalf("table differs from the transcription:\n got %q\nwant %q", string(got[:]), string(shown[:]))
			}
			for c := range byte(128) {
				r := want[c]
				if r == 0 {
					if got := DecodeGSM7Shift([]byte{c}, s); got != "\u00a0" {
						t.Errorf("lone escape decodes to %q", got)
					}
					continue
				}
				if got := DecodeGSM7Shift([]byte{c}, s); got != string(r) {
					t.Errorf("septet %02X decodes to %q, want %q", c, got, r)
				}
				if got, err := EncodeGSM7Shift(string(r), s); err != nil || !bytes.Equal(got, []byte{c}) {
					t.Errorf("%q encodes to %X, %v; want %02X", r, got, err, c)
				}
			}
		})
	}
}

// TestNationalSingleTables decodes an escape and every septet of each
// single shift table (3GPP TS 23.038 clauses A.2.1 to A.2.3), and encodes
// each character back: to the one septet of the default alphabet when it is
// there too (ç), to the escape pair otherwise. A septet the table leaves
// undefined gives the default alphabet's character (the note to clause
// 6.2.1.1).
func TestNationalSingleTables(t *testing.T) {
	sizes := map[Language]int{Turkish: 17, Spanish: 19, Portuguese: 37}
	for _, l := range []Language{Turkish, Spanish, Portuguese} {
		t.Run(l.String(), func(t *testing.T) {
			s := Shift{Single: l}
			lock, single := wantTables(t, s)
			if got := singleTable(l).chars; got != single {
				t.Fatalf("table differs from the transcription:\n got %q\nwant %q", string(got[:]), string(single[:]))
			}
			n := 0
			for c := range byte(128) {
				r := single[c]
				got := DecodeGSM7Shift([]byte{escape, c}, s)
				switch {
				case r != 0:
					n++
					if got != string(r) {
						t.Errorf("escape %02X decodes to %q, want %q", c, got, r)
					}
					want := []byte{escape, c}
					if i := slices.Index(lock[:], r); i >= 0 {
						want = []byte{byte(i)}
					}
					if enc, err := EncodeGSM7Shift(string(r), s); err != nil || !bytes.Equal(enc, want) {
						t.Errorf("%q encodes to %X, %v; want %X", r, enc, err, want)
					}
				case c == escape:
					if got != " " {
						t.Errorf("two escapes decode to %q, want a space", got)
					}
				default:
					if got != string(gsm7Basic[c]) {
						t.Errorf("undefined escape %02X decodes to %q, want %q", c, got, gsm7Basic[c])
					}
				}
			}
			if n != sizes[l] {
				t.Errorf("%d characters, want %d", n, sizes[l])
			}
		})
	}
}

// TestNationalDefaultTables checks that the generic tables of the default
// alphabet agree with EncodeGSM7 and DecodeGSM7, which keep their own fast
// path.
func TestNationalDefaultTables(t *testing.T) {
	lock, single := wantTables(t, Shift{})
	if defaultExt.chars != single {
		t.Fatalf("default extension table %q", string(defaultExt.chars[:]))
	}
	for c := range byte(128) {
		for _, r := range []rune{lock[c], single[c]} {
			if r == 0 {
				continue
			}
			a, _ := EncodeGSM7(string(r))
			b, err := EncodeGSM7Shift(string(r), Shift{Locking: Spanish, Single: 99}) // no tables: default ones
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%q: EncodeGSM7 %X, generic %X %v", r, a, b, err)
			}
		}
		for _, septets := range [][]byte{{c}, {escape, c}} {
			if a, b := DecodeGSM7(septets), DecodeGSM7Shift(septets, Shift{Locking: Spanish, Single: 99}); a != b {
				t.Errorf("%X: DecodeGSM7 %q, generic %q", septets, a, b)
			}
		}
	}
}

// TestNationalUndefinedEscape checks the rule of the note to 3GPP TS 23.038
// clause 6.2.1.1 with a locking shift table: an escape before a septet that
// the single shift table does not define gives the locking table's
// character.
func TestNationalUndefinedEscape(t *testing.T) {
	for _, tt := range []struct {
		s       Shift
		septets []byte
		want    string
	}{
		{Shift{Turkish, Turkish}, []byte{escape, 0x09}, "Ç"},       // undefined in Turkish single: Turkish locking 0x09
		{Shift{Turkish, Turkish}, []byte{escape, 0x04}, "€"},       // locking 0x04 is € there
		{Shift{Portuguese, 0}, []byte{escape, 0x12}, "ª"},          // default extension, Portuguese locking
		{Shift{Portuguese, Portuguese}, []byte{escape, 0x12}, "Φ"}, // defined in Portuguese single
		{Shift{Turkish, 0}, []byte{'a', escape}, "a\u00a0"},        // lone escape at the end
		{Shift{Single: Spanish}, []byte{escape, escape, 0x41}, " A"},
		{Shift{Locking: Spanish}, []byte{0x04, 0x24}, "è¤"},                 // Spanish has no locking table
		{Shift{Locking: 13, Single: 200}, []byte{0x07, escape, 0x65}, "ì€"}, // languages without tables here
	} {
		if got := DecodeGSM7Shift(tt.septets, tt.s); got != tt.want {
			t.Errorf("DecodeGSM7Shift(%X, %v) = %q, want %q", tt.septets, tt.s, got, tt.want)
		}
	}
	if _, err := EncodeGSM7Shift("Ğ", Shift{Single: Spanish}); !errors.Is(err, ErrNotGSM7) {
		t.Errorf("Ğ with Spanish tables: %v", err)
	}
}

// deliverWithUDH builds an SMS-DELIVER from +905321234567 with TP-UDHI set,
// the GSM 7-bit alphabet, the header h (its information elements, without
// the length octet) and the septets, as 3GPP TS 23.040 clause 9.2.2.1 lays
// it out.
func deliverWithUDH(h, septets []byte) []byte {
	p := []byte{
		0x00,       // no SMSC
		0x40,       // SMS-DELIVER, TP-UDHI
		0x0C, 0x91, // TP-OA: 12 digits, international
		0x09, 0x35, 0x12, 0x32, 0x54, 0x76, // 905321234567
		0x00, 0x00, // TP-PID, TP-DCS: default alphabet
		0x42, 0x11, 0x12, 0x91, 0x20, 0x50, 0x21, // TP-SCTS 2024-11-21 19:02:05 +03:00
	}
	udh := append([]byte{byte(len(h))}, h...)
	headerSeptets := (len(udh)*8 + 6) / 7
	p = append(p, byte(headerSeptets+len(septets)))
	p = append(p, udh...)
	return append(p, Pack7(septets, headerSeptets*7-len(udh)*8)...)
}

// TestDecodeNationalPDU decodes hand-built SMS-DELIVERs whose headers carry
// the national language elements (3GPP TS 23.040 clauses 9.2.3.24.15 and
// 9.2.3.24.16).
func TestDecodeNationalPDU(t *testing.T) {
	tests := []struct {
		name    string
		udh     string
		septets []byte
		shift   Shift
		want    string
	}{
		{
			"turkish locking and single",
			"250101240101",
			// Ş i ş e space ı ğ space İ { ç } ESC-63 (ç in the single table)
			[]byte{0x1C, 'i', 0x1D, 'e', ' ', 0x07, 0x0C, ' ', 0x40, escape, 0x28, 0x60, escape, 0x29, escape, 0x63},
			Shift{Turkish, Turkish}, "Şişe ığ İ{ç}ç",
		},
		{
			"turkish single only",
			"240101",
			// Ş ESC-53, i, ş ESC-73, e, ğ ESC-67, ü 0x7E, €
			[]byte{escape, 0x53, 'i', escape, 0x73, 'e', escape, 0x67, 0x7E, escape, 0x65},
			Shift{Single: Turkish}, "Şişeğü€",
		},
		{
			"turkish locking only",
			"250101",
			[]byte{0x07, 0x04, escape, 0x65, 0x09},
			Shift{Locking: Turkish}, "ı€€Ç",
		},
		{
			"portuguese locking and single after a concatenation element",
			"00034B0201250103240103",
			[]byte{'A', 0x13, escape, 0x7B, 'o', ' ', 'v', 'o', 'c', 0x04, ' ', 0x12, 0x24},
			Shift{Portuguese, Portuguese}, "AÇão você ªº",
		},
		{
			"spanish single",
			"240102",
			[]byte{'a', 'c', 'c', escape, 0x69, 'o', 'n', ' ', escape, 0x41},
			Shift{Single: Spanish}, "accíon Á",
		},
		{
			"spanish locking is void: default alphabet",
			"250102",
			[]byte{0x04, 0x07},
			Shift{Locking: Spanish}, "èì",
		},
		{
			"unknown language: default tables",
			"250163240163",
			[]byte{0x04, escape, 0x65, escape, 0x47},
			Shift{99, 99}, "è€G",
		},
		{
			"wrong element length is ignored",
			"24020101",
			[]byte{escape, 0x47},
			Shift{}, "G",
		},
		{
			"last element counts",
			"240102240101",
			[]byte{escape, 0x47},
			Shift{Single: Turkish}, "Ğ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := deliverWithUDH(mustHex(t, tt.udh), tt.septets)
			m, err := Decode(p)
			if err != nil {
				t.Fatalf("%X: %v", p, err)
			}
			if m.Text != tt.want || m.Shift != tt.shift || m.Encoding != GSM7 || !bytes.Equal(m.Data, tt.septets) {
				t.Errorf("%X: text %q shift %v data %X; want %q, %v", p, m.Text, m.Shift, m.Data, tt.want, tt.shift)
			}
			if m.Address != "+905321234567" || m.Type != Deliver {
				t.Errorf("header fields %+v", m)
			}
			if got := DecodeGSM7Shift(m.Data, m.Shift); got != tt.want {
				t.Errorf("DecodeGSM7Shift(Data) = %q", got)
			}
		})
	}
	// The elements mean nothing for UCS-2: Shift stays zero.
	if m, err := DecodeHex("00400C91093512325476000842111291205021" + "04" + "03250101" + "00C7"); err != nil || !m.Shift.IsZero() || m.Encoding != UCS2 {
		t.Errorf("ucs-2 with a shift element: %+v, %v", m, err)
	}
}

// TestEncodeSubmitNational checks the choice between the default alphabet,
// national tables and UCS-2, and the header of each part.
func TestEncodeSubmitNational(t *testing.T) {
	pt := "Ação, você está ótimo! "
	tr := "Şişeler ğüzel, İstanbul'da ışık. "
	all := []Language{Turkish, Spanish, Portuguese}
	tests := []struct {
		name  string
		text  string
		o     SubmitOptions
		parts int
		enc   Encoding
		shift Shift
	}{
		{"disabled by default", strings.Repeat(pt, 4), SubmitOptions{Class: -1}, 2, UCS2, Shift{}},
		{"one part either way: ucs-2", pt, SubmitOptions{Class: -1, NationalLanguages: all}, 1, UCS2, Shift{}},
		{"portuguese single shift", strings.Repeat(pt, 4), SubmitOptions{Class: -1, NationalLanguages: all}, 1, GSM7, Shift{Single: Portuguese}},
		{"portuguese needs locking", strings.Repeat(pt, 6), SubmitOptions{Class: -1, NationalLanguages: all}, 1, GSM7, Shift{Locking: Portuguese}},
		{"portuguese single only", strings.Repeat(pt, 6), SubmitOptions{Class: -1, NationalLanguages: all, SingleShiftOnly: true}, 2, GSM7, Shift{Single: Portuguese}},
		{"turkish single shift", strings.Repeat(tr, 3), SubmitOptions{Class: -1, NationalLanguages: []Language{Turkish}}, 1, GSM7, Shift{Single: Turkish}},
		{"turkish locking", strings.Repeat(tr, 9), SubmitOptions{Class: -1, NationalLanguages: []Language{Turkish}}, 2, GSM7, Shift{Locking: Turkish}},
		{"turkish locking, 16-bit reference", strings.Repeat(tr, 8), SubmitOptions{Class: -1, NationalLanguages: []Language{Turkish}, ConcatRef: 1000}, 2, GSM7, Shift{Locking: Turkish}},
		{"turkish 16-bit reference: single shift ties", strings.Repeat(tr, 9), SubmitOptions{Class: -1, NationalLanguages: []Language{Turkish}, ConcatRef: 1000}, 3, GSM7, Shift{Single: Turkish}},
		{"turkish locking keeps the default extension", strings.Repeat(tr, 8) + "{", SubmitOptions{Class: -1, NationalLanguages: []Language{Turkish}}, 2, GSM7, Shift{Locking: Turkish}},
		{"portuguese Ω needs both", strings.Repeat(pt, 6) + "Ω", SubmitOptions{Class: -1, NationalLanguages: all}, 1, GSM7, Shift{Portuguese, Portuguese}},
		{"spanish text", strings.Repeat("¿Dónde está mi pedido? Gracias, Ángel. ", 4), SubmitOptions{Class: -1, NationalLanguages: all}, 2, GSM7, Shift{Single: Spanish}},
		{"spanish table not enabled", strings.Repeat("¿Dónde está mi pedido? Gracias, Ángel. ", 4), SubmitOptions{Class: -1, NationalLanguages: []Language{Turkish}}, 3, UCS2, Shift{}},
		{"mixed turkish and portuguese", strings.Repeat("ığ ã ", 20), SubmitOptions{Class: -1, NationalLanguages: all}, 1, GSM7, Shift{Turkish, Portuguese}},
		{"emoji: ucs-2", strings.Repeat(tr, 3) + "🙂", SubmitOptions{Class: -1, NationalLanguages: all}, 2, UCS2, Shift{}},
		{"default alphabet stays default", strings.Repeat("€", 160), SubmitOptions{Class: -1, NationalLanguages: all}, 3, GSM7, Shift{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pdus, err := EncodeSubmit("+905321234567", tt.text, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if len(pdus) != tt.parts {
				t.Errorf("%d parts, want %d", len(pdus), tt.parts)
			}
			n, enc, shift := SegmentsWith(tt.text, tt.o)
			if n != len(pdus) || enc != tt.enc || shift != tt.shift {
				t.Errorf("SegmentsWith = %d, %v, %v; want %d, %v, %v", n, enc, shift, len(pdus), tt.enc, tt.shift)
			}
			var text strings.Builder
			for i, p := range pdus {
				m, err := Decode(p)
				if err != nil {
					t.Fatal(err)
				}
				if m.Encoding != tt.enc || m.Shift != tt.shift {
					t.Errorf("part %d: %v %v", i+1, m.Encoding, m.Shift)
				}
				var want []byte
				if len(pdus) > 1 {
					wide := tt.o.ConcatRef > 255
					want = concatIE(tt.o.ConcatRef, wide, byte(len(pdus)), byte(i+1))
				}
				want = shiftIEs(want, tt.shift)
				var got []byte
				for _, ie := range m.UDH {
					got = append(got, ie.ID, byte(len(ie.Data)))
					got = append(got, ie.Data...)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("part %d header %X, want %X", i+1, got, want)
				}
				text.WriteString(m.Text)
			}
			if text.String() != tt.text {
				t.Errorf("decoded %q", text.String())
			}
		})
	}
	if _, err := EncodeSubmit("+1", "x", SubmitOptions{Class: -1, NationalLanguages: []Language{4}}); !errors.Is(err, ErrUnsupported) {
		t.Errorf("Bengali accepted: %v", err)
	}
	if n, enc, s := SegmentsWith("ığ", SubmitOptions{NationalLanguages: []Language{0, 4}}); n != 1 || enc != UCS2 || !s.IsZero() {
		t.Errorf("SegmentsWith with unsupported languages = %d %v %v", n, enc, s)
	}
}

// TestNationalSegmentationAndroid checks Android's Turkish single shift
// segmentation vectors: 77 characters of the Turkish single shift table fit
// one part after a 4-octet header (155 septets), 78 need two of 74 and 4
// characters after a 9-octet header (149 septets a part). Android sends
// 7-bit whenever the tables hold the text; EncodeSubmit sends UCS-2 when it
// needs as many parts, so the 78 characters go as two UCS-2 parts.
func TestNationalSegmentationAndroid(t *testing.T) {
	turkish := Shift{Single: Turkish}
	for _, row := range readJSONL(t, "testdata/android-gsmsmstest/segmentation_vectors.jsonl") {
		text := str(row["text"])
		if !strings.Contains(str(row["alphabet"]), "Turkish") {
			continue
		}
		septets, err := EncodeGSM7Shift(text, turkish)
		if err != nil || len(septets) != int(row["code_units"].(float64)) {
			t.Errorf("%d septets, %v; want %v", len(septets), err, row["code_units"])
		}
		frags := row["fragments"].([]any)
		chunks := splitShift(text, GSM7, turkish, false)
		if len(chunks) != len(frags) {
			t.Fatalf("%d parts, want %d", len(chunks), len(frags))
		}
		for i, c := range chunks {
			if got := utf8.RuneCountInString(DecodeGSM7Shift(c, turkish)); got != int(frags[i].(float64)) {
				t.Errorf("part %d: %d characters, want %v", i+1, got, frags[i])
			}
		}
		o := SubmitOptions{Class: -1, NationalLanguages: []Language{Turkish}, SingleShiftOnly: true}
		wantEnc, wantShift := GSM7, turkish
		if ucs2Parts(text, false) <= len(frags) {
			wantEnc, wantShift = UCS2, Shift{}
		}
		n, enc, s := SegmentsWith(text, o)
		if n != int(row["msg_count"].(float64)) || enc != wantEnc || s != wantShift {
			t.Errorf("SegmentsWith(%d chars) = %d, %v, %v; want %v, %v, %v", utf8.RuneCountInString(text), n, enc, s, row["msg_count"], wantEnc, wantShift)
		}
		pdus, err := EncodeSubmit("+905321234567", text, o)
		if err != nil || len(pdus) != len(frags) {
			t.Fatalf("%d parts, %v", len(pdus), err)
		}
		// With the locking shift table allowed one part holds them all.
		if n, _, s := SegmentsWith(text, SubmitOptions{NationalLanguages: []Language{Turkish}}); n != 1 || s.Single != Turkish && s.Locking != Turkish {
			t.Errorf("with locking shift: %d parts, %v", n, s)
		}
	}
}

// nationalRunes returns every character of the default alphabet, the
// extension table and the national tables transcribed above.
func nationalRunes(t testing.TB) []rune {
	seen := map[rune]bool{}
	var rs []rune
	for _, s := range []Shift{{}, {Turkish, Turkish}, {Portuguese, Portuguese}, {Single: Spanish}} {
		lock, single := wantTables(t, s)
		for _, r := range append(lock[:], single[:]...) {
			if r != 0 && !seen[r] {
				seen[r] = true
				rs = append(rs, r)
			}
		}
	}
	slices.Sort(rs)
	return rs
}

// bruteParts returns the fewest parts that hold a sequence of characters of
// the given sizes, trying every cut, when a part holds limit units after a
// header and one lone part holds single units; 0 when a size is 0 (a
// character outside the tables).
func bruteParts(sizes []int, single, limit int) int {
	total := 0
	for _, s := range sizes {
		if s == 0 {
			return 0
		}
		total += s
	}
	if total <= single {
		return 1
	}
	const inf = 1 << 30
	best := make([]int, len(sizes)+1)
	for j := 1; j <= len(sizes); j++ {
		best[j] = inf
		sum := 0
		for i := j - 1; i >= 0; i-- {
			sum += sizes[i]
			if sum > limit {
				break
			}
			best[j] = min(best[j], best[i]+1)
		}
	}
	return best[len(sizes)]
}

// septetRoom returns the septets left in 140 octets after a header of
// octets octets, counting bits: the header is padded to a septet boundary.
func septetRoom(octets int) int {
	headerSeptets := (octets*8 + 6) / 7
	return 160 - headerSeptets
}

// bruteChoice returns the parts EncodeSubmit should make of text with the
// national languages langs: default alphabet if it holds the text, else the
// fewest parts over every table combination, unless UCS-2 needs as few.
func bruteChoice(t testing.TB, text string, langs []Language, singleOnly, wide bool) (int, Encoding) {
	concat := 6
	if wide {
		concat = 7
	}
	sizesFor := func(s Shift) []int {
		lock, single := wantTables(t, s)
		in := func(tab [128]rune) map[rune]bool {
			m := map[rune]bool{}
			for _, r := range tab {
				if r != 0 {
					m[r] = true
				}
			}
			return m
		}
		inLock, inSingle := in(lock), in(single)
		var sizes []int
		for _, r := range text {
			switch {
			case inLock[r]:
				sizes = append(sizes, 1)
			case inSingle[r]:
				sizes = append(sizes, 2)
			default:
				sizes = append(sizes, 0)
			}
		}
		return sizes
	}
	if n := bruteParts(sizesFor(Shift{}), 160, septetRoom(concat)); n > 0 {
		return n, GSM7
	}
	var units []int
	for _, r := range text {
		u := 1
		if r > 0xFFFF {
			u = 2 // a surrogate pair
		}
		units = append(units, u)
	}
	best, enc := bruteParts(units, 70, (140-concat)/2), UCS2
	locks := []Language{0}
	if !singleOnly {
		for _, l := range langs {
			if l == Turkish || l == Portuguese {
				locks = append(locks, l)
			}
		}
	}
	for _, lock := range locks {
		for _, single := range append([]Language{0}, langs...) {
			ies := 0
			if lock != 0 {
				ies += 3
			}
			if single != 0 {
				ies += 3
			}
			if ies == 0 {
				continue
			}
			n := bruteParts(sizesFor(Shift{lock, single}), septetRoom(1+ies), septetRoom(concat+ies))
			if n > 0 && n < best {
				best, enc = n, GSM7
			}
		}
	}
	return best, enc
}

// TestNationalRoundTripRandom encodes random texts drawn from every table
// with national tables enabled, decodes each part back, and checks the part
// count against a brute-force search over every table combination.
func TestNationalRoundTripRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rs := nationalRunes(t)
	turkish := []rune("ĞğŞşİıÇç")
	portuguese := []rune("ãõâêôÁáÍíÓóÚúÃÕÂÊÔÀçÇªº∞`")
	spanish := []rune("ÁáÍíÓóÚú¿¡ñÑ")
	national, nationalLong := 0, 0
	orders := [][]Language{{Turkish, Spanish, Portuguese}, {Portuguese, Spanish, Turkish}, {Turkish}, {Spanish}, {Portuguese}, {Spanish, Portuguese}}
	for i := range 600 {
		pool := rs
		switch i % 4 {
		case 1:
			pool = append(slices.Clip(gsm7Runes()), turkish...)
		case 2:
			pool = append(slices.Clip(gsm7Runes()), portuguese...)
		case 3:
			pool = append(slices.Clip(gsm7Runes()), spanish...)
		}
		n := rng.IntN(600)
		text := make([]rune, n)
		for j := range text {
			text[j] = pool[rng.IntN(len(pool))]
		}
		if i%50 == 0 && n > 0 {
			text[rng.IntN(n)] = '😁'
		}
		o := SubmitOptions{
			Class:             -1,
			ConcatRef:         uint16(rng.IntN(600)),
			Use16BitRef:       rng.IntN(4) == 0,
			NationalLanguages: orders[rng.IntN(len(orders))],
			SingleShiftOnly:   rng.IntN(3) == 0,
		}
		s := string(text)
		checkRoundTrip(t, s, o)
		wide := o.Use16BitRef || o.ConcatRef > 255
		wantParts, wantEnc := bruteChoice(t, s, o.NationalLanguages, o.SingleShiftOnly, wide)
		parts, enc, shift := SegmentsWith(s, o)
		if parts != wantParts || enc != wantEnc {
			t.Fatalf("%q with %v (single only %v, wide %v): %d parts %v, brute force %d %v",
				s, o.NationalLanguages, o.SingleShiftOnly, wide, parts, enc, wantParts, wantEnc)
		}
		if !shift.IsZero() {
			national++
			if parts > 1 {
				nationalLong++
			}
		}
	}
	if national < 100 || nationalLong < 50 {
		t.Errorf("only %d texts (%d of several parts) went with national tables", national, nationalLong)
	}
}

func TestLanguageAndShiftStrings(t *testing.T) {
	for _, tt := range []struct{ got, want string }{
		{Turkish.String(), "turkish"},
		{Language(9).String(), "language(9)"},
		{Shift{}.String(), "default"},
		{Shift{Turkish, Turkish}.String(), "turkish locking + turkish single"},
		{Shift{Single: Portuguese}.String(), "portuguese single"},
	} {
		if tt.got != tt.want {
			t.Errorf("%q, want %q", tt.got, tt.want)
		}
	}
	if !Spanish.Supported() || Language(0).Supported() || Language(4).Supported() {
		t.Error("Supported")
	}
}
