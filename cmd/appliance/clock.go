package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	stdsync "sync"
	"syscall"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"golang.org/x/sys/unix"
)

// bootIDFile holds the id of the current boot; see random(4).
const bootIDFile = "/proc/sys/kernel/random/boot_id"

// systemClock tells the store whether the system clock is synchronised:
// systemd-timesyncd says so with syncedFile, and the kernel clears
// STA_UNSYNC (adjtimex(2)) once any NTP client (timesyncd, chrony, ntpd)
// disciplines the clock. With trust set ([store] clock = "trust", for a
// box with a real-time clock and no network time) it is always trusted.
//
// The store asks at every request; the answer is looked up at most once
// a second, not with a stat and a system call each time.
type systemClock struct {
	trust bool

	mu     stdsync.Mutex
	synced bool
	at     time.Time // when synced was looked up
}

var _ ticket.Clock = (*systemClock)(nil)

// storeClock returns the clock of the [store] settings.
func storeClock(s config.Store) *systemClock { return &systemClock{trust: s.Clock == "trust"} }

// clockRecheck is how long a looked-up answer of Synced holds.
const clockRecheck = time.Second

// Synced reports whether the clock is synchronised.
func (c *systemClock) Synced() bool {
	if c.trust {
		return true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if now := time.Now(); c.at.IsZero() || now.Sub(c.at) >= clockRecheck {
		c.synced, c.at = kernelSynced(), now
	}
	return c.synced
}

// kernelSynced reports whether systemd-timesyncd or the kernel says the
// clock is synchronised.
func kernelSynced() bool {
	if _, err := os.Stat(syncedFile); err == nil {
		return true
	}
	var tx syscall.Timex
	state, err := syscall.Adjtimex(&tx)
	if err != nil {
		return true // no way to know: trust it rather than stop the rules
	}
	const timeError = 5 // TIME_ERROR: the clock is not synchronised
	return state != timeError
}

// Boot returns the boot's id and the time since boot, counting suspend.
func (*systemClock) Boot() (string, time.Duration) {
	id := "unknown"
	if data, err := os.ReadFile(bootIDFile); err == nil {
		id = strings.TrimSpace(string(data))
	}
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return id, 0
	}
	return id, time.Duration(ts.Nano())
}

// clockEvery is how often the appliance looks whether the clock became
// synchronised.
const clockEvery = 10 * time.Second

// watchClock reports the clock's state every interval and, when it becomes
// synchronised, corrects the times of the requests that came before.
func watchClock(ctx context.Context, c ticket.Clock, every time.Duration, desk *ticket.Desk, reg *health.Registry, log *slog.Logger) {
	synced := false
	check := func() {
		now := c.Synced()
		if now && !synced {
			n, err := desk.CorrectClock()
			switch {
			case errors.Is(err, ticket.ErrClosed):
				return
			case err != nil:
				log.Error("correcting the times of requests stamped before the clock was synchronised", "err", err)
				reg.Fail("clock", health.Degraded, err)
				return
			case n > 0:
				log.Info("clock synchronised", "corrected_messages", n)
			}
		}
		if now != synced || !now {
			if now {
				reg.Set("clock", health.OK, "synchronised")
			} else {
				reg.Set("clock", health.Degraded, "not synchronised: requests are stamped as well as the box can, flagged, and corrected when network time arrives; time rules wait. Check the network, or set [store] clock = \"trust\" on a box with a real-time clock")
			}
		}
		synced = now
	}
	check()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			check()
		}
	}
}
