package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	stdsync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ticket"
	bolt "go.etcd.io/bbolt"
)

// buildBinary builds the appliance once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(binDir, "appliance")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	out, err := exec.Command("go", "build", "-race", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

var binDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "counterdesk-bin-")
	if err != nil {
		panic(err)
	}
	binDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// appliance is a running appliance process.
type appliance struct {
	cmd  *exec.Cmd
	addr string
	logs *logBuffer
}

// logBuffer collects a process's log while the test reads it.
type logBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// start runs "appliance run" on dataDir and waits until /healthz answers.
func start(t *testing.T, bin, dataDir string, env ...string) *appliance {
	t.Helper()
	a := &appliance{addr: freeAddr(t), logs: &logBuffer{}}
	a.cmd = exec.Command(bin, "run", "--data", dataDir, "--http", a.addr)
	// The phone line listens on a port of its own, not the shared 5060,
	// unless the test names one.
	a.cmd.Env = append(os.Environ(), "COUNTERDESK_SIP_LISTEN=127.0.0.1:0")
	// A test machine's clock is right, but often not disciplined by an
	// NTP client the kernel knows of; TestApplianceUnsyncedClock runs the
	// appliance with clock = "auto".
	a.cmd.Env = append(a.cmd.Env, "COUNTERDESK_STORE_CLOCK=trust")
	a.cmd.Env = append(a.cmd.Env, env...)
	a.cmd.Stderr = a.logs
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		r, err := http.Get("http://" + a.addr + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				return a
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.cmd.Process.Kill()
	a.cmd.Wait()
	t.Fatalf("appliance did not become ready:\n%s", a.logs)
	return nil
}

func (a *appliance) stop(t *testing.T) {
	t.Helper()
	a.cmd.Process.Signal(syscall.SIGTERM)
	if err := a.cmd.Wait(); err != nil {
		t.Errorf("appliance exited with %v:\n%s", err, a.logs)
	}
}

func (a *appliance) kill() {
	a.cmd.Process.Signal(syscall.SIGKILL)
	a.cmd.Wait()
}

// cli runs the binary and returns its stdout and exit code.
func cli(t *testing.T, bin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

type api struct {
	addr, token string
	client      *http.Client
}

type createReply struct {
	Ticket    ticket.Ticket `json:"ticket"`
	Duplicate bool          `json:"duplicate"`
}

func (c *api) create(key, subject string) (createReply, int, error) {
	body, _ := json.Marshal(map[string]any{
		"subject": subject, "body": "crash test request " + subject,
		"contact": map[string]string{"phone": "+447700900123"},
	})
	req, _ := http.NewRequest("POST", "http://"+c.addr+"/api/v1/tickets", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", key)
	r, err := c.client.Do(req)
	if err != nil {
		return createReply{}, 0, err
	}
	defer r.Body.Close()
	var cr createReply
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return cr, r.StatusCode, err
	}
	if r.StatusCode == http.StatusCreated || r.StatusCode == http.StatusOK {
		err = json.Unmarshal(data, &cr)
	}
	return cr, r.StatusCode, err
}

func (c *api) listAll(t *testing.T) []ticket.Ticket {
	t.Helper()
	var all []ticket.Ticket
	cursor := ""
	for {
		req, _ := http.NewRequest("GET", "http://"+c.addr+"/api/v1/tickets?limit=500&cursor="+cursor, nil)
		req.Header.Set("Authorization", "Bearer "+c.token)
		r, err := c.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var page ticket.Page
		err = json.NewDecoder(r.Body).Decode(&page)
		r.Body.Close()
		if err != nil || r.StatusCode != http.StatusOK {
			t.Fatalf("list: %d %v", r.StatusCode, err)
		}
		all = append(all, page.Tickets...)
		if page.Next == "" {
			return all
		}
		cursor = page.Next
	}
}

// TestCrashLosesNoAcknowledgedRequest runs the real binary, ingests over
// HTTP from this process in a loop, and kills the appliance with SIGKILL at
// random moments. Every request the appliance acknowledged must be there
// exactly once after restart, and the database must check clean.
func TestCrashLosesNoAcknowledgedRequest(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test runs the binary 20 times")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	token, _, code := cli(t, bin, "token", "create", "crash", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	c := &api{token: strings.TrimSpace(token), client: &http.Client{Timeout: 5 * time.Second}}

	acked := map[string]uint64{} // idempotency key -> ticket number
	var tried []string
	const cycles = 20
	const producers = 4
	for cycle := range cycles {
		a := start(t, bin, data)
		c.addr = a.addr
		type ack struct {
			key string
			n   uint64
		}
		acks := make(chan ack, 4096)
		keys := make(chan string, 4096)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		for p := range producers {
			go func() {
				defer func() { done <- struct{}{} }()
				for i := 0; ctx.Err() == nil; i++ {
					key := fmt.Sprintf("c%02d-p%d-%04d", cycle, p, i)
					keys <- key
					cr, status, err := c.create(key, key)
					if err != nil {
						return // the appliance died under us
					}
					if status != http.StatusCreated {
						t.Errorf("create %s: status %d", key, status)
						return
					}
					acks <- ack{key, cr.Ticket.Number}
				}
			}()
		}
		// Kill at a random moment between 30 and 400 ms of load.
		time.Sleep(time.Duration(30+time.Now().UnixNano()%370) * time.Millisecond)
		a.kill()
		cancel()
		for range producers {
			<-done
		}
		close(acks)
		close(keys)
		for k := range keys {
			tried = append(tried, k)
		}
		for a := range acks {
			acked[a.key] = a.n
		}
	}
	if len(acked) < cycles {
		t.Fatalf("only %d requests acknowledged over %d cycles", len(acked), cycles)
	}

	a := start(t, bin, data)
	c.addr = a.addr
	// Every acknowledged request is there, under the number it was given.
	for key, n := range acked {
		cr, status, err := c.create(key, key)
		if err != nil || status != http.StatusOK || !cr.Duplicate || cr.Ticket.Number != n {
			t.Fatalf("acknowledged %s (#%d): after crash got %d %+v %v", key, n, status, cr, err)
		}
	}
	// Retrying the unacknowledged ones completes them; none exists twice.
	for _, key := range tried {
		if _, status, err := c.create(key, key); err != nil || (status != http.StatusOK && status != http.StatusCreated) {
			t.Fatalf("retry %s: %d %v", key, status, err)
		}
	}
	seen := map[string]int{}
	for _, tk := range c.listAll(t) {
		seen[tk.Subject]++
	}
	for _, key := range tried {
		if seen[key] != 1 {
			t.Errorf("request %s stored %d times", key, seen[key])
		}
	}
	if len(seen) != len(tried) {
		t.Errorf("%d tickets for %d distinct requests", len(seen), len(tried))
	}
	a.stop(t)
	t.Logf("%d cycles, %d requests acknowledged, %d tried", cycles, len(acked), len(tried))

	db, err := bolt.Open(filepath.Join(data, ticket.DBFile), 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			return err
		}
		return nil
	}); err != nil {
		t.Errorf("database check after crashes: %v", err)
	}
}

