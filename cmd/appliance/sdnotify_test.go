package main

import (
	"bytes"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// notifySocket is a service manager's notification socket, as systemd
// binds it for a Type=notify unit.
type notifySocket struct {
	name string
	conn *net.UnixConn
	msgs chan string
}

// listenNotify binds a datagram socket named name, or one in a new
// temporary folder when name is "", and collects what arrives on it.
func listenNotify(t *testing.T, name string) *notifySocket {
	t.Helper()
	if name == "" {
		// Not t.TempDir: a socket path must fit in 108 bytes.
		dir, err := os.MkdirTemp("", "notify-")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { os.RemoveAll(dir) })
		name = filepath.Join(dir, "notify")
	}
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: name, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	s := &notifySocket{name: name, conn: conn, msgs: make(chan string, 100)}
	go func() {
		defer close(s.msgs)
		buf := make([]byte, 4096)
		for {
			n, _, err := conn.ReadFromUnix(buf)
			if err != nil {
				return
			}
			s.msgs <- string(buf[:n])
		}
	}()
	t.Cleanup(func() { conn.Close() })
	return s
}

// next returns the next datagram, failing the test after wait.
func (s *notifySocket) next(t *testing.T, wait time.Duration) string {
	t.Helper()
	select {
	case m, ok := <-s.msgs:
		if !ok {
			t.Fatal("notification socket closed")
		}
		return m
	case <-time.After(wait):
		t.Fatalf("no notification within %v", wait)
		return ""
	}
}

func discardLog() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestNotify(t *testing.T) {
	s := listenNotify(t, "")
	n := newNotifier([]string{"NOTIFY_SOCKET=" + s.name, "WATCHDOG_USEC=2000000"}, discardLog())
	if got := n.KeepAlive(); got != time.Second {
		t.Errorf("KeepAlive = %v, want 1s (half of WATCHDOG_USEC)", got)
	}
	n.Ready(servingStatus(1234, nil))
	n.Watchdog("")
	n.Status("line one\nline two")
	n.Stopping("shutting down")
	want := []string{
		"READY=1\nSTATUS=serving 1234 tickets",
		"WATCHDOG=1",
		"STATUS=line one line two",
		"STOPPING=1\nSTATUS=shutting down",
	}
	for _, w := range want {
		if got := s.next(t, 5*time.Second); got != w {
			t.Errorf("datagram %q, want %q", got, w)
		}
	}
}

// TestNotifyAbstract sends to a socket in the abstract namespace, which
// systemd names with a leading '@' in $NOTIFY_SOCKET (unix(7)).
func TestNotifyAbstract(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("abstract sockets are Linux only")
	}
	name := fmt.Sprintf("@counterdesk-notify-test-%d-%d", os.Getpid(), time.Now().UnixNano())
	s := listenNotify(t, name)
	n := newNotifier([]string{"NOTIFY_SOCKET=" + name}, discardLog())
	n.Ready("")
	if got := s.next(t, 5*time.Second); got != "READY=1" {
		t.Errorf("datagram %q, want READY=1", got)
	}
	if got := n.KeepAlive(); got != 0 {
		t.Errorf("KeepAlive = %v without WATCHDOG_USEC, want 0", got)
	}
}

// TestNotifyOutsideSystemd checks that without $NOTIFY_SOCKET nothing is
// sent and no keep-alive is asked for, even with a watchdog set.
func TestNotifyOutsideSystemd(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	for _, n := range []*notifier{
		nil,
		newNotifier(nil, log),
		newNotifier([]string{"WATCHDOG_USEC=2000000"}, log),
		newNotifier([]string{"NOTIFY_SOCKET=vsock:2:1234", "WATCHDOG_USEC=2000000"}, log),
	} {
		if n.KeepAlive() != 0 {
			t.Errorf("KeepAlive = %v, want 0", n.KeepAlive())
		}
		n.Ready("ready")
		n.Watchdog("")
		n.Stopping("")
	}
	if got := strings.Count(logs.String(), "not supported"); got != 1 {
		t.Errorf("want one warning about the vsock address, got:\n%s", logs.String())
	}
}

