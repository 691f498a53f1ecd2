package ui

import (
	"errors"
	"math"
	"strconv"
	"strings"
)

// byteRange is a part of a representation: length bytes from start.
type byteRange struct {
	start, length int64
}

// contentRange is the Content-Range of r in a representation of size
// bytes (RFC 9110 section 14.4): "bytes 10-19/1000".
func (r byteRange) contentRange(size int64) string {
	return "bytes " + strconv.FormatInt(r.start, 10) + "-" + strconv.FormatInt(r.start+r.length-1, 10) + "/" + strconv.FormatInt(size, 10)
}

// errUnsatisfiable means a Range asks only for bytes past the end of the
// representation: the answer is 416 with "Content-Range: bytes */size".
var errUnsatisfiable = errors.New("range not satisfiable")

// parseRange reads a Range header (RFC 9110 section 14.2) for a
// representation of size bytes. It understands one byte range in any of
// the three forms of section 14.1.2: "bytes=a-b", "bytes=a-" and
// "bytes=-n". ok is false when the header is to be ignored and the whole
// representation sent: another unit, a malformed or invalid range-set,
// or several ranges (section 14.2 allows a server to ignore Range). err
// is errUnsatisfiable when the one range starts past the end, or asks for
// the last zero bytes.
func parseRange(header string, size int64) (r byteRange, ok bool, err error) {
	unit, set, found := strings.Cut(header, "=")
	if !found || !strings.EqualFold(unit, "bytes") {
		return byteRange{}, false, nil
	}
	// range-set = 1#range-spec; a list may hold empty elements, which a
	// recipient ignores (section 5.6.1.2).
	var spec string
	n := 0
	for elem := range strings.SplitSeq(set, ",") {
		elem = strings.Trim(elem, " \t")
		if elem == "" {
			continue
		}
		spec = elem
		n++
	}
	if n != 1 {
		return byteRange{}, false, nil
	}
	first, last, found := strings.Cut(spec, "-")
	if !found {
		return byteRange{}, false, nil
	}
	if first == "" {
		// suffix-range: the last n bytes.
		n, ok := digits(last)
		if !ok {
			return byteRange{}, false, nil
		}
		if n == 0 || size <= 0 {
			return byteRange{}, false, errUnsatisfiable
		}
		n = min(n, size)
		return byteRange{start: size - n, length: n}, true, nil
	}
	a, ok := digits(first)
	if !ok {
		return byteRange{}, false, nil
	}
	b := int64(math.MaxInt64)
	if last != "" {
		if b, ok = digits(last); !ok || b < a {
			// last-pos < first-pos makes the range-spec invalid
			// (section 14.1.1), so the header is ignored.
			return byteRange{}, false, nil
		}
	}
	if a >= size {
		return byteRange{}, false, errUnsatisfiable
	}
	b = min(b, size-1)
	return byteRange{start: a, length: b - a + 1}, true, nil
}

// digits parses 1*DIGIT, saturating at math.MaxInt64: a position too
// large for int64 is past the end of any file.
func digits(s string) (int64, bool) {
	if s == "" {
		return 0, false
	}
	var v int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			v = math.MaxInt64
			continue
		}
		v = v*10 + d
	}
	return v, true
}
