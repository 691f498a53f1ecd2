package main

import (
	"bytes"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/counterdesk/counterdesk/sync/zendesk/zendeskfake"
)

// doctorPassword is a SIP password that must never appear in doctor's output.
const doctorPassword = "Sq7-hangar-Wing-9041"

// doctor runs "appliance doctor" with extra environment variables and
// returns its output and exit code.
func doctor(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"doctor"}, args...)...)
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), doctorPassword) {
		t.Errorf("doctor printed the SIP password:\n%s", out.String())
	}
	return out.String(), code
}

// checkLine returns the line of the check named name, or "".
func checkLine(out, name string) string {
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[1] == name {
			return line
		}
	}
	return ""
}

func TestDoctorStopped(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	out, code := doctor(t, bin, []string{"COUNTERDESK_SIP_PASSWORD=" + doctorPassword}, "--data", dataDir)
	if code != 0 {
		t.Errorf("doctor on a stopped, fresh data folder exited %d:\n%s", code, out)
	}
	for name, want := range map[string]string{
		"config":    "ok",
		"data":      "ok",
		"database":  "warn",
		"appliance": "warn",
		"sip":       "ok",
	} {
		line := checkLine(out, name)
		if !strings.HasPrefix(line, want+" ") {
			t.Errorf("check %s: got %q, want %s:\n%s", name, line, want, out)
		}
	}
	if !strings.Contains(checkLine(out, "appliance"), "not running") {
		t.Errorf("doctor does not say the appliance is not running:\n%s", out)
	}
	for _, name := range []string{"disk", "modem", "clock"} {
		if checkLine(out, name) == "" {
			t.Errorf("no %s check:\n%s", name, out)
		}
	}
}

func TestDoctorBrokenConfig(t *testing.T) {
	bin := buildBinary(t)
	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[http]\nlisten = \":8080\"\n\n[store]\nthread_windw = \"1h\"\n"), 0o600)
	out, code := doctor(t, bin, []string{"COUNTERDESK_SIP_PASSWORD=" + doctorPassword}, "--config", bad, "--data", t.TempDir())
	if code != ExitError {
		t.Errorf("doctor with a broken config exited %d, want %d:\n%s", code, ExitError, out)
	}
	if !strings.HasPrefix(checkLine(out, "config"), "FAIL ") {
		t.Errorf("config check does not fail:\n%s", out)
	}
	if !strings.Contains(out, bad+":5:") {
		t.Errorf("doctor names no line 5 of the config:\n%s", out)
	}
}

func TestDoctorRunning(t *testing.T) {
	bin := buildBinary(t)
	dataDir := t.TempDir()
	a := start(t, bin, dataDir, "COUNTERDESK_SIP_PASSWORD="+doctorPassword)
	defer a.stop(t)

	out, code := doctor(t, bin, []string{
		"COUNTERDESK_SIP_PASSWORD=" + doctorPassword,
		"COUNTERDESK_HTTP_LISTEN=" + a.addr,
	}, "--data", dataDir)
	if code != 0 {
		t.Errorf("doctor on a running appliance exited %d:\n%s", code, out)
	}
	if !strings.HasPrefix(checkLine(out, "appliance"), "ok ") {
		t.Errorf("doctor does not see the appliance running:\n%s", out)
	}
	if !strings.HasPrefix(checkLine(out, "health"), "ok ") {
		t.Errorf("doctor did not read /healthz:\n%s", out)
	}
	for _, name := range []string{"store", "outbox", "modem", "sip", "backup"} {
		if checkLine(out, name) == "" {
			t.Errorf("no %s subsystem in the output:\n%s", name, out)
		}
	}
	if !strings.Contains(checkLine(out, "store"), "tickets") {
		t.Errorf("store line has no detail:\n%s", out)
	}
	if !strings.HasPrefix(checkLine(out, "database"), "ok ") {
		t.Errorf("database of the running appliance not found:\n%s", out)
	}
}

func TestDoctorRedacts(t *testing.T) {
	var b bytes.Buffer
	cl := &checklist{w: &b}
	cl.addSecret(doctorPassword)
	cl.addSecret("")
	cl.add(checkFail, "sip", "registrar said no to %s", doctorPassword)
	cl.detail("again %s", doctorPassword)
	if strings.Contains(b.String(), doctorPassword) || cl.failed != 1 {
		t.Errorf("redact: failed %d, output %q", cl.failed, b.String())
	}
}

func TestDoctorVerdicts(t *testing.T) {
	const gb = 1 << 30
	for _, c := range []struct {
		free, total uint64
		want        string
	}{
		{20 * gb, 32 * gb, checkOK},
		{2 * gb, 32 * gb, checkWarn},   // under 10%
		{400 << 20, 1 * gb, checkWarn}, // under 500 MB
		{0, 0, checkWarn},
	} {
		if got := diskVerdict(c.free, c.total); got != c.want {
			t.Errorf("diskVerdict(%d, %d) = %s, want %s", c.free, c.total, got, c.want)
		}
	}
	for state, want := range map[string]string{"ok": checkOK, "disabled": checkOK, "degraded": checkWarn, "down": checkFail} {
		if got := healthVerdict(state); got != want {
			t.Errorf("healthVerdict(%s) = %s, want %s", state, got, want)
		}
	}
}

func TestDoctorSyncTargets(t *testing.T) {
	fake := zendeskfake.New("owner@shop.example", "the-right-token")
	srv := httptest.NewServer(fake)
	defer srv.Close()
	const wrong = "zd-wrong-token-5521"
	cfg := filepath.Join(t.TempDir(), "counterdesk.toml")
	os.WriteFile(cfg, []byte(`[[sync.targets]]
type = "zendesk"
name = "zendesk"
base_url = "`+srv.URL+`"
email = "owner@shop.example"
token = "`+wrong+`"

[[sync.targets]]
type = "webhook"
name = "hook"
base_url = "http://`+freeAddr(t)+`/hook"
token = "hook-secret-8841"

[[sync.targets]]
type = "freshdesk"
name = "fd"
base_url = "https://shop.freshdesk.com"
`), 0o600)
	bin := buildBinary(t)
	out, code := doctor(t, bin, []string{"COUNTERDESK_CONFIG=" + cfg}, "--data", t.TempDir())
	if code == 0 {
		t.Errorf("doctor passed with refused credentials:\n%s", out)
	}
	for _, secret := range []string{wrong, "hook-secret-8841"} {
		if strings.Contains(out, secret) {
			t.Errorf("doctor printed the secret %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{
		"FAIL  sync zendesk  zendesk at " + srv.URL + " refused the credentials (401)",
		"warn  sync hook",
		"does not answer",
		"FAIL  sync fd",
		"token is empty",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("doctor output lacks %q:\n%s", want, out)
		}
	}
}
