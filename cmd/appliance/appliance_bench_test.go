package main

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

// seedStore fills dataDir with n tickets through the Desk, as channels
// would, from 32 parallel producers.
func seedStore(b *testing.B, dataDir string, n int) {
	d, err := ticket.Open(dataDir, ticket.Options{BatchDelay: 10 * time.Millisecond, ThreadWindow: time.Nanosecond})
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	words := strings.Fields("order battery lipo charger servo esc motor prop receiver binding crash repair warranty refund swollen tracking parcel late kit glue wing")
	var next atomic.Int64
	var wg stdsync.WaitGroup
	var failed atomic.Value
	for range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)); i <= n; i = int(next.Add(1)) {
				body := fmt.Sprintf("%s %s %s please help with order %d", words[i%len(words)], words[(i/7)%len(words)], words[(i/49)%len(words)], i)
				_, err := d.Ingest(context.Background(), ticket.Inbound{
					Channel: ticket.Channels[i%5], SourceKey: strconv.Itoa(i), NewTicket: true,
					From: ticket.From{Phone: fmt.Sprintf("+4477009%05d", i%60000)}, Body: body,
				})
				if err != nil {
					failed.Store(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		b.Fatal(err)
	}
}

// procStatus reads a field in kB from /proc/PID/status, in MB.
func procStatus(b *testing.B, pid int, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			if err != nil {
				b.Fatal(err)
			}
			return kb / 1024
		}
	}
	b.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// measureRun starts the built binary on dataDir, times it to its first
// healthy answer, works the API (list pages, searches, threads) and returns
// the start time and the resident memory after the work.
func measureRun(b *testing.B, bin, dataDir, token string, threads bool) (ready time.Duration, rssMB, hwmMB float64) {
	addr := freeAddr(b)
	cmd := exec.Command(bin, "run", "--data", dataDir, "--http", addr)
	cmd.Env = append(os.Environ(), "COUNTERDESK_LOG_LEVEL=warn")
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	for {
		r, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			r.Body.Close()
			if r.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Since(start) > 30*time.Second {
			b.Fatal("appliance did not start")
		}
		time.Sleep(2 * time.Millisecond)
	}
	ready = time.Since(start)
	get := func(path string) {
		req, _ := http.NewRequest("GET", "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+token)
		r, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		r.Body.Close()
		if r.StatusCode != http.StatusOK {
			b.Fatalf("GET %s: %s", path, r.Status)
		}
	}
	for i := range 200 {
		get("/api/v1/tickets?status=new")
		get("/api/v1/tickets?q=swollen+battery")
		get("/api/v1/tickets?channel=sms&limit=200")
		if threads {
			get(fmt.Sprintf("/api/v1/tickets/%d", ticket.FirstNumber+i))
		}
	}
	return ready, procStatus(b, cmd.Process.Pid, "VmRSS"), procStatus(b, cmd.Process.Pid, "VmHWM")
}

// BenchmarkApplianceOn100k measures the running appliance, built as it
// ships, on a store of 100,000 tickets: time from exec to a healthy
// /healthz, and resident memory after serving lists, searches and threads.
// The baselines, measured in the same run, are the same binary on an empty
// store (memory) and the exec of "appliance version" (process start).
// Goals: ready under 1 s, resident memory under 60 MB.
func BenchmarkApplianceOn100k(b *testing.B) {
	dir := b.TempDir()
	bin := filepath.Join(dir, "appliance")
	if out, err := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	empty, full := filepath.Join(dir, "empty"), filepath.Join(dir, "full")
	seedStore(b, full, 100_000)
	tokens := map[string]string{}
	for _, data := range []string{empty, full} {
		out, err := exec.Command(bin, "token", "create", "bench", "--role", "admin", "--data", data).Output()
		if err != nil {
			b.Fatal(err)
		}
		tokens[data] = strings.TrimSpace(string(out))
	}
	b.ResetTimer()
	execStart := time.Now()
	if err := exec.Command(bin, "version").Run(); err != nil {
		b.Fatal(err)
	}
	execTime := time.Since(execStart)
	_, emptyRSS, _ := measureRun(b, bin, empty, tokens[empty], false)
	ready, rss, hwm := measureRun(b, bin, full, tokens[full], true)
	callsRSS := measureCalls(b, bin, full, 10)
	b.StopTimer()
	if callsRSS > 0 {
		b.ReportMetric(callsRSS, "rss-10-calls-MB")
	}
	b.ReportMetric(float64(ready.Microseconds())/1000, "ready-ms")
	b.ReportMetric(float64(execTime.Microseconds())/1000, "exec-ms")
	b.ReportMetric(rss, "rss-MB")
	b.ReportMetric(hwm, "peak-rss-MB")
	b.ReportMetric(emptyRSS, "empty-rss-MB")
	b.ReportMetric(rss/emptyRSS, "rss/empty")
}

// measureCalls starts the appliance on dataDir with its phone line on
// loopback, has sipp place calls calls at once (each answered after a
// second, streaming ten seconds of audio while the greeting plays), and
// returns the largest resident set seen while they were in progress. It
// returns 0 when sipp is not installed.
func measureCalls(b *testing.B, bin, dataDir string, calls int) float64 {
	sipp, err := exec.LookPath("sipp")
	if err != nil {
		b.Log("sipp is not installed: no measure with calls in progress")
		return 0
	}
	addr, sipAddr := freeAddr(b), freeUDPTCPAddr(b)
	cmd := exec.Command(bin, "run", "--data", dataDir, "--http", addr, "--sip", sipAddr)
	cmd.Env = append(os.Environ(), "COUNTERDESK_LOG_LEVEL=warn", "COUNTERDESK_SIP_RING_SECONDS=1", "COUNTERDESK_SIP_RING_SECONDS_AFTER_HOURS=1",
		"COUNTERDESK_SIP_MAX_CALLS="+strconv.Itoa(calls))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	for start := time.Now(); ; time.Sleep(5 * time.Millisecond) {
		if r, err := http.Get("http://" + addr + "/healthz"); err == nil {
			r.Body.Close()
			break
		}
		if time.Since(start) > 30*time.Second {
			b.Fatal("appliance did not start")
		}
	}
	work := b.TempDir()
	tone := make([]byte, 8000*10) // ten seconds of A-law, a quiet square wave
	for i := range tone {
		tone[i] = 0xd5
		if i/20%2 == 0 {
			tone[i] = 0xa5
		}
	}
	if err := os.WriteFile(filepath.Join(work, "tone.pcma"), tone, 0o644); err != nil {
		b.Fatal(err)
	}
	scenario, _ := filepath.Abs("../../telephony/testdata/sipp/voicemail.xml")
	sp := exec.Command(sipp, "-sf", scenario, "-m", strconv.Itoa(calls), "-l", strconv.Itoa(calls), "-r", strconv.Itoa(calls),
		"-i", "127.0.0.1", "-timeout", "60s", "-nostdin", sipAddr)
	sp.Dir = work
	done := make(chan error, 1)
	if err := sp.Start(); err != nil {
		b.Fatal(err)
	}
	go func() { done <- sp.Wait() }()
	peak := 0.0
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				b.Fatalf("sipp: %v (its logs are in %s)", err, work)
			}
			return peak
		case <-tick.C:
			peak = max(peak, procStatus(b, cmd.Process.Pid, "VmRSS"))
		}
	}
}
