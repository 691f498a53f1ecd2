package pdu

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGSM7PackVectors(t *testing.T) {
	for _, row := range readTSV(t, "testdata/python-gsmmodem/gsm7_pack.tsv") {
		for len(row) < 3 {
			row = append(row, "")
		}
		text, septets, packed := row[0], mustHex(t, row[1]), mustHex(t, row[2])
		t.Run(text, func(t *testing.T) {
			got, err := EncodeGSM7(text)
			if err != nil || !bytes.Equal(got, septets) {
				t.Fatalf("EncodeGSM7 = %X, %v; want %X", got, err, septets)
			}
			if p := Pack7(septets, 0); !bytes.Equal(p, packed) {
				t.Errorf("Pack7 = %X, want %X", p, packed)
			}
			if u := Unpack7(packed, len(septets), 0); !bytes.Equal(u, septets) {
				t.Errorf("Unpack7 = %X, want %X", u, septets)
			}
			if s := DecodeGSM7(septets); s != text {
				t.Errorf("DecodeGSM7 = %q, want %q", s, text)
			}
		})
	}
}

// TestGSM0338Table checks both tables against the Unicode Consortium's
// mapping of 3GPP TS 23.038 clause 6.2.1.
func TestGSM0338Table(t *testing.T) {
	f, err := os.Open("testdata/unicode-gsm0338/GSM0338.TXT")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		fields := strings.Fields(line)
		code, err1 := hex.DecodeString(strings.TrimPrefix(fields[0], "0x"))
		cp, err2 := strconv.ParseUint(strings.TrimPrefix(fields[1], "0x"), 16, 32)
		if err1 != nil || err2 != nil {
			t.Fatalf("bad line %q", line)
		}
		n++
		want := string(rune(cp))
		if got := DecodeGSM7(code); got != want {
			t.Errorf("DecodeGSM7(%X) = %q, want %q", code, got, want)
		}
		if len(code) == 1 && code[0] == escape {
			continue // the escape shown as NBSP is not encodable
		}
		if got, err := EncodeGSM7(want); err != nil || !bytes.Equal(got, code) {
			t.Errorf("EncodeGSM7(%q) = %X, %v; want %X", want, got, err, code)
		}
	}
	if n != 138 {
		t.Errorf("read %d mappings, want 138", n)
	}
}

func TestGSM7Edges(t *testing.T) {
	tests := []struct {
		name    string
		septets []byte
		want    string
	}{
		{"unknown escape gives base character", []byte{escape, 'A'}, "A"},
		{"double escape gives space", []byte{escape, escape, 'b'}, " b"},
		{"trailing escape", []byte{'a', escape}, "a\u00a0"},
		{"high bit ignored", []byte{0x80 | 'z'}, "z"},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DecodeGSM7(tt.septets); got != tt.want {
				t.Errorf("DecodeGSM7(%X) = %q, want %q", tt.septets, got, tt.want)
			}
		})
	}
	for _, s := range []string{"`", "Ç", "\u00a0", "世界", "\xff", "a😁"} {
		if _, err := EncodeGSM7(s); !errors.Is(err, ErrNotGSM7) {
			t.Errorf("EncodeGSM7(%q) error = %v, want ErrNotGSM7", s, err)
		}
	}
	if got := Unpack7([]byte{0xC8}, 5, 0); len(got) != 1 {
		t.Errorf("Unpack7 past the end gave %d septets, want 1", len(got))
	}
	if got := Unpack7([]byte{0xC8}, 5, 9); len(got) != 0 {
		t.Errorf("Unpack7 with bad fill bits gave %X", got)
	}
	fill := Pack7([]byte{'a'}, 1)
	if got := Unpack7(fill, 1, 1); !bytes.Equal(got, []byte{'a'}) {
		t.Errorf("Pack7/Unpack7 with a fill bit = %X", got)
	}
}

func TestSemiOctetVectors(t *testing.T) {
	for _, row := range readTSV(t, "testdata/python-gsmmodem/semi_octets.tsv") {
		digits, want := row[0], mustHex(t, row[1])
		got, err := encodeSemiOctets(digits)
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("encodeSemiOctets(%q) = %X, %v; want %X", digits, got, err, want)
		}
		back, err := decodeSemiOctets(want, len(digits))
		if err != nil || back != digits {
			t.Errorf("decodeSemiOctets(%X) = %q, %v", want, back, err)
		}
	}
}

