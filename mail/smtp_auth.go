package mail

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// smtpMechanisms maps SMTPOptions.Auth to the SASL mechanism's name.
var smtpMechanisms = map[string]string{
	SMTPAuthPlain:   "PLAIN",
	SMTPAuthLogin:   "LOGIN",
	SMTPAuthXOAuth2: "XOAUTH2",
}

// login authenticates c (RFC 4954) with the configured mechanism. The
// caller has made sure the connection is encrypted, unless TLS is off.
func (s *SMTPSender) login(ctx context.Context, c *smtp.Client) error {
	mech := smtpMechanisms[s.opts.Auth]
	if ok, offered := c.Extension("AUTH"); !ok {
		return errSMTPNoAuth
	} else if !c.SupportsAuth(mech) {
		return fmt.Errorf("%w: it offers %s", errSMTPMechanism, strings.ToLower(offered))
	}
	var client sasl.Client
	switch s.opts.Auth {
	case SMTPAuthPlain:
		client = sasl.NewPlainClient("", s.opts.Username, s.opts.Password)
	case SMTPAuthLogin:
		client = sasl.NewLoginClient(s.opts.Username, s.opts.Password)
	case SMTPAuthXOAuth2:
		token := s.opts.Token
		if s.opts.TokenFunc != nil {
			var err error
			if token, err = s.opts.TokenFunc(ctx); err != nil {
				return fmt.Errorf("%w: %v", errSMTPToken, err)
			}
			s.addSecret(token)
		}
		client = &smtpXOAuth2{user: s.opts.Username, token: token}
	}
	return c.Auth(client)
}

// smtpXOAuth2 is the XOAUTH2 mechanism of Google and Microsoft
// (developers.google.com/gmail/imap/xoauth2-protocol): the user and the
// bearer token in one initial response.
type smtpXOAuth2 struct {
	user, token string
	answered    bool
}

func smtpXOAuth2Response(user, token string) []byte {
	return []byte("user=" + user + "\x01auth=Bearer " + token + "\x01\x01")
}

// Start sends the initial response.
func (a *smtpXOAuth2) Start() (string, []byte, error) {
	return "XOAUTH2", smtpXOAuth2Response(a.user, a.token), nil
}

// Next answers the server's challenge, which on a refused token is a
// JSON error: an empty answer ends the exchange with the server's 535.
func (a *smtpXOAuth2) Next(challenge []byte) ([]byte, error) {
	if a.answered {
		return nil, errors.New("xoauth2: unexpected challenge")
	}
	a.answered = true
	return []byte{}, nil
}

// smtpRedactor returns a replacer that removes the options' secrets, and
// the base64 forms a login sends, from any text (a server's reply may
// echo what it was sent). Secrets shorter than four bytes are not
// replaced: doing so would garble every message.
func smtpRedactor(o SMTPOptions, extra ...string) *strings.Replacer {
	b64 := base64.StdEncoding.EncodeToString
	var secrets []string
	if o.Password != "" {
		secrets = append(secrets, o.Password,
			b64([]byte("\x00"+o.Username+"\x00"+o.Password)), b64([]byte(o.Password)))
	}
	for _, t := range append([]string{o.Token}, extra...) {
		if t != "" {
			secrets = append(secrets, t, b64(smtpXOAuth2Response(o.Username, t)))
		}
	}
	var pairs []string
	for _, sec := range secrets {
		if len(sec) >= 4 {
			pairs = append(pairs, sec, "[redacted]")
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	return strings.NewReplacer(pairs...)
}

// addSecret adds a token fetched for a login to what is redacted.
func (s *SMTPSender) addSecret(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token == "" || token == s.lastToken {
		return
	}
	s.lastToken = token
	s.redactor = smtpRedactor(s.opts, token)
}
