// Package webhookfake is a receiver of the webhook target's events for
// tests and benchmarks. It checks each request as README.md of the
// webhook package says a receiver must (path and method, Content-Type,
// the signature and its timestamp window, the Idempotency-Key, the event
// itself), drops an event whose key it has seen, and records the rest in
// the order they arrived, so that a test can prove that each event
// arrived exactly once and in order.
package webhookfake

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/sync/synctest"
	"github.com/counterdesk/counterdesk/sync/webhook"
)

// DefaultPath is the path the receiver answers at unless Path is set.
const DefaultPath = "/hooks/counterdesk"

// maxBody bounds a request body: 10 MiB of attachments in base64 and the
// rest of the event fit well within it.
const maxBody = 32 << 20

// Receiver is the fake webhook receiver, an http.Handler. Set its
// exported fields before it serves its first request.
type Receiver struct {
	// Faults makes the receiver misbehave: down, 500, 429, lost answers.
	Faults synctest.Faults
	// Path is where events are POSTed; DefaultPath unless set.
	Path string
	// RepeatStatus is the answer to an event whose key was seen before:
	// 200 OK unless set (409 Conflict is the other answer receivers give).
	RepeatStatus int
	// Now is the receiver's clock for the timestamp window; time.Now
	// unless set.
	Now func() time.Time

	secret  string
	handler http.Handler

	mu       stdsync.Mutex
	events   []webhook.Event
	byKey    map[string]int   // event id -> index in events
	byTicket map[string][]int // ticket uuid -> indexes in events, in order
	repeats  map[string]int   // event id -> times it came again
	repeated int
	refused  map[int]int // status -> requests refused with it
	problems []string
	// lastMessage is the id of each ticket's latest message received.
	lastMessage map[string]uint64
	// refuse answers the next refuseN events with refuseStatus and
	// refuseText, as a receiver that rejects them for its own reasons.
	refuseN      int
	refuseStatus int
	refuseText   string
}

// New returns a receiver that checks signatures against secret.
func New(secret string) *Receiver {
	r := &Receiver{
		secret:      secret,
		byKey:       make(map[string]int),
		byTicket:    make(map[string][]int),
		repeats:     make(map[string]int),
		refused:     make(map[int]int),
		lastMessage: make(map[string]uint64),
	}
	r.handler = r.Faults.Wrap(http.HandlerFunc(r.serve))
	return r
}

// ServeHTTP serves one request behind r.Faults.
func (r *Receiver) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.handler.ServeHTTP(w, req)
}

// Refuse answers the next n events that pass every check with status and
// text (such as 422 and the receiver's own reason) without recording
// them.
func (r *Receiver) Refuse(n, status int, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.refuseN, r.refuseStatus, r.refuseText = n, status, text
}

// fail answers a refused request and counts it.
func (r *Receiver) fail(w http.ResponseWriter, status int, format string, args ...any) {
	r.mu.Lock()
	r.refused[status]++
	r.mu.Unlock()
	answer(w, status, map[string]string{"error": http.StatusText(status), "message": fmt.Sprintf(format, args...)})
}

