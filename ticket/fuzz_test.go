package ticket

import (
	"context"
	"errors"
	"testing"
	"time"
)

// FuzzIngest feeds arbitrary inbound requests to a real desk. A request is
// either stored (and found again by its source key) or rejected with a
// field error, in which case nothing in the store changed.
func FuzzIngest(f *testing.F) {
	f.Add("sms", "k1", "+447700900123", "", "Jo", "", "Is order 1042 shipped?", "", "", int64(0))
	f.Add("email", "<a@b>", "", "Pilot <p@example.com>", "", "Servo", "jitter", "", "incomplete", int64(1700000000))
	f.Add("voicemail", "call-9", "anonymous", "", "", "", "", "hello this is", "", int64(-1))
	f.Add("fax", "", "\x00", "@", "\xff", "a\nb", "\x00", "", "Bad", int64(1<<62))
	d := openDesk(f, Options{Limits: Limits{MaxMessageBytes: 4096}})
	f.Fuzz(func(t *testing.T, ch, key, phone, email, name, subject, body, transcript, flag string, at int64) {
		in := Inbound{
			Channel: Channel(ch), SourceKey: key,
			From:    From{Name: name, Phone: phone, Email: email},
			Subject: subject, Body: body, Transcript: transcript,
		}
		if flag != "" {
			in.Flags = []string{flag}
		}
		if at != 0 {
			in.At = time.Unix(at%(1<<40), 0)
		}
		before := dbDigest(t, d)
		r, err := d.Ingest(context.Background(), in)
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a field error", err)
			}
			if after := dbDigest(t, d); after != before {
				t.Fatalf("rejected input changed the store: %v", err)
			}
			return
		}
		again, err := d.Ingest(context.Background(), in)
		if err != nil || !again.Duplicate || again.Ticket != r.Ticket || again.MessageID != r.MessageID {
			t.Fatalf("second ingest = %+v, %v; want duplicate of %+v", again, err, r)
		}
	})
}

// FuzzTokens checks that folding and tokenising never panic, always give
// valid UTF-8 and respect the token bounds.
func FuzzTokens(f *testing.F) {
	for _, s := range []string{"Ação rápida", "IŞIK ışık İ", "Straße", "\xff\xfe", "a b c 1 2", string(make([]byte, 300))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		toks := Tokens(s)
		if len(toks) > maxTokensPerText {
			t.Fatalf("%d tokens", len(toks))
		}
		for _, tok := range toks {
			if len(tok) == 0 || len(tok) > maxTokenBytes {
				t.Fatalf("token %q has bad length", tok)
			}
			for _, r := range tok {
				if r == 0 {
					t.Fatalf("token %q holds NUL", tok)
				}
			}
		}
	})
}
