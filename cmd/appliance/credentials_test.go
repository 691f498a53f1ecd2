package main

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/counterdesk/counterdesk/config"
)

func TestCredentials(t *testing.T) {
	writeCreds := func(t *testing.T, files map[string]string) string {
		t.Helper()
		dir := t.TempDir()
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o400); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	base := []string{"PATH=/usr/bin", "COUNTERDESK_SIP_PASSWORD=from-env"}
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // the variables added after base
	}{
		{"none", nil, nil},
		{"both", map[string]string{"sip-password": "s3cret", "modem-pin": "1234"},
			[]string{"COUNTERDESK_SIP_PASSWORD=s3cret", "COUNTERDESK_MODEM_PIN=1234"}},
		{"trailing newline", map[string]string{"sip-password": "s3cret\n", "modem-pin": "1234\r\n"},
			[]string{"COUNTERDESK_SIP_PASSWORD=s3cret", "COUNTERDESK_MODEM_PIN=1234"}},
		{"only the first newline", map[string]string{"sip-password": "pass \n\n"},
			[]string{"COUNTERDESK_SIP_PASSWORD=pass \n"}},
		{"empty means unset", map[string]string{"sip-password": "", "modem-pin": "\n"}, nil},
		{"unknown names ignored", map[string]string{"mail-password": "x"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := writeCreds(t, tc.files)
			environ := append(slices.Clip(base), "CREDENTIALS_DIRECTORY="+dir)
			got, err := withCredentials(environ)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got[:len(environ)], environ) {
				t.Fatalf("environ changed: %q", got)
			}
			if added := got[len(environ):]; !slices.Equal(added, tc.want) {
				t.Errorf("added %q, want %q", added, tc.want)
			}
		})
	}

	t.Run("no directory", func(t *testing.T) {
		got, err := withCredentials(base)
		if err != nil || !slices.Equal(got, base) {
			t.Errorf("withCredentials = %q, %v; want environ unchanged", got, err)
		}
	})

	t.Run("unreadable is misconfigured", func(t *testing.T) {
		dir := t.TempDir()
		// A folder where the file should be cannot be read as a secret.
		if err := os.Mkdir(filepath.Join(dir, "modem-pin"), 0o700); err != nil {
			t.Fatal(err)
		}
		_, err := withCredentials([]string{"CREDENTIALS_DIRECTORY=" + dir})
		if !errors.Is(err, errConfig) || !strings.Contains(err.Error(), "modem-pin") {
			t.Errorf("err = %v, want a misconfiguration naming modem-pin", err)
		}
	})

	t.Run("too long", func(t *testing.T) {
		dir := writeCreds(t, map[string]string{"sip-password": strings.Repeat("x", maxCredentialBytes+1)})
		if _, err := withCredentials([]string{"CREDENTIALS_DIRECTORY=" + dir}); !errors.Is(err, errConfig) {
			t.Errorf("err = %v, want a misconfiguration", err)
		}
	})

	// The credential wins over the config file and the environment.
	t.Run("overrides config", func(t *testing.T) {
		dir := writeCreds(t, map[string]string{"sip-password": "from-credential", "modem-pin": "4321"})
		file := filepath.Join(t.TempDir(), "counterdesk.toml")
		if err := os.WriteFile(file, []byte("[sip]\npassword = \"from-file\"\n\n[modem]\npin = \"1111\"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		environ, err := withCredentials(append(slices.Clip(base), "CREDENTIALS_DIRECTORY="+dir))
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Load(file, environ)
		if err != nil {
			t.Fatal(err)
		}
		if cfg.SIP.Password != "from-credential" || cfg.Modem.PIN != "4321" {
			t.Errorf("sip.password %q, modem.pin %q; want the credentials", cfg.SIP.Password, cfg.Modem.PIN)
		}
	})
}

// A config file that cannot be read is a configuration problem (exit 78,
// which the unit does not restart), not a crash.
func TestMissingConfigFileExits78(t *testing.T) {
	bin := buildBinary(t)
	_, stderr, code := cli(t, bin, "run", "--config", filepath.Join(t.TempDir(), "missing.toml"), "--data", t.TempDir())
	if code != ExitConfig || !strings.Contains(stderr, "missing.toml") {
		t.Errorf("exit %d, stderr %q; want %d naming the file", code, stderr, ExitConfig)
	}
}
