package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The headers of every request the target sends.
const (
	// HeaderIdempotencyKey carries the event's id, as in the IETF draft
	// "The Idempotency-Key HTTP Header Field".
	HeaderIdempotencyKey = "Idempotency-Key"
	// HeaderTimestamp carries the time of signing in unix seconds.
	HeaderTimestamp = "X-Counterdesk-Timestamp"
	// HeaderSignature carries "v1=" and the hex HMAC-SHA256 of
	// timestamp + "." + body, keyed with the shared secret.
	HeaderSignature = "X-Counterdesk-Signature"
)

// Tolerance is how far a request's timestamp may lie from the receiver's
// clock, either way, before Verify refuses it as a replay.
const Tolerance = 5 * time.Minute

// signatureScheme prefixes each signature in HeaderSignature. A later
// scheme would get a new prefix, so that receivers can accept both while
// they change over.
const signatureScheme = "v1="

// Sign returns the value of HeaderSignature for body signed at timestamp
// (unix seconds in decimal, the value of HeaderTimestamp): "v1=" and the
// lower-case hex HMAC-SHA256 (RFC 2104) of timestamp + "." + body keyed
// with secret.
func Sign(secret, timestamp string, body []byte) string {
	return signatureScheme + hex.EncodeToString(mac(secret, timestamp, body))
}

func mac(secret, timestamp string, body []byte) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(timestamp))
	m.Write([]byte{'.'})
	m.Write(body)
	return m.Sum(nil)
}

// Verify checks a request as a receiver must before it trusts the body:
// header is the HeaderSignature value, timestamp the HeaderTimestamp
// value, body the raw request body exactly as received (before any JSON
// parsing), now the receiver's clock. It returns nil when one "v1="
// entry of header (entries are separated by commas or spaces, so that a
// sender may sign with an old and a new secret while they change over) is
// the HMAC of timestamp + "." + body under secret, compared in constant
// time, and timestamp lies within Tolerance of now. Otherwise it returns
// an error wrapping ErrNoSignature, ErrSignature or ErrTimestamp.
func Verify(secret, header, timestamp string, body []byte, now time.Time) error {
	if strings.TrimSpace(header) == "" || timestamp == "" {
		return fmt.Errorf("%w: %s and %s are required", ErrNoSignature, HeaderSignature, HeaderTimestamp)
	}
	ts := timestamp
	secs, err := parseUnix(ts)
	if err != nil {
		return fmt.Errorf("%w: %s %q is not unix seconds", ErrTimestamp, HeaderTimestamp, shorten(ts))
	}
	if d := now.Unix() - secs; d > int64(Tolerance/time.Second) || -d > int64(Tolerance/time.Second) {
		return fmt.Errorf("%w: %s is %d s away from the receiver's clock (at most %d s)",
			ErrTimestamp, HeaderTimestamp, abs(d), int64(Tolerance/time.Second))
	}
	want := mac(secret, ts, body)
	found := false
	for _, f := range strings.FieldsFunc(header, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		v, ok := strings.CutPrefix(f, signatureScheme)
		if !ok {
			continue // another scheme: not ours to judge
		}
		found = true
		got, err := hex.DecodeString(v)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	if !found {
		return fmt.Errorf("%w: %s holds no %q entry", ErrNoSignature, HeaderSignature, signatureScheme)
	}
	return ErrSignature
}

// parseUnix reads decimal unix seconds: digits only, no sign, at most 12
// of them (the year 33658), so that no overflow can pass the window check.
func parseUnix(s string) (int64, error) {
	if s == "" || len(s) > 12 {
		return 0, strconv.ErrRange
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseInt(s, 10, 64)
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}

// shorten cuts a header value quoted in an error.
func shorten(s string) string {
	if len(s) > 24 {
		return s[:24] + "..."
	}
	return s
}
