package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/modem"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

// Results of one doctor check.
const (
	checkOK   = "ok"
	checkWarn = "warn"
	checkFail = "FAIL"
)

// Free space on the data folder below either bound is worth a warning.
const (
	diskWarnPercent = 10
	diskWarnBytes   = 500 << 20
)

// doctorTimeout bounds each question doctor asks the running appliance.
const doctorTimeout = 5 * time.Second

// syncedFile exists while systemd-timesyncd has the clock synchronised; see
// systemd-timesyncd.service(8).
const syncedFile = "/run/systemd/timesync/synchronized"

// checklist prints one line per check and counts the failures. Every
// line passes through redact, so no secret reaches the screen.
type checklist struct {
	w       io.Writer
	secrets []string
	failed  int
}

// add prints one check: its result, its name and what to do.
func (c *checklist) add(result, name, format string, args ...any) {
	if result == checkFail {
		c.failed++
	}
	line := fmt.Sprintf("%-4s  %-10s  %s", result, name, fmt.Sprintf(format, args...))
	fmt.Fprintln(c.w, c.redact(line))
}

// detail prints an indented line under the last check.
func (c *checklist) detail(format string, args ...any) {
	fmt.Fprintln(c.w, c.redact("                  "+fmt.Sprintf(format, args...)))
}

func (c *checklist) redact(s string) string {
	for _, v := range c.secrets {
		s = strings.ReplaceAll(s, v, "********")
	}
	return s
}

// addSecret makes sure v is never printed.
func (c *checklist) addSecret(v string) {
	if v != "" && !slices.Contains(c.secrets, v) {
		c.secrets = append(c.secrets, v)
	}
}

// cmdDoctor checks the config, the data folder, the running appliance and
// the machine it runs on, and explains each finding, for the person on the
// phone with the shop owner.
func cmdDoctor(args []string, stdout io.Writer, environ []string) error {
	fs := flag.NewFlagSet("doctor", flag.ContinueOnError)
	var c common
	c.register(fs, false)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError(fmt.Sprintf("unexpected argument %q", pos[0]))
	}
	cl := &checklist{w: stdout}
	// Secrets from the environment are known before the config loads, so
	// that even a problem that quotes one does not show it.
	for _, cr := range credentials() {
		cl.addSecret(lookupEnv(environ, cr.env))
	}
	if env, err := withCredentials(environ); err == nil {
		environ = env
		for _, cr := range credentials() {
			cl.addSecret(lookupEnv(environ, cr.env))
		}
	}

	cfg, ok := checkConfig(cl, &c, environ)
	if ok {
		checkMachine(cl, cfg)
		checkSync(cl, cfg.Sync, environ)
	} else {
		cl.add(checkWarn, "other", "the other checks need a config that loads: fix it and run doctor again")
	}
	checkClock(cl)

	if cl.failed > 0 {
		return fmt.Errorf("%d check(s) failed", cl.failed)
	}
	return nil
}

// checkConfig loads the config as run does and reports its problems with
// their lines.
func checkConfig(cl *checklist, c *common, environ []string) (config.Config, bool) {
	cfg, err := c.load(environ)
	name := configName(c.configPath)
	var problems *config.Problems
	switch {
	case errors.As(err, &problems):
		cl.add(checkFail, "config", "%s has %d problem(s); fix them, then check with \"appliance check-config\":", name, len(problems.List))
		for _, line := range strings.Split(problems.Error(), "\n") {
			cl.detail("%s", line)
		}
		return cfg, false
	case err != nil:
		cl.add(checkFail, "config", "cannot read the config: %s", strings.TrimPrefix(err.Error(), errConfig.Error()+": "))
		return cfg, false
	}
	cl.addSecret(cfg.SIP.Password)
	cl.addSecret(cfg.Modem.PIN)
	cl.addSecret(cfg.Mail.IMAPPassword)
	cl.addSecret(cfg.Mail.SMTPPassword)
	cl.add(checkOK, "config", "the config (%s) loads and is valid", name)
	return cfg, true
}

