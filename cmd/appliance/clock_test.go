package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
)

type fakeClock struct {
	mu     stdsync.Mutex
	synced bool
}

func (c *fakeClock) Synced() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.synced
}

func (c *fakeClock) Boot() (string, time.Duration) { return "boot", time.Since(bootedAt) }

var bootedAt = time.Now().Add(-time.Hour)

// The watcher shows an unsynchronised clock on the system page and, once
// it is synchronised, corrects the requests that came before.
func TestWatchClock(t *testing.T) {
	clk := &fakeClock{}
	d, err := ticket.Open(t.TempDir(), ticket.Options{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.Ingest(context.Background(), ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "s", From: ticket.From{Phone: "+447700900123"}, Body: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	reg := health.New()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { watchClock(ctx, clk, 20*time.Millisecond, d, reg, slog.New(slog.DiscardHandler)); close(done) }()
	eventually(t, "the clock shown unsynchronised", func() bool { return reg.Snapshot()["clock"].State == health.Degraded })
	clk.mu.Lock()
	clk.synced = true
	clk.mu.Unlock()
	eventually(t, "the correction", func() bool {
		th, _ := d.Thread(r.Ticket)
		return slices.Contains(th.Messages[0].Flags, ticket.FlagClockCorrected)
	})
	if s := reg.Snapshot()["clock"]; s.State != health.OK {
		t.Errorf("clock health after sync = %+v", s)
	}
	cancel()
	<-done
}

// With clock = "auto" the running appliance flags requests exactly when
// the system says its clock is not synchronised.
func TestApplianceUnsyncedClock(t *testing.T) {
	bin := buildBinary(t)
	data := t.TempDir()
	token, _, code := cli(t, bin, "token", "create", "clock", "--role", "admin", "--data", data)
	if code != 0 {
		t.Fatalf("token create exited %d", code)
	}
	a := start(t, bin, data, "COUNTERDESK_STORE_CLOCK=auto")
	defer a.stop(t)
	c := &api{addr: a.addr, token: strings.TrimSpace(token), client: &http.Client{Timeout: 5 * time.Second}}
	cr, status, err := c.create("k", "Clock test")
	if err != nil || status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, err)
	}
	synced := (&systemClock{}).Synced()
	th := threadOf(t, c, cr.Ticket.Number)
	flagged := slices.Contains(th.Messages[0].Flags, ticket.FlagClockUnsynced)
	if flagged == synced {
		t.Errorf("system clock synchronised %v, message flags %v", synced, th.Messages[0].Flags)
	}
	want := health.OK
	if !synced {
		want = health.Degraded
	}
	if s := healthOf(t, a.addr)["clock"]; s.State != want {
		t.Errorf("clock on /healthz = %+v, want %s", s, want)
	}
}

// threadOf reads ticket n's thread through the API.
func threadOf(t *testing.T, c *api, n uint64) ticket.Thread {
	t.Helper()
	req, _ := http.NewRequest("GET", fmt.Sprintf("http://%s/api/v1/tickets/%d", c.addr, n), nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	r, err := c.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Body.Close()
	var th ticket.Thread
	if err := json.NewDecoder(r.Body).Decode(&th); err != nil || r.StatusCode != http.StatusOK {
		t.Fatalf("thread %d: %d %v", n, r.StatusCode, err)
	}
	return th
}