func TestCommandLine(t *testing.T) {
	bin := buildBinary(t)

	out, _, code := cli(t, bin, "version")
	if code != 0 || !strings.HasPrefix(out, "counterdesk ") {
		t.Errorf("version: %d %q", code, out)
	}
	out, _, code = cli(t, bin, "config", "default")
	if code != 0 {
		t.Fatalf("config default exited %d", code)
	}
	if _, err := config.Parse([]byte(out)); err != nil {
		t.Errorf("config default does not parse: %v", err)
	}

	bad := filepath.Join(t.TempDir(), "bad.toml")
	os.WriteFile(bad, []byte("[http]\nlisten = \"nope\"\n\n[store]\nthread_windw = \"1h\"\n"), 0o600)
	out, _, code = cli(t, bin, "check-config", bad)
	if code != ExitConfig {
		t.Errorf("check-config on a bad file exited %d, want %d", code, ExitConfig)
	}
	if !strings.Contains(out, bad+":5:") {
		t.Errorf("check-config output names no line 5:\n%s", out)
	}
	good := filepath.Join(t.TempDir(), "good.toml")
	os.WriteFile(good, config.Example(), 0o600)
	if out, _, code := cli(t, bin, "check-config", good); code != 0 {
		t.Errorf("check-config on the example: %d %s", code, out)
	}
	if _, _, code := cli(t, bin, "frobnicate"); code != ExitUsage {
		t.Errorf("unknown command exited %d", code)
	}
	if _, _, code := cli(t, bin, "run", "--data", t.TempDir(), "--config", bad); code != ExitConfig {
		t.Errorf("run with a bad config exited %d, want %d", code, ExitConfig)
	}
}

