package auth

import "fmt"

// Role says what a token may do.
type Role string

// The roles. An admin may do everything; an agent works tickets but cannot
// delete them, list deleted tickets, or manage the outbox.
const (
	RoleAdmin Role = "admin"
	RoleAgent Role = "agent"
)

// Roles lists every role.
var Roles = []Role{RoleAdmin, RoleAgent}

// Valid reports whether r is one of Roles.
func (r Role) Valid() bool {
	return r == RoleAdmin || r == RoleAgent
}

// ParseRole returns the role named s.
func ParseRole(s string) (Role, error) {
	r := Role(s)
	if !r.Valid() {
		return "", fmt.Errorf("%w: %q", ErrBadRole, s)
	}
	return r, nil
}
