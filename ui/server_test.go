package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// fixture is a server over a real Desk in a temporary folder, with one
// admin and one agent token.
type fixture struct {
	t      testing.TB
	srv    *Server
	app    *fiber.App
	desk   *ticket.Desk
	tokens *auth.Tokens
	health *health.Registry
	admin  string
	agent  string
	logs   *logBuffer
}

func newFixture(t testing.TB, opts ...func(*Options)) *fixture {
	desk, err := ticket.Open(t.TempDir(), ticket.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	tokens, err := auth.NewTokens(desk.DB())
	if err != nil {
		t.Fatal(err)
	}
	admin, err := tokens.Create("backoffice", auth.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	agent, err := tokens.Create("till", auth.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	logs := new(logBuffer)
	o := Options{
		Desk:    desk,
		Tokens:  tokens,
		Health:  health.New(),
		Logger:  slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version: "1.2.3-test",
	}
	for _, fn := range opts {
		fn(&o)
	}
	srv := New(o)
	return &fixture{t: t, srv: srv, app: srv.App(), desk: desk, tokens: tokens, health: o.Health, admin: admin, agent: agent, logs: logs}
}

// with returns f for use in subtest t.
func (f *fixture) with(t testing.TB) *fixture {
	g := *f
	g.t = t
	return &g
}

// logBuffer is written by the server's goroutines and read by the test.
type logBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// result is an answer as a test sees it.
type result struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request. body is sent as it is when it is a string or
// []byte, else encoded as JSON; hdr holds header name, value pairs, which
// override the default Content-Type of application/json.
func (f *fixture) do(method, path, token string, body any, hdr ...string) result {
	var r io.Reader = http.NoBody
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			f.t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req := httptest.NewRequest(method, path, r)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := f.app.Test(req, -1)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		f.t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: data}
}

// decode decodes the JSON body of r into v.
func (r result) decode(t testing.TB, v any) {
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type = %q, want JSON; body %s", ct, r.body)
	}
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantError checks that r is a JSON error answer with status and code and
// returns its detail.
func (r result) wantError(t testing.TB, status int, code string) errorDetail {
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
	var b errorBody
	r.decode(t, &b)
	if b.Error.Code != code || b.Error.Message == "" {
		t.Fatalf("error = %+v, want code %s and a message", b.Error, code)
	}
	return b.Error
}

func (r result) wantStatus(t testing.TB, status int) {
	if r.status != status {
		t.Fatalf("status = %d, want %d; body %s", r.status, status, r.body)
	}
}

func TestHealthz(t *testing.T) {
	f := newFixture(t)
	var h healthResponse

	r := f.do("GET", "/healthz", "", nil)
	r.wantStatus(t, 200)
	r.decode(t, &h)
	if h.Status != "ok" || h.Version != "1.2.3-test" || h.Subsystems == nil {
		t.Errorf("empty registry: %+v", h)
	}

	f.health.Set("store", health.OK, "")
	f.health.Set("sync.zendesk", health.Disabled, "")
	r = f.do("GET", "/healthz", "", nil)
	r.wantStatus(t, 200)
	r.decode(t, &h)
	if h.Status != "ok" || len(h.Subsystems) != 2 {
		t.Errorf("all ok: %+v", h)
	}

	f.health.Set("modem", health.Degraded, "weak signal")
	r = f.do("GET", "/healthz", "", nil)
	r.wantStatus(t, 200)
	r.decode(t, &h)
	if h.Status != "degraded" {
		t.Errorf("one degraded: status %q", h.Status)
	}

	f.health.Fail("sip", health.Down, errors.New("registration refused"))
	r = f.do("GET", "/healthz", "", nil)
	r.wantStatus(t, 503)
	h = healthResponse{}
	r.decode(t, &h)
	if h.Status != "degraded" || h.Subsystems["sip"].State != health.Down || h.Subsystems["sip"].LastError != "registration refused" {
		t.Errorf("one down: %+v", h)
	}
	checkSecurityHeaders(t, r)
}

func checkSecurityHeaders(t testing.TB, r result) {
	for _, h := range securityHeaders {
		if got := r.header.Get(h[0]); got != h[1] {
			t.Errorf("%s = %q, want %q", h[0], got, h[1])
		}
	}
}

func TestUnauthorized(t *testing.T) {
	f := newFixture(t)
	for _, tc := range []struct {
		name, auth string
		invalid    bool
	}{
		{"no header", "", false},
		{"basic", "Basic dXNlcjpwYXNz", false},
		{"empty bearer", "Bearer ", false},
		{"wrong token", "Bearer cdk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", true},
		{"garbage", "Bearer hunter2", true},
		{"revoked later", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.auth != "" {
				hdr = []string{"Authorization", tc.auth}
			}
			if tc.name == "revoked later" {
				s, err := f.tokens.Create("temp", auth.RoleAdmin)
				if err != nil {
					t.Fatal(err)
				}
				f.with(t).do("GET", "/api/v1/tickets", s, nil).wantStatus(t, 200)
				if err := f.tokens.Revoke("temp"); err != nil {
					t.Fatal(err)
				}
				hdr = []string{"Authorization", "Bearer " + s}
			}
			r := f.with(t).do("GET", "/api/v1/tickets", "", nil, hdr...)
			r.wantError(t, 401, "unauthorized")
			wa := r.header.Get("WWW-Authenticate")
			if !strings.HasPrefix(wa, "Bearer") {
				t.Errorf("WWW-Authenticate = %q", wa)
			}
			if tc.invalid != strings.Contains(wa, `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q, invalid_token expected: %v", wa, tc.invalid)
			}
			checkSecurityHeaders(t, r)
		})
	}
	// Unknown paths under the API ask for a token before anything else.
	f.do("GET", "/api/v1/nothing", "", nil).wantError(t, 401, "unauthorized")
	// The scheme is case-insensitive (RFC 9110 section 11.1).
	f.do("GET", "/api/v1/tickets", "", nil, "Authorization", "bearer "+f.agent).wantStatus(t, 200)
}

func TestNoTokenStore(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.Tokens = nil })
	f.do("GET", "/api/v1/tickets", f.admin, nil).wantError(t, 401, "unauthorized")
}

func TestSecretsNotLogged(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/api/v1/tickets", f.admin, nil).wantStatus(t, 200)
	f.do("GET", "/api/v1/tickets", "cdk_wrongwrongwrong", nil).wantStatus(t, 401)
	f.do("POST", "/api/v1/tickets", f.agent, map[string]any{"subject": "x", "body": "y"}).wantStatus(t, 201)
	logs := f.logs.String()
	if !strings.Contains(logs, "http: request") || !strings.Contains(logs, "status=201") {
		t.Errorf("no request log lines:\n%s", logs)
	}
	for _, secret := range []string{f.admin, f.agent, "cdk_wrongwrongwrong", "Bearer"} {
		if strings.Contains(logs, secret) {
			t.Errorf("log holds %q:\n%s", secret, logs)
		}
	}
}

func TestRouteErrorsAreJSON(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/nothing", "", nil).wantError(t, 404, "not_found")
	r := f.do("PUT", "/api/v1/tickets", f.admin, map[string]any{})
	r.wantError(t, 405, "method_not_allowed")
	checkSecurityHeaders(t, r)
	f.do("GET", "/api/v1/tickets/abc", f.admin, nil).wantError(t, 400, "bad_request")
	f.do("GET", "/api/v1/tickets/0", f.admin, nil).wantError(t, 400, "bad_request")
	f.do("GET", "/api/v1/tickets/999999", f.admin, nil).wantError(t, 404, "not_found")
}

func TestPanicIsInternal(t *testing.T) {
	f := newFixture(t)
	f.app.Get("/boom", func(c *fiber.Ctx) error { panic("kaboom") })
	r := f.do("GET", "/boom", "", nil)
	e := r.wantError(t, 500, "internal")
	if e.Message != "internal error" {
		t.Errorf("message %q leaks details", e.Message)
	}
	if !strings.Contains(f.logs.String(), "kaboom") {
		t.Error("panic not logged")
	}
	// The server goes on.
	f.do("GET", "/healthz", "", nil).wantStatus(t, 200)
}

// serve runs f's server on a local port until the test ends and returns
// its base URL.
func (f *fixture) serve() string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		f.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- f.srv.Serve(ln) }()
	f.t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := f.srv.Shutdown(ctx); err != nil {
			f.t.Errorf("Shutdown: %v", err)
		}
		if err := <-done; err != nil {
			f.t.Errorf("Serve = %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func TestServe(t *testing.T) {
	f := newFixture(t)
	base := f.serve()
	resp, err := http.Get(base + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// TestBodyLimit runs over a real socket: fasthttp refuses a body over
// the limit while reading the request, before any handler, and app.Test
// reports that as its own error.
func TestBodyLimit(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxBodyBytes = 4096 })
	base := f.serve()
	post := func(body string) result {
		req, err := http.NewRequest("POST", base+"/api/v1/tickets", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+f.agent)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return result{status: resp.StatusCode, header: resp.Header, body: data}
	}
	r := post(`{"body":"` + strings.Repeat("x", 5000) + `"}`)
	e := r.wantError(t, 413, "too_large")
	if !strings.Contains(e.Message, "4096") {
		t.Errorf("message %q does not give the limit", e.Message)
	}
	checkSecurityHeaders(t, r)
	if !strings.Contains(f.logs.String(), "over a limit") {
		t.Error("the body limit was reached without a log line")
	}
	post(`{"body":"`+strings.Repeat("x", 4000)+`"}`).wantStatus(t, 201)
	if n, _ := f.desk.Count(); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
}

// /metrics needs an API token and gives the Prometheus text format.
func TestMetrics(t *testing.T) {
	f := newFixture(t)
	f.do("GET", "/metrics", "", nil).wantStatus(t, 401)
	f.health.Set("sip", health.OK, "registered")
	f.health.AddSource("sip", func() []health.Metric {
		return []health.Metric{{Name: "counterdesk_sip_calls_active", Help: "Calls in progress.", Value: 2}}
	})
	r := f.do("GET", "/metrics", f.agent, nil)
	r.wantStatus(t, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type = %q", ct)
	}
	for _, want := range []string{
		"# TYPE counterdesk_sip_calls_active gauge\ncounterdesk_sip_calls_active 2\n",
		`counterdesk_subsystem_state{state="ok",subsystem="sip"} 1`,
		"counterdesk_tickets 0\n",
		`counterdesk_outbox_rows{state="pending"} 0`,
		`counterdesk_build_info{version="1.2.3-test"} 1`,
		"# TYPE counterdesk_ingest_seconds histogram\n",
		`counterdesk_ingest_seconds_bucket{le="+Inf"} 0`,
		`counterdesk_tickets_by_status{status="deleted"} 0`,
	} {
		if !strings.Contains(string(r.body), want) {
			t.Errorf("metrics lack %q:\n%s", want, r.body)
		}
	}
}
