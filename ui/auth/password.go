package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are the costs of the argon2id password hash (RFC 9106).
type HashParams struct {
	// Memory is in KiB.
	Memory  uint32
	Time    uint32
	Threads uint8
}

// DefaultHashParams are one of the equivalent argon2id settings of the
// OWASP password storage recommendation: 7 MiB, 5 passes, 1 lane, as strong
// as its 19 MiB, 2 passes, with less memory per login, which counts on a
// Raspberry Pi with 512 MB (the appliance keeps under 60 MB). Stored hashes
// carry their own settings, so changing these never locks anyone out.
var DefaultHashParams = HashParams{Memory: 7 * 1024, Time: 5, Threads: 1}

// Bounds of a password. The upper one keeps a login from hashing a
// megabyte.
const (
	MinPasswordLen = 8
	MaxPasswordLen = 256
)

const (
	saltBytes = 16
	keyBytes  = 32
)

// checkPassword rejects a password that is too short or too long.
func checkPassword(pw string) error {
	switch {
	case len(pw) < MinPasswordLen:
		return fmt.Errorf("%w: at least %d characters", ErrWeakPassword, MinPasswordLen)
	case len(pw) > MaxPasswordLen:
		return fmt.Errorf("%w: at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	}
	return nil
}

// hashPassword returns the argon2id hash of pw in the PHC string format:
// $argon2id$v=19$m=7168,t=5,p=1$<salt>$<hash>, salt and hash in
// unpadded standard base64.
func hashPassword(pw string, p HashParams) (string, error) {
	salt := make([]byte, saltBytes)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, keyBytes)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// verifyPassword reports whether pw matches encoded, a hash made by
// hashPassword (with any costs).
func verifyPassword(pw, encoded string) (bool, error) {
	parts := strings.Split(encoded, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return false, fmt.Errorf("password hash: not an argon2id PHC string")
	}
	var version int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &version); err != nil || version != argon2.Version {
		return false, fmt.Errorf("password hash: unsupported version %q", parts[2])
	}
	var p HashParams
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &p.Threads); err != nil {
		return false, fmt.Errorf("password hash: bad parameters %q: %w", parts[3], err)
	}
	if p.Memory == 0 || p.Memory > 1<<22 || p.Time == 0 || p.Time > 100 || p.Threads == 0 {
		return false, fmt.Errorf("password hash: parameters %q out of range", parts[3])
	}
	salt, err := base64.RawStdEncoding.DecodeString(parts[4])
	if err != nil {
		return false, fmt.Errorf("password hash: salt: %w", err)
	}
	want, err := base64.RawStdEncoding.DecodeString(parts[5])
	if err != nil || len(want) == 0 {
		return false, fmt.Errorf("password hash: key: %v", err)
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}
