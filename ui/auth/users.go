package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	stdsync "sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Defaults for UsersOptions, used where a field is zero.
const (
	DefaultSessionTTL         = 12 * time.Hour
	DefaultMaxSessionsPerUser = 16
)

// Bucket names of the staff accounts.
var (
	bStaff    = []byte("staff_users") // holds the three buckets below
	bUsers    = []byte("users")       // name -> userRecord
	bSessions = []byte("sessions")    // SHA-256 of the session id -> sessionRecord
	bByUser   = []byte("by_user")     // name 0x00 SHA-256 -> empty, to end a user's sessions
)

// UsersOptions configure Users.
type UsersOptions struct {
	// Hash are the costs of new password hashes.
	Hash HashParams
	// SessionTTL is how long a session lasts after login.
	SessionTTL time.Duration
	// MaxSessionsPerUser bounds the live sessions of one user; a new
	// login past it ends the oldest.
	MaxSessionsPerUser int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (o UsersOptions) withDefaults() UsersOptions {
	if o.Hash.Memory == 0 || o.Hash.Time == 0 || o.Hash.Threads == 0 {
		o.Hash = DefaultHashParams
	}
	if o.SessionTTL <= 0 {
		o.SessionTTL = DefaultSessionTTL
	}
	if o.MaxSessionsPerUser <= 0 {
		o.MaxSessionsPerUser = DefaultMaxSessionsPerUser
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// User is a staff account as it may be shown: everything but its
// password hash.
type User struct {
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// PasswordAt is when the password was last set.
	PasswordAt time.Time `json:"password_at"`
}

type userRecord struct {
	User
	Hash string `json:"hash"` // argon2id, PHC string format
}

// Session is a logged-in browser.
type Session struct {
	User      string    `json:"user"`
	CSRF      string    `json:"csrf"` // the token every form of the session carries
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
	hash      []byte
}

// Users is the store of staff accounts and their sessions, kept in the
// appliance's bbolt database. It is safe for concurrent use.
type Users struct {
	db   *bolt.DB
	opts UsersOptions
	// dummy is a hash to verify against for unknown names, made at the
	// first login that needs it rather than at every start (and every
	// command-line call).
	dummy     string
	dummyErr  error
	dummyOnce stdsync.Once
}

// NewUsers returns the user store kept in db, creating its buckets.
func NewUsers(db *bolt.DB, opts UsersOptions) (*Users, error) {
	opts = opts.withDefaults()
	err := db.Update(func(tx *bolt.Tx) error {
		top, err := tx.CreateBucketIfNotExists(bStaff)
		if err != nil {
			return err
		}
		for _, name := range [][]byte{bUsers, bSessions, bByUser} {
			if _, err := top.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("staff users: create bucket: %w", err)
	}
	return &Users{db: db, opts: opts}, nil
}

// dummyHash returns the hash that unknown names are checked against.
func (us *Users) dummyHash() (string, error) {
	us.dummyOnce.Do(func() {
		us.dummy, us.dummyErr = hashPassword("no user has this password", us.opts.Hash)
	})
	return us.dummy, us.dummyErr
}

func staffBuckets(tx *bolt.Tx) (users, sessions, byUser *bolt.Bucket) {
	top := tx.Bucket(bStaff)
	return top.Bucket(bUsers), top.Bucket(bSessions), top.Bucket(bByUser)
}

func (us *Users) now() time.Time { return us.opts.Now().UTC() }

func (us *Users) newRecord(name string, role Role, password string) (*userRecord, error) {
	if !nameRE.MatchString(name) {
		return nil, fmt.Errorf("%w: %q must be 1 to 64 letters, digits, '.', '_' or '-'", ErrBadName, name)
	}
	if !role.Valid() {
		return nil, fmt.Errorf("%w: %q", ErrBadRole, role)
	}
	if err := checkPassword(password); err != nil {
		return nil, err
	}
	hash, err := hashPassword(password, us.opts.Hash)
	if err != nil {
		return nil, err
	}
	now := us.now()
	return &userRecord{User: User{Name: name, Role: role, CreatedAt: now, PasswordAt: now}, Hash: hash}, nil
}

// Create adds a user.
func (us *Users) Create(name string, role Role, password string) (User, error) {
	rec, err := us.newRecord(name, role, password)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", name, err)
	}
	err = us.db.Update(func(tx *bolt.Tx) error {
		users, _, _ := staffBuckets(tx)
		if users.Get([]byte(name)) != nil {
			return ErrExists
		}
		return putRecord(users, []byte(name), rec)
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", name, err)
	}
	return rec.User, nil
}

// CreateFirst adds the first user, an admin, if there is no user yet;
// otherwise it returns ErrSetupDone. The check and the write are one
// transaction, so two browsers racing through onboarding make one admin.
func (us *Users) CreateFirst(name, password string) (User, error) {
	rec, err := us.newRecord(name, RoleAdmin, password)
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", name, err)
	}
	err = us.db.Update(func(tx *bolt.Tx) error {
		users, _, _ := staffBuckets(tx)
		if k, _ := users.Cursor().First(); k != nil {
			return ErrSetupDone
		}
		return putRecord(users, []byte(name), rec)
	})
	if err != nil {
		return User{}, fmt.Errorf("create user %q: %w", name, err)
	}
	return rec.User, nil
}

// Any reports whether at least one user exists.
func (us *Users) Any() (bool, error) {
	var any bool
	err := us.db.View(func(tx *bolt.Tx) error {
		users, _, _ := staffBuckets(tx)
		k, _ := users.Cursor().First()
		any = k != nil
		return nil
	})
	return any, err
}

// Get returns the user called name.
func (us *Users) Get(name string) (User, error) {
	var rec userRecord
	err := us.db.View(func(tx *bolt.Tx) error {
		users, _, _ := staffBuckets(tx)
		return getRecord(users, []byte(name), &rec)
	})
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", name, err)
	}
	return rec.User, nil
}

// List returns every user, by name.
func (us *Users) List() ([]User, error) {
	var out []User
	err := us.db.View(func(tx *bolt.Tx) error {
		users, _, _ := staffBuckets(tx)
		return users.ForEach(func(k, v []byte) error {
			var rec userRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode user %q: %w", k, err)
			}
			out = append(out, rec.User)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

// SetPassword replaces the password of user name and ends all of the
// user's sessions.
func (us *Users) SetPassword(name, password string) error {
	if err := checkPassword(password); err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	hash, err := hashPassword(password, us.opts.Hash)
	if err != nil {
		return err
	}
	err = us.db.Update(func(tx *bolt.Tx) error {
		users, sessions, byUser := staffBuckets(tx)
		var rec userRecord
		if err := getRecord(users, []byte(name), &rec); err != nil {
			return err
		}
		rec.Hash, rec.PasswordAt = hash, us.now()
		if err := putRecord(users, []byte(name), &rec); err != nil {
			return err
		}
		_, err := endSessions(sessions, byUser, name)
		return err
	})
	if err != nil {
		return fmt.Errorf("set password of %q: %w", name, err)
	}
	return nil
}

// Authenticate returns the user called name if password is theirs, else
// ErrBadLogin. An unknown name costs as much time as a wrong password, so
// the answer time does not tell which names exist.
func (us *Users) Authenticate(name, password string) (User, error) {
	if len(password) > MaxPasswordLen || len(name) > 64 {
		return User{}, ErrBadLogin
	}
	var rec userRecord
	err := us.db.View(func(tx *bolt.Tx) error {
		users, _, _ := staffBuckets(tx)
		return getRecord(users, []byte(name), &rec)
	})
	if errors.Is(err, ErrNotFound) {
		if dummy, err := us.dummyHash(); err == nil {
			_, _ = verifyPassword(password, dummy)
		}
		return User{}, ErrBadLogin
	}
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", name, err)
	}
	ok, err := verifyPassword(password, rec.Hash)
	if err != nil {
		return User{}, fmt.Errorf("user %q: %w", name, err)
	}
	if !ok {
		return User{}, ErrBadLogin
	}
	return rec.User, nil
}

// sessionBytes is the number of random bytes of a session id.
const sessionBytes = 32

func randomToken() (string, error) {
	raw := make([]byte, sessionBytes)
	if _, err := rand.Read(raw); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(raw), nil
}

func sessionHash(id string) []byte {
	sum := sha256.Sum256([]byte(id))
	return sum[:]
}

func userKey(name string, hash []byte) []byte {
	k := make([]byte, 0, len(name)+1+len(hash))
	k = append(k, name...)
	k = append(k, 0)
	return append(k, hash...)
}

// NewSession starts a session for user name and returns its id, which
// goes in the cookie and is stored only as its SHA-256. It ends the
// user's expired sessions, and the oldest when the user has too many.
func (us *Users) NewSession(name string) (string, Session, error) {
	id, err := randomToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("new session: %w", err)
	}
	csrf, err := randomToken()
	if err != nil {
		return "", Session{}, fmt.Errorf("new session: %w", err)
	}
	now := us.now()
	s := Session{User: name, CSRF: csrf, CreatedAt: now, ExpiresAt: now.Add(us.opts.SessionTTL)}
	h := sessionHash(id)
	err = us.db.Update(func(tx *bolt.Tx) error {
		users, sessions, byUser := staffBuckets(tx)
		if users.Get([]byte(name)) == nil {
			return ErrNotFound
		}
		live, err := us.sweep(sessions, byUser, name, now)
		if err != nil {
			return err
		}
		// Keep room for this one: end the oldest sessions first.
		slices.SortFunc(live, func(a, b Session) int { return a.CreatedAt.Compare(b.CreatedAt) })
		for len(live) >= us.opts.MaxSessionsPerUser {
			if err := deleteSession(sessions, byUser, name, live[0].hash); err != nil {
				return err
			}
			live = live[1:]
		}
		if err := putRecord(sessions, h, &s); err != nil {
			return err
		}
		return byUser.Put(userKey(name, h), nil)
	})
	if err != nil {
		return "", Session{}, fmt.Errorf("new session for %q: %w", name, err)
	}
	return id, s, nil
}

// sweep deletes the expired sessions of user name and returns the live
// ones.
func (us *Users) sweep(sessions, byUser *bolt.Bucket, name string, now time.Time) ([]Session, error) {
	var live []Session
	var dead [][]byte
	prefix := userKey(name, nil)
	c := byUser.Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) == len(prefix)+sha256.Size && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
		h := slices.Clone(k[len(prefix):])
		var s Session
		if err := getRecord(sessions, h, &s); err != nil || !now.Before(s.ExpiresAt) {
			dead = append(dead, h)
			continue
		}
		s.hash = h
		live = append(live, s)
	}
	for _, h := range dead {
		if err := deleteSession(sessions, byUser, name, h); err != nil {
			return nil, err
		}
	}
	return live, nil
}

func deleteSession(sessions, byUser *bolt.Bucket, name string, h []byte) error {
	if err := sessions.Delete(h); err != nil {
		return err
	}
	return byUser.Delete(userKey(name, h))
}

// Session returns the live session whose id is id and its user, or
// ErrNoSession. The user is read afresh, so a changed role applies at
// once.
func (us *Users) Session(id string) (Session, User, error) {
	if len(id) != base64.RawURLEncoding.EncodedLen(sessionBytes) {
		return Session{}, User{}, ErrNoSession
	}
	h := sessionHash(id)
	var (
		s   Session
		rec userRecord
	)
	err := us.db.View(func(tx *bolt.Tx) error {
		users, sessions, _ := staffBuckets(tx)
		if err := getRecord(sessions, h, &s); errors.Is(err, ErrNotFound) {
			return ErrNoSession
		} else if err != nil {
			return err
		}
		if err := getRecord(users, []byte(s.User), &rec); errors.Is(err, ErrNotFound) {
			return ErrNoSession
		} else if err != nil {
			return err
		}
		return nil
	})
	if err != nil {
		return Session{}, User{}, err
	}
	if !us.now().Before(s.ExpiresAt) {
		// Expired: the next login of the user sweeps it.
		return Session{}, User{}, ErrNoSession
	}
	// The session's creation is before the password change: a reset
	// ends it even if the sweep in SetPassword was missed.
	if s.CreatedAt.Before(rec.PasswordAt) {
		return Session{}, User{}, ErrNoSession
	}
	s.hash = h
	return s, rec.User, nil
}

// EndSession logs out the session whose id is id. An unknown id is not an
// error.
func (us *Users) EndSession(id string) error {
	h := sessionHash(id)
	return us.db.Update(func(tx *bolt.Tx) error {
		_, sessions, byUser := staffBuckets(tx)
		var s Session
		if err := getRecord(sessions, h, &s); errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		return deleteSession(sessions, byUser, s.User, h)
	})
}

// EndSessions logs out every session of user name ("log out everywhere")
// and returns how many there were.
func (us *Users) EndSessions(name string) (int, error) {
	var n int
	err := us.db.Update(func(tx *bolt.Tx) error {
		_, sessions, byUser := staffBuckets(tx)
		var err error
		n, err = endSessions(sessions, byUser, name)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("end sessions of %q: %w", name, err)
	}
	return n, nil
}

func endSessions(sessions, byUser *bolt.Bucket, name string) (int, error) {
	prefix := userKey(name, nil)
	var hs [][]byte
	c := byUser.Cursor()
	for k, _ := c.Seek(prefix); k != nil && len(k) == len(prefix)+sha256.Size && string(k[:len(prefix)]) == string(prefix); k, _ = c.Next() {
		hs = append(hs, slices.Clone(k[len(prefix):]))
	}
	for _, h := range hs {
		if err := deleteSession(sessions, byUser, name, h); err != nil {
			return 0, err
		}
	}
	return len(hs), nil
}

// CheckCSRF reports whether token is the CSRF token of s, in constant
// time.
func (s Session) CheckCSRF(token string) bool {
	return token != "" && subtle.ConstantTimeCompare([]byte(token), []byte(s.CSRF)) == 1
}

func getRecord(b *bolt.Bucket, k []byte, v any) error {
	data := b.Get(k)
	if data == nil {
		return ErrNotFound
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %q: %w", k, err)
	}
	return nil
}

func putRecord(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}
