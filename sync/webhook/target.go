// Package webhook is the sync target for anything that is not one of the
// helpdesks the box knows: an automation platform, the shop's own server.
// Each change of a ticket is one signed JSON event POSTed to the
// configured URL; README.md is the contract a receiver implements.
//
// A webhook is one way and cannot be searched: the box never learns what
// the receiver holds. Duplicates are prevented by the receiver instead,
// which drops an event whose Idempotency-Key it has seen (the same event
// always has the same key), so the engine may send an event again
// whenever it does not know whether the first attempt arrived.
package webhook

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// Target sends a ticket's events to one webhook. It is safe for
// concurrent use.
type Target struct {
	secret string
	client *sync.Client
	// path and query are the base URL's own, kept as written: a
	// trailing slash and a query (a platform's key) are part of some
	// webhook addresses.
	path  string
	query url.Values
	tags  []string
	// maxData bounds the attachment bytes inlined in one event.
	maxData int64
	now     func() time.Time
}

var _ sync.Target = (*Target)(nil)

// New returns the target configured by c; timeout bounds one request
// (the upload of an event with attachments included). The token is the
// secret shared with the receiver that signs each request.
func New(c config.SyncTarget, timeout time.Duration) (*Target, error) {
	if c.Token == "" {
		return nil, fmt.Errorf("webhook target %q: token is empty: set it in [[sync.targets]] or give it as the systemd credential sync-%s", c.Name, c.Name)
	}
	if c.TwoWay {
		return nil, fmt.Errorf("webhook target %q: two_way: a webhook only receives; it cannot send changes back (remove two_way)", c.Name)
	}
	if c.BaseURL == "" {
		return nil, fmt.Errorf("webhook target %q: base_url is empty: set it to the receiver's address", c.Name)
	}
	u, err := url.Parse(c.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("webhook target %q: base_url: %w", c.Name, err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("webhook target %q: base_url: must not hold a user or password; the token signs each request", c.Name)
	}
	t := &Target{
		secret:  c.Token,
		query:   u.Query(),
		tags:    c.Tags,
		maxData: DefaultMaxData,
		now:     time.Now,
	}
	// The client trims a trailing slash from the base URL; the request
	// path puts it back.
	if strings.HasSuffix(u.Path, "/") {
		t.path = "/"
	}
	base := *u
	base.RawQuery, base.Fragment = "", ""
	t.client, err = sync.NewClient(sync.ClientOptions{
		BaseURL: base.String(),
		Auth:    t.sign,
		Secrets: []string{c.Token},
		Timeout: timeout,
	})
	if err != nil {
		return nil, fmt.Errorf("webhook target %q: %w", c.Name, err)
	}
	return t, nil
}

// bodyKey carries the body of a request in its context to sign.
type bodyKey struct{}

// sign sets the timestamp and signature headers of req. The client calls
// it before each attempt, so that a request sent again after a 429 wait
// carries a fresh timestamp.
func (t *Target) sign(req *http.Request) {
	body, ok := req.Context().Value(bodyKey{}).([]byte)
	if !ok && req.GetBody != nil {
		if rc, err := req.GetBody(); err == nil {
			body, _ = io.ReadAll(rc)
			rc.Close()
		}
	}
	ts := strconv.FormatInt(t.now().Unix(), 10)
	req.Header.Set(HeaderTimestamp, ts)
	req.Header.Set(HeaderSignature, Sign(t.secret, ts, body))
}

// send POSTs e. Any 2xx answer is success, and so is 409 Conflict: the
// receiver already has the event's key.
func (t *Target) send(ctx context.Context, e *Event) error {
	body, err := json.Marshal(e)
	if err != nil {
		return ticket.Permanent(fmt.Errorf("webhook: encode %s %s: %w", e.Type, e.ID, err))
	}
	_, err = t.client.Do(context.WithValue(ctx, bodyKey{}, body), sync.Request{
		Method:      http.MethodPost,
		Path:        t.path,
		Query:       t.query,
		Body:        body,
		ContentType: "application/json",
		Header:      http.Header{HeaderIdempotencyKey: {e.ID}},
	}, nil)
	var h *sync.HTTPError
	if errors.As(err, &h) && h.Status == http.StatusConflict {
		return nil
	}
	if err != nil {
		return fmt.Errorf("webhook: send %s %s: %w", e.Type, e.ID, err)
	}
	return nil
}

// event returns the event of type typ for t, with m's message and
// attachments when m is not nil.
func (t *Target) event(typ string, tk *sync.Ticket, m *sync.Message) (*Event, error) {
	if tk.UUID == "" || strings.Contains(tk.UUID, ":") {
		return nil, ticket.Permanent(fmt.Errorf("webhook: ticket %s has no usable uuid %q", tk.Ref(), tk.UUID))
	}
	e := &Event{Type: typ, Ticket: ticketOf(tk, t.tags)}
	switch typ {
	case TypeTicketCreated:
		e.ID, e.OccurredAt = createdKey(tk.UUID), tk.CreatedAt
	case TypeMessageAdded:
		e.ID, e.OccurredAt = messageKey(tk.UUID, m.ID), m.At
	case TypeTicketUpdated:
		e.ID, e.OccurredAt = updatedKey(&e.Ticket), tk.UpdatedAt
	}
	if e.OccurredAt.IsZero() {
		e.OccurredAt = t.now()
	}
	if m != nil {
		e.Message = messageOf(m)
		atts, omitted, err := attachments(m.Files, t.maxData)
		if err != nil {
			return nil, fmt.Errorf("webhook: %s message %d: %w", tk.Ref(), m.ID, err)
		}
		e.Message.Attachments, e.Message.DataOmitted = atts, omitted
	}
	return e, nil
}

// Probe sends a HEAD request to the webhook's address. Any HTTP answer,
// even 401, 404 or 405, means the receiver is reachable; only a request
// that gets no answer fails, with *sync.OfflineError.
func (t *Target) Probe(ctx context.Context) error {
	_, err := t.client.Do(ctx, sync.Request{Method: http.MethodHead, Path: t.path, Query: t.query}, nil)
	var h *sync.HTTPError
	var r *sync.RateLimitError
	if err == nil || errors.As(err, &h) || errors.As(err, &r) {
		return nil
	}
	return fmt.Errorf("webhook: probe: %w", err)
}

// Find returns "" and no error: a webhook cannot be searched. Create sent
// again gives the same idempotency key, by which the receiver drops the
// repeat.
func (t *Target) Find(ctx context.Context, tk *sync.Ticket) (string, error) {
	return "", nil
}

// Create sends ticket.created with the first message and its attachments
// and returns the ticket's UUID as the remote id.
func (t *Target) Create(ctx context.Context, tk *sync.Ticket, first *sync.Message) (string, error) {
	e, err := t.event(TypeTicketCreated, tk, first)
	if err != nil {
		return "", err
	}
	if err := t.send(ctx, e); err != nil {
		return "", err
	}
	return tk.UUID, nil
}

// Post sends message.added with m and its attachments and returns the
// event's id, "<uuid>:message:<message id>". An internal note is sent
// with direction "note" and public false.
func (t *Target) Post(ctx context.Context, id string, tk *sync.Ticket, m *sync.Message) (string, error) {
	if m == nil {
		return "", ticket.Permanent(fmt.Errorf("webhook: post to %s: no message", tk.Ref()))
	}
	e, err := t.event(TypeMessageAdded, tk, m)
	if err != nil {
		return "", err
	}
	if err := t.send(ctx, e); err != nil {
		return "", err
	}
	return e.ID, nil
}

// Messages returns nothing: a webhook cannot be read back. The engine
// then posts a message again when unsure, and the receiver drops the
// repeat by its Idempotency-Key.
func (t *Target) Messages(ctx context.Context, id string) ([]sync.RemoteMessage, error) {
	return nil, nil
}

// Update sends ticket.updated with the ticket's status, priority,
// assignee and tags as they are now.
func (t *Target) Update(ctx context.Context, id string, tk *sync.Ticket) error {
	e, err := t.event(TypeTicketUpdated, tk, nil)
	if err != nil {
		return err
	}
	return t.send(ctx, e)
}

// Changes returns no change and the cursor it was given: a webhook is one
// way.
func (t *Target) Changes(ctx context.Context, cursor string) ([]sync.RemoteChange, string, error) {
	return nil, cursor, nil
}

// Link returns "": a webhook has no page for staff to open.
func (t *Target) Link(id string) string { return "" }