// TestRunningApplianceCommands covers what staff do on the box while it
// serves: a token made while it runs works at once, a hot backup restores
// into a second instance, and restore refuses a data folder in use. Two
// instances run side by side on their own data and ports.
func TestRunningApplianceCommands(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	a := start(t, bin, data, "COUNTERDESK_SHOP_DEFAULT_REGION=PT")
	defer a.stop(t)

	token, _, code := cli(t, bin, "token", "create", "pos", "--role", "agent", "--data", data)
	if code != 0 {
		t.Fatalf("token create while running exited %d", code)
	}
	c := &api{addr: a.addr, token: strings.TrimSpace(token), client: http.DefaultClient}
	cr, status, err := c.create("k1", "Swollen LiPo after charging")
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, err)
	}

	backup := filepath.Join(t.TempDir(), "nightly")
	out, _, code := cli(t, bin, "backup", backup, "--data", data)
	if code != 0 || !strings.Contains(out, "1 tickets") {
		t.Fatalf("backup while running: %d %q", code, out)
	}
	if _, _, code := cli(t, bin, "restore", backup, "--data", data); code == 0 {
		t.Error("restore into the running appliance's folder succeeded")
	}

	other := t.TempDir()
	if out, _, code := cli(t, bin, "restore", backup, "--data", other); code != 0 {
		t.Fatalf("restore: %d %s", code, out)
	}
	b := start(t, bin, other)
	defer b.stop(t)
	c2 := &api{addr: b.addr, token: c.token, client: http.DefaultClient}
	got, status, err := c2.create("k1", "Swollen LiPo after charging")
	if err != nil || status != http.StatusOK || !got.Duplicate || got.Ticket.Number != cr.Ticket.Number {
		t.Errorf("restored instance: %d %+v %v", status, got, err)
	}

	// The log says where everything is.
	sc := bufio.NewScanner(strings.NewReader(a.logs.String()))
	ready := false
	for sc.Scan() {
		line := sc.Text()
		if strings.Contains(line, "counterdesk ready") && strings.Contains(line, "http://"+a.addr) && strings.Contains(line, data) {
			ready = true
		}
		if strings.Contains(line, c.token) {
			t.Error("a token secret reached the log")
		}
	}
	if !ready {
		t.Errorf("no ready line with the address and data folder:\n%s", a.logs)
	}
}

// At the default level the appliance writes no log line per request: a
// box that takes a thousand requests a day writes the same few lines as
// one that takes none, and the SD card is spared. Each line it does write
// is bounded.
func TestApplianceLogVolume(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	token, _, code := cli(t, bin, "token", "create", "volume", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	a := start(t, bin, data)
	c := &api{addr: a.addr, token: strings.TrimSpace(token), client: &http.Client{Timeout: 5 * time.Second}}
	startup := len(strings.Split(strings.TrimSpace(a.logs.String()), "\n"))
	const requests = 300
	for i := range requests {
		if _, status, err := c.create(fmt.Sprint("vol-", i), fmt.Sprint("Receiver binding ", i)); err != nil || status != http.StatusCreated {
			t.Fatalf("create: %d %v", status, err)
		}
	}
	if n := len(c.listAll(t)); n != requests {
		t.Fatalf("%d tickets listed", n)
	}
	a.stop(t)
	logs := strings.TrimSpace(a.logs.String())
	lines := strings.Split(logs, "\n")
	t.Logf("%d log lines (%d at start-up, %d bytes in all) for %d requests and a listing", len(lines), startup, len(logs), requests)
	if extra := len(lines) - startup; extra > 10 {
		t.Errorf("%d log lines after start-up for %d requests; the default level must not log each request:\n%s", extra, requests, logs)
	}
	for _, l := range lines {
		if len(l) > 2000 {
			t.Errorf("a log line of %d bytes: %.200s...", len(l), l)
		}
	}
}