// checkMachine runs the checks that need a valid config.
func checkMachine(cl *checklist, cfg config.Config) {
	dataDir, err := filepath.Abs(cfg.Store.DataDir)
	if err != nil {
		cl.add(checkFail, "data", "data folder %q: %v", cfg.Store.DataDir, err)
		return
	}
	if checkDataDir(cl, dataDir) {
		checkDatabase(cl, dataDir)
		checkDisk(cl, dataDir)
	}
	running := checkRunning(cl, cfg, dataDir)
	if !running {
		checkModem(cl, cfg.Modem.Device)
	}
	checkSIP(cl, cfg.SIP)
}

// checkDataDir reports whether the data folder exists and is writable.
func checkDataDir(cl *checklist, dir string) bool {
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		cl.add(checkWarn, "data", "the data folder %s does not exist yet; the appliance makes it when it first starts", dir)
		return false
	case err != nil:
		cl.add(checkFail, "data", "cannot look at the data folder: %v; check its permissions", err)
		return false
	case !fi.IsDir():
		cl.add(checkFail, "data", "%s is not a folder; set data_dir in [store] to a folder", dir)
		return false
	}
	f, err := os.CreateTemp(dir, ".doctor-*")
	if err != nil {
		cl.add(checkFail, "data", "cannot write in the data folder %s: %v; run doctor as the appliance's user, or fix the folder's owner", dir, errors.Unwrap(err))
		return true
	}
	f.Close()
	os.Remove(f.Name())
	cl.add(checkOK, "data", "the data folder %s is writable", dir)
	return true
}

// checkDatabase reports whether the database file is there and its size.
func checkDatabase(cl *checklist, dir string) {
	path := filepath.Join(dir, ticket.DBFile)
	fi, err := os.Stat(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		cl.add(checkWarn, "database", "no database yet at %s; the appliance makes it when it first starts (restore a backup if there should be one)", path)
	case err != nil:
		cl.add(checkFail, "database", "cannot look at the database: %v", err)
	default:
		cl.add(checkOK, "database", "%s, %s", path, byteSize(fi.Size()))
	}
}

// checkDisk warns when the data folder's disk is nearly full.
func checkDisk(cl *checklist, dir string) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		cl.add(checkWarn, "disk", "cannot tell the free space: %v", err)
		return
	}
	free := uint64(st.Bavail) * uint64(st.Bsize)
	total := uint64(st.Blocks) * uint64(st.Bsize)
	verdict := diskVerdict(free, total)
	msg := fmt.Sprintf("%s free of %s", byteSize(int64(free)), byteSize(int64(total)))
	if verdict == checkWarn {
		msg += "; the disk is nearly full: remove old files or move the data to a larger card"
	}
	cl.add(verdict, "disk", "%s", msg)
}

// diskVerdict says whether free bytes of total are enough.
func diskVerdict(free, total uint64) string {
	if free < diskWarnBytes || (total > 0 && free*100 < total*diskWarnPercent) {
		return checkWarn
	}
	return checkOK
}

// checkRunning reports whether the appliance answers on its control
// socket and, if it does, the health of each of its subsystems. It
// returns whether the appliance runs.
func checkRunning(cl *checklist, cfg config.Config, dataDir string) bool {
	path := filepath.Join(dataDir, ControlSocket)
	conn, err := net.DialTimeout("unix", path, doctorTimeout)
	switch {
	case err == nil:
		conn.Close()
		cl.add(checkOK, "appliance", "running: it answers on %s", path)
	case errors.Is(err, os.ErrPermission):
		cl.add(checkWarn, "appliance", "cannot reach %s (permission denied); run doctor as the appliance's user, for example with sudo -u counterdesk", path)
	default:
		cl.add(checkWarn, "appliance", "not running; start it with \"systemctl start counterdesk\" (or \"appliance run\")")
		return false
	}
	url, client, err := healthClient(cfg.HTTP, dataDir)
	if err != nil {
		cl.add(checkFail, "health", "cannot ask %s: %v", url, err)
		return true
	}
	var h struct {
		Status     string                   `json:"status"`
		Version    string                   `json:"version"`
		Subsystems map[string]health.Status `json:"subsystems"`
	}
	if err := getJSON(client, url, &h); err != nil {
		cl.add(checkFail, "health", "the staff pages do not answer at %s: %v; look at the log with \"journalctl -u counterdesk\"", url, err)
		return true
	}
	cl.add(checkOK, "health", "version %s answers at %s", h.Version, url)
	names := make([]string, 0, len(h.Subsystems))
	for n := range h.Subsystems {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		st := h.Subsystems[n]
		detail := st.Detail
		if detail == "" {
			detail = st.State
		}
		cl.add(healthVerdict(st.State), n, "%s: %s", st.State, detail)
	}
	return true
}

