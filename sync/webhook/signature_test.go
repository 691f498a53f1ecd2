package webhook_test

import (
	"errors"
	"strconv"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/sync/webhook"
)

// TestSignVector checks Sign against a value computed outside Go, with
// the command README.md gives receivers:
//
//	printf '%s' '1767225600.{"id":"x"}' | openssl dgst -sha256 -hmac 'whsec-example' -hex
func TestSignVector(t *testing.T) {
	const want = "v1=38ebac7d931a776eaf6d5d82785c2717209ec9ecf7f5e6ebb14bdb63b15f05c0"
	if got := webhook.Sign("whsec-example", "1767225600", []byte(`{"id":"x"}`)); got != want {
		t.Fatalf("Sign = %s, want %s", got, want)
	}
}

func TestVerify(t *testing.T) {
	const secret = "s3cret"
	now := time.Unix(1767225600, 0)
	body := []byte(`{"id":"a:created"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	good := webhook.Sign(secret, ts, body)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	tests := []struct {
		name      string
		secret    string
		header    string
		timestamp string
		body      []byte
		want      error
	}{
		{"valid", secret, good, ts, body, nil},
		{"valid among others", secret, "v0=abc, " + webhook.Sign("old", ts, body) + "," + good, ts, body, nil},
		{"4m59s old", secret, webhook.Sign(secret, at(-299*time.Second), body), at(-299 * time.Second), body, nil},
		{"wrong secret", "other", good, ts, body, webhook.ErrSignature},
		{"body changed", secret, good, ts, []byte(`{"id":"b:created"}`), webhook.ErrSignature},
		{"timestamp changed", secret, good, at(time.Second), body, webhook.ErrSignature},
		{"not hex", secret, "v1=zz", ts, body, webhook.ErrSignature},
		{"upper-case scheme", secret, "V1=" + good[3:], ts, body, webhook.ErrNoSignature},
		{"no v1 entry", secret, "v2=" + good[3:], ts, body, webhook.ErrNoSignature},
		{"no header", secret, "", ts, body, webhook.ErrNoSignature},
		{"no timestamp", secret, good, "", body, webhook.ErrNoSignature},
		{"6 minutes old", secret, webhook.Sign(secret, at(-6*time.Minute), body), at(-6 * time.Minute), body, webhook.ErrTimestamp},
		{"6 minutes ahead", secret, webhook.Sign(secret, at(6*time.Minute), body), at(6 * time.Minute), body, webhook.ErrTimestamp},
		{"milliseconds", secret, webhook.Sign(secret, ts+"000", body), ts + "000", body, webhook.ErrTimestamp},
		{"negative", secret, webhook.Sign(secret, "-1", body), "-1", body, webhook.ErrTimestamp},
		{"huge", secret, good, "99999999999999999999999", body, webhook.ErrTimestamp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.header, tt.timestamp, tt.body, now)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// FuzzVerify checks that Verify never panics and accepts only a header
// that holds the signature Sign computes.
func FuzzVerify(f *testing.F) {
	body := []byte(`{"id":"a:created"}`)
	f.Add("s3cret", webhook.Sign("s3cret", "1767225600", body), "1767225600", body, int64(1767225600))
	f.Add("s3cret", "v1=", "0", []byte{}, int64(0))
	f.Add("", "v1=00,v1=,,", "1767225900", []byte("x"), int64(1767225600))
	f.Fuzz(func(t *testing.T, secret, header, timestamp string, body []byte, now int64) {
		err := webhook.Verify(secret, header, timestamp, body, time.Unix(now, 0))
		if err != nil {
			if !errors.Is(err, webhook.ErrNoSignature) && !errors.Is(err, webhook.ErrSignature) && !errors.Is(err, webhook.ErrTimestamp) {
				t.Fatalf("Verify = %v: not one of the documented errors", err)
			}
			return
		}
		want := webhook.Sign(secret, timestamp, body)
		if !containsEntry(header, want) {
			t.Fatalf("Verify accepted %q without the signature %q", header, want)
		}
	})
}

// containsEntry reports whether header holds want as one of its entries
// (hex compared without regard to case).
func containsEntry(header, want string) bool {
	for i := 0; i+len(want) <= len(header); i++ {
		if equalFold(header[i:i+len(want)], want) {
			return true
		}
	}
	return false
}

func equalFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'F' {
			x += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}
