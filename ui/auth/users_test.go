package auth

import (
	"errors"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var testHash = HashParams{Memory: 64, Time: 1, Threads: 1}

func newUsers(t *testing.T, now func() time.Time) *Users {
	us, err := NewUsers(openDB(t), UsersOptions{Hash: testHash, Now: now, MaxSessionsPerUser: 3, SessionTTL: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	return us
}

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("correct horse", DefaultHashParams)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=7168,t=5,p=1$") {
		t.Errorf("hash %q is not a PHC argon2id string with the default costs", h)
	}
	if ok, err := verifyPassword("correct horse", h); !ok || err != nil {
		t.Errorf("verify right password = %v, %v", ok, err)
	}
	if ok, _ := verifyPassword("correct horsE", h); ok {
		t.Error("a wrong password verified")
	}
	h2, _ := hashPassword("correct horse", DefaultHashParams)
	if h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, bad := range []string{"", "$argon2i$v=19$m=64,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=18$m=64,t=1,p=1$c2FsdA$aGFzaA",
		"$argon2id$v=19$m=0,t=1,p=1$c2FsdA$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$!!$aGFzaA", "$argon2id$v=19$m=64,t=1,p=1$c2FsdA$"} {
		if _, err := verifyPassword("x", bad); err == nil {
			t.Errorf("verify against %q: no error", bad)
		}
	}
}

func TestUsers(t *testing.T) {
	us := newUsers(t, nil)
	if any, _ := us.Any(); any {
		t.Fatal("a new store has users")
	}
	if _, err := us.CreateFirst("ann", "password1"); err != nil {
		t.Fatal(err)
	}
	if _, err := us.CreateFirst("eve", "password1"); !errors.Is(err, ErrSetupDone) {
		t.Errorf("second CreateFirst = %v", err)
	}
	if u, _ := us.Get("ann"); u.Role != RoleAdmin {
		t.Errorf("first user role %q", u.Role)
	}
	for _, tc := range []struct {
		name, pw string
		role     Role
		want     error
	}{
		{"ann", "password1", RoleAgent, ErrExists},
		{"", "password1", RoleAgent, ErrBadName},
		{"a b", "password1", RoleAgent, ErrBadName},
		{"bob", "short", RoleAgent, ErrWeakPassword},
		{"bob", strings.Repeat("x", MaxPasswordLen+1), RoleAgent, ErrWeakPassword},
		{"bob", "password1", "owner", ErrBadRole},
	} {
		if _, err := us.Create(tc.name, tc.role, tc.pw); !errors.Is(err, tc.want) {
			t.Errorf("Create(%q) = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := us.Create("bob", RoleAgent, "hunter2hunter2"); err != nil {
		t.Fatal(err)
	}
	if u, err := us.Authenticate("bob", "hunter2hunter2"); err != nil || u.Name != "bob" || u.Role != RoleAgent {
		t.Errorf("Authenticate = %+v, %v", u, err)
	}
	for _, bad := range [][2]string{{"bob", "hunter2"}, {"nobody", "hunter2hunter2"}, {"bob", ""}, {"bob", strings.Repeat("x", 300)}} {
		if _, err := us.Authenticate(bad[0], bad[1]); !errors.Is(err, ErrBadLogin) {
			t.Errorf("Authenticate(%q, %q) = %v", bad[0], bad[1], err)
		}
	}
	list, _ := us.List()
	if len(list) != 2 || list[0].Name != "ann" || list[1].Name != "bob" {
		t.Errorf("List = %+v", list)
	}
	// The password is not stored, only its hash.
	us.db.View(func(tx *bolt.Tx) error {
		return walk(tx.Bucket(bStaff), func(k, v []byte) {
			if strings.Contains(string(v), "hunter2hunter2") {
				t.Error("a password is stored in the clear")
			}
		})
	})
	if err := us.SetPassword("nobody", "password9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetPassword(nobody) = %v", err)
	}
}

func TestSessions(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var mu stdsync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	us := newUsers(t, clock)
	us.Create("ann", RoleAdmin, "password1")
	us.Create("bob", RoleAgent, "password2")

	id, s, err := us.NewSession("ann")
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 43 || len(s.CSRF) != 43 || id == s.CSRF {
		t.Fatalf("session id %q csrf %q", id, s.CSRF)
	}
	got, u, err := us.Session(id)
	if err != nil || u.Name != "ann" || got.CSRF != s.CSRF {
		t.Fatalf("Session = %+v %+v %v", got, u, err)
	}
	if !got.CheckCSRF(s.CSRF) || got.CheckCSRF("") || got.CheckCSRF(s.CSRF+"x") {
		t.Error("CheckCSRF")
	}
	// The id is stored only hashed.
	us.db.View(func(tx *bolt.Tx) error {
		return walk(tx.Bucket(bStaff), func(k, v []byte) {
			if strings.Contains(string(k), id) || strings.Contains(string(v), id) {
				t.Error("a session id is stored in the clear")
			}
		})
	})
	for _, bad := range []string{"", "x", strings.Repeat("A", 43), id + "A"} {
		if _, _, err := us.Session(bad); !errors.Is(err, ErrNoSession) {
			t.Errorf("Session(%q) = %v", bad, err)
		}
	}
	if _, _, err := us.NewSession("nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("NewSession(nobody) = %v", err)
	}

	// Expiry.
	advance(time.Hour)
	if _, _, err := us.Session(id); !errors.Is(err, ErrNoSession) {
		t.Errorf("expired session: %v", err)
	}

	// At most three sessions: the oldest goes.
	var ids []string
	for range 4 {
		id, _, err := us.NewSession("ann")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		advance(time.Second)
	}
	if _, _, err := us.Session(ids[0]); !errors.Is(err, ErrNoSession) {
		t.Errorf("oldest of four sessions still live: %v", err)
	}
	for _, id := range ids[1:] {
		if _, _, err := us.Session(id); err != nil {
			t.Errorf("newer session: %v", err)
		}
	}
	bobID, _, _ := us.NewSession("bob")

	// Log out one, then everywhere.
	if err := us.EndSession(ids[1]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := us.Session(ids[1]); !errors.Is(err, ErrNoSession) {
		t.Error("ended session still live")
	}
	if n, err := us.EndSessions("ann"); err != nil || n != 2 {
		t.Errorf("EndSessions = %d, %v", n, err)
	}
	for _, id := range ids {
		if _, _, err := us.Session(id); !errors.Is(err, ErrNoSession) {
			t.Error("a session survived logging out everywhere")
		}
	}
	if _, _, err := us.Session(bobID); err != nil {
		t.Errorf("another user's session ended: %v", err)
	}
	// A new password ends the user's sessions.
	advance(time.Second)
	if err := us.SetPassword("bob", "new password"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := us.Session(bobID); !errors.Is(err, ErrNoSession) {
		t.Error("a session survived a password reset")
	}
	if _, err := us.Authenticate("bob", "password2"); !errors.Is(err, ErrBadLogin) {
		t.Error("the old password still works")
	}
	if _, err := us.Authenticate("bob", "new password"); err != nil {
		t.Error(err)
	}
}

func TestLimiter(t *testing.T) {
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	l := NewLimiter(3, 10*time.Minute, 4, func() time.Time { return now })
	for i := range 2 {
		if l.Add("ann") {
			t.Fatalf("locked after %d failures", i+1)
		}
	}
	if !l.Add("ann") {
		t.Fatal("not locked after 3 failures")
	}
	if locked, wait := l.Locked("ann"); !locked || wait != 10*time.Minute {
		t.Errorf("Locked = %v, %v", locked, wait)
	}
	if locked, _ := l.Locked("bob"); locked {
		t.Error("another key is locked")
	}
	now = now.Add(10 * time.Minute)
	if locked, _ := l.Locked("ann"); locked {
		t.Error("still locked after the lockout")
	}
	if l.Add("ann") {
		t.Error("one failure after the lockout locks again")
	}
	l.Reset("ann")
	if l.Len() != 0 {
		t.Errorf("Len after Reset = %d", l.Len())
	}
	// Bounded: a flood of keys never holds more than four.
	l.Add("x")
	l.Add("x")
	l.Add("x")
	for i := range 100 {
		l.Add(strings.Repeat("k", i+1))
		if l.Len() > 4 {
			t.Fatalf("%d keys remembered", l.Len())
		}
	}
}
