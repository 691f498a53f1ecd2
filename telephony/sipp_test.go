package telephony

import (
	"bytes"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/telephony/media"

	"github.com/counterdesk/counterdesk/ticket"
)

// A caller who hangs up while it rings leaves a missed-call ticket with
// their number and the ring time.
func TestSippCancelIsMissedCall(t *testing.T) {
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
}

// A CANCEL saying the call was completed elsewhere (the desk phone picked
// up) opens no ticket; the call is noted on the contact.
func TestSippCancelAnsweredElsewhere(t *testing.T) {
	l := startLine(t, ringFor(5*time.Second))
	code, out := runSipp(t, l, "cancel.xml", "-key", "reasonheader", `Reason: SIP;cause=200;text="Call completed elsewhere"`)
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	l.waitStats(t, "the answered call", func(s Stats) bool { return s.Answered == 1 })
	if n, _ := l.desk.Count(); n != 0 {
		t.Fatalf("%d tickets, want none", n)
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
// digest challenge, and unregisters when it stops.
func TestSippRegister(t *testing.T) {
	bin := sipp(t)
	port := freePort(t)
	sf, _ := filepath.Abs(filepath.Join("testdata", "sipp", "registrar.xml"))
	cmd := exec.Command(bin, "-sf", sf, "-m", "1", "-i", "127.0.0.1", "-p", strconv.Itoa(port),
		"-cp", strconv.Itoa(freePort(t)), "-timeout", "60s", "-timeout_error", "-nostdin", "-trace_err")
	cmd.Dir = t.TempDir()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	reg := health.New()
	l := startLine(t, func(s *Service) {
		s.Config.Mode = "register"
		s.Config.Registrar = fmt.Sprintf("sip:127.0.0.1:%d", port)
		s.Config.Username, s.Config.Password = "201", "s3cret-pw"
		s.Config.RegisterExpires = time.Hour
		s.Health = reg
	})
	deadline := time.Now().Add(30 * time.Second)
	for !l.svc.regState().registered {
		if time.Now().After(deadline) {
			t.Fatalf("not registered: %+v\nsipp:\n%s", l.svc.regState(), out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	st := reg.Snapshot()["sip"]
	if st.State != health.OK || !strings.Contains(st.Detail, "registered as sip:201@127.0.0.1") {
		t.Errorf("health = %+v", st)
	}
	var text bytes.Buffer
	health.WriteText(&text, reg.Metrics())
	if !strings.Contains(text.String(), "counterdesk_sip_registered 1\n") {
		t.Errorf("metrics do not show the registration:\n%s", text.String())
	}
	if left := time.Until(l.svc.regState().until); left < 100*time.Second || left > 120*time.Second {
		t.Errorf("registration runs %v more, want the 120 s the registrar granted", left)
	}
	l.svc.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("sipp: %v\n%s", err, out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("sipp saw no unregistration:\n%s", out.String())
	}
	if strings.Contains(l.logs.String(), "s3cret-pw") {
		t.Error("the SIP password reached the log")
	}
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
