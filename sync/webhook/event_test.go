package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/sync/webhook"
	"github.com/counterdesk/counterdesk/ticket"
)

var update = flag.Bool("update", false, "rewrite the golden events in testdata/")

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// captured sends what a target does to a server that keeps each body.
func captured(t *testing.T, do func(tg *webhook.Target)) [][]byte {
	t.Helper()
	var bodies [][]byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, b)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	do(newTarget(t, srv.URL+"/hook", secret))
	return bodies
}

// TestGolden compares the events of one ticket with the examples in
// testdata/, which README.md shows receivers: go test -update rewrites
// them.
func TestGolden(t *testing.T) {
	wav, _ := writeFile(t, "voicemail.wav", "audio/wav", 24)
	bodies := captured(t, func(tg *webhook.Target) {
		ctx := context.Background()
		tk := newTicket(1042)
		first := newMessage(7, ticket.Incoming, "")
		first.Transcript = "Hi, it's Alex. The servo on my glider buzzes; order A-1042."
		first.Meta = ticket.Meta{"ring": "12s"}
		first.Files = []sync.File{wav}
		if _, err := tg.Create(ctx, tk, first); err != nil {
			t.Fatal(err)
		}
		note := newMessage(8, ticket.Internal, "Probably the BEC; check stock.")
		note.Channel, note.Author = ticket.ChannelStaff, "sam"
		if _, err := tg.Post(ctx, tk.UUID, tk, note); err != nil {
			t.Fatal(err)
		}
		tk.Status, tk.Priority, tk.UpdatedAt = ticket.StatusPending, ticket.PriorityHigh, t0.Add(20*60e9)
		if err := tg.Update(ctx, tk.UUID, tk); err != nil {
			t.Fatal(err)
		}
	})
	names := []string{"ticket.created.json", "message.added.json", "ticket.updated.json"}
	if len(bodies) != len(names) {
		t.Fatalf("%d requests, want %d", len(bodies), len(names))
	}
	for i, name := range names {
		var pretty bytes.Buffer
		if err := json.Indent(&pretty, bodies[i], "", "  "); err != nil {
			t.Fatal(err)
		}
		pretty.WriteByte('\n')
		p := filepath.Join("testdata", name)
		if *update {
			if err := os.WriteFile(p, pretty.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(pretty.Bytes(), want) {
			t.Errorf("%s differs from what the target sends now:\n%s", p, pretty.Bytes())
		}
		if _, err := webhook.ParseEvent(want); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
}

func TestParseEvent(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "ticket.created.json"))
	if err != nil {
		t.Fatal(err)
	}
	const uuid = "0b9f6c1e-7d2a-4c1b-9a55-000000001042"
	tests := []struct {
		name string
		edit func(s string) string
		want string
	}{
		{"valid", func(s string) string { return s }, ""},
		{"unknown field ignored", func(s string) string { return strings.Replace(s, `"id"`, `"later":1,"id"`, 1) }, ""},
		{"not JSON", func(string) string { return "{" }, "unexpected EOF"},
		{"two objects", func(s string) string { return s + "{}" }, "data after"},
		{"no id", func(s string) string { return strings.Replace(s, uuid+":created", "", 1) }, "id is empty"},
		{"unknown type", func(s string) string { return strings.Replace(s, `"ticket.created"`, `"ticket.deleted"`, 1) }, "type"},
		{"id of another ticket", func(s string) string { return strings.Replace(s, uuid+":created", "other:created", 1) }, "uuid"},
		{"id of another type", func(s string) string { return strings.Replace(s, `"ticket.created"`, `"message.added"`, 1) }, ":message:7"},
		{"no time", func(s string) string {
			return strings.Replace(s, `"occurred_at": "2026-03-14T09:26:53Z"`, `"occurred_at": "0001-01-01T00:00:00Z"`, 1)
		}, "occurred_at"},
		{"data changed", func(s string) string { return strings.Replace(s, `"data": "`, `"data": "AAAA`, 1) }, "bytes, size says"},
		{"sha256 wrong", func(s string) string { return strings.Replace(s, `"sha256": "`, `"sha256": "00`, 1) }, "sha256"},
		{"omitted but present", func(s string) string { return strings.Replace(s, `"data": "`, `"data_omitted": true, "data": "`, 1) }, "data_omitted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := webhook.ParseEvent([]byte(tt.edit(string(good))))
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				if e.Ticket.Ref != "#1042" || len(e.Message.Attachments) != 1 {
					t.Fatalf("event = %+v", e)
				}
				return
			}
			if !errors.Is(err, webhook.ErrInvalidEvent) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ParseEvent = %v, want ErrInvalidEvent saying %q", err, tt.want)
			}
		})
	}
}

// FuzzParseEvent checks that ParseEvent never panics, and that an event
// it accepts keeps the contract's invariants and survives encoding and
// decoding unchanged.
func FuzzParseEvent(f *testing.F) {
	for _, name := range []string{"ticket.created.json", "message.added.json", "ticket.updated.json"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"id":"u:updated:00","type":"ticket.updated","occurred_at":"2026-01-01T00:00:00Z","ticket":{"uuid":"u"}}`))
	f.Add([]byte(`{"id":"u:message:1","type":"message.added","occurred_at":"2026-01-01T00:00:00+02:00","ticket":{"uuid":"u"},"message":{"id":1,"attachments":[{"size":0,"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855","data":""}]}}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"message":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		e, err := webhook.ParseEvent(body)
		if err != nil {
			if e != nil || !errors.Is(err, webhook.ErrInvalidEvent) {
				t.Fatalf("ParseEvent = %v, %v", e, err)
			}
			return
		}
		if !strings.HasPrefix(e.ID, e.Ticket.UUID+":") || e.OccurredAt.IsZero() {
			t.Fatalf("accepted id %q of ticket %q at %s", e.ID, e.Ticket.UUID, e.OccurredAt)
		}
		switch e.Type {
		case webhook.TypeTicketCreated:
		case webhook.TypeMessageAdded:
			if e.Message == nil {
				t.Fatal("accepted message.added without a message")
			}
		case webhook.TypeTicketUpdated:
			if e.Message != nil {
				t.Fatal("accepted ticket.updated with a message")
			}
		default:
			t.Fatalf("accepted type %q", e.Type)
		}
		if e.Message != nil {
			for _, a := range e.Message.Attachments {
				if !a.DataOmitted && int64(len(a.Data)) != a.Size {
					t.Fatalf("accepted %d bytes of data for size %d", len(a.Data), a.Size)
				}
			}
		}
		again := mustJSON(t, e)
		e2, err := webhook.ParseEvent(again)
		if err != nil {
			t.Fatalf("re-encoded event refused: %v\n%s", err, again)
		}
		if third := mustJSON(t, e2); !bytes.Equal(third, again) {
			t.Fatalf("encoding not stable:\n%s\n%s", again, third)
		}
	})
}
