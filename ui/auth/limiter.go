package auth

import (
	stdsync "sync"
	"time"
)

// Limiter counts events per key (failed logins of a user name or from an
// address, forms sent from an address) and locks a key out for Window
// once it reaches Max events within Window. It remembers at most MaxKeys
// keys; when full it forgets the entry that expires first, so a flood of
// new keys costs memory once and never grows it. It is safe for
// concurrent use.
type Limiter struct {
	max     int
	window  time.Duration
	maxKeys int
	now     func() time.Time

	mu      stdsync.Mutex
	entries map[string]*limitEntry
}

type limitEntry struct {
	count  int
	start  time.Time // of the window
	locked time.Time // until then, the key is refused
}

// DefaultLimiterKeys is the number of keys a Limiter remembers when
// NewLimiter is given none.
const DefaultLimiterKeys = 4096

// NewLimiter returns a limiter that locks a key out for window after max
// events within window, remembering at most maxKeys keys. now may be nil
// for time.Now.
func NewLimiter(max int, window time.Duration, maxKeys int, now func() time.Time) *Limiter {
	if max < 1 {
		max = 1
	}
	if maxKeys < 1 {
		maxKeys = DefaultLimiterKeys
	}
	if now == nil {
		now = time.Now
	}
	return &Limiter{max: max, window: window, maxKeys: maxKeys, now: now, entries: make(map[string]*limitEntry)}
}

// Locked reports whether key is locked out, and if so for how long
// still.
func (l *Limiter) Locked(key string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.entries[key]
	if e == nil {
		return false, 0
	}
	now := l.now()
	if now.Before(e.locked) {
		return true, e.locked.Sub(now)
	}
	return false, 0
}

// Add counts one event for key and reports whether key is now locked out.
func (l *Limiter) Add(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e := l.entries[key]
	if e == nil || (!now.Before(e.start.Add(l.window)) && !now.Before(e.locked)) {
		if e == nil && len(l.entries) >= l.maxKeys {
			l.evict(now)
		}
		e = &limitEntry{start: now}
		l.entries[key] = e
	}
	e.count++
	if e.count >= l.max && !now.Before(e.locked) {
		e.locked = now.Add(l.window)
	}
	return now.Before(e.locked)
}

// Reset forgets key, after a successful login.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.entries, key)
}

// Len returns the number of keys remembered.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.entries)
}

// evict drops every expired entry, or, when none is expired, the one
// whose window or lockout ends first.
func (l *Limiter) evict(now time.Time) {
	var (
		oldest    string
		oldestEnd time.Time
	)
	for k, e := range l.entries {
		end := e.start.Add(l.window)
		if e.locked.After(end) {
			end = e.locked
		}
		if !now.Before(end) {
			delete(l.entries, k)
			continue
		}
		if oldest == "" || end.Before(oldestEnd) {
			oldest, oldestEnd = k, end
		}
	}
	if len(l.entries) >= l.maxKeys && oldest != "" {
		delete(l.entries, oldest)
	}
}
