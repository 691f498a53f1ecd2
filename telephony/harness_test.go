package telephony

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

// line is a phone line on loopback with a real ticket store behind it.
type line struct {
	svc  *Service
	desk *ticket.Desk
	logs *syncBuffer
}

// startLine starts a line on 127.0.0.1 with a free port, a 1 s ring and a
// 100 ms greeting; change adjusts the configuration first.
func startLine(t testing.TB, change func(*Service)) *line {
	t.Helper()
	desk, err := ticket.Open(t.TempDir(), ticket.Options{Region: "GB"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	logs := &syncBuffer{}
	svc := &Service{
		Config: Config{
			Mode: "listen", Listen: "127.0.0.1:0", UDP: true, TCP: true,
			RTPPortMin: 30000, RTPPortMax: 30999,
			Ring: time.Second, RingAfterHours: time.Second,
			MaxMessage: 60 * time.Second, MinMessage: 2 * time.Second, Silence: 8 * time.Second,
			MaxCalls: 8, SpoolDir: t.TempDir(), TranscribeTimeout: 5 * time.Second,
		},
		Desk:      desk,
		Greetings: Greetings{Open: tone(100*time.Millisecond, 400), Closed: tone(100*time.Millisecond, 600)},
		Log:       slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	if change != nil {
		change(svc)
	}
	// change may give the line a store of its own (with triage rules).
	if d, ok := svc.Desk.(*ticket.Desk); ok {
		desk = d
	}
	if err := svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		svc.Close()
		if t.Failed() {
			t.Logf("line log:\n%s", logs.String())
		}
	})
	return &line{svc: svc, desk: desk, logs: logs}
}

// port is the line's SIP port.
func (l *line) port() int { return l.svc.sipPort() }

// waitStats waits until ok holds for the line's counters.
func (l *line) waitStats(t testing.TB, what string, ok func(Stats) bool) Stats {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st := l.svc.Stats()
		if ok(st) {
			return st
		}
		if time.Now().After(deadline) {
			t.Fatalf("waiting for %s: stats %+v", what, st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// tickets returns every ticket's thread.
func (l *line) threads(t testing.TB) []ticket.Thread {
	t.Helper()
	page, err := l.desk.List(ticket.Filter{Limit: 500})
	if err != nil {
		t.Fatal(err)
	}
	var out []ticket.Thread
	for _, tk := range page.Tickets {
		th, err := l.desk.Thread(tk.Number)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, th)
	}
	return out
}

// tone returns d of a sine at hz, -10 dBFS.
func tone(d time.Duration, hz float64) []int16 {
	n := int(d * 8000 / time.Second)
	out := make([]int16, n)
	for i := range out {
		out[i] = int16(10362 * math.Sin(2*math.Pi*hz*float64(i)/8000))
	}
	return out
}

// sipp returns the sipp binary. With CI=true a missing sipp fails the
// test; elsewhere it skips.
func sipp(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipp is not installed (Debian package sip-tester); make check installs it")
		}
		t.Skip("sipp is not installed (Debian package sip-tester)")
	}
	return p
}

// runSipp runs one sipp scenario from testdata/sipp against the line and
// returns its exit status and output. args are extra sipp arguments.
func runSipp(t *testing.T, l *line, scenario string, args ...string) (int, string) {
	t.Helper()
	return runSippIn(t, l, t.TempDir(), scenario, args...)
}

// runSippIn runs sipp in dir, where a scenario finds its audio files.
func runSippIn(t *testing.T, l *line, dir, scenario string, args ...string) (int, string) {
	t.Helper()
	bin := sipp(t)
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	if err != nil {
		t.Fatal(err)
	}
	all := []string{
		"-sf", sf, "-m", "1", "-l", "1", "-i", "127.0.0.1",
		"-cp", strconv.Itoa(freePort(t)), "-mp", strconv.Itoa(freePort(t)),
		"-timeout", "90s", "-timeout_error", "-nostdin", "-trace_err", "-trace_screen",
	}
	all = append(all, args...)
	all = append(all, fmt.Sprintf("127.0.0.1:%d", l.port()))
	cmd := exec.Command(bin, all...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	// sipp writes its error log and screen into its working folder.
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, p := range logs {
		b, _ := os.ReadFile(p)
		if len(bytes.TrimSpace(b)) > 0 && (code != 0 || strings.Contains(p, "_errors")) {
			fmt.Fprintf(&out, "\n--- %s ---\n%s", filepath.Base(p), b)
		}
	}
	return code, out.String()
}

// freePort returns a port that was free on 127.0.0.1 for both UDP and TCP
// a moment ago.
func freePort(t testing.TB) int {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := u.LocalAddr().(*net.UDPAddr).Port
		tl, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		u.Close()
		if err == nil {
			tl.Close()
			// sipp's RTP takes port+2 as well for its echo socket.
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu  stdsync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
