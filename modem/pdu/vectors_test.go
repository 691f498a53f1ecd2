package pdu

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/internal/testvectors"
)

// readTSV returns the rows of a tab-separated vector file without its header
// line and without comment lines.
func readTSV(t testing.TB, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var rows [][]string
	header := true
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "#") {
			continue
		}
		if header {
			header = false
			continue
		}
		rows = append(rows, strings.Split(line, "\t"))
	}
	return rows
}

// readJSONL returns the objects of a JSON-lines vector file.
func readJSONL(t testing.TB, path string) []map[string]any {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []map[string]any
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		out = append(out, m)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func sharedDir(t testing.TB) string { return testvectors.Dir(t) }

func findShared() string { return testvectors.Find() }

func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex in vector %q: %v", s, err)
	}
	return b
}

// parseTime parses the timestamps of the vectors: RFC 3339, or a zone given
// as "+04"/"-05"/"Z" without minutes.
func parseTime(t testing.TB, s string) time.Time {
	t.Helper()
	if len(s) == len("2011-02-28T11:50:50-05") && (s[19] == '+' || s[19] == '-') {
		s += ":00"
	}
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad time in vector %q: %v", s, err)
	}
	return v
}

// sameInstantAndZone reports whether a and b are the same instant with the
// same UTC offset.
func sameInstantAndZone(a, b time.Time) bool {
	_, oa := a.Zone()
	_, ob := b.Zone()
	return a.Equal(b) && oa == ob
}

// gammuPDU extracts the hex PDU from a gammu .dump file: the line after the
// "+CMGR:" reply header, without quotes.
func gammuPDU(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r", ""), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "+CMGR:") && i+1 < len(lines) {
			return strings.Trim(strings.TrimSpace(lines[i+1]), `"`)
		}
	}
	t.Fatalf("%s: no +CMGR reply", path)
	return ""
}

func str(v any) string {
	s, _ := v.(string)
	return s
}
