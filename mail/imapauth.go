package mail

import (
	"errors"

	"github.com/emersion/go-sasl"
)

// imapXOAuth2 is the XOAUTH2 SASL mechanism of Google and Microsoft
// (https://developers.google.com/gmail/imap/xoauth2-protocol): the user
// and an OAuth2 access token in one initial response.
type imapXOAuth2 struct {
	user, token string
}

var _ sasl.Client = (*imapXOAuth2)(nil)

// Start returns the initial response "user=U^Aauth=Bearer T^A^A".
func (a *imapXOAuth2) Start() (string, []byte, error) {
	return "XOAUTH2", []byte("user=" + a.user + "\x01auth=Bearer " + a.token + "\x01\x01"), nil
}

// Next answers the server's error challenge (a JSON status) with an empty
// response, as the protocol asks, so that the server ends the exchange
// with a NO the caller sees.
func (a *imapXOAuth2) Next(challenge []byte) ([]byte, error) {
	if len(challenge) == 0 {
		return nil, errors.New("xoauth2: unexpected empty challenge")
	}
	return []byte{}, nil
}