// TestNotifyFailureLoggedOnce checks that a socket that went away is
// reported once, not at every keep-alive.
func TestNotifyFailureLoggedOnce(t *testing.T) {
	var logs bytes.Buffer
	missing := filepath.Join(t.TempDir(), "gone")
	n := newNotifier([]string{"NOTIFY_SOCKET=" + missing, "WATCHDOG_USEC=1000000"}, slog.New(slog.NewTextHandler(&logs, nil)))
	for range 5 {
		n.Watchdog("")
	}
	if got := strings.Count(logs.String(), "systemd notification failed"); got != 1 {
		t.Errorf("logged %d failures, want 1:\n%s", got, logs.String())
	}
}

// TestNotifyWatchdogInterval follows sd_watchdog_enabled(3).
func TestNotifyWatchdogInterval(t *testing.T) {
	const pid = 4242
	for _, tc := range []struct {
		environ []string
		want    time.Duration
	}{
		{nil, 0},
		{[]string{"WATCHDOG_USEC=30000000"}, 30 * time.Second},
		{[]string{"WATCHDOG_USEC=30000000", "WATCHDOG_PID=4242"}, 30 * time.Second},
		{[]string{"WATCHDOG_USEC=30000000", "WATCHDOG_PID=4243"}, 0}, // for another process
		{[]string{"WATCHDOG_USEC=30000000", "WATCHDOG_PID="}, 0},     // set but not a pid
		{[]string{"WATCHDOG_USEC=30000000", "WATCHDOG_PID=x"}, 0},
		{[]string{"WATCHDOG_USEC=0"}, 0},
		{[]string{"WATCHDOG_USEC=-5"}, 0},
		{[]string{"WATCHDOG_USEC=30s"}, 0},
		{[]string{"WATCHDOG_USEC=18446744073709551615"}, 0}, // infinity
	} {
		if got := watchdogInterval(tc.environ, pid); got != tc.want {
			t.Errorf("watchdogInterval(%q) = %v, want %v", tc.environ, got, tc.want)
		}
	}
}

// TestApplianceNotify runs the appliance binary as systemd runs the unit
// with Type=notify and WatchdogSec=2s: READY=1 once it serves, WATCHDOG=1
// every second from the main loop, STOPPING=1 on SIGTERM.
func TestApplianceNotify(t *testing.T) {
	bin := buildBinary(t)
	s := listenNotify(t, "")
	a := start(t, bin, t.TempDir(), "NOTIFY_SOCKET="+s.name, "WATCHDOG_USEC=2000000")
	stopped := false
	defer func() {
		if !stopped {
			a.kill()
		}
	}()

	ready := s.next(t, 10*time.Second)
	if !strings.HasPrefix(ready, "READY=1\n") || !strings.Contains(ready, "STATUS=serving 0 tickets") {
		t.Fatalf("first datagram %q, want READY=1 with the ticket count\n%s", ready, a.logs)
	}
	began := time.Now()
	for i := range 2 {
		m := s.next(t, 3*time.Second)
		if !strings.HasPrefix(m, "WATCHDOG=1\n") {
			t.Fatalf("datagram %d after READY: %q, want WATCHDOG=1", i+1, m)
		}
	}
	if d := time.Since(began); d > 4*time.Second {
		t.Errorf("two keep-alives took %v, want about 2s with WatchdogSec=2s", d)
	}

	a.stop(t)
	stopped = true
	for {
		m := s.next(t, 5*time.Second)
		if strings.HasPrefix(m, "STOPPING=1") {
			break
		}
		if !strings.HasPrefix(m, "WATCHDOG=1") {
			t.Fatalf("unexpected datagram while stopping: %q", m)
		}
	}
}
