// Package health is the one place where every subsystem (store, outbox,
// SIP line, modem, mailbox, sync targets) reports how it is doing, and where
// the UI, /healthz and the metrics read it.
package health

import (
	"maps"
	"slices"
	stdsync "sync"
	"time"
)

// States of a subsystem.
const (
	OK       = "ok"       // working
	Degraded = "degraded" // working, with a problem a person should look at
	Down     = "down"     // not working
	Disabled = "disabled" // not configured
)

// Status is the last report of one subsystem.
type Status struct {
	State       string    `json:"state"`
	Detail      string    `json:"detail,omitempty"` // a sentence for the staff
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	Updated     time.Time `json:"updated"`
}

// Registry holds the latest Status of each subsystem by name.
type Registry struct {
	mu      stdsync.Mutex
	subs    map[string]Status
	sources map[string]func() []Metric
	now     func() time.Time
}

// New returns an empty registry.
func New() *Registry {
	return &Registry{subs: make(map[string]Status), now: time.Now}
}

// Set records the state of a subsystem with a detail line. A state of OK
// also records the time of the last success.
func (r *Registry) Set(name, state, detail string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.subs[name]
	now := r.now()
	s.State, s.Detail, s.Updated = state, detail, now
	if state == OK {
		s.LastSuccess = now
	}
	r.subs[name] = s
}

// Fail records an error of a subsystem and marks it with state (Degraded or Down).
func (r *Registry) Fail(name, state string, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.subs[name]
	now := r.now()
	s.State, s.Updated = state, now
	s.LastError, s.LastErrorAt = err.Error(), now
	s.Detail = err.Error()
	r.subs[name] = s
}

// Snapshot returns a copy of every subsystem's status.
func (r *Registry) Snapshot() map[string]Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.subs)
}

// Healthy reports whether no subsystem is down.
func (r *Registry) Healthy() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return !slices.ContainsFunc(slices.Collect(maps.Values(r.subs)), func(s Status) bool { return s.State == Down })
}
