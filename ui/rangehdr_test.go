package ui

import (
	"errors"
	"math"
	"testing"
)

func TestParseRange(t *testing.T) {
	const size = 1000
	for _, tc := range []struct {
		header string
		size   int64
		want   byteRange
		ok     bool
		unsat  bool
	}{
		// The three forms of RFC 9110 section 14.1.2.
		{"bytes=0-499", size, byteRange{0, 500}, true, false},
		{"bytes=500-999", size, byteRange{500, 500}, true, false},
		{"bytes=10-10", size, byteRange{10, 1}, true, false},
		{"bytes=500-", size, byteRange{500, 500}, true, false},
		{"bytes=0-", size, byteRange{0, 1000}, true, false},
		{"bytes=-500", size, byteRange{500, 500}, true, false},
		{"bytes=-1", size, byteRange{999, 1}, true, false},
		// A last position past the end is cut to it; a suffix longer
		// than the file is the whole file.
		{"bytes=900-5000", size, byteRange{900, 100}, true, false},
		{"bytes=-5000", size, byteRange{0, 1000}, true, false},
		{"bytes=0-99999999999999999999999", size, byteRange{0, 1000}, true, false},
		{"bytes=-99999999999999999999999", size, byteRange{0, 1000}, true, false},
		// Case-insensitive unit, whitespace and empty list elements.
		{"Bytes=1-2", size, byteRange{1, 2}, true, false},
		{"bytes= 1-2 ", size, byteRange{1, 2}, true, false},
		{"bytes=,1-2,", size, byteRange{1, 2}, true, false},
		// Unsatisfiable: 416.
		{"bytes=1000-", size, byteRange{}, false, true},
		{"bytes=1000-1001", size, byteRange{}, false, true},
		{"bytes=99999999999999999999999-", size, byteRange{}, false, true},
		{"bytes=-0", size, byteRange{}, false, true},
		{"bytes=0-0", 0, byteRange{}, false, true},
		{"bytes=-5", 0, byteRange{}, false, true},
		// Ignored: the whole file is sent.
		{"", size, byteRange{}, false, false},
		{"bytes", size, byteRange{}, false, false},
		{"bytes=", size, byteRange{}, false, false},
		{"bytes=-", size, byteRange{}, false, false},
		{"bytes=5", size, byteRange{}, false, false},
		{"bytes=5-4", size, byteRange{}, false, false},
		{"bytes=a-b", size, byteRange{}, false, false},
		{"bytes=+1-2", size, byteRange{}, false, false},
		{"bytes=1-+2", size, byteRange{}, false, false},
		{"bytes=--5", size, byteRange{}, false, false},
		{"bytes=1-2-3", size, byteRange{}, false, false},
		{"bytes=0x1-2", size, byteRange{}, false, false},
		{"bytes=0-1,5-6", size, byteRange{}, false, false},
		{"bytes=1000-,0-1", size, byteRange{}, false, false},
		{"items=0-1", size, byteRange{}, false, false},
		{"bytes =0-1", size, byteRange{}, false, false},
		{"bytes=0 -1", size, byteRange{}, false, false},
		{"bytes=٣-٤", size, byteRange{}, false, false},
	} {
		got, ok, err := parseRange(tc.header, tc.size)
		if got != tc.want || ok != tc.ok || errors.Is(err, errUnsatisfiable) != tc.unsat || (err != nil && !tc.unsat) {
			t.Errorf("parseRange(%q, %d) = %+v, %v, %v; want %+v, %v, unsatisfiable %v", tc.header, tc.size, got, ok, err, tc.want, tc.ok, tc.unsat)
		}
	}
}

func TestContentRange(t *testing.T) {
	if got := (byteRange{10, 10}).contentRange(1000); got != "bytes 10-19/1000" {
		t.Errorf("contentRange = %q", got)
	}
}

func FuzzParseRange(f *testing.F) {
	for _, s := range []string{"bytes=0-499", "bytes=-5", "bytes=5-", "bytes=1-0", "bytes=,,1-2", "bytes=99999999999999999999-", "x"} {
		f.Add(s, int64(1000))
	}
	f.Add("bytes=0-0", int64(0))
	f.Add("bytes=-1", int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, header string, size int64) {
		if size < 0 {
			size = -(size + 1)
		}
		r, ok, err := parseRange(header, size)
		switch {
		case err != nil:
			if !errors.Is(err, errUnsatisfiable) || ok {
				t.Fatalf("parseRange(%q, %d) = %v, %v", header, size, ok, err)
			}
		case ok:
			if r.start < 0 || r.length < 1 || r.start > size-r.length {
				t.Fatalf("parseRange(%q, %d) = %+v: outside the file", header, size, r)
			}
		default:
			if r != (byteRange{}) {
				t.Fatalf("parseRange(%q, %d) ignored the header but returned %+v", header, size, r)
			}
		}
	})
}
