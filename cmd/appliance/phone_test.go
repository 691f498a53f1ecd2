package main

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/counterdesk/counterdesk/ticket"
)

// The running appliance answers the phone: a caller who hangs up while it
// rings (sipp, over UDP and then over TCP) leaves a missed-call ticket,
// and the call from the same number threads onto it.
func TestApplianceMissedCall(t *testing.T) {
	sipp := sippBinary(t)
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

// The running appliance takes a voicemail on the address --sip names (the
// environment names another), plays the greeting the configuration names,
// stores the transcript its transcription command prints, lets the
// shipped triage rules read it ("where is my order" is an order-status
// ticket), and answers the caller's mobile with the acknowledgement SMS.
func TestApplianceVoicemail(t *testing.T) {
	sipp := sippBinary(t)
	bin := buildBinary(t)
	data, work := t.TempDir(), t.TempDir()
	greeting := filepath.Join(work, "greeting.wav")
	writeGreeting(t, greeting)
	transcribe := filepath.Join(work, "transcribe.sh")
	if err := os.WriteFile(transcribe, []byte("#!/bin/sh\ntest -s \"$1\" || exit 3\necho 'Hi, where is my order 10442? It has not come.'\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	sipAddr := freeUDPTCPAddr(t)
	a := startArgs(t, bin, data, []string{"--sip", sipAddr},
		"COUNTERDESK_SIP_RING_SECONDS=0", "COUNTERDESK_SIP_RING_SECONDS_AFTER_HOURS=0",
		"COUNTERDESK_SIP_GREETING="+greeting, "COUNTERDESK_SIP_GREETING_AFTER_HOURS="+greeting,
		"COUNTERDESK_SIP_TRANSCRIBE_COMMAND="+transcribe)
	if !strings.Contains(a.logs.String(), "udp "+sipAddr) {
		t.Fatalf("the phone line does not listen on %s, the --sip address:\n%s", sipAddr, a.logs)
	}
	if strings.Contains(a.logs.String(), "greeting not loaded") {
		t.Fatalf("the configured greeting did not load:\n%s", a.logs)
	}

	// Bruno calls from a Portuguese mobile and speaks for three seconds.
	tone := make([]int16, 3*media.ClockRate)
	for i := range tone {
		tone[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/media.ClockRate))
	}
	if err := os.WriteFile(filepath.Join(work, "tone.pcma"), media.AppendALaw(nil, tone), 0o644); err != nil {
		t.Fatal(err)
	}
	scenario, err := filepath.Abs("../../telephony/testdata/sipp/voicemail_timed.xml")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(sipp, "-sf", scenario, "-m", "1", "-i", "127.0.0.1", "-d", "3600",
		"-timeout", "60s", "-timeout_error", "-nostdin", sipAddr)
	cmd.Dir = work
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("sipp: %v\n%s\nappliance log:\n%s", err, out.String(), a.logs)
	}
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(a.logs.String(), "voicemail stored") {
		if time.Now().After(deadline) {
			t.Fatalf("no voicemail stored:\n%s", a.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	a.stop(t)

	desk, err := openDesk(data, config.Default(), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	page, err := desk.List(ticket.Filter{Limit: 10})
	if err != nil || len(page.Tickets) != 1 {
		t.Fatalf("%d tickets (%v), want 1", len(page.Tickets), err)
	}
	th, err := desk.Thread(page.Tickets[0].Number)
	if err != nil {
		t.Fatal(err)
	}
	if th.Ticket.Channel != ticket.ChannelVoicemail || th.Ticket.Category != "order_status" {
		t.Errorf("a %s ticket in category %q, want a voicemail about an order (order_status)", th.Ticket.Channel, th.Ticket.Category)
	}
	if len(th.Contact.Phones) != 1 || th.Contact.Phones[0] != "+351912345678" {
		t.Errorf("contact phones %v", th.Contact.Phones)
	}
	var voicemail, ack *ticket.Message
	for i, m := range th.Messages {
		switch {
		case m.Direction == ticket.Incoming && m.Channel == ticket.ChannelVoicemail:
			voicemail = &th.Messages[i]
		case m.Direction == ticket.Outgoing && m.Channel == ticket.ChannelSMS && m.Author == "notify acknowledge":
			ack = &th.Messages[i]
		}
	}
	if voicemail == nil || ack == nil || len(th.Messages) != 2 {
		t.Fatalf("messages %+v, want the voicemail and the acknowledgement by SMS", th.Messages)
	}
	if !strings.Contains(voicemail.Transcript, "where is my order 10442") || len(voicemail.Attachments) != 1 ||
		voicemail.Attachments[0].ContentType != "audio/wav" || slices.Contains(voicemail.Flags, "transcription_failed") {
		t.Errorf("voicemail %+v, want the transcript and the recording", voicemail)
	}
	if strings.TrimSpace(ack.Body) == "" {
		t.Errorf("an empty acknowledgement: %+v", ack)
	}
}

// sippBinary returns sipp's path; a missing sipp fails under CI=true.
func sippBinary(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sipp")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("sipp is not installed (Debian package sip-tester); make check installs it")
		}
		t.Skip("sipp is not installed")
	}
	return p
}

// writeGreeting writes a short greeting as a shop might record it: 44.1
// kHz, 16-bit, stereo, half a second.
func writeGreeting(t *testing.T, path string) {
	t.Helper()
	const rate, frames = 44100, 44100 / 2
	var pcm bytes.Buffer
	for i := range frames {
		v := int16(6000 * math.Sin(2*math.Pi*330*float64(i)/rate))
		binary.Write(&pcm, binary.LittleEndian, [2]int16{v, v})
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+pcm.Len()))
	b.WriteString("WAVEfmt ")
	binary.Write(&b, binary.LittleEndian, struct {
		Size                      uint32
		Format, Channels          uint16
		Rate, ByteRate            uint32
		BlockAlign, BitsPerSample uint16
	}{16, 1, 2, rate, rate * 4, 4, 16})
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(pcm.Len()))
	b.Write(pcm.Bytes())
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// startArgs is start with more arguments for "appliance run".
func startArgs(t *testing.T, bin, dataDir string, args []string, env ...string) *appliance {
	t.Helper()
	a := &appliance{addr: freeAddr(t), logs: &logBuffer{}}
	a.cmd = exec.Command(bin, append([]string{"run", "--data", dataDir, "--http", a.addr}, args...)...)
	// As start: the environment names a port of the line's own, which
	// --sip overrides.
	a.cmd.Env = append(os.Environ(), "COUNTERDESK_SIP_LISTEN=127.0.0.1:0", "COUNTERDESK_STORE_CLOCK=trust")
	a.cmd.Env = append(a.cmd.Env, env...)
	a.cmd.Stderr = a.logs
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if r, err := http.Get("http://" + a.addr + "/healthz"); err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK && strings.Contains(a.logs.String(), "phone line ready") {
				return a
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	a.kill()
	t.Fatalf("appliance did not become ready:\n%s", a.logs)
	return nil
}