func TestTimestampVectors(t *testing.T) {
	for _, row := range readTSV(t, "testdata/python-gsmmodem/timestamps.tsv") {
		if strings.HasPrefix(row[0], `"tz octet`) {
			// `tz octet "08" -> UTC offset hours 2`: the octet is written as
			// the swapped semi-octet string, so "08" is the octet 0x80.
			f := strings.Split(row[0], `""`)
			sw := f[1][1:] + f[1][:1]
			hours, _ := strconv.Atoi(strings.Trim(f[2][strings.LastIndex(f[2], " "):], `" `))
			tz := mustHex(t, sw)[0]
			ts, err := decodeTimestamp([]byte{0x51, 0x11, 0x72, 0, 0, 0, tz})
			if err != nil {
				t.Fatal(err)
			}
			if _, off := ts.Zone(); off != hours*3600 {
				t.Errorf("tz octet %02X: offset %ds, want %dh", tz, off, hours)
			}
			continue
		}
		want := parseTime(t, row[0])
		octets := mustHex(t, row[1])
		got, err := decodeTimestamp(octets)
		if err != nil || !sameInstantAndZone(got, want) {
			t.Errorf("decodeTimestamp(%X) = %v, %v; want %v", octets, got, err, want)
		}
		enc, err := encodeTimestamp(want)
		if err != nil || !bytes.Equal(enc, octets) {
			t.Errorf("encodeTimestamp(%v) = %X, %v; want %X", want, enc, err, octets)
		}
	}
}

func TestTimestampErrors(t *testing.T) {
	for _, b := range [][]byte{
		{0x51, 0x11, 0x72, 0, 0, 0},                // short
		{0x5A, 0x11, 0x72, 0, 0, 0, 0},             // non-decimal year
		{0x51, 0x31, 0x72, 0, 0, 0, 0},             // month 13
		{0x51, 0x11, 0x00, 0, 0, 0, 0},             // day 0
		{0x51, 0x11, 0x72, 0x42, 0, 0, 0},          // hour 24
		{0x51, 0x11, 0x72, 0, 0, 0, 0xA0},          // tz units not decimal
		{0x51, 0x11, 0x72, 0, 0, 0, 0x97 &^ 0x08},  // tz 79 quarters
		{0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00}, // all zero
	} {
		if _, err := decodeTimestamp(b); err == nil {
			t.Errorf("decodeTimestamp(%X) succeeded", b)
		}
	}
	if _, err := encodeTimestamp(time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrBadTimestamp) {
		t.Errorf("encodeTimestamp(2100) error = %v", err)
	}
}

func TestValidityRelativeVectors(t *testing.T) {
	for _, row := range readTSV(t, "testdata/python-gsmmodem/validity_relative.tsv") {
		secs, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(row[0], "PT"), "S"))
		vp, _ := strconv.Atoi(row[1])
		d := time.Duration(secs) * time.Second
		if got := relativeOctet(d); int(got) != vp {
			t.Errorf("relativeOctet(%v) = %d, want %d", d, got, vp)
		}
		if got := relativeDuration(byte(vp)); got != d {
			t.Errorf("relativeDuration(%d) = %v, want %v", vp, got, d)
		}
	}
	// Clause 9.2.3.12.1 boundaries, and rounding up between them.
	for _, tt := range []struct {
		d  time.Duration
		vp byte
	}{
		{time.Second, 0}, {5 * time.Minute, 0}, {12 * time.Hour, 143}, {12*time.Hour + time.Second, 144},
		{24 * time.Hour, 167}, {30 * 24 * time.Hour, 196}, {63 * 7 * 24 * time.Hour, 255}, {100 * 7 * 24 * time.Hour, 255},
	} {
		if got := relativeOctet(tt.d); got != tt.vp {
			t.Errorf("relativeOctet(%v) = %d, want %d", tt.d, got, tt.vp)
		}
	}
}