// healthVerdict maps a subsystem's state to a check result.
func healthVerdict(state string) string {
	switch state {
	case health.OK, health.Disabled:
		return checkOK
	case health.Down:
		return checkFail
	}
	return checkWarn
}

// healthClient returns the address of the running appliance's /healthz
// and a client for it. A self-signed certificate is not verified, since
// the question goes to this machine; a certificate from files must be the
// one in cert_file.
func healthClient(c config.HTTP, dataDir string) (string, *http.Client, error) {
	host, port, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return c.Listen, nil, err
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	tr := &http.Transport{}
	scheme := "http"
	switch c.TLS {
	case "self-signed":
		scheme = "https"
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	case "files":
		scheme = "https"
		want, err := certDER(c.CertFile)
		if err != nil {
			return scheme + "://" + net.JoinHostPort(host, port) + "/healthz", nil, err
		}
		tr.TLSClientConfig = &tls.Config{
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 || !bytes.Equal(raw[0], want) {
					return errors.New("the certificate is not the one in cert_file")
				}
				return nil
			},
		}
	}
	url := scheme + "://" + net.JoinHostPort(host, port) + "/healthz"
	return url, &http.Client{Timeout: doctorTimeout, Transport: tr}, nil
}

// certDER returns the first certificate of a PEM file.
func certDER(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return nil, fmt.Errorf("no certificate in %s", path)
		}
		if b.Type == "CERTIFICATE" {
			return b.Bytes, nil
		}
	}
}

// getJSON decodes the body of a GET. /healthz answers 503 with its body
// when a subsystem is down, so any status with a JSON body will do.
func getJSON(client *http.Client, url string, v any) error {
	ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	r, err := client.Do(req)
	if err != nil {
		return err
	}
	defer r.Body.Close()
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<20)).Decode(v); err != nil {
		return fmt.Errorf("%s: %w", r.Status, err)
	}
	return nil
}

// checkModem reports whether the configured modem is plugged in, when the
// appliance is not running to say so itself.
func checkModem(cl *checklist, device string) {
	switch device {
	case "off":
		cl.add(checkOK, "modem", "off (device = \"off\" in [modem]): no SMS")
	case "auto", "":
		path, model, err := modem.FindModem("")
		if err != nil {
			cl.add(checkWarn, "modem", "no known modem found under /dev/serial/by-id; plug in the GSM USB stick, or set device in [modem]")
			return
		}
		cl.add(checkOK, "modem", "found a %s at %s", model, path)
	default:
		if _, err := os.Stat(device); err != nil {
			cl.add(checkFail, "modem", "the modem %s is not there; check its USB cable, or set device in [modem]", device)
			return
		}
		cl.add(checkOK, "modem", "the modem %s is there", device)
	}
}

// checkSIP says how the phone line is set up. Whether registration works
// is reported by the running appliance's "sip" health.
func checkSIP(cl *checklist, s config.SIP) {
	switch s.Mode {
	case "off":
		cl.add(checkOK, "sip", "the phone line is off (mode = \"off\" in [sip])")
	case "register":
		cl.add(checkOK, "sip", "registers with %s as %q, listening on %s; see the sip line above for whether it is registered", s.Registrar, s.Username, s.Listen)
	default:
		cl.add(checkOK, "sip", "listens for calls on %s (the provider or the desk phone sends calls here)", s.Listen)
	}
}

