package telephony

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
)

const pcmuOffer = "0 101"

func eventMap() []string {
	return []string{"a=rtpmap:0 PCMU/8000", "a=rtpmap:101 telephone-event/8000", "a=fmtp:101 0-15"}
}

// Beyond max_calls a caller hears busy; the calls in progress go on.
func TestBusyBeyondMaxCalls(t *testing.T) {
	t.Parallel()
	l := startLine(t, func(s *Service) {
		s.Config.MaxCalls = 2
		s.Config.Ring, s.Config.RingAfterHours = 30*time.Second, 30*time.Second
	})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for i := range 2 {
		p := newPhone(t, "+44770090010"+string(rune('0'+i)))
		if _, err := p.call(ctx, l, p.offer(pcmuOffer, eventMap()...)); err != nil {
			t.Fatal(err)
		}
	}
	l.waitStats(t, "two calls ringing", func(s Stats) bool { return s.Active == 2 })
	p := newPhone(t, "+447700900199")
	d, err := p.call(ctx, l, p.offer(pcmuOffer, eventMap()...))
	if err != nil {
		t.Fatal(err)
	}
	err = d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	if statusOf(err) != 486 {
		t.Fatalf("third call: %v, want 486 Busy Here", err)
	}
	if st := l.svc.Stats(); st.Busy != 1 || st.Active != 2 {
		t.Errorf("stats %+v", st)
	}
}

// OPTIONS (a PBX's keep-alive) gets 200 with the methods the box takes.
func TestOptions(t *testing.T) {
	t.Parallel()
	l := startLine(t, nil)
	p := newPhone(t, "pbx")
	req := sip.NewRequest(sip.OPTIONS, sip.Uri{Scheme: "sip", Host: "127.0.0.1", Port: l.port()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := p.client.Do(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 || res.GetHeader("Allow") == nil || !strings.Contains(res.GetHeader("Allow").Value(), "INVITE") {
		t.Fatalf("OPTIONS: %s", res.StartLine())
	}
}

// A caller who hangs up during the greeting leaves a missed call; so does
// one who speaks less than min_message_seconds.
func TestHangUpBeforeAMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		talk time.Duration
		want string
	}{
		{"during the greeting", 0, "hung up during the greeting"},
		{"after a second", time.Second, "left no message"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := startLine(t, func(s *Service) {
				s.Config.Ring = 200 * time.Millisecond
				if tt.talk == 0 {
					s.Greetings.Open = tone(5*time.Second, 500)
				}
			})
			p := newPhone(t, "+447700900123")
			d, media := p.answered(l, p.offer(pcmuOffer, eventMap()...))
			if tt.talk > 0 {
				time.Sleep(time.Second) // greeting and beep
				p.talk(media, tone(tt.talk, 300), 1, 1, 1)
			}
			hangUp(t, d)
			l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == 1 })
			th := l.threads(t)
			if th[0].Ticket.Channel != ticket.ChannelMissedCall || !strings.Contains(th[0].Messages[0].Body, tt.want) {
				t.Errorf("ticket %s: %q, want a missed call that %s", th[0].Ticket.Channel, th[0].Messages[0].Body, tt.want)
			}
			if left, _ := filepath.Glob(filepath.Join(l.svc.Config.SpoolDir, "*")); len(left) != 0 {
				t.Errorf("spool folder still holds %v", left)
			}
		})
	}
}

// Silence and the length limit end a message; the box hangs up.
func TestBoxEndsMessage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		setup func(*Service)
		want  string
	}{
		{"silence", func(s *Service) { s.Config.Silence = 2 * time.Second }, "2s of silence"},
		{"length limit", func(s *Service) { s.Config.MaxMessage = 3 * time.Second }, "the message reached the 3s limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := startLine(t, func(s *Service) {
				s.Config.Ring = 200 * time.Millisecond
				tt.setup(s)
			})
			p := newPhone(t, "+447700900123")
			_, to := p.answered(l, p.offer(pcmuOffer, eventMap()...))
			time.Sleep(time.Second)
			// 2.5 s of speech, then silence until the box hangs up.
			go p.talk(to, append(tone(2500*time.Millisecond, 300), make([]int16, 8000*6)...), 7, 100, 1000)
			select {
			case <-p.byes:
			case <-time.After(15 * time.Second):
				t.Fatal("the box did not hang up")
			}
			l.waitStats(t, "the voicemail", func(s Stats) bool { return s.Voicemails == 1 })
			if got := l.threads(t)[0].Messages[0].Meta["ended"]; got != tt.want {
				t.Errorf("ended = %q, want %q", got, tt.want)
			}
		})
	}
}

