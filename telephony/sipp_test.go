package telephony

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/counterdesk/counterdesk/ticket"
)

// A caller who hangs up while it rings leaves a missed-call ticket with
// their number and the ring time.
func TestSippCancelIsMissedCall(t *testing.T) {
	t.Parallel()
	l := startLine(t, ringFor(5*time.Second))
	code, out := runSipp(t, l, "cancel.xml", "-key", "reasonheader", "X-Test: plain cancel")
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == 1 })
	th := l.threads(t)
	if len(th) != 1 {
		t.Fatalf("%d tickets, want 1", len(th))
	}
	tk, m := th[0].Ticket, th[0].Messages[0]
	if tk.Channel != ticket.ChannelMissedCall || m.Channel != ticket.ChannelMissedCall {
		t.Errorf("channel = %s/%s, want missed_call", tk.Channel, m.Channel)
	}
	if got := th[0].Contact.Phones; len(got) != 1 || got[0] != "+447700900123" {
		t.Errorf("contact phones = %v", got)
	}
	if th[0].Contact.Name != "Ana Silva" {
		t.Errorf("contact name = %q", th[0].Contact.Name)
	}
	if !strings.Contains(m.Body, "hung up while it rang") {
		t.Errorf("body = %q", m.Body)
	}
	// cancel.xml cancels 1.5 s after the INVITE; the line answers after
	// 5 s, so the call rang at least 1 and less than 5 whole seconds.
	if rang, err := strconv.Atoi(m.Meta["ring_seconds"]); err != nil || rang < 1 || rang >= 5 {
		t.Errorf("ring_seconds = %q, want the 1.5 s the caller waited", m.Meta["ring_seconds"])
	}
}

// A CANCEL saying the call was completed elsewhere (the desk phone picked
// up) opens no ticket; the call is noted on the contact.
func TestSippCancelAnsweredElsewhere(t *testing.T) {
	t.Parallel()
	l := startLine(t, ringFor(5*time.Second))
	code, out := runSipp(t, l, "cancel.xml", "-key", "reasonheader", `Reason: SIP;cause=200;text="Call completed elsewhere"`)
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	l.waitStats(t, "the answered call", func(s Stats) bool { return s.Answered == 1 })
	if n, _ := l.desk.Count(); n != 0 {
		t.Fatalf("%d tickets, want none", n)
	}
	// The caller is the store's first contact, made for the call.
	c, err := l.desk.Contact(1)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Phones) != 1 || c.Phones[0] != "+447700900123" || len(c.Calls) != 1 {
		t.Fatalf("contact %+v, want +447700900123 with the call", c)
	}
	call := c.Calls[0]
	if call.Outcome != "answered elsewhere" || !strings.HasPrefix(call.Key, "sip|") || call.Ring < time.Second || call.Ring >= 5*time.Second {
		t.Errorf("call on the contact: %+v, want answered elsewhere after ringing 1.5 s", call)
	}
}

// ringFor sets how long calls ring before the line answers.
func ringFor(d time.Duration) func(*Service) {
	return func(s *Service) { s.Config.Ring, s.Config.RingAfterHours = d, d }
}

