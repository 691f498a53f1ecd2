package auth

import "errors"

// Errors returned by Tokens. Callers test for them with errors.Is.
var (
	// ErrBadToken means a secret is not a live API token: malformed,
	// unknown, or revoked.
	ErrBadToken = errors.New("bad API token")
	// ErrBadName means a token name is empty, longer than 64 characters,
	// or holds characters other than letters, digits and "._-".
	ErrBadName = errors.New("bad token name")
	// ErrBadRole means a role is not one of the known roles.
	ErrBadRole = errors.New("unknown role")
	// ErrExists means a token with that name already exists.
	ErrExists = errors.New("token already exists")
	// ErrNotFound means no token has that name.
	ErrNotFound = errors.New("token not found")
)
