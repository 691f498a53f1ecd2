// Package auth keeps the API tokens of the JSON API: named secrets, each
// with a role, stored hashed in the appliance's bbolt database.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	stdsync "sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Prefix starts every token secret, so that a leaked secret is easy to
// recognise (and to search for in logs and repositories).
const Prefix = "cdk_"

// secretBytes is the number of random bytes in a secret.
const secretBytes = 32

// secretLen is the length of a secret: the prefix and the random bytes in
// unpadded base64url.
var secretLen = len(Prefix) + base64.RawURLEncoding.EncodedLen(secretBytes)

// TouchInterval is how often, at most, Check records that a token was
// used, so that reading a token does not write to the SD card on every
// request.
const TouchInterval = time.Minute

// Bucket names.
var (
	bTokens = []byte("api_tokens") // holds the two buckets below
	bNames  = []byte("names")      // name -> record
	bHashes = []byte("hashes")     // SHA-256 of the secret -> name
)

var nameRE = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// Token is an API token as it may be shown: everything but its secret,
// which is shown once, by Create, and never stored.
type Token struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// LastUsed is when the token was last seen, to within TouchInterval;
	// zero when it was never used.
	LastUsed time.Time `json:"last_used,omitzero"`
}

// record is a token as stored.
type record struct {
	Name string `json:"name"`
	Role Role   `json:"role"`
	// Hash is the SHA-256 of the secret. A plain hash is right here: the
	// secret holds 256 random bits, so there is nothing to guess and no
	// need for a slow password hash.
	Hash      []byte    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

func (r *record) token() Token {
	return Token{Name: r.Name, Role: r.Role, CreatedAt: r.CreatedAt, LastUsed: r.LastUsed}
}

// Tokens is the store of API tokens. It is safe for concurrent use.
type Tokens struct {
	db  *bolt.DB
	now func() time.Time

	mu      stdsync.Mutex
	touched map[string]time.Time // name -> when LastUsed was last written
}

// NewTokens returns the token store kept in db, creating its bucket.
func NewTokens(db *bolt.DB) (*Tokens, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(bTokens)
		if err != nil {
			return err
		}
		if _, err := top.CreateBucketIfNotExists(bNames); err != nil {
			return err
		}
		_, err = top.CreateBucketIfNotExists(bHashes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("api tokens: create bucket: %w", err)
	}
	return &Tokens{db: db, now: time.Now, touched: make(map[string]time.Time)}, nil
}

func buckets(tx *bolt.Tx) (names, hashes *bolt.Bucket) {
	top := tx.Bucket(bTokens)
	return top.Bucket(bNames), top.Bucket(bHashes)
}

// Create makes a token called name with role and returns its secret. The
// secret is not stored and cannot be shown again.
func (ts *Tokens) Create(name string, role Role) (string, error) {
	if !nameRE.MatchString(name) {
		return "", fmt.Errorf("%w: %q must be 1 to 64 letters, digits, '.', '_' or '-'", ErrBadName, name)
	}
	if !role.Valid() {
		return "", fmt.Errorf("%w: %q", ErrBadRole, role)
	}
	raw := make([]byte, secretBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw)
	sum := sha256.Sum256([]byte(secret))
	rec := record{Name: name, Role: role, Hash: sum[:], CreatedAt: ts.now().UTC()}
	data, err := json.Marshal(&rec)
	if err != nil {
		return "", err
	}
	err = ts.db.Update(func(tx *bolt.Tx) error {
		names, hashes := buckets(tx)
		if names.Get([]byte(name)) != nil {
			return ErrExists
		}
		if err := names.Put([]byte(name), data); err != nil {
			return err
		}
		return hashes.Put(sum[:], []byte(name))
	})
	if err != nil {
		return "", fmt.Errorf("create token %q: %w", name, err)
	}
	return secret, nil
}

// Check returns the token whose secret is secret, or ErrBadToken. It
// records when the token was used, at most once per TouchInterval; failing
// to record it does not fail the check.
func (ts *Tokens) Check(secret string) (Token, error) {
	if len(secret) != secretLen || !strings.HasPrefix(secret, Prefix) {
		return Token{}, ErrBadToken
	}
	sum := sha256.Sum256([]byte(secret))
	var rec record
	err := ts.db.View(func(tx *bolt.Tx) error {
		names, hashes := buckets(tx)
		name := hashes.Get(sum[:])
		if name == nil {
			return ErrBadToken
		}
		data := names.Get(name)
		if data == nil {
			return ErrBadToken
		}
		if err := json.Unmarshal(data, &rec); err != nil {
			return fmt.Errorf("decode token %q: %w", name, err)
		}
		// The lookup above went by hash; this compares the stored hash
		// itself, in constant time, so that nothing depends on how the
		// index was reached.
		if subtle.ConstantTimeCompare(rec.Hash, sum[:]) != 1 {
			return ErrBadToken
		}
		return nil
	})
	if err != nil {
		return Token{}, err
	}
	now := ts.now().UTC()
	if ts.due(rec.Name, rec.LastUsed, now) {
		if err := ts.touch(rec.Name, sum[:], now); err == nil {
			rec.LastUsed = now
		}
		// A failed write only leaves LastUsed older than it should be;
		// the token is still good.
	}
	return rec.token(), nil
}

// due reports whether LastUsed of token name should be written now, and
// if so notes that it is being written, so that concurrent requests write
// it once.
func (ts *Tokens) due(name string, stored, now time.Time) bool {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	last := ts.touched[name]
	if stored.After(last) {
		last = stored
	}
	// A clock that went back (a Pi that booted before its clock was set)
	// counts as due, once.
	if !now.Before(last) && now.Sub(last) < TouchInterval {
		return false
	}
	ts.touched[name] = now
	return true
}

// touch writes LastUsed of token name, unless it was revoked (or revoked
// and created again) meanwhile.
func (ts *Tokens) touch(name string, hash []byte, now time.Time) error {
	return ts.db.Update(func(tx *bolt.Tx) error {
		names, _ := buckets(tx)
		data := names.Get([]byte(name))
		if data == nil {
			return nil
		}
		var rec record
		if err := json.Unmarshal(data, &rec); err != nil {
			return fmt.Errorf("decode token %q: %w", name, err)
		}
		if subtle.ConstantTimeCompare(rec.Hash, hash) != 1 {
			return nil
		}
		rec.LastUsed = now
		data, err := json.Marshal(&rec)
		if err != nil {
			return err
		}
		return names.Put([]byte(name), data)
	})
}

// List returns every token, by name.
func (ts *Tokens) List() ([]Token, error) {
	var out []Token
	err := ts.db.View(func(tx *bolt.Tx) error {
		names, _ := buckets(tx)
		return names.ForEach(func(k, v []byte) error {
			var rec record
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode token %q: %w", k, err)
			}
			out = append(out, rec.token())
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

// Revoke deletes the token called name. Its secret stops working at once.
func (ts *Tokens) Revoke(name string) error {
	err := ts.db.Update(func(tx *bolt.Tx) error {
		names, hashes := buckets(tx)
		data := names.Get([]byte(name))
		if data == nil {
			return ErrNotFound
		}
		var rec record
		if err := json.Unmarshal(data, &rec); err != nil {
			return fmt.Errorf("decode token: %w", err)
		}
		if err := hashes.Delete(rec.Hash); err != nil {
			return err
		}
		return names.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("revoke token %q: %w", name, err)
	}
	ts.mu.Lock()
	delete(ts.touched, name)
	ts.mu.Unlock()
	return nil
}
