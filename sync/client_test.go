package sync

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

func TestRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"0.5", 500 * time.Millisecond},
		{"-3", 0},
		{"soon", 0},
		{"Sun, 22 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"Sun, 22 Nov 2026 09:59:00 GMT", 0},
		{"86400", maxRetryAfter},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if got := retryAfter(h, now); got != tt.want {
			t.Errorf("Retry-After %q = %v, want %v", tt.value, got, tt.want)
		}
	}
}

// The client sorts answers into the errors the engine acts on, keeps the
// vendor's text, and scrubs its secret from it.
func TestClientErrors(t *testing.T) {
	const secret = "tok-3b9e7c55a1"
	status, body := 0, ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+secret {
			http.Error(w, "no auth", 500)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte(body))
	}))
	defer srv.Close()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL + "/", Secrets: []string{secret},
		Auth: func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+secret) }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		status    int
		body      string
		permanent bool
		auth      bool
		text      string
	}{
		{422, `{"error":"RecordInvalid","details":{"requester":"invalid, token ` + secret + `"}}`, true, false, "422 Unprocessable Entity: {\"error\":\"RecordInvalid\""},
		{400, "bad\n\n   request", true, false, "400 Bad Request: bad request"},
		{404, "", true, false, "404 Not Found"},
		{401, `{"error":"Couldn't authenticate you"}`, false, true, "401 Unauthorized"},
		{403, "", false, true, "403 Forbidden"},
		{500, "<html>oops</html>", false, false, "500 Internal Server Error"},
		{409, "", false, false, "409 Conflict"},
		{503, "", false, false, "503 Service Unavailable"},
	}
	for _, tt := range tests {
		status, body = tt.status, tt.body
		_, err := c.Do(context.Background(), Request{Method: "POST", Path: "/api/v2/tickets", JSON: map[string]string{"a": "b"}}, nil)
		var perm *ticket.PermanentError
		var h *HTTPError
		switch {
		case err == nil:
			t.Errorf("%d: no error", tt.status)
			continue
		case errors.As(err, &perm) != tt.permanent:
			t.Errorf("%d: permanent = %v, want %v (%v)", tt.status, !tt.permanent, tt.permanent, err)
		case !errors.As(err, &h) || h.AuthError() != tt.auth || h.Status != tt.status:
			t.Errorf("%d: error %v", tt.status, err)
		}
		if !strings.Contains(err.Error(), "POST /api/v2/tickets: "+tt.text) {
			t.Errorf("%d: error %q lacks %q", tt.status, err, tt.text)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%d: the secret is in %q", tt.status, err)
		}
		if tt.status == 404 && !IsNotFound(err) {
			t.Errorf("IsNotFound(%v) = false", err)
		}
	}
	status, body = 200, `{"ticket":{"id":42}}`
	var out struct {
		Ticket struct{ ID int } `json:"ticket"`
	}
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/api/v2/tickets/42"}, &out); err != nil || out.Ticket.ID != 42 {
		t.Errorf("2xx: %+v, %v", out, err)
	}
	status, body = 200, "not json"
	if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, &out); !errors.As(err, new(*ticket.PermanentError)) {
		t.Errorf("a 2xx answer that is not JSON = %v, want a permanent error", err)
	}
	srv.Close()
	_, err = c.Do(context.Background(), Request{Method: "GET", Path: "/x"}, nil)
	if !errors.As(err, new(*OfflineError)) {
		t.Errorf("closed server = %v, want OfflineError", err)
	}
}

// A 429 holds every request of the target for Retry-After, then the
// request goes through; answers that say no request is left hold the next
// one until the window resets.
func TestClientWaitsOutRateLimit(t *testing.T) {
	var mu stdsync.Mutex
	var times []time.Time
	throttled := 1
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		times = append(times, time.Now())
		if throttled > 0 {
			throttled--
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		if len(times) == 2 {
			w.Header().Set("Ratelimit-Remaining", "0")
			w.Header().Set("Ratelimit-Reset", "1")
		}
		w.Write([]byte(`{}`))
	}))
	defer srv.Close()
	c, err := NewClient(ClientOptions{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Do(context.Background(), Request{Method: "GET", Path: "/"}, nil); err != nil {
			t.Fatal(err)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(times) != 3 {
		t.Fatalf("%d requests, want 3", len(times))
	}
	if d := times[1].Sub(times[0]); d < 900*time.Millisecond {
		t.Errorf("retried %v after a 429 with Retry-After 1", d)
	}
	if d := times[2].Sub(times[1]); d < 900*time.Millisecond {
		t.Errorf("sent %v after an answer with no request left for 1 s", d)
	}
	// A context that ends while waiting ends the wait.
	c.pause(time.Minute)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.Do(ctx, Request{Method: "GET", Path: "/"}, nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Do while paused with a short context = %v", err)
	}
}

func TestNewClientRefusesBadBaseURL(t *testing.T) {
	for _, u := range []string{"", "shop.zendesk.com", "ftp://shop.example", "https://"} {
		if _, err := NewClient(ClientOptions{BaseURL: u}); err == nil {
			t.Errorf("NewClient(%q) accepted it", u)
		}
	}
}

func TestVendorTextIsBounded(t *testing.T) {
	long := strings.Repeat("é", maxErrorText)
	got := vendorText([]byte(long))
	if len(got) > maxErrorText+3 || !strings.HasSuffix(got, "...") || !strings.HasPrefix(got, "é") {
		t.Errorf("vendorText of %d bytes = %d bytes %q...", len(long), len(got), got[:10])
	}
	if got := vendorText([]byte("a\xffb")); got != "a?b" {
		t.Errorf("vendorText of invalid UTF-8 = %q", got)
	}
}
