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
	})
}

func FuzzEncodeSubmit(f *testing.F) {
	for _, s := range []string{"", "Hello World!", "[{abc}]~", "€" + strings.Repeat("x", 160), "世界您好！", "hello 😁", strings.Repeat("😁", 40), strings.Repeat("a]", 90)} {
		f.Add(s, uint16(0), false)
	}
	for _, row := range readTSV(f, "testdata/python-gsmmodem/segmentation_counts.tsv") {
		f.Add(row[3], uint16(300), true)
	}
	f.Fuzz(func(t *testing.T, text string, ref uint16, wide bool) {
		if len(text) > 4000 {
			return
		}
		o := SubmitOptions{Class: -1, ConcatRef: ref, Use16BitRef: wide}
		if !utf8.ValidString(text) {
			if _, err := EncodeSubmit("+15551234567", text, o); !errors.Is(err, ErrBadText) {
				t.Fatalf("invalid UTF-8 accepted: %v", err)
			}
			return
		}
		checkRoundTrip(t, text, o)
	})
}
