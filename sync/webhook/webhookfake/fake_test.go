package webhookfake_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/sync/webhook"
	"github.com/counterdesk/counterdesk/sync/webhook/webhookfake"
)

const secret = "fake-secret"

// request is one raw request to the fake, signed unless a field says
// otherwise.
type request struct {
	method, path, ctype, key string
	body                     []byte
	secret                   string
	age                      time.Duration
	unsigned                 bool
}

func send(t *testing.T, url string, r request) (int, string) {
	t.Helper()
	if r.method == "" {
		r.method = http.MethodPost
	}
	if r.path == "" {
		r.path = webhookfake.DefaultPath
	}
	if r.secret == "" {
		r.secret = secret
	}
	req, err := http.NewRequest(r.method, url+r.path, bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.ctype != "" {
		req.Header.Set("Content-Type", r.ctype)
	}
	if r.key != "" {
		req.Header.Set(webhook.HeaderIdempotencyKey, r.key)
	}
	if !r.unsigned {
		ts := strconv.FormatInt(time.Now().Add(-r.age).Unix(), 10)
		req.Header.Set(webhook.HeaderTimestamp, ts)
		req.Header.Set(webhook.HeaderSignature, webhook.Sign(r.secret, ts, r.body))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func golden(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestChecks sends requests that break each rule of the contract and
// checks the fake's answer.
func TestChecks(t *testing.T) {
	fake := webhookfake.New(secret)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	body := golden(t, "ticket.created.json")
	const key = "0b9f6c1e-7d2a-4c1b-9a55-000000001042:created"
	tests := []struct {
		name   string
		r      request
		status int
		text   string
	}{
		{"wrong path", request{path: "/other", ctype: "application/json", key: key, body: body}, 404, "no webhook"},
		{"GET", request{method: "GET", ctype: "application/json", key: key}, 405, "POST"},
		{"HEAD", request{method: "HEAD", unsigned: true}, 200, ""},
		{"no content type", request{key: key, body: body}, 415, "application/json"},
		{"form", request{ctype: "application/x-www-form-urlencoded", key: key, body: body}, 415, "application/json"},
		{"unsigned", request{ctype: "application/json", key: key, body: body, unsigned: true}, 401, "no signature"},
		{"wrong secret", request{ctype: "application/json", key: key, body: body, secret: "other"}, 401, "does not match"},
		{"stale", request{ctype: "application/json", key: key, body: body, age: 6 * time.Minute}, 401, "timestamp"},
		{"no key", request{ctype: "application/json", body: body}, 400, "Idempotency-Key is required"},
		{"not JSON", request{ctype: "application/json", key: key, body: []byte("{")}, 400, "not JSON"},
		{"invalid event", request{ctype: "application/json", key: key, body: []byte(`{"id":"x"}`)}, 422, "invalid event"},
		{"key not the id", request{ctype: "application/json", key: "other", body: body}, 422, "is not the event's id"},
		{"valid", request{ctype: "application/json; charset=utf-8", key: key, body: body}, 200, `"duplicate":false`},
		{"quoted key, repeated", request{ctype: "application/json", key: `"` + key + `"`, body: body}, 200, `"duplicate":true`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, text := send(t, srv.URL, tt.r)
			if status != tt.status || !strings.Contains(text, tt.text) {
				t.Fatalf("answer %d %s, want %d with %q", status, text, tt.status, tt.text)
			}
		})
	}
	if fake.Len() != 1 || fake.Repeats() != 1 || fake.RepeatsOf(key) != 1 || fake.Refused(401) != 3 {
		t.Fatalf("recorded %d, repeats %d, refused 401 %d", fake.Len(), fake.Repeats(), fake.Refused(401))
	}
}

// TestOrderProblems checks that the fake notices events out of their
// ticket's order.
func TestOrderProblems(t *testing.T) {
	fake := webhookfake.New(secret)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	post := func(name, key string) {
		if status, text := send(t, srv.URL, request{ctype: "application/json", key: key, body: golden(t, name)}); status != 200 {
			t.Fatalf("%s: %d %s", name, status, text)
		}
	}
	const uuid = "0b9f6c1e-7d2a-4c1b-9a55-000000001042"
	post("message.added.json", uuid+":message:8")
	post("ticket.created.json", uuid+":created")
	p := fake.Problems()
	if len(p) != 3 {
		t.Fatalf("problems %q, want message.added before ticket.created, ticket.created after it, and message 7 after 8", p)
	}
	if evs := fake.EventsFor(uuid); len(evs) != 2 || evs[0].Type != webhook.TypeMessageAdded {
		t.Fatalf("events %v", evs)
	}
}

// TestFaults checks that the fake's faults wrap it.
func TestFaults(t *testing.T) {
	fake := webhookfake.New(secret)
	srv := httptest.NewServer(fake)
	defer srv.Close()
	fake.Faults.Fail5xx(1)
	if status, _ := send(t, srv.URL, request{method: "HEAD"}); status != 500 {
		t.Fatalf("answer %d, want 500", status)
	}
	if status, _ := send(t, srv.URL, request{method: "HEAD"}); status != 200 {
		t.Fatalf("answer %d, want 200", status)
	}
}
