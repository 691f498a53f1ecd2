package modem

import (
	"context"
	"io"
	"net"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
)

// liveModem is a fake modem for the service: it answers the set-up and
// health commands, serves a SIM, and can be told to speak first.
type liveModem struct {
	sim  *sim
	mu   stdsync.Mutex
	conn net.Conn
}

func (m *liveModem) answer(cmd string) string {
	switch cmd {
	case "AT+CPIN?":
		return "\r\n+CPIN: READY\r\n\r\nOK\r\n"
	case "AT+CSQ":
		return "\r\n+CSQ: 23,99\r\n\r\nOK\r\n"
	case "AT+CREG?":
		return "\r\n+CREG: 0,1\r\n\r\nOK\r\n"
	case "AT+COPS?":
		return "\r\n+COPS: 0,0,\"EE\",7\r\n\r\nOK\r\n"
	}
	return m.sim.answer(cmd)
}

// open gives the service a fresh connection to the modem, as reopening a
// USB port does.
func (m *liveModem) open() (io.ReadWriteCloser, error) {
	a, b := net.Pipe()
	f := &fakeModem{conn: b, answer: m.answer, pdus: make(chan string, 8)}
	go f.serve()
	m.mu.Lock()
	m.conn = b
	m.mu.Unlock()
	return a, nil
}

func (m *liveModem) say(s string) {
	m.mu.Lock()
	c := m.conn
	m.mu.Unlock()
	io.WriteString(c, s)
}

func (m *liveModem) unplug() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.conn.Close()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestServiceReceivesCallsAndSurvivesUnplug runs the service against a
// fake modem: a message waiting at start, one announced by +CMTI, a call
// that rings out, then the modem unplugged and back, with a message that
// arrived meanwhile.
func TestServiceReceivesCallsAndSurvivesUnplug(t *testing.T) {
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	m := &liveModem{sim: &sim{msgs: map[int]string{1: deliverUCS2(t, "+447700900123", "first, waiting at start", at)}}}
	d := openDesk(t)
	reg := health.New()
	svc := &Service{
		Config:   Config{Device: "test", HealthEvery: time.Hour, RingGap: 150 * time.Millisecond},
		Receiver: &Receiver{Desk: d, DB: d.DB()},
		Health:   reg,
		Open:     m.open,
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	count := func() uint64 { n, _ := d.Count(); return n }
	waitFor(t, "the waiting message", func() bool { return count() == 1 })
	waitFor(t, "health", func() bool { return reg.Snapshot()[HealthName].State == health.OK })
	if got := reg.Snapshot()[HealthName].Detail; !strings.Contains(got, "EE") || !strings.Contains(got, "-67 dBm") {
		t.Errorf("health detail = %q", got)
	}

	m.sim.mu.Lock()
	m.sim.msgs[2] = deliverUCS2(t, "+447700900999", "second, announced", at.Add(time.Minute))
	m.sim.mu.Unlock()
	m.say("\r\n+CMTI: \"SM\",2\r\n")
	waitFor(t, "the announced message", func() bool { return count() == 2 })

	m.say("\r\nRING\r\n\r\n+CLIP: \"+447700900555\",145,,,,0\r\n\r\nRING\r\n")
	waitFor(t, "the missed call", func() bool {
		p, _ := d.List(ticket.Filter{Channel: ticket.ChannelMissedCall})
		return len(p.Tickets) == 1
	})

	m.sim.mu.Lock()
	m.sim.msgs[3] = deliverUCS2(t, "+447700900777", "third, while unplugged", at.Add(2*time.Minute))
	m.sim.mu.Unlock()
	m.unplug()
	// The message is deleted from the SIM just after its ticket commits.
	waitFor(t, "the message that came while unplugged", func() bool { return count() == 4 && len(m.sim.left()) == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Run = %v", err)
	}
	p, _ := d.List(ticket.Filter{Channel: ticket.ChannelMissedCall})
	th, _ := d.Thread(p.Tickets[0].Number)
	if th.Contact.Phones[0] != "+447700900555" || th.Messages[0].Meta["rings"] != "2" {
		t.Errorf("missed call = %+v / %+v", th.Contact, th.Messages[0].Meta)
	}
}

func TestServiceOffAndNoModem(t *testing.T) {
	reg := health.New()
	svc := &Service{Config: Config{Device: "off"}, Health: reg}
	if err := svc.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st := reg.Snapshot()[HealthName]; st.State != health.Disabled {
		t.Errorf("off: %+v", st)
	}
	if !reg.Healthy() {
		t.Error("a missing modem made the appliance unhealthy")
	}
}
