package main

import (
	"bytes"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/ticket"
)

// The running appliance answers the phone: a caller who hangs up while it
// rings (sipp, over UDP and then over TCP) leaves a missed-call ticket,
// and the call from the same number threads onto it.
func TestApplianceMissedCall(t *testing.T) {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipp is not installed (Debian package sip-tester); make check installs it")
		}
		t.Skip("sipp is not installed")
	}
	bin := buildBinary(t)
	data := t.TempDir()
	sipAddr := freeUDPTCPAddr(t)
	a := start(t, bin, data, "COUNTERDESK_SIP_LISTEN="+sipAddr, "COUNTERDESK_SIP_RING_SECONDS=10",
		"COUNTERDESK_SIP_PASSWORD=never-logged-pw")
	scenario, err := filepath.Abs("../../telephony/testdata/sipp/cancel.xml")
	if err != nil {
		t.Fatal(err)
	}
	for _, transport := range []string{"u1", "t1"} {
		cmd := exec.Command(sipp, "-sf", scenario, "-m", "1", "-i", "127.0.0.1", "-t", transport,
			"-key", "reasonheader", "X-Test: "+transport, "-timeout", "60s", "-timeout_error", "-nostdin", sipAddr)
		cmd.Dir = t.TempDir()
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("sipp over %s: %v\n%s\nappliance log:\n%s", transport, err, out.String(), a.logs)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for strings.Count(a.logs.String(), "missed call stored") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no missed calls stored:\n%s", a.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.stop(t)
	if strings.Contains(a.logs.String(), "never-logged-pw") {
		t.Error("the SIP password reached the log")
	}
	if !strings.Contains(a.logs.String(), "phone line ready") {
		t.Errorf("no ready line for the phone:\n%s", a.logs)
	}
	desk, err := openDesk(data, config.Default(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	page, err := desk.List(ticket.Filter{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Tickets) != 1 {
		t.Fatalf("%d tickets, want 1", len(page.Tickets))
	}
	th, err := desk.Thread(page.Tickets[0].Number)
	if err != nil {
		t.Fatal(err)
	}
	var calls, acks int
	for _, m := range th.Messages {
		switch {
		case m.Direction == ticket.Incoming && m.Channel == ticket.ChannelMissedCall:
			calls++
		case m.Direction == ticket.Outgoing && m.Channel == ticket.ChannelSMS && m.Author == "notify acknowledge":
			acks++
		}
	}
	if th.Ticket.Channel != ticket.ChannelMissedCall || calls != 2 || acks != 1 || len(th.Messages) != 3 || th.Contact.Phones[0] != "+447700900123" {
		t.Errorf("ticket %s with %d messages (%d missed calls, %d acknowledgements by SMS) from %v", th.Ticket.Channel, len(th.Messages), calls, acks, th.Contact.Phones)
	}
}

// freeUDPTCPAddr returns a loopback address whose port was free for UDP and
// TCP a moment ago.
func freeUDPTCPAddr(t testing.TB) string {
	t.Helper()
	for range 50 {
		u, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := u.LocalAddr().String()
		l, err := net.Listen("tcp", addr)
		u.Close()
		if err == nil {
			l.Close()
			return addr
		}
	}
	t.Fatal("no free port")
	return ""
}
