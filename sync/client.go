package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

// Client makes the HTTP requests of one target. It sets the target's
// authentication, waits out the vendor's rate limit for every request of
// the target together, and sorts failures into the errors the engine acts
// on:
//
//   - *OfflineError: no answer at all (DNS, refused or reset connection,
//     timeout). The engine stops, probes, and drains when it is back.
//   - *RateLimitError: 429 still after waiting out Retry-After a few times.
//   - *HTTPError for 401 and 403 (AuthError reports true): the credentials
//     were refused; the engine stops the target until they work.
//   - *HTTPError for 408, 409, 423, 425 and 5xx: worth another attempt
//     after a backoff.
//   - ticket.Permanent(*HTTPError) for any other 4xx: the vendor refused
//     the request itself, so the outbox row is parked with the vendor's
//     text for staff.
//
// Secrets never appear in an error: the vendor's text is scrubbed of the
// client's secrets.
type Client struct {
	base    *url.URL
	http    *http.Client
	auth    func(*http.Request)
	secrets []string

	mu        stdsync.Mutex
	notBefore time.Time // no request before this: the vendor asked to wait
	now       func() time.Time
}

// ClientOptions configure a Client.
type ClientOptions struct {
	// BaseURL is the target's address, such as
	// "https://wingsandthings.zendesk.com". Request paths are joined to it.
	BaseURL string
	// Auth sets the authentication of each request.
	Auth func(*http.Request)
	// Secrets are scrubbed from every error text.
	Secrets []string
	// Timeout bounds one request, answer included; default 30 s.
	Timeout time.Duration
	// Transport replaces the default transport (tests).
	Transport http.RoundTripper
}

// NewClient returns a client for the target at o.BaseURL.
func NewClient(o ClientOptions) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(o.BaseURL, "/"))
	if err != nil {
		return nil, fmt.Errorf("base_url: %w", err)
	}
	if (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("base_url: %q is not an http or https address", o.BaseURL)
	}
	if o.Timeout <= 0 {
		o.Timeout = 30 * time.Second
	}
	tr := o.Transport
	if tr == nil {
		tr = &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			TLSHandshakeTimeout: 10 * time.Second,
			MaxIdleConnsPerHost: 8,
			IdleConnTimeout:     90 * time.Second,
		}
	}
	auth := o.Auth
	if auth == nil {
		auth = func(*http.Request) {}
	}
	var secrets []string
	for _, s := range o.Secrets {
		if s != "" {
			secrets = append(secrets, s)
		}
	}
	return &Client{
		base: u, http: &http.Client{Transport: tr, Timeout: o.Timeout},
		auth: auth, secrets: secrets, now: time.Now,
	}, nil
}

// Request is one HTTP request of a target.
type Request struct {
	Method string
	// Path is joined to the base URL, such as "/api/v2/tickets.json".
	Path  string
	Query url.Values
	// JSON, when not nil, is encoded as the body with Content-Type
	// application/json. Otherwise Body and ContentType are sent as they
	// are (a multipart form, a binary upload).
	JSON        any
	Body        []byte
	ContentType string
	Header      http.Header
}

// Response is a successful answer: its status, headers and body.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// maxResponseBytes bounds an answer read into memory.
const maxResponseBytes = 8 << 20

// maxRateWaits is how many times in a row one request waits out a 429
// before it gives up with a RateLimitError.
const maxRateWaits = 5

// maxRetryAfter caps what a vendor can ask the box to wait.
const maxRetryAfter = 10 * time.Minute

// Do sends r and, on a 2xx answer, decodes its JSON body into out (when
// out is not nil).
func (c *Client) Do(ctx context.Context, r Request, out any) (*Response, error) {
	body, ctype := r.Body, r.ContentType
	if r.JSON != nil {
		var err error
		if body, err = json.Marshal(r.JSON); err != nil {
			return nil, fmt.Errorf("%s %s: encode: %w", r.Method, r.Path, err)
		}
		ctype = "application/json"
	}
	op := r.Method + " " + r.Path
	if r.Path == "" {
		op += "/"
	}
	u := *c.base
	u.Path = c.base.Path + r.Path
	u.RawQuery = r.Query.Encode()
	for waits := 0; ; waits++ {
		if err := c.wait(ctx); err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, r.Method, u.String(), bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", r.Method, r.Path, err)
		}
		for k, v := range r.Header {
			req.Header[k] = v
		}
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		req.Header.Set("Accept", "application/json")
		req.Header.Set("User-Agent", "counterdesk")
		c.auth(req)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &OfflineError{Op: op, Err: errors.New(c.scrub(err.Error()))}
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
		resp.Body.Close()
		if err != nil {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, &OfflineError{Op: op, Err: errors.New(c.scrub(err.Error()))}
		}
		c.noteLimit(resp)
		if resp.StatusCode == http.StatusTooManyRequests {
			wait := retryAfter(resp.Header, c.now())
			if wait <= 0 {
				wait = 10 * time.Second
			}
			c.pause(wait)
			if waits+1 < maxRateWaits {
				continue
			}
			return nil, &RateLimitError{Op: op, Wait: wait}
		}
		if resp.StatusCode < 200 || resp.StatusCode > 299 {
			return nil, c.httpError(op, resp, data)
		}
		if out != nil && len(bytes.TrimSpace(data)) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return nil, ticket.Permanent(fmt.Errorf("%s %s: answer %d is not the JSON expected: %w", r.Method, r.Path, resp.StatusCode, err))
			}
		}
		return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
	}
}