// checkSync asks each cloud helpdesk whether it answers and takes the
// credentials, with the cheapest request the vendor offers.
func checkSync(cl *checklist, s config.Sync, environ []string) {
	if len(s.Targets) == 0 {
		cl.add(checkOK, "sync", "no cloud helpdesk configured ([[sync.targets]]): tickets stay on the box")
		return
	}
	for _, t := range s.Targets {
		cl.addSecret(t.Token)
		if dir := lookupEnv(environ, envCredentialsDir); dir != "" {
			if token, err := credentialValue(dir, "sync-"+t.Name); err == nil {
				cl.addSecret(token)
			}
		}
		name := "sync " + t.Name
		one := s
		one.Targets = []config.SyncTarget{t}
		targets, err := syncTargets(one, environ)
		if err != nil {
			msg := strings.TrimPrefix(err.Error(), errConfig.Error()+": ")
			cl.add(checkFail, name, "%s", strings.TrimPrefix(msg, fmt.Sprintf("sync target %q: ", t.Name)))
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 2*doctorTimeout)
		err = targets[0].Target.Probe(ctx)
		cancel()
		var offline *sync.OfflineError
		var httpErr *sync.HTTPError
		switch {
		case err == nil:
			cl.add(checkOK, name, "%s at %s answers and takes the credentials", t.Type, t.BaseURL)
		case errors.As(err, &offline) || errors.Is(err, context.DeadlineExceeded):
			cl.add(checkWarn, name, "%s at %s does not answer (%v): check the internet connection and base_url; copies wait in the queue meanwhile", t.Type, t.BaseURL, err)
		case errors.As(err, &httpErr) && httpErr.AuthError():
			cl.add(checkFail, name, "%s at %s refused the credentials (%d): check the token (the credential sync-%s)%s", t.Type, t.BaseURL, httpErr.Status, t.Name, zendeskHint(t))
		default:
			cl.add(checkWarn, name, "%s at %s answers, but the check request failed: %v", t.Type, t.BaseURL, err)
		}
	}
}

func zendeskHint(t config.SyncTarget) string {
	if t.Type == "zendesk" && t.Auth != "bearer" {
		return " and that email is the agent the API token belongs to"
	}
	return ""
}

// checkClock reports whether the system clock is synchronised: a Pi
// without a real-time clock boots in 1970 and stamps tickets wrongly
// until it is.
func checkClock(cl *checklist) {
	switch clockSynced() {
	case "yes":
		cl.add(checkOK, "clock", "synchronised (%s)", time.Now().UTC().Format(time.DateTime+" UTC"))
	case "no":
		cl.add(checkWarn, "clock", "not synchronised: the box needs network time; check the network and \"timedatectl\"")
	default:
		cl.add(checkWarn, "clock", "unknown whether the clock is synchronised; it reads %s, check that against a watch", time.Now().UTC().Format(time.DateTime+" UTC"))
	}
}

// clockSynced answers "yes", "no" or "unknown".
func clockSynced() string {
	if _, err := os.Stat(syncedFile); err == nil {
		return "yes"
	}
	if _, err := exec.LookPath("timedatectl"); err != nil {
		return "unknown"
	}
	ctx, cancel := context.WithTimeout(context.Background(), doctorTimeout)
	defer cancel()
	out, err := exec.CommandContext(ctx, "timedatectl", "show", "-p", "NTPSynchronized", "--value").Output()
	if err != nil {
		return "unknown"
	}
	switch strings.TrimSpace(string(out)) {
	case "yes":
		return "yes"
	case "no":
		return "no"
	}
	return "unknown"
}

// byteSize writes n bytes for a person.
func byteSize(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d bytes", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %cB", float64(n)/float64(div), "KMGTPE"[exp])
}