// A caller who speaks for ten seconds after the beep and hangs up leaves a
// voicemail ticket whose WAV holds those ten seconds.
func TestSippVoicemail(t *testing.T) {
	t.Parallel()
	l := startLine(t, nil)
	dir := t.TempDir()
	const seconds = 10
	if err := os.WriteFile(filepath.Join(dir, "tone.pcma"), media.AppendALaw(nil, tone(seconds*time.Second, 440)), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := runSippIn(t, l, dir, "voicemail.xml")
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	l.waitStats(t, "the voicemail", func(s Stats) bool { return s.Voicemails == 1 })
	th := l.threads(t)
	if len(th) != 1 {
		t.Fatalf("%d tickets, want 1", len(th))
	}
	m := th[0].Messages[0]
	if th[0].Ticket.Channel != ticket.ChannelVoicemail || len(m.Attachments) != 1 {
		t.Fatalf("ticket channel %s with %d attachments", th[0].Ticket.Channel, len(m.Attachments))
	}
	if got := th[0].Contact.Phones; len(got) != 1 || got[0] != "+351912345678" {
		t.Errorf("contact phones = %v", got)
	}
	w := readAttachment(t, l, m.Attachments[0])
	pcm, err := media.ToTelephony(w)
	if err != nil {
		t.Fatal(err)
	}
	loud := loudFrames(pcm)
	t.Logf("recording %v, %d loud 20 ms frames of %d sent; meta %v", w.Duration(), loud, seconds*50, m.Meta)
	if d := w.Duration(); d < (seconds-1)*time.Second || d > (seconds+2)*time.Second {
		t.Errorf("recording lasts %v, want about %ds", d, seconds)
	}
	if loud < seconds*50*95/100 || loud > seconds*50 {
		t.Errorf("%d frames of tone recorded, want about %d", loud, seconds*50)
	}
	if m.Meta["ended"] != "the caller hung up" || m.Meta["codec"] != "PCMA" {
		t.Errorf("meta = %v", m.Meta)
	}
	if spooled, _ := filepath.Glob(filepath.Join(l.svc.Config.SpoolDir, "*")); len(spooled) != 0 {
		t.Errorf("spool folder still holds %v", spooled)
	}
}

// A caller who presses '#' (RFC 4733) ends the message; the box hangs up,
// over UDP and over TCP.
func TestSippHashEndsMessage(t *testing.T) {
	t.Parallel()
	for _, transport := range []string{"u1", "t1"} {
		t.Run(transport, func(t *testing.T) {
			t.Parallel()
			l := startLine(t, nil)
			dir := t.TempDir()
			for _, name := range []string{"g711a.pcap", "dtmf_2833_pound.pcap"} {
				if err := os.Symlink(filepath.Join(sippPcaps(t), name), filepath.Join(dir, name)); err != nil {
					t.Fatal(err)
				}
			}
			code, out := runSippIn(t, l, dir, "dtmf.xml", "-t", transport)
			if code != 0 {
				t.Fatalf("sipp exit %d:\n%s", code, out)
			}
			l.waitStats(t, "the voicemail", func(s Stats) bool { return s.Voicemails == 1 })
			th := l.threads(t)
			m := th[0].Messages[0]
			if m.Meta["ended"] != "the caller pressed #" {
				t.Errorf("ended = %q, want the caller pressed #", m.Meta["ended"])
			}
			w := readAttachment(t, l, m.Attachments[0])
			// g711a.pcap holds 236 packets (4.7 s of sound) spread over
			// 7.05 s with gaps in their timestamps, as a phone with silence
			// suppression sends; the recording keeps real time, so it lasts
			// the 7.05 s.
			if d := w.Duration(); d < 6900*time.Millisecond || d > 7300*time.Millisecond {
				t.Errorf("recording lasts %v, want the 7.05 s g711a.pcap spans", d)
			}
			if th[0].Contact.Phones[0] != "+447700900456" {
				t.Errorf("a national number was not read in the shop's region: %v", th[0].Contact.Phones)
			}
		})
	}
}

// A caller offering only G.729 gets 488 and leaves no ticket.
func TestSippG729Refused(t *testing.T) {
	t.Parallel()
	l := startLine(t, nil)
	code, out := runSipp(t, l, "g729.xml")
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	l.waitStats(t, "the refusal", func(s Stats) bool { return s.Refused == 1 })
	if n, _ := l.desk.Count(); n != 0 {
		t.Errorf("%d tickets, want none", n)
	}
}

// The line registers with sipp as the PBX's registrar, answering its
// digest challenge, and unregisters when it stops: a registrar's 401 over
// UDP, and a proxy's 407 over TCP (the registrar's URI says
// ";transport=tcp") from a box behind NAT, whose Contact carries
// public_address.
func TestSippRegister(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, scenario, transport, uri, public string
	}{
		{"401 over UDP", "registrar.xml", "u1", "sip:127.0.0.1:%d", ""},
		{"407 over TCP", "registrar_proxy.xml", "t1", "sip:127.0.0.1:%d;transport=tcp", "203.0.113.7"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			port := freePort(t)
			registrar := startSippRegistrar(t, tt.scenario, tt.transport, port)
			reg := health.New()
			l := startLine(t, func(s *Service) {
				s.Config.Mode = "register"
				s.Config.Registrar = fmt.Sprintf(tt.uri, port)
				s.Config.Username, s.Config.Password = "201", "s3cret-pw"
				s.Config.RegisterExpires = time.Hour
				s.Config.PublicAddress = tt.public
				s.Health = reg
				// sipp may not listen yet: the next try comes soon.
				s.backoff = backoff{min: 100 * time.Millisecond, max: time.Second, timeout: 5 * time.Second}
			})
			waitRegistered(t, l, registrar)
			st := reg.Snapshot()["sip"]
			if st.State != health.OK || !strings.Contains(st.Detail, "registered as sip:201@127.0.0.1") {
				t.Errorf("health = %+v", st)
			}
			if text := metricsText(reg); !strings.Contains(text, "counterdesk_sip_registered 1\n") {
				t.Errorf("metrics do not show the registration:\n%s", text)
			}
			if left := time.Until(l.svc.regState().until); left < 100*time.Second || left > 120*time.Second {
				t.Errorf("registration runs %v more, want the 120 s the registrar granted", left)
			}
			l.svc.Close()
			registrar.wait(t)
			if strings.Contains(l.logs.String(), "s3cret-pw") {
				t.Error("the SIP password reached the log")
			}
			trace := registrar.messages(t)
			if tt.transport == "t1" && (!strings.Contains(trace, "Via: SIP/2.0/TCP ") || !strings.Contains(trace, ";transport=tcp>")) {
				t.Errorf("the REGISTERs over TCP do not say so in Via and Contact:\n%s", trace)
			}
			if tt.public != "" && !regexp.MustCompile(`(?m)^Contact: <sip:201@`+regexp.QuoteMeta(tt.public)+`:\d+;`).MatchString(trace) {
				t.Errorf("the REGISTER's Contact does not carry public_address %s:\n%s", tt.public, trace)
			}
			if tt.scenario == "registrar_proxy.xml" {
				// sipp checked that Proxy-Authorization names user 201;
				// the digest in it is checked here.
				if n := checkDigests(t, trace, "Proxy-Authenticate", "Proxy-Authorization", "201", "s3cret-pw"); n != 2 {
					t.Errorf("%d Proxy-Authorization headers, want 2 (registration, unregistration)", n)
				}
			}
		})
	}
}