// wait blocks until the vendor's rate limit allows the next request.
func (c *Client) wait(ctx context.Context) error {
	c.mu.Lock()
	d := c.notBefore.Sub(c.now())
	c.mu.Unlock()
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// pause holds every request of the target for d.
func (c *Client) pause(d time.Duration) {
	d = min(d, maxRetryAfter)
	c.mu.Lock()
	defer c.mu.Unlock()
	if until := c.now().Add(d); until.After(c.notBefore) {
		c.notBefore = until
	}
}

// noteLimit reads the vendors' rate-limit headers: when an answer says no
// request is left in the window and when the window resets, the next
// request waits for it instead of drawing a 429.
func (c *Client) noteLimit(resp *http.Response) {
	h := resp.Header
	remaining := -1
	for _, k := range []string{"Ratelimit-Remaining", "X-Rate-Limit-Remaining", "X-Ratelimit-Remaining", "X-Hubspot-Ratelimit-Remaining"} {
		if v := h.Get(k); v != "" {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				remaining = n
				break
			}
		}
	}
	if remaining != 0 {
		return
	}
	if v := h.Get("Ratelimit-Reset"); v != "" {
		if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s > 0 {
			c.pause(time.Duration(s) * time.Second)
		}
	}
}

// retryAfter returns the wait a Retry-After header asks for, in seconds
// or as an HTTP date, or 0.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return min(time.Duration(s*float64(time.Second)), maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return min(max(t.Sub(now), 0), maxRetryAfter)
	}
	return 0
}

// maxErrorText bounds the vendor's text kept in an error.
const maxErrorText = 512

func (c *Client) httpError(op string, resp *http.Response, body []byte) error {
	e := &HTTPError{Op: op, Status: resp.StatusCode, Text: c.scrub(vendorText(body))}
	if s := resp.StatusCode; s >= 500 || s == 408 || s == 409 || s == 423 || s == 425 || e.AuthError() {
		if resp.StatusCode == http.StatusServiceUnavailable {
			if wait := retryAfter(resp.Header, c.now()); wait > 0 {
				c.pause(wait)
			}
		}
		return e
	}
	return ticket.Permanent(e)
}

// vendorText returns the readable part of an error answer: the body with
// runs of white space folded, cut to maxErrorText bytes.
func vendorText(body []byte) string {
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(body, []byte("?")))), " ")
	if len(s) > maxErrorText {
		s = s[:maxErrorText]
		for len(s) > 0 && !isRuneStart(s[len(s)-1]) {
			s = s[:len(s)-1]
		}
		s += "..."
	}
	return s
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }

// scrub replaces the client's secrets in s.
func (c *Client) scrub(s string) string {
	for _, secret := range c.secrets {
		s = strings.ReplaceAll(s, secret, "[secret]")
	}
	return s
}

// OfflineError is a request that got no answer: the target or the
// internet is unreachable.
type OfflineError struct {
	Op  string
	Err error
}

func (e *OfflineError) Error() string { return e.Op + ": no answer: " + e.Err.Error() }

// Unwrap returns the network error.
func (e *OfflineError) Unwrap() error { return e.Err }

// RateLimitError is a request the vendor kept refusing with 429.
type RateLimitError struct {
	Op   string
	Wait time.Duration
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: rate limited (429); asked to wait %s", e.Op, e.Wait)
}

// HTTPError is an answer outside 2xx, with the vendor's text.
type HTTPError struct {
	Op     string
	Status int
	Text   string
}

func (e *HTTPError) Error() string {
	s := fmt.Sprintf("%s: %d %s", e.Op, e.Status, http.StatusText(e.Status))
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// AuthError reports whether the vendor refused the credentials.
func (e *HTTPError) AuthError() bool {
	return e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var h *HTTPError
	return errors.As(err, &h) && h.Status == http.StatusNotFound
}
