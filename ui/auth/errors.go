package auth

import "errors"

// Errors returned by Tokens, Users and Sessions. Callers test for them
// with errors.Is.
var (
	// ErrBadToken means a secret is not a live API token: malformed,
	// unknown, or revoked.
	ErrBadToken = errors.New("bad API token")
	// ErrBadName means a token or user name is empty, longer than 64
	// characters, or holds characters other than letters, digits and
	// "._-".
	ErrBadName = errors.New("bad name")
	// ErrBadRole means a role is not one of the known roles.
	ErrBadRole = errors.New("unknown role")
	// ErrExists means a token or user with that name already exists.
	ErrExists = errors.New("already exists")
	// ErrNotFound means no token or user has that name.
	ErrNotFound = errors.New("not found")
	// ErrWeakPassword means a password is too short or too long.
	ErrWeakPassword = errors.New("unacceptable password")
	// ErrBadLogin means a user name and password do not match. It does
	// not say which of the two was wrong.
	ErrBadLogin = errors.New("wrong user name or password")
	// ErrNoSession means a session id is not a live session: malformed,
	// unknown, expired, or logged out.
	ErrNoSession = errors.New("no such session")
	// ErrSetupDone means the first admin was already created.
	ErrSetupDone = errors.New("the first user already exists")
)