// A caller on hold gets no audio from the box; off hold it flows again.
func TestHoldReinvite(t *testing.T) {
	t.Parallel()
	l := startLine(t, func(s *Service) {
		s.Config.Ring = 200 * time.Millisecond
		s.Greetings.Open = tone(20*time.Second, 500)
	})
	p := newPhone(t, "+447700900123")
	d, _ := p.answered(l, p.offer(pcmuOffer, eventMap()...))
	if n := p.countRTP(300 * time.Millisecond); n < 5 {
		t.Fatalf("%d packets in 300 ms before hold", n)
	}
	reinvite := func(direction string) *sip.Response {
		t.Helper()
		req := sip.NewRequest(sip.INVITE, d.InviteResponse.Contact().Address)
		req.SetBody(p.offer(pcmuOffer, append(eventMap(), "a="+direction)...))
		req.AppendHeader(sip.NewHeader("Content-Type", "application/sdp"))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		res, err := d.Do(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != 200 {
			t.Fatalf("re-INVITE %s: %s", direction, res.StartLine())
		}
		ack := sip.NewRequest(sip.ACK, d.InviteResponse.Contact().Address)
		d.WriteRequest(ack)
		return res
	}
	res := reinvite("sendonly")
	if !strings.Contains(string(res.Body()), "a=recvonly") {
		t.Errorf("hold answered with\n%s", res.Body())
	}
	time.Sleep(100 * time.Millisecond)
	if n := p.countRTP(400 * time.Millisecond); n > 1 {
		t.Errorf("%d packets in 400 ms on hold", n)
	}
	res = reinvite("sendrecv")
	if !strings.Contains(string(res.Body()), "a=sendrecv") {
		t.Errorf("resume answered with\n%s", res.Body())
	}
	if n := p.countRTP(400 * time.Millisecond); n < 10 {
		t.Errorf("%d packets in 400 ms after resuming", n)
	}
	hangUp(t, d)
}

// countRTP counts the RTP packets the phone receives in d.
func (p *phone) countRTP(d time.Duration) int {
	buf := make([]byte, 1500)
	end := time.Now().Add(d)
	n := 0
	for {
		p.rtp.SetReadDeadline(end)
		if _, _, err := p.rtp.ReadFromUDP(buf); err != nil {
			return n
		}
		n++
	}
}

// Packets from a stranger never reach the recording.
func TestStrangerRTPIgnored(t *testing.T) {
	t.Parallel()
	l := startLine(t, func(s *Service) { s.Config.Ring = 200 * time.Millisecond })
	p := newPhone(t, "+447700900123")
	d, to := p.answered(l, p.offer(pcmuOffer, eventMap()...))
	time.Sleep(time.Second)
	stranger, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	stop := make(chan struct{})
	flooded := make(chan int)
	go func() {
		loud := media.AppendULaw(nil, tone(20*time.Millisecond, 1000))
		n := 0
		for seq := uint16(0); ; seq++ {
			select {
			case <-stop:
				flooded <- n
				return
			default:
			}
			pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 0, SequenceNumber: seq, Timestamp: uint32(seq) * 160, SSRC: 0xbad}, Payload: loud}
			b, _ := pkt.Marshal()
			stranger.WriteToUDP(b, to)
			n++
			time.Sleep(200 * time.Microsecond)
		}
	}()
	// The caller speaks quietly (a tone at -40 dBFS) for 3 s.
	quiet := tone(3*time.Second, 300)
	for i := range quiet {
		quiet[i] /= 32
	}
	p.talk(to, quiet, 5, 1, 1)
	close(stop)
	n := <-flooded
	hangUp(t, d)
	l.waitStats(t, "the voicemail", func(s Stats) bool { return s.Voicemails+s.Missed == 1 })
	th := l.threads(t)
	if th[0].Ticket.Channel != ticket.ChannelVoicemail {
		t.Fatalf("a %s ticket, want a voicemail", th[0].Ticket.Channel)
	}
	w := readAttachment(t, l, th[0].Messages[0].Attachments[0])
	pcm, _ := media.ToTelephony(w)
	if loud := loudFrames(pcm); loud != 0 {
		t.Errorf("%d loud frames of the stranger's %d packets reached the recording", loud, n)
	}
	t.Logf("stranger sent %d packets; recording %v", n, w.Duration())
}

// A caller who calls three times in ten minutes has one ticket with three
// messages.
func TestRepeatCallsThread(t *testing.T) {
	t.Parallel()
	l := startLine(t, ringFor(10*time.Second))
	p := newPhone(t, "+447700900123")
	for i := range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
		d, err := p.call(ctx, l, p.offer(pcmuOffer, eventMap()...))
		if err != nil {
			t.Fatal(err)
		}
		d.WaitAnswer(ctx, sipgo.AnswerOptions{}) // cancelled: sends CANCEL
		cancel()
		l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == i+1 })
	}
	th := l.threads(t)
	if len(th) != 1 || len(th[0].Messages) != 3 {
		t.Fatalf("%d tickets (first with %d messages), want one with three", len(th), len(th[0].Messages))
	}
}