func TestUCS2Vectors(t *testing.T) {
	for _, row := range readTSV(t, "testdata/python-gsmmodem/ucs2.tsv") {
		want := mustHex(t, row[1])
		if got := EncodeUCS2(row[0]); !bytes.Equal(got, want) {
			t.Errorf("EncodeUCS2(%q) = %X, want %X", row[0], got, want)
		}
		if got, err := DecodeUCS2(want); err != nil || got != row[0] {
			t.Errorf("DecodeUCS2(%X) = %q, %v", want, got, err)
		}
	}
}

// TestUCS2SurrogateVectors covers the emoji vectors of warthog618/sms,
// including a surrogate pair split between two concatenated parts.
func TestUCS2SurrogateVectors(t *testing.T) {
	rows := readTSV(t, "testdata/warthog618-sms/ucs2_surrogate_vectors.tsv")
	if len(rows) != 5 {
		t.Fatalf("%d rows, want 5", len(rows))
	}
	for _, row := range rows {
		name, dir, segs, expected := row[0], row[1], strings.Split(row[2], " | "), row[3]
		t.Run(name, func(t *testing.T) {
			var ud []byte
			for _, s := range segs {
				ud = append(ud, mustHex(t, strings.TrimSpace(s))...)
			}
			want, _, _ := strings.Cut(expected, "  (")
			switch {
			case strings.HasPrefix(dir, "encode"):
				if got := EncodeUCS2(want); !bytes.Equal(got, ud) {
					t.Errorf("EncodeUCS2(%q) = %X, want %X", want, got, ud)
				}
			case strings.Contains(expected, "ErrDanglingSurrogate"):
				if _, err := DecodeUCS2(ud); !errors.Is(err, ErrBadUCS2) {
					t.Errorf("DecodeUCS2(%X) error = %v, want ErrBadUCS2", ud, err)
				}
				if got := decodeUCS2Lenient(ud); got != "😁\uFFFD" {
					t.Errorf("lenient decode = %q", got)
				}
			case strings.Contains(expected, "ErrInvalidLength"):
				if _, err := DecodeUCS2(ud); !errors.Is(err, ErrBadLength) {
					t.Errorf("DecodeUCS2(%X) error = %v, want ErrBadLength", ud, err)
				}
			default:
				if got, err := DecodeUCS2(ud); err != nil || got != want {
					t.Errorf("DecodeUCS2(%X) = %q, %v; want %q", ud, got, err, want)
				}
			}
		})
	}
}

func TestAddressFieldVectors(t *testing.T) {
	for _, row := range readTSV(t, "testdata/python-gsmmodem/address_fields.tsv") {
		kind, want, input, canonical := row[0], row[1], mustHex(t, row[3]), mustHex(t, row[4])
		consumed, _ := strconv.Atoi(row[2])
		t.Run(kind+" "+want, func(t *testing.T) {
			r := &reader{b: input}
			var got string
			var toa byte
			var err error
			if kind == "smsc" {
				got, toa, err = r.readSMSC()
			} else {
				got, toa, err = r.readAddress("TP-OA")
			}
			if err != nil || got != want || r.off != consumed {
				t.Fatalf("decoded %q (%d octets), %v; want %q (%d)", got, r.off, err, want, consumed)
			}
			var enc []byte
			if kind == "smsc" {
				enc, err = encodeSMSC(want, toa)
			} else {
				enc, err = encodeAddress(want, toa)
			}
			if err != nil || !bytes.Equal(enc, canonical) {
				t.Errorf("encoded %X, %v; want %X", enc, err, canonical)
			}
		})
	}
}

