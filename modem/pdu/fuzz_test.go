package pdu

import (
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// seedPDUs returns every PDU of the vectors: the copied ones, and the GPL
// ones of the shared corpus when it is there.
func seedPDUs(t testing.TB) []string {
	var out []string
	for _, f := range []string{"testdata/python-gsmmodem/sms_pdu_decode.jsonl", "testdata/android-gsmsmstest/gsm_sms_pdu_vectors.jsonl"} {
		for _, row := range readJSONL(t, f) {
			out = append(out, str(row["pdu_hex"]))
		}
	}
	for _, row := range readTSV(t, "testdata/python-gsmmodem/sms_submit_encode.tsv") {
		out = append(out, row[9])
	}
	for _, row := range readTSV(t, "testdata/python-gsmmodem/negative_cases.tsv") {
		out = append(out, row[1])
	}
	shared := findShared()
	if shared == "" {
		return out
	}
	for _, f := range []string{"modemmanager/sms_part_3gpp_vectors.jsonl", "CROSS-DECODED-PDUS.jsonl"} {
		if _, err := os.Stat(filepath.Join(shared, f)); err != nil {
			continue
		}
		for _, row := range readJSONL(t, filepath.Join(shared, f)) {
			for _, k := range []string{"pdu_hex", "expected_pdu_hex"} {
				if s := str(row[k]); s != "" {
					out = append(out, s)
				}
			}
		}
	}
	good, _ := filepath.Glob(filepath.Join(shared, "gammu", "at-sms", "*.dump"))
	bad, _ := filepath.Glob(filepath.Join(shared, "gammu", "at-sms-failing", "*.dump"))
	for _, d := range append(good, bad...) {
		out = append(out, gammuPDU(t, d))
	}
	return out
}

func FuzzDecode(f *testing.F) {
	for _, s := range seedPDUs(f) {
		if b, err := hex.DecodeString(strings.TrimSpace(s)); err == nil {
			f.Add(b)
		} else {
			f.Add([]byte(s))
		}
	}
	// Hand-built SMS-DELIVERs with the national language elements 0x25 and
	// 0x24: Turkish, Spanish, Portuguese, unknown languages, a wrong length.
	for _, h := range []string{"250101240101", "240101", "250101", "240102", "250103240103", "250102", "250163240163", "24020101", "00034B0201250103240103"} {
		f.Add(deliverWithUDH(mustHex(f, h), []byte{0x1C, 'i', escape, 0x47, escape, 0x09, 0x07, escape, escape, 0x40, escape}))
	}
	f.Fuzz(func(t *testing.T, pdu []byte) {
		m, err := Decode(pdu)
		m2, err2 := DecodeHex(hex.EncodeToString(pdu))
		if (err == nil) != (err2 == nil) {
			t.Fatalf("Decode and DecodeHex disagree: %v / %v", err, err2)
		}
		if err != nil {
			var de *DecodeError
			if !errors.As(err, &de) || de.Offset < 0 || de.Offset > len(pdu) || de.Field == "" {
				t.Fatalf("error %v has no valid field and offset", err)
			}
			return
		}
		if m.Text != m2.Text || m.Address != m2.Address {
			t.Fatal("Decode and DecodeHex differ")
		}
		if !utf8.ValidString(m.Text) || !utf8.ValidString(m.Address) || !utf8.ValidString(m.SMSC) {
			t.Fatalf("invalid UTF-8: %q %q %q", m.Text, m.Address, m.SMSC)
		}
		if c := m.Concat; c != nil && (c.Total == 0 || c.Seq == 0 || c.Seq > c.Total) {
			t.Fatalf("concat %+v", c)
		}
		if m.Type > StatusReport || m.Class < -1 || m.Class > 3 || m.Encoding > UCS2 {
			t.Fatalf("fields out of range: %+v", m)
		}
		if len(m.Data) > maxSeptets || (m.Encoding == Eightbit && m.Text != "") {
			t.Fatalf("user data %d octets, text %q", len(m.Data), m.Text)
		}
		if m.Encoding == GSM7 && DecodeGSM7Shift(m.Data, m.Shift) != m.Text {
			t.Fatalf("Text %q is not the Data decoded with %v", m.Text, m.Shift)
		}
		if m.Encoding != GSM7 && !m.Shift.IsZero() {
			t.Fatalf("shift %v for %v", m.Shift, m.Encoding)
		}
	})
}

func FuzzEncodeSubmit(f *testing.F) {
	for _, s := range []string{"", "Hello World!", "[{abc}]~", "€" + strings.Repeat("x", 160), "世界您好！", "hello 😁", strings.Repeat("😁", 40), strings.Repeat("a]", 90)} {
		f.Add(s, uint16(0), false, byte(0))
	}
	for _, row := range readTSV(f, "testdata/python-gsmmodem/segmentation_counts.tsv") {
		f.Add(row[3], uint16(300), true, byte(0))
	}
	// National language tables: langs bit 0 Turkish, 1 Spanish, 2
	// Portuguese, 3 single shift only.
	for _, s := range []string{
		"Ação, você está ótimo", strings.Repeat("Ação, você está ótimo! ", 7), strings.Repeat("Ação, você está ótimo! ", 6) + "Ω",
		"Şişeler ğüzel, İstanbul'da ışık", strings.Repeat("Şişeler ğüzel, İstanbul'da ışık. ", 9) + "{",
		strings.Repeat("ĞŞİğşı", 13), strings.Repeat("¿Dónde está mi pedido? Ángel. ", 5), strings.Repeat("ığ ã ", 40), "ª º ∞ ` Ç",
	} {
		f.Add(s, uint16(7), false, byte(0x07))
		f.Add(s, uint16(700), true, byte(0x09))
	}
	f.Fuzz(func(t *testing.T, text string, ref uint16, wide bool, langs byte) {
		if len(text) > 4000 {
			return
		}
		o := SubmitOptions{Class: -1, ConcatRef: ref, Use16BitRef: wide, SingleShiftOnly: langs&0x08 != 0}
		for i, l := range []Language{Turkish, Spanish, Portuguese} {
			if langs&(1<<i) != 0 {
				o.NationalLanguages = append(o.NationalLanguages, l)
			}
		}
		if !utf8.ValidString(text) {
			if _, err := EncodeSubmit("+15551234567", text, o); !errors.Is(err, ErrBadText) {
				t.Fatalf("invalid UTF-8 accepted: %v", err)
			}
			return
		}
		checkRoundTrip(t, text, o)
	})
}
