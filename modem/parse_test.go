package modem

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseCSQ(t *testing.T) {
	tests := []struct {
		line  string
		rssi  int
		dbm   int
		known bool
		bad   bool
	}{
		{"+CSQ: 21,99", 21, -71, true, false},
		{"+CSQ: 0,0", 0, -113, true, false},
		{"+CSQ: 99,99", 99, 0, false, false},
		{"+CSQ: 40,99", 0, 0, false, true},
		{"+CSQ: x,1", 0, 0, false, true},
		{"+CSQ:", 0, 0, false, true},
	}
	for _, tt := range tests {
		s, err := ParseCSQ(tt.line)
		if (err != nil) != tt.bad {
			t.Errorf("%q: err = %v", tt.line, err)
			continue
		}
		if tt.bad {
			if !errors.Is(err, ErrBadReply) {
				t.Errorf("%q: %v is not ErrBadReply", tt.line, err)
			}
			continue
		}
		if s.RSSI != tt.rssi || s.Known() != tt.known || (tt.known && s.DBm() != tt.dbm) {
			t.Errorf("%q = %+v (dBm %d)", tt.line, s, s.DBm())
		}
	}
}

// TestParseCREGRealModems reads the +CREG answers gammu collected from
// Huawei, Siemens, Sierra and Telit modems, corner cases included: the
// valid ones parse, the odd ones give a state or a clear error, never a
// panic.
func TestParseCREGRealModems(t *testing.T) {
	want := map[string]Registration{
		"at-creg/huawei.dump":                   {Stat: 1, LAC: "4CA", CI: "81DE445", Act: -1},
		"at-creg/none.dump":                     {Stat: 0, Act: -1},
		"at-creg/siemens.dump":                  {Stat: 1, LAC: "5E25", CI: "605F", Act: -1},
		"at-creg/sierra312u.dump":               {Stat: 5, LAC: "2AF5", CI: "0B88E350", Act: 2},
		"at-creg/telit.dump":                    {Stat: 1, LAC: "5E25", CI: "605F", Act: 2},
		"at-creg-corner/empty-lac.dump":         {Stat: 1, LAC: "", CI: "605F", Act: -1},
		"at-creg-corner/single-quote.dump":      {Stat: 1, Act: -1},
		"at-creg-corner/mismatched-quotes.dump": {Stat: 1, Act: -1},
	}
	root := sharedTestdata(t, "gammu")
	for name, w := range want {
		data, err := os.ReadFile(filepath.Join(root, name))
		if err != nil {
			t.Fatal(err)
		}
		var line string
		for _, l := range strings.Split(string(data), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "+CREG:") {
				line = l
			}
		}
		r, err := ParseCREG(line, true)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if r.Stat != w.Stat || r.Act != w.Act || (w.LAC != "" && (r.LAC != w.LAC || r.CI != w.CI)) {
			t.Errorf("%s: %q = %+v, want %+v", name, line, r, w)
		}
	}
	if r, err := ParseCREG("+CREG: 5,\"2AF5\",\"0B88E350\"", false); err != nil || !r.Registered() || r.String() != "registered (roaming)" {
		t.Errorf("unsolicited +CREG = %+v, %v", r, err)
	}
	if _, err := ParseCREG("+CREG: ", true); err == nil {
		t.Error("empty +CREG accepted")
	}
}

func TestParseCOPSAndCodes(t *testing.T) {
	if op, err := ParseCOPS(`+COPS: 0,0,"vodafone UK",7`); err != nil || op != "vodafone UK" {
		t.Errorf("COPS = %q, %v", op, err)
	}
	if op, err := ParseCOPS(`+COPS: 0`); err != nil || op != "" {
		t.Errorf("COPS with no network = %q, %v", op, err)
	}
	if mem, idx, err := ParseCMTI(`"SM",12`); err != nil || mem != "SM" || idx != 12 {
		t.Errorf("CMTI = %q %d %v", mem, idx, err)
	}
	if _, _, err := ParseCMTI(`"SM",-1`); err == nil {
		t.Error("negative index accepted")
	}
	if n, typ, err := ParseCLIP(`"447700900123",145,,,,0`); err != nil || n != "+447700900123" || typ != 145 {
		t.Errorf("CLIP = %q %d %v", n, typ, err)
	}
	if n, _, err := ParseCLIP(`"",128,,,,1`); err != nil || n != "" {
		t.Errorf("withheld CLIP = %q %v", n, err)
	}
}

// TestParseCMGLRealModems reads +CMGL answers of a generic modem and a
// Pantech as ModemManager's tests give them.
func TestParseCMGLRealModems(t *testing.T) {
	pdu := "07914306073011F00405812261F700003130916191314095C274D96D2FBBD3E437280CB2BEC961F3DB5D76818EF2F0381D9E83E06F39A8CC2E9FD372F77BEE0249CBE37A594E0E83E2F532085E2F93CB73D0B93CA7A7DFEEB01C447F93DF7310BD3E07CDCB727B7A9C7ECF41E432C8FC96B7C32079189E26874179D0F8DD7E93C3A0B21B246AA641D637396C7EBBCB22D0FD7E77B5D376B3AB3C07"
	lines := []string{"+CMGL: 0,1,,147", pdu, "+CMGL: 1,1,,147", pdu, `+CMGL: 17,3,"",35`, "079100F40D1101000F001000B917118336058F300001954747A0E4ACF41F27298CDCE83C6EF371B0402814020"}
	got, err := ParseCMGL(lines)
	if err != nil || len(got) != 3 || got[0].Index != 0 || got[1].Index != 1 || got[2].Index != 17 || got[2].Status != 3 || got[2].Length != 35 || got[0].PDU != pdu {
		t.Fatalf("CMGL = %+v, %v", got, err)
	}
	if _, err := ParseCMGL([]string{"+CMGL: 0,1,,147"}); err == nil {
		t.Error("a +CMGL line without its PDU accepted")
	}
	s, err := ParseCMGR([]string{"+CMGR: 0,,29", "06917228195339040A9110325476980000313080512061800CC8329BFD06DDDF72363904"})
	if err != nil || s.Status != 0 || s.Length != 29 {
		t.Errorf("CMGR = %+v, %v", s, err)
	}
}

// FuzzParsers feeds arbitrary reply lines to every parser: no panic.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{`+CREG: 2,1,"0B,"0100701",7`, `+CSQ: 21,99`, `+COPS: 0,0,"x",7`, `"SM",3`, `"",128`, `+CMGL: 1,1,,2`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ParseCSQ(s)
		ParseCREG(s, true)
		ParseCREG(s, false)
		ParseCOPS(s)
		ParseCMTI(s)
		ParseCLIP(s)
		ParseCMGL([]string{s, s})
		ParseCMGR([]string{s, s})
	})
}
