// Package synctest holds what the fake helpdesks of the sync targets'
// tests share: a handler wrapper that misbehaves as the internet and the
// vendors do (down, 500, 429 with Retry-After, slow answers, connections
// reset, a request carried out whose answer is lost) and a rate limit that
// counts requests per window as the vendors do.
package synctest

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Faults wraps a fake helpdesk's handler. The zero value passes every
// request through; its methods may be called while requests are served.
type Faults struct {
	mu sync.Mutex
	// down: every connection is closed without an answer.
	down bool
	// fail5xx: the next n requests get 500.
	fail5xx int
	// throttle: the next n requests get 429 with Retry-After retry.
	throttle int
	retry    time.Duration
	// lose: the next n requests are carried out, then the connection is
	// closed before the answer.
	lose int
	// delay: every answer waits this long first.
	delay time.Duration
	// limit: at most perWindow requests per window, beyond which 429.
	perWindow   int
	window      time.Duration
	windowStart time.Time
	inWindow    int

	requests, served, refused int
}

// SetDown makes the helpdesk unreachable (true) or reachable again.
func (f *Faults) SetDown(down bool) { f.mu.Lock(); f.down = down; f.mu.Unlock() }

// Fail5xx answers the next n requests with 500 Internal Server Error.
func (f *Faults) Fail5xx(n int) { f.mu.Lock(); f.fail5xx = n; f.mu.Unlock() }

// Throttle answers the next n requests with 429 and Retry-After d
// (rounded up to whole seconds).
func (f *Faults) Throttle(n int, d time.Duration) {
	f.mu.Lock()
	f.throttle, f.retry = n, d
	f.mu.Unlock()
}

// LoseAnswers carries out the next n requests and then drops the
// connection, as if the answer was lost on the way back.
func (f *Faults) LoseAnswers(n int) { f.mu.Lock(); f.lose = n; f.mu.Unlock() }

// SetDelay makes every answer wait d.
func (f *Faults) SetDelay(d time.Duration) { f.mu.Lock(); f.delay = d; f.mu.Unlock() }

// Limit allows at most n requests per window (fixed windows, as Zendesk's
// per-minute limit); beyond, 429 with Retry-After set to the seconds until
// the window ends. n 0 removes the limit.
func (f *Faults) Limit(n int, window time.Duration) {
	f.mu.Lock()
	f.perWindow, f.window, f.windowStart, f.inWindow = n, window, time.Time{}, 0
	f.mu.Unlock()
}

// Stats returns the requests seen, served by the wrapped handler, and
// refused with 429.
func (f *Faults) Stats() (requests, served, refused int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests, f.served, f.refused
}

// Wrap returns h behind the faults.
func (f *Faults) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests++
		down, delay := f.down, f.delay
		var status int
		var retry time.Duration
		lose := false
		switch {
		case down:
		case f.fail5xx > 0:
			f.fail5xx--
			status = http.StatusInternalServerError
		case f.throttle > 0:
			f.throttle--
			status, retry = http.StatusTooManyRequests, f.retry
		case f.perWindow > 0:
			now := time.Now()
			if now.Sub(f.windowStart) >= f.window {
				f.windowStart, f.inWindow = now, 0
			}
			if f.inWindow >= f.perWindow {
				status, retry = http.StatusTooManyRequests, f.windowStart.Add(f.window).Sub(now)
			} else {
				f.inWindow++
			}
		}
		if !down && status == 0 && f.lose > 0 {
			f.lose--
			lose = true
		}
		if status == http.StatusTooManyRequests {
			f.refused++
		}
		if !down && status == 0 {
			f.served++
		}
		f.mu.Unlock()

		if delay > 0 {
			select {
			case <-time.After(delay):
			case <-r.Context().Done():
				return
			}
		}
		switch {
		case down:
			hangUp(w)
		case status == http.StatusTooManyRequests:
			secs := int((retry + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(max(secs, 1)))
			http.Error(w, `{"error":"TooManyRequests","description":"rate limit exceeded"}`, status)
		case status != 0:
			http.Error(w, `{"error":"InternalError"}`, status)
		case lose:
			h.ServeHTTP(discard{header: http.Header{}}, r)
			hangUp(w)
		default:
			h.ServeHTTP(w, r)
		}
	})
}

// hangUp closes the connection without an answer.
func hangUp(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic("synctest: the server cannot hang up (HTTP/2?)")
	}
	conn, _, err := hj.Hijack()
	if err != nil {
		return
	}
	if tc, ok := conn.(*net.TCPConn); ok {
		tc.SetLinger(0) // a reset, not a clean close
	}
	conn.Close()
}

// discard is a ResponseWriter that throws the answer away.
type discard struct{ header http.Header }

func (d discard) Header() http.Header         { return d.header }
func (d discard) Write(p []byte) (int, error) { return len(p), nil }
func (d discard) WriteHeader(int)             {}
