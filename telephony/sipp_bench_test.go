//go:build linux

package telephony

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/counterdesk/counterdesk/ticket"
)

// The load the benchmark puts on the line: loadCalls callers at once, each
// speaking loadSeconds after the beep (voicemail_load.xml).
const (
	loadCalls   = 50
	loadSeconds = 10
	// loadPackets is what sipp sends per call: loadSeconds of 20 ms
	// packets of tone.pcma.
	loadPackets = loadSeconds * 50
	// rtpPacketBytes is one such packet: 12 bytes of header and 160 of
	// A-law.
	rtpPacketBytes = 12 + 160
)

// BenchmarkSippVoicemail50 has one sipp process call the line 50 times at
// once; each caller speaks for 10 s after the beep and hangs up. It
// reports how much of what sipp sent reached the stored recordings, and
// the line's CPU and memory per call. CPU is also given as a ratio to the
// CPU a plain UDP reader spends on the same packets at the same rate
// (x-baseline), measured in the same run, since the figures in ms depend
// on the machine and on what else it runs.
//
//	go test -run='^$' -bench=SippVoicemail50 -benchtime=1x ./telephony/
//
// Metrics, per round of 50 calls:
//   - received/sent: RTP packets the calls counted (Meta rtp_received)
//     over the packets sipp sent (50 × 500); lost-frames: their Meta
//     rtp_lost, the gaps the jitter buffer filled with silence.
//   - recorded/sent: 20 ms frames of tone in the stored WAVs (loudFrames)
//     over the packets sent; wav-s/call: the recordings' mean length;
//     short-calls: calls whose ticket holds fewer than the 500 packets or
//     frames sent (each is logged).
//   - cpu-ms/call: the process's user+sys CPU from sipp's start until the
//     last ticket is stored, over 50; x-baseline: that over the baseline's
//     CPU for one call's 500 packets.
//   - rss-KiB/call, heap-KiB/call: the peak growth of VmRSS and of
//     HeapInuse during the calls (sampled every 200 ms), over 50.
//
// That every call leaves a voicemail ticket is checked, not measured: the
// benchmark fails otherwise.
func BenchmarkSippVoicemail50(b *testing.B) {
	bin := sipp(b)
	base := baselineReceive(b, loadCalls, loadPackets)
	b.Logf("baseline: a plain UDP reader spends %.2f ms of CPU on %d packets of %d bytes at 50 per second", base*1000, loadPackets, rtpPacketBytes)
	var sum loadResult
	rounds := 0
	for b.Loop() {
		r := voicemailLoad(b, bin)
		sum.add(r)
		rounds++
	}
	n := float64(rounds)
	sent := float64(rounds * loadCalls * loadPackets)
	b.ReportMetric(float64(sum.received)/sent, "received/sent")
	b.ReportMetric(float64(sum.loud)/sent, "recorded/sent")
	b.ReportMetric(float64(sum.lost)/n, "lost-frames")
	b.ReportMetric(float64(sum.short)/n, "short-calls")
	b.ReportMetric(sum.wav.Seconds()/n/loadCalls, "wav-s/call")
	cpu := sum.cpu.Seconds() / n / loadCalls
	b.ReportMetric(cpu*1000, "cpu-ms/call")
	b.ReportMetric(cpu/base, "x-baseline")
	b.ReportMetric(float64(sum.rss)/n/loadCalls/1024, "rss-KiB/call")
	b.ReportMetric(float64(sum.heap)/n/loadCalls/1024, "heap-KiB/call")
}

// loadResult is what one round of calls measured.
type loadResult struct {
	received, lost uint64        // Meta rtp_received and rtp_lost, summed
	loud           int           // loud 20 ms frames in the recordings
	short          int           // calls that lost packets or frames
	wav            time.Duration // the recordings' length, summed
	cpu            time.Duration // user+sys of the process
	rss, heap      int64         // peak growth in bytes
}

func (r *loadResult) add(o loadResult) {
	r.received += o.received
	r.lost += o.lost
	r.loud += o.loud
	r.short += o.short
	r.wav += o.wav
	r.cpu += o.cpu
	r.rss += o.rss
	r.heap += o.heap
}