// A registrar that does not answer is tried again, waiting longer after
// each failure up to the bound; the health page and the metrics say the
// line is not registered and how often it failed. Once the registrar
// answers, the line registers and says so.
func TestRegisterBackoff(t *testing.T) {
	t.Parallel()
	// The registrar's port first holds a socket that reads and never
	// answers: a registrar that is down, or a network that loses packets.
	silent, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	port := silent.LocalAddr().(*net.UDPAddr).Port
	type attempt struct {
		at   time.Time
		cseq uint32
	}
	attempts := make(chan attempt, 100)
	go func() {
		buf := make([]byte, 4096)
		var last uint32
		for {
			n, _, err := silent.ReadFromUDP(buf)
			if err != nil {
				close(attempts)
				return
			}
			msg, err := sip.ParseMessage(buf[:n])
			req, ok := msg.(*sip.Request)
			if err != nil || !ok || req.Method != sip.REGISTER || req.CSeq() == nil {
				continue
			}
			// A retransmission keeps its CSeq; an attempt takes a new one.
			if cs := req.CSeq().SeqNo; cs != last {
				last = cs
				attempts <- attempt{time.Now(), cs}
			}
		}
	}()
	reg := health.New()
	l := startLine(t, func(s *Service) {
		s.Config.Mode = "register"
		s.Config.Registrar = fmt.Sprintf("sip:127.0.0.1:%d", port)
		s.Config.Username, s.Config.Password = "201", "s3cret-pw"
		s.Config.RegisterExpires = time.Hour
		s.Health = reg
		s.backoff = backoff{min: 50 * time.Millisecond, max: 200 * time.Millisecond, timeout: 200 * time.Millisecond}
	})
	var seen []attempt
	for len(seen) < 5 {
		select {
		case a := <-attempts:
			seen = append(seen, a)
		case <-time.After(30 * time.Second):
			t.Fatalf("%d registration attempts; log:\n%s", len(seen), l.logs)
		}
	}
	// The waits the line chose after each failure double up to the bound,
	// and each attempt came no sooner than its wait after the previous
	// one (which gave up 200 ms after it was sent).
	waits := regexp.MustCompile(`msg="registration failed".* retry_in=(\S+)`).FindAllStringSubmatch(l.logs.String(), -1)
	want := []string{"50ms", "100ms", "200ms", "200ms"}
	if len(waits) < len(want) {
		t.Fatalf("%d failures logged, want %d:\n%s", len(waits), len(want), l.logs)
	}
	for i, w := range want {
		if waits[i][1] != w {
			t.Errorf("wait %d after a failure: %s, want %s", i+1, waits[i][1], w)
		}
		d, _ := time.ParseDuration(w)
		if gap := seen[i+1].at.Sub(seen[i].at); gap < d {
			t.Errorf("attempt %d came %v after attempt %d, sooner than the %v wait", i+2, gap, i+1, d)
		}
	}
	st := reg.Snapshot()["sip"]
	if st.State != health.Down || !strings.Contains(st.Detail, "not registered as sip:201@127.0.0.1: no answer from") || !strings.Contains(st.Detail, "attempts; next at") {
		t.Errorf("health while the registrar is down: %+v", st)
	}
	text := metricsText(reg)
	failures := 0
	if m := regexp.MustCompile(`counterdesk_sip_register_failures (\d+)`).FindStringSubmatch(text); m != nil {
		failures, _ = strconv.Atoi(m[1])
	}
	if !strings.Contains(text, "counterdesk_sip_registered 0\n") || failures < 4 {
		t.Errorf("metrics while the registrar is down (%d failures):\n%s", failures, text)
	}

	// The registrar comes up on the same port.
	silent.Close()
	registrar := startSippRegistrar(t, "registrar.xml", "u1", port)
	waitRegistered(t, l, registrar)
	if st := reg.Snapshot()["sip"]; st.State != health.OK {
		t.Errorf("health once registered: %+v", st)
	}
	text = metricsText(reg)
	if !strings.Contains(text, "counterdesk_sip_registered 1\n") || !strings.Contains(text, "counterdesk_sip_register_failures 0\n") {
		t.Errorf("metrics once registered:\n%s", text)
	}
	l.svc.Close()
	registrar.wait(t)
}

