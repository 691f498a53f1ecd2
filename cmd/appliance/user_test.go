package main

import (
	"bytes"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ui/auth"
)

func userCmd(t *testing.T, data, stdin string, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := cmdUser(append(args, "--data", data), strings.NewReader(stdin), &out, &errOut, nil)
	return out.String(), err
}

// TestUserCommand adds users and resets a password while the appliance
// is stopped, then while it runs (through the control socket, since the
// running appliance holds the database).
func TestUserCommand(t *testing.T) {
	data := t.TempDir()
	if _, err := userCmd(t, data, "correct horse\n", "add", "ann", "--role", "admin"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
	}{
		{"pw\n", []string{"add", "bob", "--role", "agent"}},        // too short
		{"", []string{"add", "bob", "--role", "agent"}},            // no password
		{"correct horse\n", []string{"add", "bob"}},                // no role
		{"correct horse\n", []string{"add", "bob", "--role", "x"}}, // bad role
		{"correct horse\n", []string{"add", "ann", "--role", "agent"}},
		{"correct horse\n", []string{"reset-password", "nobody"}},
		{"", []string{"frobnicate"}},
	} {
		if _, err := userCmd(t, data, tc.stdin, tc.args...); err == nil {
			t.Errorf("user %v with %q: no error", tc.args, tc.stdin)
		}
	}

	// Now the appliance runs and holds the database.
	cfg := config.Default()
	cfg.Store.DataDir = data
	dir, _ := filepath.Abs(data)
	desk, err := openDesk(dir, cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	tokens, err := auth.NewTokens(desk.DB())
	if err != nil {
		t.Fatal(err)
	}
	ctl, err := listenControl(dir, desk, tokens, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	if _, err := userCmd(t, data, "hunter2hunter2\n", "add", "till", "--role", "agent"); err != nil {
		t.Fatal(err)
	}
	if _, err := userCmd(t, data, "new password\r\n", "reset-password", "ann"); err != nil {
		t.Fatal(err)
	}
	out, err := userCmd(t, data, "", "list")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "ann") || !strings.Contains(out, "admin") || !strings.Contains(out, "till") || !strings.Contains(out, "agent") {
		t.Errorf("list:\n%s", out)
	}
	users, err := auth.NewUsers(desk.DB(), auth.UsersOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := users.Authenticate("ann", "new password"); err != nil {
		t.Errorf("ann's new password: %v", err)
	}
	if _, err := users.Authenticate("till", "hunter2hunter2"); err != nil {
		t.Errorf("till's password: %v", err)
	}
}