func answer(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	path := r.Path
	if path == "" {
		path = DefaultPath
	}
	if req.URL.Path != path {
		r.fail(w, http.StatusNotFound, "no webhook at %s", req.URL.Path)
		return
	}
	switch req.Method {
	case http.MethodPost:
	case http.MethodHead:
		w.WriteHeader(http.StatusOK)
		return
	default:
		w.Header().Set("Allow", "POST, HEAD")
		r.fail(w, http.StatusMethodNotAllowed, "%s is not allowed; POST an event", req.Method)
		return
	}
	if mt, _, err := mime.ParseMediaType(req.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		r.fail(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json, not %q", req.Header.Get("Content-Type"))
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxBody))
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			r.fail(w, http.StatusRequestEntityTooLarge, "body is larger than %d bytes", maxBody)
			return
		}
		r.fail(w, http.StatusBadRequest, "read body: %v", err)
		return
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	if err := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderSignature), req.Header.Get(webhook.HeaderTimestamp), body, now()); err != nil {
		r.fail(w, http.StatusUnauthorized, "%v", err)
		return
	}
	key := strings.TrimSpace(req.Header.Get(webhook.HeaderIdempotencyKey))
	if len(key) >= 2 && key[0] == '"' && key[len(key)-1] == '"' {
		key = key[1 : len(key)-1] // the draft's structured-field string
	}
	if key == "" {
		r.fail(w, http.StatusBadRequest, "%s is required", webhook.HeaderIdempotencyKey)
		return
	}
	if !json.Valid(body) {
		r.fail(w, http.StatusBadRequest, "body is not JSON")
		return
	}
	e, err := webhook.ParseEvent(body)
	if err != nil {
		r.fail(w, http.StatusUnprocessableEntity, "%v", err)
		return
	}
	if e.ID != key {
		r.fail(w, http.StatusUnprocessableEntity, "%s %q is not the event's id %q", webhook.HeaderIdempotencyKey, key, e.ID)
		return
	}

	r.mu.Lock()
	if _, seen := r.byKey[key]; seen {
		r.repeats[key]++
		r.repeated++
		status := r.RepeatStatus
		r.mu.Unlock()
		if status == 0 {
			status = http.StatusOK
		}
		answer(w, status, map[string]any{"id": key, "duplicate": true})
		return
	}
	if r.refuseN > 0 {
		r.refuseN--
		status, text := r.refuseStatus, r.refuseText
		r.refused[status]++
		r.mu.Unlock()
		answer(w, status, map[string]string{"error": http.StatusText(status), "message": text})
		return
	}
	r.record(e)
	r.mu.Unlock()
	answer(w, http.StatusOK, map[string]any{"id": key, "duplicate": false})
}

// record keeps e and notes where it breaks a ticket's order: an event
// before the ticket's ticket.created, a second ticket.created, or a
// message whose id is not above the ticket's previous one. r.mu is held.
func (r *Receiver) record(e *webhook.Event) {
	uuid := e.Ticket.UUID
	prior := r.byTicket[uuid]
	switch {
	case e.Type == webhook.TypeTicketCreated && len(prior) > 0:
		r.problems = append(r.problems, fmt.Sprintf("%s: ticket.created after %d other events of the ticket", e.ID, len(prior)))
	case e.Type != webhook.TypeTicketCreated && len(prior) == 0:
		r.problems = append(r.problems, fmt.Sprintf("%s: %s before the ticket's ticket.created", e.ID, e.Type))
	}
	if e.Message != nil {
		if last, ok := r.lastMessage[uuid]; ok && e.Message.ID <= last {
			r.problems = append(r.problems, fmt.Sprintf("%s: message %d after message %d", e.ID, e.Message.ID, last))
		}
		r.lastMessage[uuid] = max(r.lastMessage[uuid], e.Message.ID)
	}
	r.byKey[e.ID] = len(r.events)
	r.byTicket[uuid] = append(prior, len(r.events))
	r.events = append(r.events, *e)
}

// Events returns every event recorded, in the order it arrived.
func (r *Receiver) Events() []webhook.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// EventsFor returns the events recorded for the ticket with uuid, in the
// order they arrived.
func (r *Receiver) EventsFor(uuid string) []webhook.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	idx := r.byTicket[uuid]
	out := make([]webhook.Event, len(idx))
	for i, n := range idx {
		out[i] = r.events[n]
	}
	return out
}

// Event returns the event recorded with idempotency key id.
func (r *Receiver) Event(id string) (webhook.Event, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n, ok := r.byKey[id]
	if !ok {
		return webhook.Event{}, false
	}
	return r.events[n], true
}

// Tickets returns the uuids of the tickets with events recorded, in the
// order of each ticket's first event.
func (r *Receiver) Tickets() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	seen := make(map[string]bool, len(r.byTicket))
	var out []string
	for _, e := range r.events {
		if !seen[e.Ticket.UUID] {
			seen[e.Ticket.UUID] = true
			out = append(out, e.Ticket.UUID)
		}
	}
	return out
}

// Len returns how many events were recorded.
func (r *Receiver) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// Repeats returns how many events arrived again after they were
// recorded, all keys together.
func (r *Receiver) Repeats() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.repeated
}

// RepeatsOf returns how many times the event with key id arrived again
// after it was recorded.
func (r *Receiver) RepeatsOf(id string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.repeats[id]
}

// Refused returns how many requests were refused with status (401, 415,
// 422 ...).
func (r *Receiver) Refused(status int) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.refused[status]
}

// Problems describes each event that arrived out of its ticket's order;
// nil when every ticket's events came in order.
func (r *Receiver) Problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.problems)
}