// A withheld number is recorded as anonymous.
func TestAnonymousCaller(t *testing.T) {
	t.Parallel()
	l := startLine(t, ringFor(10*time.Second))
	p := newPhone(t, "anonymous")
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	d, err := p.call(ctx, l, p.offer(pcmuOffer, eventMap()...),
		sip.NewHeader("P-Asserted-Identity", `"Anonymous" <sip:anonymous@anonymous.invalid>`))
	if err != nil {
		t.Fatal(err)
	}
	d.WaitAnswer(ctx, sipgo.AnswerOptions{})
	l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == 1 })
	m := l.threads(t)[0].Messages[0]
	if !strings.Contains(m.Body, "Missed call from anonymous") {
		t.Errorf("body = %q", m.Body)
	}
}

// A transcription command's output is stored on the voicemail and read by
// triage with the rules the appliance ships: "where is my order" makes an
// order-status ticket. A command that fails, or runs past its time (its
// children with it), leaves the voicemail whole, flagged, with a note in
// its text saying why it has no transcript.
func TestTranscription(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	script := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	pidFile := filepath.Join(dir, "sleeper.pid")
	tests := []struct {
		name, cmd  string
		timeout    time.Duration
		transcript string
		category   string
		failure    string // in transcription_error and the message's text
	}{
		{"works", script("good.sh", "test -s \"$1\" || exit 3\necho 'Hello, where is my order 10442?'\n"), 5 * time.Second,
			"Hello, where is my order 10442?", "order_status", ""},
		{"fails", script("bad.sh", "echo 'model not found' >&2\nexit 2\n"), 5 * time.Second, "", "", "model not found"},
		// The script's child holds its output open, as a speech model
		// started by a wrapper does.
		{"too slow", script("slow.sh", "sleep 60 &\necho $! > "+pidFile+"\nwait\n"), time.Second, "", "", "took longer than 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := startLine(t, func(s *Service) {
				s.Config.Ring = 200 * time.Millisecond
				s.Config.TranscribeCommand = tt.cmd
				s.Config.TranscribeTimeout = tt.timeout
				s.Desk = triagedDesk(t)
			})
			p := newPhone(t, "+447700900123")
			d, to := p.answered(l, p.offer(pcmuOffer, eventMap()...))
			time.Sleep(time.Second)
			p.talk(to, tone(2500*time.Millisecond, 300), 1, 1, 1)
			hangUp(t, d)
			l.waitStats(t, "the voicemail", func(s Stats) bool { return s.Voicemails == 1 })
			th := l.threads(t)[0]
			m := th.Messages[0]
			if th.Ticket.Channel != ticket.ChannelVoicemail || len(m.Attachments) != 1 {
				t.Fatalf("a %s ticket with %d attachments, want a voicemail with its recording", th.Ticket.Channel, len(m.Attachments))
			}
			if m.Transcript != tt.transcript {
				t.Errorf("transcript = %q, want %q", m.Transcript, tt.transcript)
			}
			if tt.category != "" && th.Ticket.Category != tt.category {
				t.Errorf("category = %q, want %q", th.Ticket.Category, tt.category)
			}
			failed := slices.Contains(m.Flags, "transcription_failed")
			switch {
			case tt.failure == "" && failed:
				t.Errorf("flags %v meta %v", m.Flags, m.Meta)
			case tt.failure != "" && (!failed || !strings.Contains(m.Meta["transcription_error"], tt.failure)):
				t.Errorf("flags %v meta %v, want the failure %q", m.Flags, m.Meta, tt.failure)
			case tt.failure != "" && (!strings.Contains(m.Body, "It was not transcribed: ") || !strings.Contains(m.Body, tt.failure)):
				t.Errorf("body = %q, want a note of the failure %q", m.Body, tt.failure)
			}
			if tt.name == "too slow" {
				b, err := os.ReadFile(pidFile)
				if err != nil {
					t.Fatal(err)
				}
				if alive(strings.TrimSpace(string(b))) {
					t.Errorf("the transcription command's child %s still runs", b)
				}
			}
		})
	}
}

// alive reports whether process pid runs (a zombie does not).
func alive(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...
	_, rest, _ := strings.Cut(string(b), ") ")
	return !strings.HasPrefix(rest, "Z") && !strings.HasPrefix(rest, "X")
}

// triagedDesk is a ticket store with the triage rules the appliance ships
// (config.Default), for a line that startLine starts.
func triagedDesk(t testing.TB) *ticket.Desk {
	t.Helper()
	rules, err := triage.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	desk, err := ticket.Open(t.TempDir(), ticket.Options{Region: "GB", Triager: rules, Automator: rules})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	return desk
}