// voicemailLoad runs one round: a fresh line, 50 calls from one sipp, and
// the tickets they left.
func voicemailLoad(b *testing.B, bin string) loadResult {
	l := startLine(b, func(s *Service) {
		s.Config.Ring, s.Config.RingAfterHours = 500*time.Millisecond, 500*time.Millisecond
		s.Config.MaxCalls = loadCalls
	})
	defer l.svc.Close()
	dir := b.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "tone.pcma"), media.AppendALaw(nil, tone(loadSeconds*time.Second, 440)), 0o644); err != nil {
		b.Fatal(err)
	}
	// Field 0 is the caller's number, field 1 their name: a caller of
	// their own per call, so that each call opens its own ticket.
	var csv strings.Builder
	csv.WriteString("SEQUENTIAL\n")
	for i := 1; i <= loadCalls; i++ {
		fmt.Fprintf(&csv, "+447700900%03d;Caller %d\n", i, i)
	}
	if err := os.WriteFile(filepath.Join(dir, "callers.csv"), []byte(csv.String()), 0o644); err != nil {
		b.Fatal(err)
	}
	sf, err := filepath.Abs(filepath.Join("testdata", "sipp", "voicemail_load.xml"))
	if err != nil {
		b.Fatal(err)
	}
	// -r 50 -rp 1000 starts the 50 calls within a second; each lasts
	// about 12 s, so all 50 are up at once. -l caps them there.
	args := []string{
		"-sf", sf, "-inf", "callers.csv",
		"-m", strconv.Itoa(loadCalls), "-l", strconv.Itoa(loadCalls), "-r", strconv.Itoa(loadCalls), "-rp", "1000",
		"-i", "127.0.0.1", "-cp", strconv.Itoa(freePort(b)), "-mp", strconv.Itoa(freePort(b)),
		"-timeout", "120s", "-timeout_error", "-nostdin", "-trace_err", "-trace_screen",
		fmt.Sprintf("127.0.0.1:%d", l.port()),
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out

	runtime.GC()
	rssBefore, hwmBefore := procStatus(b, "VmRSS"), procStatus(b, "VmHWM")
	heapBefore := heapInuse()
	cpuBefore := rusage(syscall.RUSAGE_SELF)
	samples := sampleMemory(200 * time.Millisecond)

	runErr := cmd.Run()
	// The window ends when the last call's ticket is stored.
	deadline := time.Now().Add(60 * time.Second)
	var st Stats
	for {
		st = l.svc.Stats()
		if st.Active == 0 && st.Voicemails+st.Missed+st.StoreErrors >= loadCalls || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cpu := rusage(syscall.RUSAGE_SELF) - cpuBefore
	rssPeak, heapPeak := samples.stop()
	b.Logf("line stats %+v; VmHWM %d KiB before, %d KiB after; sipp ran %s", st, hwmBefore>>10, procStatus(b, "VmHWM")>>10, sippDuration(cmd))
	logProblems(b, l)
	if runErr != nil {
		b.Fatalf("sipp: %v\n%s%s", runErr, out.String(), sippLogs(dir))
	}

	r := loadResult{cpu: cpu, rss: rssPeak - rssBefore, heap: heapPeak - heapBefore}
	voicemails := 0
	for _, th := range l.threads(b) {
		for _, m := range th.Messages {
			if m.Channel != ticket.ChannelVoicemail || len(m.Attachments) != 1 {
				continue
			}
			voicemails++
			n, _ := strconv.ParseUint(m.Meta["rtp_received"], 10, 64)
			lost, _ := strconv.ParseUint(m.Meta["rtp_lost"], 10, 64)
			r.received += n
			r.lost += lost
			w := readAttachment(b, l, m.Attachments[0])
			pcm, err := media.ToTelephony(w)
			if err != nil {
				b.Fatal(err)
			}
			loud := loudFrames(pcm)
			r.loud += loud
			r.wav += w.Duration()
			if n != loadPackets || lost != 0 || loud != loadPackets {
				r.short++
				b.Logf("%s: rtp_received %d, rtp_lost %d, %v recorded, %d loud frames of %d; ended %q", th.Contact.Phones, n, lost, w.Duration(), loud, loadPackets, m.Meta["ended"])
			}
		}
	}
	// A correctness check, not a timing one: every call is a voicemail.
	if voicemails != loadCalls || st.Voicemails != loadCalls {
		b.Fatalf("%d voicemail tickets (line counted %d), want %d; stats %+v\nline log:\n%s", voicemails, st.Voicemails, loadCalls, st, l.logs.String())
	}
	return r
}

// baselineReceive returns the CPU seconds a plain UDP reader spends to
// receive one call's packets (perCall of rtpPacketBytes), while calls
// readers, one socket and goroutine each as the line has, receive them at
// once at 50 packets a second: the least a line can spend on the same
// traffic. The sender runs on a locked OS thread whose own CPU is
// subtracted, so that, as with sipp in its own process, the cost of
// sending (and of the loopback delivery the kernel does in the sender's
// system call) is not counted.
func baselineReceive(b *testing.B, calls, perCall int) float64 {
	b.Helper()
	conns := make([]*net.UDPConn, calls)
	dsts := make([]netip.AddrPort, calls)
	for i := range conns {
		c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close()
		conns[i], dsts[i] = c, c.LocalAddr().(*net.UDPAddr).AddrPort()
	}
	var got atomic.Int64
	var readers stdsync.WaitGroup
	for _, c := range conns {
		readers.Add(1)
		go func() {
			defer readers.Done()
			buf := make([]byte, 2048)
			for {
				n, _, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				if n == rtpPacketBytes {
					got.Add(1)
				}
			}
		}()
	}
	runtime.GC()
	before := rusage(syscall.RUSAGE_SELF)
	sendCPU := make(chan time.Duration, 1)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		start := rusage(rusageThread)
		out, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			sendCPU <- -1
			return
		}
		defer out.Close()
		pkt := make([]byte, rtpPacketBytes)
		pkt[0] = 0x80
		t0 := time.Now()
		for n := range perCall {
			time.Sleep(time.Until(t0.Add(time.Duration(n) * 20 * time.Millisecond)))
			for _, d := range dsts {
				pkt[2], pkt[3] = byte(n>>8), byte(n)
				out.WriteToUDPAddrPort(pkt, d)
			}
		}
		sendCPU <- rusage(rusageThread) - start
	}()
	sent := <-sendCPU
	if sent < 0 {
		b.Fatal("baseline sender has no socket")
	}
	// The last packets are read within a moment.
	deadline := time.Now().Add(2 * time.Second)
	for got.Load() < int64(calls*perCall) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	cpu := rusage(syscall.RUSAGE_SELF) - before - sent
	for _, c := range conns {
		c.Close()
	}
	readers.Wait()
	if g := got.Load(); g < int64(calls*perCall)*99/100 {
		b.Fatalf("baseline received %d of %d packets", g, calls*perCall)
	}
	return cpu.Seconds() / float64(calls)
}