// sippRegistrar is sipp running a registrar scenario.
type sippRegistrar struct {
	dir  string
	out  *syncBuffer
	done chan error
}

// messages returns sipp's trace of the messages it sent and received.
func (r *sippRegistrar) messages(t *testing.T) string {
	t.Helper()
	logs, _ := filepath.Glob(filepath.Join(r.dir, "*_messages.log"))
	if len(logs) != 1 {
		t.Fatalf("sipp's message trace: %v", logs)
	}
	b, err := os.ReadFile(logs[0])
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// checkDigests checks each credentials header (Authorization or
// Proxy-Authorization) in a message trace against the challenges before
// it: RFC 2617 digest, MD5, no qop. It returns how many it checked.
func checkDigests(t *testing.T, trace, challenge, credentials, user, password string) int {
	t.Helper()
	param := func(v, name string) string {
		m := regexp.MustCompile(`(?i)\b` + name + `="?([^",]*)"?`).FindStringSubmatch(v)
		if m == nil {
			return ""
		}
		return m[1]
	}
	md5hex := func(s string) string {
		sum := md5.Sum([]byte(s))
		return hex.EncodeToString(sum[:])
	}
	lines := regexp.MustCompile(`(?m)^(`+challenge+`|`+credentials+`): *(.*?)\r?$`).FindAllStringSubmatch(trace, -1)
	var nonces []string
	n := 0
	for _, l := range lines {
		if strings.EqualFold(l[1], challenge) {
			nonces = append(nonces, param(l[2], "nonce"))
			continue
		}
		n++
		v := l[2]
		if !slices.Contains(nonces, param(v, "nonce")) {
			t.Errorf("%s answers no challenge sent: %s", credentials, v)
		}
		ha1 := md5hex(param(v, "username") + ":" + param(v, "realm") + ":" + password)
		ha2 := md5hex("REGISTER:" + param(v, "uri"))
		if param(v, "username") != user || param(v, "response") != md5hex(ha1+":"+param(v, "nonce")+":"+ha2) {
			t.Errorf("%s does not hold %s's digest: %s", credentials, user, v)
		}
	}
	return n
}

// startSippRegistrar runs sipp as a registrar on 127.0.0.1:port over
// transport (u1 or t1) with one of the testdata/sipp scenarios.
func startSippRegistrar(t *testing.T, scenario, transport string, port int) *sippRegistrar {
	t.Helper()
	bin := sipp(t)
	sf, _ := filepath.Abs(filepath.Join("testdata", "sipp", scenario))
	cmd := exec.Command(bin, "-sf", sf, "-m", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(port), "-t", transport,
		"-cp", strconv.Itoa(freePort(t)), "-timeout", "60s", "-timeout_error", "-nostdin", "-trace_err", "-trace_msg")
	r := &sippRegistrar{dir: t.TempDir(), out: &syncBuffer{}, done: make(chan error, 1)}
	cmd.Dir = r.dir
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	return r
}

// wait waits for sipp to finish its scenario, which ends with the
// unregistration.
func (r *sippRegistrar) wait(t *testing.T) {
	t.Helper()
	select {
	case err := <-r.done:
		if err != nil {
			t.Fatalf("sipp: %v\n%s", err, r.out)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sipp saw no unregistration:\n%s", r.out)
	}
}

// waitRegistered waits until the line is registered.
func waitRegistered(t *testing.T, l *line, r *sippRegistrar) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !l.svc.regState().registered {
		if time.Now().After(deadline) {
			t.Fatalf("not registered: %+v\nsipp:\n%s\nline log:\n%s", l.svc.regState(), r.out, l.logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func metricsText(reg *health.Registry) string {
	var b bytes.Buffer
	health.WriteText(&b, reg.Metrics())
	return b.String()
}

// sippPcaps returns the folder of the pcap files sipp ships.
func sippPcaps(t *testing.T) string {
	t.Helper()
	const dir = "/usr/share/sip-tester"
	if _, err := os.Stat(filepath.Join(dir, "dtmf_2833_pound.pcap")); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("sipp's pcap files are missing: %v", err)
		}
		t.Skip("sipp's pcap files are missing")
	}
	return dir
}

// readAttachment reads a stored WAV attachment.
func readAttachment(t testing.TB, l *line, a ticket.Attachment) *media.WAV {
	t.Helper()
	_, path, err := l.desk.Attachment(a.ID)
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w, err := media.ReadWAV(f, 100<<20)
	if err != nil {
		t.Fatal(err)
	}
	if w.SampleRate != 8000 || w.Channels != 1 {
		t.Errorf("recording is %d Hz, %d channels; want 8000 Hz mono", w.SampleRate, w.Channels)
	}
	return w
}

// loudFrames counts the 20 ms frames louder than -30 dBFS.
func loudFrames(pcm []int16) int {
	n := 0
	for i := 0; i+160 <= len(pcm); i += 160 {
		var sum float64
		for _, v := range pcm[i : i+160] {
			sum += float64(v) * float64(v)
		}
		if math.Sqrt(sum/160) > 32768*0.0316 {
			n++
		}
	}
	return n
}
