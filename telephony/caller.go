package telephony

import (
	"strings"

	"github.com/emiago/sipgo/sip"
)

// caller is who rings, as the request tells it.
type caller struct {
	// number is the caller's phone number ("+447700900123" or a national
	// "07700900123"), "" when withheld or not a number.
	number string
	// name is the display name, or "anonymous" for a withheld number, or
	// the SIP address of a caller with no number.
	name string
}

// anonymous reports whether the caller withheld their identity.
func (c caller) anonymous() bool { return c.number == "" && c.name == "anonymous" }

// callerOf reads the caller's identity from, in order of trust,
// P-Asserted-Identity (RFC 3325, set by the provider), Remote-Party-ID (its
// older form) and From: the first phone number any of them gives, and the
// first display name. A caller who asked for privacy (a Privacy header of
// RFC 3323 hiding their identity, Remote-Party-ID with privacy=full or uri)
// or whose address says anonymous is recorded as "anonymous".
func callerOf(req *sip.Request) caller {
	if h := req.GetHeader("Privacy"); h != nil {
		for _, v := range strings.Split(h.Value(), ";") {
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "id", "user", "header", "critical":
				return caller{name: "anonymous"}
			}
		}
	}
	type candidate struct {
		text    string
		trusted bool
	}
	var candidates []candidate
	for _, name := range []string{"P-Asserted-Identity", "Remote-Party-ID"} {
		for _, h := range req.GetHeaders(name) {
			// P-Asserted-Identity may hold a sip: and a tel: identity,
			// comma-separated.
			for _, a := range splitAddresses(h.Value()) {
				candidates = append(candidates, candidate{a, true})
			}
		}
	}
	if from := req.From(); from != nil {
		candidates = append(candidates, candidate{from.Value(), false})
	}
	var who caller
	hideName := false
	for _, cand := range candidates {
		var uri sip.Uri
		params := sip.NewParams()
		display, err := sip.ParseAddressValue(cand.text, &uri, &params)
		if err != nil {
			continue
		}
		c := identity(unescapeDisplay(display), uri)
		if cand.trusted {
			// Remote-Party-ID;privacy=full|uri|name: the provider knows the
			// caller but was asked not to show them.
			switch privacy, _ := params.Get("privacy"); strings.ToLower(privacy) {
			case "full":
				return caller{name: "anonymous"}
			case "uri":
				if c.name == "" || c.name == "anonymous" {
					return caller{name: "anonymous"}
				}
				return caller{name: c.name}
			case "name":
				hideName = true
			}
			if c.anonymous() {
				return c
			}
		}
		if who.number == "" {
			who.number = c.number
		}
		if who.name == "" && !c.anonymous() {
			who.name = c.name
		}
		if c.anonymous() && who.number == "" && !cand.trusted {
			// The From of a withheld call; a trusted identity above would
			// have given the number.
			return c
		}
	}
	if hideName {
		who.name = ""
	}
	if who == (caller{}) {
		return caller{name: "anonymous"}
	}
	return who
}

// unescapeDisplay removes the quoted-pair escapes (RFC 3261 section 25.1)
// the parser leaves in a quoted display name.
func unescapeDisplay(s string) string {
	if !strings.Contains(s, "\\") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// identity turns one address into a caller.
func identity(display string, uri sip.Uri) caller {
	display = strings.TrimSpace(display)
	user := uri.User
	if strings.EqualFold(uri.Scheme, "tel") {
		// tel:+44-7700-900123;phone-context=... keeps the number in the
		// scheme-specific part.
		user, _, _ = strings.Cut(uri.Raw(), ";")
		if user == "" {
			user = uri.Host
		}
	}
	if strings.EqualFold(display, "anonymous") || strings.EqualFold(user, "anonymous") ||
		strings.EqualFold(uri.Host, "anonymous.invalid") || strings.EqualFold(display, "withheld") {
		return caller{name: "anonymous"}
	}
	if n, ok := phoneNumber(user); ok {
		return caller{number: n, name: display}
	}
	if display == "" && user != "" {
		display = user + "@" + uri.Host
	}
	return caller{name: display}
}

// phoneNumber returns s as a phone number if it is one: an optional "+"
// and 3 to 15 digits once the visual separators of RFC 3966 are gone.
func phoneNumber(s string) (string, bool) {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == '+' && i == 0:
			b.WriteRune(r)
		case r == '-' || r == '.' || r == '(' || r == ')' || r == ' ':
		default:
			return "", false
		}
	}
	n := b.String()
	digits := len(strings.TrimPrefix(n, "+"))
	return n, digits >= 3 && digits <= 15
}

// splitAddresses splits a header value holding comma-separated addresses,
// leaving commas inside quotes and angle brackets alone.
func splitAddresses(v string) []string {
	var out []string
	depth, quoted, start := 0, false, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == '<' && !quoted:
			depth++
		case c == '>' && !quoted && depth > 0:
			depth--
		case c == ',' && !quoted && depth == 0:
			out = append(out, strings.TrimSpace(v[start:i]))
			start = i + 1
		}
	}
	return append(out, strings.TrimSpace(v[start:]))
}