// rusageThread is Linux's RUSAGE_THREAD, which the syscall package does
// not name: the calling thread's usage.
const rusageThread = 1

// rusage returns user+sys CPU time of the process (RUSAGE_SELF) or of
// the calling thread (rusageThread).
func rusage(who int) time.Duration {
	var ru syscall.Rusage
	// Getrusage fails only for an unknown who.
	if err := syscall.Getrusage(who, &ru); err != nil {
		panic(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procStatus returns a size field of /proc/self/status in bytes.
func procStatus(b *testing.B, field string) int64 {
	v, err := readProcStatus(field)
	if err != nil {
		b.Fatal(err)
	}
	return v
}

func readProcStatus(field string) (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != field {
			continue
		}
		kib, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("/proc/self/status %s: %w", field, err)
		}
		return kib << 10, nil
	}
	return 0, fmt.Errorf("/proc/self/status has no %s", field)
}

func heapInuse() int64 {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapInuse)
}

// memorySampler keeps the highest VmRSS and HeapInuse it saw.
type memorySampler struct {
	done      chan struct{}
	finished  chan struct{}
	rss, heap int64
}

// sampleMemory samples VmRSS and HeapInuse every period until stop.
func sampleMemory(period time.Duration) *memorySampler {
	s := &memorySampler{done: make(chan struct{}), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			if v, err := readProcStatus("VmRSS"); err == nil {
				s.rss = max(s.rss, v)
			}
			s.heap = max(s.heap, heapInuse())
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	}()
	return s
}

// stop ends the sampling and returns the peaks.
func (s *memorySampler) stop() (rss, heap int64) {
	close(s.done)
	<-s.finished
	return s.rss, s.heap
}

// logProblems prints the line's ERROR and WARN log lines.
func logProblems(b *testing.B, l *line) {
	var lines []string
	for _, ln := range strings.Split(l.logs.String(), "\n") {
		if strings.Contains(ln, "level=ERROR") || strings.Contains(ln, "level=WARN") {
			lines = append(lines, ln)
		}
	}
	if len(lines) > 0 {
		b.Logf("%d ERROR/WARN lines in the line's log:\n%s", len(lines), strings.Join(lines, "\n"))
	}
}

func sippDuration(cmd *exec.Cmd) string {
	if cmd.ProcessState == nil {
		return "not at all"
	}
	return fmt.Sprintf("with %s user, %s sys CPU", cmd.ProcessState.UserTime().Round(time.Millisecond), cmd.ProcessState.SystemTime().Round(time.Millisecond))
}

// sippLogs returns the log files sipp left in dir.
func sippLogs(dir string) string {
	var out strings.Builder
	logs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, p := range logs {
		data, _ := os.ReadFile(p)
		if len(bytes.TrimSpace(data)) > 0 {
			fmt.Fprintf(&out, "\n--- %s ---\n%s", filepath.Base(p), data)
		}
	}
	return out.String()
}
