package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"
)

// The service manager's notification protocol, as sd_notify(3) and
// sd_watchdog_enabled(3) describe it: each state change is one datagram of
// newline-separated "KEY=value" lines, sent to the AF_UNIX socket named by
// $NOTIFY_SOCKET. The unit's Type=notify waits for READY=1; WatchdogSec=
// restarts the appliance when WATCHDOG=1 stops arriving.
const (
	envNotifySocket = "NOTIFY_SOCKET"
	envWatchdogUsec = "WATCHDOG_USEC"
	envWatchdogPID  = "WATCHDOG_PID"
)

// notifier tells systemd how the appliance is doing. A nil notifier, and
// one made outside systemd (no $NOTIFY_SOCKET), does nothing. Its methods
// are called from the main loop only.
type notifier struct {
	addr     *net.UnixAddr // nil when nobody listens
	watchdog time.Duration // the unit's WatchdogSec, or 0 when off
	log      *slog.Logger
	failing  bool // the last send failed; logged once until one succeeds
}

// newNotifier reads the notification socket and the watchdog settings from
// environ. A socket address that is neither a path nor abstract ('@'), such
// as a vsock address, is reported and ignored.
func newNotifier(environ []string, log *slog.Logger) *notifier {
	n := &notifier{log: log}
	socket := lookupEnv(environ, envNotifySocket)
	switch {
	case socket == "":
		return n
	case strings.HasPrefix(socket, "/"), strings.HasPrefix(socket, "@"):
		// Go's net package turns a leading '@' into the NUL byte that
		// starts an abstract socket name (unix(7)).
		n.addr = &net.UnixAddr{Name: socket, Net: "unixgram"}
	default:
		log.Warn("systemd notification socket not supported, not notifying", "socket", socket)
		return n
	}
	n.watchdog = watchdogInterval(environ, os.Getpid())
	return n
}

// watchdogInterval returns the watchdog timeout systemd set for process pid,
// or 0 when there is none. As in sd_watchdog_enabled(3): $WATCHDOG_USEC must
// be a positive number of microseconds, and when $WATCHDOG_PID is set (even
// to something that does not parse) it must be pid, so that a child that
// inherits the environment does not take over the keep-alives.
func watchdogInterval(environ []string, pid int) time.Duration {
	usec, err := strconv.ParseUint(lookupEnv(environ, envWatchdogUsec), 10, 64)
	if err != nil || usec == 0 || usec > uint64(1<<63-1)/uint64(time.Microsecond) {
		return 0
	}
	if p, ok := lookupEnvOK(environ, envWatchdogPID); ok {
		if n, err := strconv.Atoi(p); err != nil || n != pid {
			return 0
		}
	}
	return time.Duration(usec) * time.Microsecond
}

// lookupEnvOK is lookupEnv that also says whether name is set at all.
func lookupEnvOK(environ []string, name string) (string, bool) {
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok && k == name {
			return v, true
		}
	}
	return "", false
}

// KeepAlive returns how often to send WATCHDOG=1: half the unit's
// WatchdogSec, as sd_watchdog_enabled(3) advises, or 0 when the watchdog is
// off.
func (n *notifier) KeepAlive() time.Duration {
	if n == nil {
		return 0
	}
	return n.watchdog / 2
}

// Ready tells systemd that the appliance has started: the unit becomes
// active and units ordered after it start.
func (n *notifier) Ready(status string) { n.send("READY=1", status) }

// Status sets the line "systemctl status counterdesk" shows.
func (n *notifier) Status(status string) { n.send("", status) }

// Watchdog says the main loop is alive, and updates the status line.
func (n *notifier) Watchdog(status string) { n.send("WATCHDOG=1", status) }

// Stopping tells systemd that the appliance is shutting down of its own
// accord, so the stop is not mistaken for a crash or a hang.
func (n *notifier) Stopping(status string) { n.send("STOPPING=1", status) }

// send sends state and a STATUS= line for status, leaving out what is
// empty. A failure is logged once, and again only after a send succeeded.
func (n *notifier) send(state, status string) {
	if n == nil || n.addr == nil {
		return
	}
	var lines []string
	if state != "" {
		lines = append(lines, state)
	}
	if status != "" {
		// A STATUS= value ends at the newline.
		lines = append(lines, "STATUS="+strings.ReplaceAll(status, "\n", " "))
	}
	if len(lines) == 0 {
		return
	}
	err := notify(n.addr, strings.Join(lines, "\n"))
	switch {
	case err != nil && !n.failing:
		n.log.Warn("systemd notification failed", "socket", n.addr.Name, "err", err)
	case err == nil && n.failing:
		n.log.Info("systemd notification works again", "socket", n.addr.Name)
	}
	n.failing = err != nil
}

// notify sends msg to addr as one datagram.
func notify(addr *net.UnixAddr, msg string) error {
	conn, err := net.DialUnix("unixgram", nil, addr)
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	defer conn.Close()
	n, err := conn.Write([]byte(msg))
	if err == nil && n < len(msg) {
		err = errors.New("short write")
	}
	if err != nil {
		return fmt.Errorf("notify: %w", err)
	}
	return nil
}

// servingStatus is the status line of a running appliance.
func servingStatus(tickets uint64, err error) string {
	if err != nil {
		return "store unreadable: " + err.Error()
	}
	if tickets == 1 {
		return "serving 1 ticket"
	}
	return fmt.Sprintf("serving %d tickets", tickets)
}
