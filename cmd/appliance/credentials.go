package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// envCredentialsDir names the folder where systemd puts the unit's
// credentials (LoadCredential=, LoadCredentialEncrypted=, SetCredential=),
// one file per credential, readable by the service only. See
// systemd.exec(5), "Credentials", and https://systemd.io/CREDENTIALS/.
const envCredentialsDir = "CREDENTIALS_DIRECTORY"

// credential names a secret the appliance accepts as a systemd credential
// and the environment variable that sets the same config key.
type credential struct {
	name string // the credential's file name, as in LoadCredential=NAME:...
	env  string // COUNTERDESK_<SECTION>_<KEY>
}

// credentials lists the secrets that may come from systemd instead of the
// config file.
func credentials() []credential {
	return []credential{
		{name: "sip-password", env: "COUNTERDESK_SIP_PASSWORD"},             // sip.password
		{name: "modem-pin", env: "COUNTERDESK_MODEM_PIN"},                   // modem.pin
		{name: "mail-imap-password", env: "COUNTERDESK_MAIL_IMAP_PASSWORD"}, // mail.imap_password
		{name: "mail-smtp-password", env: "COUNTERDESK_MAIL_SMTP_PASSWORD"}, // mail.smtp_password
	}
}

// maxCredentialBytes bounds a secret read from a credential file.
const maxCredentialBytes = 4 << 10

// withCredentials returns environ with a COUNTERDESK_ variable added for each
// known credential found in $CREDENTIALS_DIRECTORY. The variables come last,
// so a credential overrides both the config file and the environment. A
// missing or empty credential file sets nothing, so a unit may load a file
// that is still empty; one trailing newline is not part of the secret.
// Without $CREDENTIALS_DIRECTORY, environ is returned as it is.
func withCredentials(environ []string) ([]string, error) {
	dir := lookupEnv(environ, envCredentialsDir)
	if dir == "" {
		return environ, nil
	}
	out := environ[:len(environ):len(environ)]
	for _, c := range credentials() {
		value, err := credentialValue(dir, c.name)
		if err != nil {
			return nil, err
		}
		if value == "" {
			continue
		}
		out = append(out, c.env+"="+value)
	}
	return out, nil
}

// credentialValue returns the value of credential name in the credentials
// folder dir: "" when the file is missing or empty, without one trailing
// newline.
func credentialValue(dir, name string) (string, error) {
	data, err := readCredential(filepath.Join(dir, name))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("%w: credential %s: %w", errConfig, name, err)
	}
	return strings.TrimSuffix(strings.TrimSuffix(string(data), "\n"), "\r"), nil
}

// readCredential reads a credential file of at most maxCredentialBytes.
func readCredential(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxCredentialBytes+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxCredentialBytes {
		return nil, fmt.Errorf("longer than %d bytes", maxCredentialBytes)
	}
	return data, nil
}
