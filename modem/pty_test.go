package modem

import (
	"context"
	"io"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/creack/pty"
)

// quirkyModem behaves like a real one on a pseudo-terminal: echo until
// ATE0, a ^RSSI in the middle of an answer, a slow AT+COPS?, a +CMS ERROR
// on the first delete, and a port that vanishes and comes back.
type quirkyModem struct {
	live     *liveModem
	mu       stdsync.Mutex
	ptmx     io.ReadWriteCloser
	opens    atomic.Int32
	failCMGD atomic.Bool
	vanish   atomic.Bool
}

func (q *quirkyModem) answer(cmd string) string {
	if q.vanish.CompareAndSwap(true, false) {
		return hangUp
	}
	switch {
	case cmd == "AT+CSQ":
		return "\r\n+CSQ: 20,99\r\n\r\n^RSSI: 20\r\n\r\nOK\r\n"
	case cmd == "AT+COPS?":
		time.Sleep(300 * time.Millisecond)
	case strings.HasPrefix(cmd, "AT+CMGD=") && q.failCMGD.CompareAndSwap(true, false):
		return "\r\n+CMS ERROR: 500\r\n"
	}
	return q.live.answer(cmd)
}

// open makes a new pseudo-terminal for each opening, as a replugged USB
// modem gets a new device, and opens its slave side with tarm/serial.
func (q *quirkyModem) open(t *testing.T) func() (io.ReadWriteCloser, error) {
	return func() (io.ReadWriteCloser, error) {
		ptmx, tty, err := pty.Open()
		if err != nil {
			return nil, err
		}
		defer tty.Close()
		f := &fakeModem{conn: ptmx, echo: true, answer: q.answer, pdus: make(chan string, 8)}
		go f.serve()
		q.mu.Lock()
		q.ptmx = ptmx
		q.mu.Unlock()
		q.opens.Add(1)
		return OpenPort(tty.Name(), 0)
	}
}

// unplug makes the modem vanish at its next command, and gives it one: a
// new-message code.
func (q *quirkyModem) unplug() {
	q.vanish.Store(true)
	q.mu.Lock()
	defer q.mu.Unlock()
	io.WriteString(q.ptmx, "\r\n+CMTI: \"SM\",2\r\n")
}

// TestServiceOverPseudoTerminal runs the modem service through the real
// serial code against a quirky modem on a pseudo-terminal.
func TestServiceOverPseudoTerminal(t *testing.T) {
	if _, tty, err := pty.Open(); err != nil {
		t.Skipf("no pseudo-terminals: %v", err)
	} else {
		tty.Close()
	}
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	q := &quirkyModem{live: &liveModem{sim: &sim{msgs: map[int]string{
		1: deliverUCS2(t, "+905321234567", "Pervanem kırıldı, yenisi var mı?", at),
	}}}}
	q.failCMGD.Store(true)
	d := openDesk(t)
	reg := health.New()
	svc := &Service{
		Config:   Config{Device: "pty", HealthEvery: time.Hour},
		Receiver: &Receiver{Desk: d, DB: d.DB()},
		Health:   reg,
		Open:     q.open(t),
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	defer func() {
		cancel()
		<-done
	}()

	// The refused delete ends the first session; the next one finds the
	// message again, and the desk keeps one ticket.
	waitFor(t, "the message to leave the SIM", func() bool { return len(q.live.sim.left()) == 0 })
	if n, _ := d.Count(); n != 1 {
		t.Errorf("%d tickets, want 1", n)
	}
	if q.opens.Load() < 2 {
		t.Errorf("the modem was opened %d times, want a reopen after the refused delete", q.opens.Load())
	}
	waitFor(t, "health", func() bool { return strings.Contains(reg.Snapshot()[HealthName].Detail, "EE") })
	var metrics strings.Builder
	health.WriteText(&metrics, reg.Metrics())
	for _, want := range []string{"counterdesk_modem_registered 1\n", "counterdesk_modem_signal_dbm -73\n"} {
		if !strings.Contains(metrics.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, metrics.String())
		}
	}

	q.live.sim.mu.Lock()
	q.live.sim.msgs[2] = deliverUCS2(t, "+447700900123", "came while unplugged", at.Add(time.Minute))
	q.live.sim.mu.Unlock()
	opens := q.opens.Load()
	q.unplug()
	waitFor(t, "the reopen and the waiting message", func() bool { n, _ := d.Count(); return n == 2 && q.opens.Load() > opens })
	page, _ := d.List(ticket.Filter{Query: "pervanem"})
	if len(page.Tickets) != 1 {
		t.Errorf("search for the Turkish message found %d", len(page.Tickets))
	}
}