func TestAddressErrors(t *testing.T) {
	for _, tt := range []struct {
		name string
		in   []byte
		want error
	}{
		{"too many digits", []byte{21, 0x91, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, ErrBadAddress},
		{"type without bit 7", []byte{2, 0x11, 0x21}, ErrBadAddress},
		{"filler inside", []byte{4, 0x81, 0xF1, 0x21}, ErrBadAddress},
		{"missing digits", []byte{11, 0x91, 0x21}, ErrTruncated},
		{"missing type", []byte{11}, ErrTruncated},
		{"empty", nil, ErrTruncated},
	} {
		r := &reader{b: tt.in}
		if _, _, err := r.readAddress("TP-OA"); !errors.Is(err, tt.want) {
			t.Errorf("%s: error %v, want %v", tt.name, err, tt.want)
		}
	}
	for _, bad := range []string{"", "+", "12-34", "123456789012345678901", "+ab!"} {
		if _, err := encodeAddress(bad, numberType(bad, 0)); !errors.Is(err, ErrBadAddress) {
			t.Errorf("encodeAddress(%q) error = %v", bad, err)
		}
	}
	if _, err := encodeAddress("this is too long", TypeAlphanumeric); !errors.Is(err, ErrBadAddress) {
		t.Errorf("long alphanumeric address error = %v", err)
	}
}

func TestUDHVectors(t *testing.T) {
	for _, row := range readTSV(t, "testdata/python-gsmmodem/udh_information_elements.tsv") {
		ie := mustHex(t, row[4])
		ies, concat, ports, err := parseUDH(ie)
		if err != nil || len(ies) != 1 || ies[0].ID != ie[0] || !bytes.Equal(ies[0].Data, ie[2:]) {
			t.Fatalf("parseUDH(%X) = %v, %v", ie, ies, err)
		}
		if strings.HasPrefix(row[0], "concat") {
			ref, _ := strconv.Atoi(row[1])
			seq, _ := strconv.Atoi(row[2])
			total, _ := strconv.Atoi(row[3])
			want := Concat{Ref: uint16(ref), Seq: byte(seq), Total: byte(total), Ref16: ie[0] == IEConcat16}
			if concat == nil || *concat != want {
				t.Errorf("parseUDH(%X) concat = %+v, want %+v", ie, concat, want)
			}
			if got := concatIE(want.Ref, want.Ref16, want.Total, want.Seq); !bytes.Equal(got, ie) {
				t.Errorf("concatIE = %X, want %X", got, ie)
			}
			continue
		}
		dest, _ := strconv.Atoi(strings.TrimPrefix(row[1], "dest="))
		src, _ := strconv.Atoi(strings.TrimPrefix(row[2], "src="))
		if ports == nil || int(ports.Dest) != dest || int(ports.Src) != src {
			t.Errorf("parseUDH(%X) ports = %+v, want %d/%d", ie, ports, dest, src)
		}
	}
	for _, tt := range []struct {
		h         string
		err       bool
		concatNil bool
	}{
		{"0003", true, true},        // element longer than header
		{"00", true, true},          // lone identifier
		{"0003170000", false, true}, // zero part count: ignored
		{"0003170204", false, true}, // sequence beyond total: ignored
		{"00021702", false, true},   // wrong length: ignored
	} {
		_, c, _, err := parseUDH(mustHex(t, tt.h))
		if (err != nil) != tt.err || (c == nil) != tt.concatNil {
			t.Errorf("parseUDH(%s) = %+v, %v", tt.h, c, err)
		}
	}
}

func TestDCS(t *testing.T) {
	for _, tt := range []struct {
		dcs   byte
		enc   Encoding
		class int
		err   error
	}{
		{0x00, GSM7, -1, nil}, {0x04, Eightbit, -1, nil}, {0x08, UCS2, -1, nil}, {0x0C, GSM7, -1, nil},
		{0x10, GSM7, 0, nil}, {0x19, UCS2, 1, nil}, {0x16, Eightbit, 2, nil}, {0x20, 0, 0, ErrUnsupported},
		{0x39, 0, 0, ErrUnsupported}, {0x4B, UCS2, -1, nil}, {0x80, GSM7, -1, nil}, {0xC8, GSM7, -1, nil},
		{0xD0, GSM7, -1, nil}, {0xE0, UCS2, -1, nil}, {0xF1, GSM7, 1, nil}, {0xF5, Eightbit, 1, nil}, {0xFB, GSM7, 3, nil},
	} {
		enc, class, err := parseDCS(tt.dcs)
		if !errors.Is(err, tt.err) || (err == nil && (enc != tt.enc || class != tt.class)) {
			t.Errorf("parseDCS(%02X) = %v, %d, %v; want %v, %d, %v", tt.dcs, enc, class, err, tt.enc, tt.class, tt.err)
		}
	}
	if makeDCS(UCS2, 0) != 0x18 || makeDCS(GSM7, -1) != 0x00 || makeDCS(Eightbit, 1) != 0x15 {
		t.Error("makeDCS")
	}
}
