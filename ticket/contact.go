package ticket

import (
	"net/mail"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone returns s in E.164 form ("+447700900123"), reading numbers
// without a country code as numbers of region (ISO 3166-1 alpha-2, "GB").
// Errors name the field "from.phone".
func NormalizePhone(s, region string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	num, err := phonenumbers.Parse(s, region)
	if err != nil {
		return "", invalid("from.phone", "%q is not a phone number: %v", s, err)
	}
	if !phonenumbers.IsPossibleNumber(num) {
		return "", invalid("from.phone", "%q is not a possible phone number", s)
	}
	return phonenumbers.Format(num, phonenumbers.E164), nil
}

// normalizeEmail returns the bare address in lower case, without a display
// name.
func normalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", nil
	}
	if len(s) > maxEmail {
		return "", tooLarge("from.email", "is %d bytes, the limit is %d", len(s), maxEmail)
	}
	a, err := mail.ParseAddress(s)
	if err != nil {
		return "", invalid("from.email", "%q is not an email address", s)
	}
	return strings.ToLower(a.Address), nil
}