// A recording cut off by a power cut becomes a ticket at the next start.
func TestSpoolRecovery(t *testing.T) {
	t.Parallel()
	spool := t.TempDir()
	start := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	meta := recordingMeta{CallID: "lost@pbx", Key: sourceKey("lost@pbx"), Start: start, Answered: start.Add(20 * time.Second),
		Number: "+447700900123", Open: true, Codec: "PCMU", Ring: 20 * time.Second}
	b, _ := json.Marshal(meta)
	base := filepath.Join(spool, "1-abc")
	if err := os.WriteFile(base+".json", b, 0o640); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(base + ".wav")
	if err != nil {
		t.Fatal(err)
	}
	w, err := media.NewWAVWriter(f, 8000, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	w.WriteSamples(tone(4*time.Second, 300)) // never closed: zero sizes in the header
	f.Close()
	l := startLine(t, func(s *Service) { s.Config.SpoolDir = spool })
	l.waitStats(t, "the recovered voicemail", func(s Stats) bool { return s.Voicemails == 1 })
	m := l.threads(t)[0].Messages[0]
	if !strings.Contains(strings.Join(m.Flags, ","), "interrupted") || m.Meta["message_seconds"] != "4" {
		t.Errorf("flags %v meta %v", m.Flags, m.Meta)
	}
	if left, _ := filepath.Glob(filepath.Join(spool, "*")); len(left) != 0 {
		t.Errorf("spool still holds %v", left)
	}
}

// Every goroutine and socket of a call ends with it.
func TestNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	fds := openFiles(t)
	l := startLine(t, func(s *Service) { s.Config.Ring = time.Second })
	p := newPhone(t, "+447700900123")
	missedCall := func(want int) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		d, err := p.call(ctx, l, p.offer(pcmuOffer, eventMap()...))
		if err != nil {
			t.Fatal(err)
		}
		d.WaitAnswer(ctx, sipgo.AnswerOptions{})
		l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == want && s.Active == 0 })
	}
	// A first call lets both user agents open the connections they keep
	// for good.
	missedCall(1)
	idle := openFiles(t)
	d, to := p.answered(l, p.offer(pcmuOffer, eventMap()...))
	if during := openFiles(t); during <= idle {
		t.Errorf("%d open files during the call, %d before: the call's RTP socket is not counted", during, idle)
	}
	time.Sleep(time.Second)
	p.talk(to, tone(2500*time.Millisecond, 300), 1, 1, 1)
	hangUp(t, d)
	l.waitStats(t, "the voicemail", func(s Stats) bool { return s.Voicemails == 1 && s.Active == 0 })
	missedCall(2)
	// While the line runs, the calls' sockets and files are closed.
	if after := openFiles(t); after > idle {
		t.Errorf("%d open files after the calls, %d before them: %v", after, idle, fdTargets())
	}
	l.svc.Close()
	l.desk.Close()
	p.ua.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, f := runtime.NumGoroutine(), openFiles(t)
		// The phone's own server goroutine and sockets end in its cleanup.
		if g <= before+4 && f <= fds+4 {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d (before %d), open files %d (before %d)\n%s", g, before, f, fds, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func openFiles(t *testing.T) int {
	es, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	return len(es)
}

func fdTargets() []string {
	es, _ := os.ReadDir("/proc/self/fd")
	var out []string
	for _, e := range es {
		l, _ := os.Readlink(filepath.Join("/proc/self/fd", e.Name()))
		if strings.HasPrefix(l, "socket:[") {
			inode := strings.TrimSuffix(strings.TrimPrefix(l, "socket:["), "]")
			for _, tab := range []string{"udp", "tcp", "udp6", "tcp6"} {
				b, _ := os.ReadFile("/proc/net/" + tab)
				for _, line := range strings.Split(string(b), "\n") {
					f := strings.Fields(line)
					if len(f) > 9 && f[9] == inode {
						l += " " + tab + " " + f[1] + "->" + f[2]
					}
				}
			}
		}
		out = append(out, e.Name()+"="+l)
	}
	return out
}

// With the disk nearly full the call is answered but not recorded: it
// becomes a missed call that says why, and no spool file is left.
func TestDiskFullNoRecording(t *testing.T) {
	t.Parallel()
	l := startLine(t, func(s *Service) {
		s.Config.Ring = 200 * time.Millisecond
		s.Config.MinFreeBytes = 1 << 62
	})
	p := newPhone(t, "+447700900123")
	p.answered(l, p.offer(pcmuOffer, eventMap()...))
	l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == 1 })
	if m := l.threads(t)[0].Messages[0]; !strings.Contains(m.Body, "disk is nearly full") {
		t.Errorf("body = %q", m.Body)
	}
	if left, _ := filepath.Glob(filepath.Join(l.svc.Config.SpoolDir, "*")); len(left) != 0 {
		t.Errorf("spool folder holds %v", left)
	}
}
