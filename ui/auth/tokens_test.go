package auth

import (
	"errors"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func openDB(t *testing.T) *bolt.DB {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "tokens.db"), 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.View(func(tx *bolt.Tx) error {
			for err := range tx.Check() {
				return err
			}
			return nil
		}); err != nil {
			t.Errorf("consistency check: %v", err)
		}
		db.Close()
	})
	return db
}

func newTokens(t *testing.T) *Tokens {
	ts, err := NewTokens(openDB(t))
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func TestParseRole(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Role
		ok   bool
	}{
		{"admin", RoleAdmin, true},
		{"agent", RoleAgent, true},
		{"Admin", "", false},
		{"", "", false},
		{"root", "", false},
	} {
		got, err := ParseRole(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("ParseRole(%q) = %q, %v", tc.in, got, err)
		}
		if err != nil && !errors.Is(err, ErrBadRole) {
			t.Errorf("ParseRole(%q): error %v is not ErrBadRole", tc.in, err)
		}
	}
}

func TestCreateCheck(t *testing.T) {
	ts := newTokens(t)
	secret, err := ts.Create("till-1", RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(secret, Prefix) || len(secret) != secretLen {
		t.Fatalf("secret %q: want %s and %d characters", secret, Prefix, secretLen)
	}
	tok, err := ts.Check(secret)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Name != "till-1" || tok.Role != RoleAgent || tok.CreatedAt.IsZero() {
		t.Errorf("Check = %+v", tok)
	}
	other, err := ts.Create("backoffice", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if other == secret {
		t.Fatal("two tokens share a secret")
	}
	if tok, err := ts.Check(other); err != nil || tok.Role != RoleAdmin {
		t.Errorf("Check(admin) = %+v, %v", tok, err)
	}

	for _, bad := range []string{
		"", "cdk_", secret[:len(secret)-1], secret + "A", "xyz" + secret[3:],
		Prefix + strings.Repeat("A", secretLen-len(Prefix)),
		strings.ToUpper(secret),
	} {
		if _, err := ts.Check(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("Check(%q) = %v, want ErrBadToken", bad, err)
		}
	}
}

func TestSecretNotStored(t *testing.T) {
	ts := newTokens(t)
	secret, err := ts.Create("till", RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	err = ts.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			return walk(b, func(k, v []byte) {
				random := secret[len(Prefix):]
				if strings.Contains(string(k), random) || strings.Contains(string(v), random) {
					t.Errorf("bucket %s holds the secret", name)
				}
			})
		})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func walk(b *bolt.Bucket, fn func(k, v []byte)) error {
	return b.ForEach(func(k, v []byte) error {
		if v == nil {
			if sub := b.Bucket(k); sub != nil {
				return walk(sub, fn)
			}
		}
		fn(k, v)
		return nil
	})
}

func TestCreateRejects(t *testing.T) {
	ts := newTokens(t)
	if _, err := ts.Create("till", RoleAgent); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		role Role
		want error
	}{
		{"till", RoleAdmin, ErrExists},
		{"", RoleAgent, ErrBadName},
		{strings.Repeat("a", 65), RoleAgent, ErrBadName},
		{"till 2", RoleAgent, ErrBadName},
		{"till/2", RoleAgent, ErrBadName},
		{"tïll", RoleAgent, ErrBadName},
		{"till2", "owner", ErrBadRole},
		{"till2", "", ErrBadRole},
	} {
		if _, err := ts.Create(tc.name, tc.role); !errors.Is(err, tc.want) {
			t.Errorf("Create(%q, %q) = %v, want %v", tc.name, tc.role, err, tc.want)
		}
	}
	if _, err := ts.Create(strings.Repeat("a", 64), RoleAgent); err != nil {
		t.Errorf("64-character name: %v", err)
	}
	if _, err := ts.Create("a.b_c-D9", RoleAgent); err != nil {
		t.Errorf("name with punctuation: %v", err)
	}
}

func TestListRevoke(t *testing.T) {
	ts := newTokens(t)
	secrets := map[string]string{}
	for _, name := range []string{"zeta", "alpha", "mid"} {
		s, err := ts.Create(name, RoleAgent)
		if err != nil {
			t.Fatal(err)
		}
		secrets[name] = s
	}
	list, err := ts.List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tok := range list {
		names = append(names, tok.Name)
	}
	if got := strings.Join(names, ","); got != "alpha,mid,zeta" {
		t.Errorf("List names = %s", got)
	}

	if err := ts.Revoke("mid"); err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Check(secrets["mid"]); !errors.Is(err, ErrBadToken) {
		t.Errorf("revoked token: Check = %v, want ErrBadToken", err)
	}
	if _, err := ts.Check(secrets["alpha"]); err != nil {
		t.Errorf("other token after revoke: %v", err)
	}
	if err := ts.Revoke("mid"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second revoke = %v, want ErrNotFound", err)
	}
	// The name is free again, and the old secret stays dead.
	s, err := ts.Create("mid", RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ts.Check(secrets["mid"]); !errors.Is(err, ErrBadToken) {
		t.Errorf("old secret after re-create: Check = %v", err)
	}
	if tok, err := ts.Check(s); err != nil || tok.Role != RoleAdmin {
		t.Errorf("new secret: %+v, %v", tok, err)
	}
}

func TestLastUsed(t *testing.T) {
	ts := newTokens(t)
	now := time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	var mu stdsync.Mutex
	ts.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	set := func(t time.Time) { mu.Lock(); now = t; mu.Unlock() }

	secret, err := ts.Create("till", RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	stored := func() time.Time {
		list, err := ts.List()
		if err != nil || len(list) != 1 {
			t.Fatalf("List = %v, %v", list, err)
		}
		return list[0].LastUsed
	}
	if !stored().IsZero() {
		t.Fatal("a new token has LastUsed set")
	}
	first := now
	if _, err := ts.Check(secret); err != nil {
		t.Fatal(err)
	}
	if got := stored(); !got.Equal(first) {
		t.Fatalf("LastUsed after first use = %v, want %v", got, first)
	}
	set(first.Add(30 * time.Second))
	tok, err := ts.Check(secret)
	if err != nil {
		t.Fatal(err)
	}
	if !tok.LastUsed.Equal(first) || !stored().Equal(first) {
		t.Errorf("LastUsed written again within %v: %v", TouchInterval, stored())
	}
	second := first.Add(TouchInterval + time.Second)
	set(second)
	if _, err := ts.Check(secret); err != nil {
		t.Fatal(err)
	}
	if got := stored(); !got.Equal(second) {
		t.Errorf("LastUsed after a minute = %v, want %v", got, second)
	}

	// Many requests at once write it once.
	third := second.Add(2 * TouchInterval)
	set(third)
	var wg stdsync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if _, err := ts.Check(secret); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := stored(); !got.Equal(third) {
		t.Errorf("LastUsed after concurrent checks = %v, want %v", got, third)
	}
}

func TestReopen(t *testing.T) {
	db := openDB(t)
	ts, err := NewTokens(db)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := ts.Create("till", RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	again, err := NewTokens(db)
	if err != nil {
		t.Fatal(err)
	}
	if tok, err := again.Check(secret); err != nil || tok.Name != "till" {
		t.Errorf("Check after NewTokens on the same database = %+v, %v", tok, err)
	}
}
