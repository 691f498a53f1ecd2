package telephony

import (
	"bytes"
	"encoding/binary"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pion/rtp"

	"github.com/counterdesk/counterdesk/telephony/media"
)

// writeWAV writes a WAV file of d of a sine at hz in every channel: 16-bit
// PCM (format 1) or 32-bit float (format 3).
func writeWAV(t *testing.T, path string, format, rate, channels int, d time.Duration, hz float64) {
	t.Helper()
	bits := 16
	if format == 3 {
		bits = 32
	}
	frames := int(d * time.Duration(rate) / time.Second)
	var data bytes.Buffer
	for i := range frames {
		v := 0.3 * math.Sin(2*math.Pi*hz*float64(i)/float64(rate))
		for range channels {
			if format == 3 {
				binary.Write(&data, binary.LittleEndian, float32(v))
			} else {
				binary.Write(&data, binary.LittleEndian, int16(v*32767))
			}
		}
	}
	var b bytes.Buffer
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+data.Len()))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(format), uint16(channels), uint32(rate),
		uint32(rate * channels * bits / 8), uint16(channels * bits / 8), uint16(bits)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(data.Len()))
	b.Write(data.Bytes())
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// power is the Goertzel power of pcm at hz (8 kHz samples).
func power(pcm []int16, hz float64) float64 {
	k := 2 * math.Cos(2*math.Pi*hz/media.ClockRate)
	var s1, s2 float64
	for _, x := range pcm {
		s1, s2 = float64(x)+k*s1-s2, s1
	}
	return s1*s1 + s2*s2 - k*s1*s2
}

// dominant returns which of freqs is loudest in pcm, and whether it is at
// least ten times (10 dB) louder than each other one.
func dominant(pcm []int16, freqs ...float64) (float64, bool) {
	best := 0
	for i, f := range freqs {
		if power(pcm, f) > power(pcm, freqs[best]) {
			best = i
		}
	}
	for i, f := range freqs {
		if i != best && power(pcm, freqs[best]) < 10*power(pcm, f) {
			return freqs[best], false
		}
	}
	return freqs[best], true
}

// Greeting files in the formats a shop records them in are read and
// converted to 8 kHz mono: the sound keeps its length and pitch. An empty
// path takes the built-in greeting; a file that cannot be read says which.
func TestLoadGreetings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	open := filepath.Join(dir, "open.wav")
	closed := filepath.Join(dir, "closed.wav")
	writeWAV(t, open, 1, 44100, 2, 1500*time.Millisecond, 700)
	writeWAV(t, closed, 3, 16000, 1, time.Second, 900)
	g, err := LoadGreetings(open, closed)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		pcm  []int16
		d    time.Duration
		hz   float64
	}{
		{"44.1 kHz stereo 16-bit", g.Open, 1500 * time.Millisecond, 700},
		{"16 kHz mono float", g.Closed, time.Second, 900},
	} {
		if want := int(c.d * media.ClockRate / time.Second); len(c.pcm) < want-2 || len(c.pcm) > want+2 {
			t.Errorf("%s: %d samples at 8 kHz, want %d", c.name, len(c.pcm), want)
		}
		if hz, ok := dominant(c.pcm, 400, 600, 700, 900, 1000); hz != c.hz || !ok {
			t.Errorf("%s: loudest at %v Hz (clear: %v), want %v Hz", c.name, hz, ok, c.hz)
		}
	}
	builtin, err := LoadGreetings("", "")
	if err != nil || len(builtin.Open) == 0 || len(builtin.Closed) == 0 {
		t.Fatalf("built-in greetings: %v", err)
	}
	mixed, err := LoadGreetings(open, "")
	if err != nil || !slices.Equal(mixed.Closed, builtin.Closed) || !slices.Equal(mixed.Open, g.Open) {
		t.Errorf("a configured greeting beside the built-in one: %v", err)
	}

	notWAV := filepath.Join(dir, "notes.wav")
	os.WriteFile(notWAV, []byte("Hello, you have reached the shop."), 0o644)
	empty := filepath.Join(dir, "empty.wav")
	writeWAV(t, empty, 1, 8000, 1, 0, 440)
	for _, path := range []string{filepath.Join(dir, "missing.wav"), notWAV, empty} {
		if _, err := LoadGreetings("", path); err == nil || !strings.Contains(err.Error(), filepath.Base(path)) {
			t.Errorf("LoadGreetings(%s): %v, want an error naming the file", filepath.Base(path), err)
		}
	}
}

// hear returns the first d of audio the phone receives (PCMU), decoded.
func (p *phone) hear(d time.Duration) []int16 {
	p.t.Helper()
	want := int(d * media.ClockRate / time.Second)
	var pcm []int16
	buf := make([]byte, 1500)
	deadline := time.Now().Add(10 * time.Second)
	for len(pcm) < want {
		p.rtp.SetReadDeadline(deadline)
		n, _, err := p.rtp.ReadFromUDP(buf)
		if err != nil {
			p.t.Fatalf("heard %d samples: %v", len(pcm), err)
		}
		var pkt rtp.Packet
		if pkt.Unmarshal(buf[:n]) != nil || pkt.PayloadType != media.PayloadTypePCMU {
			continue
		}
		pcm = media.AppendPCMFromULaw(pcm, pkt.Payload)
	}
	p.rtp.SetReadDeadline(time.Time{})
	return pcm[:want]
}

// The caller hears the greeting for the time of the call: the one for
// business hours while the shop is open, the after-hours one (after
// ring_seconds_after_hours) while it is closed, each read from the WAV
// file the configuration names. The ticket says when the call came.
func TestGreetingPlayed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	openFile, closedFile := filepath.Join(dir, "open.wav"), filepath.Join(dir, "closed.wav")
	writeWAV(t, openFile, 1, 48000, 2, 2*time.Second, 700)
	writeWAV(t, closedFile, 1, 22050, 1, 2*time.Second, 900)
	greetings, err := LoadGreetings(openFile, closedFile)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		open       bool
		hz         float64
		afterHours string
	}{
		{"open", true, 700, ""},
		{"closed", false, 900, "true"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			l := startLine(t, func(s *Service) {
				// Only the ring time of the hour the call comes in is short.
				s.Config.Ring, s.Config.RingAfterHours = time.Minute, 200*time.Millisecond
				if tt.open {
					s.Config.Ring, s.Config.RingAfterHours = 200*time.Millisecond, time.Minute
				}
				s.Open = func(time.Time) bool { return tt.open }
				s.Greetings = greetings
			})
			p := newPhone(t, "+447700900123")
			d, _ := p.answered(l, p.offer(pcmuOffer, eventMap()...))
			heard := p.hear(500 * time.Millisecond)
			if hz, ok := dominant(heard, 700, 900, 1000); hz != tt.hz || !ok {
				t.Errorf("the caller heard a tone at %v Hz (clear: %v), want the %s greeting's %v Hz", hz, ok, tt.name, tt.hz)
			}
			hangUp(t, d)
			l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == 1 })
			if got := l.threads(t)[0].Messages[0].Meta["after_hours"]; got != tt.afterHours {
				t.Errorf("after_hours = %q, want %q", got, tt.afterHours)
			}
		})
	}
}
