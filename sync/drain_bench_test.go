package sync_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/sync/zendesk"
	"github.com/counterdesk/counterdesk/sync/zendesk/zendeskfake"
	"github.com/counterdesk/counterdesk/ticket"
)

// envInt reads a benchmark's size from the environment.
func envInt(name string, def int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return def
}

// BenchmarkDrainZendesk queues tickets while Zendesk is unreachable, then
// measures how fast the engine drains them against a fake that enforces
// Zendesk's rate limit (700 requests a minute, 429 with Retry-After
// beyond). It reports the requests served per minute as a ratio of the
// limit (goal: at least 0.95) and fails on any duplicate.
//
// The defaults are the shop's case, 10,000 tickets at 700 a minute, about
// 15 minutes; SYNC_BENCH_TICKETS and SYNC_BENCH_WINDOW_SECONDS shorten it
// (the limit stays 700 per window; use more than 700 tickets).
func BenchmarkDrainZendesk(b *testing.B) {
	tickets := envInt("SYNC_BENCH_TICKETS", 10000)
	window := time.Duration(envInt("SYNC_BENCH_WINDOW_SECONDS", 60)) * time.Second
	const limit = 700
	for range b.N {
		b.StopTimer()
		fake := zendeskfake.New("owner@shop.example", "bench-token")
		srv := httptest.NewServer(fake)
		d, err := ticket.Open(b.TempDir(), ticket.Options{
			Planners:     []ticket.Planner{sync.Planner([]string{"zendesk"})},
			ThreadWindow: time.Nanosecond,
			Outbox:       ticket.OutboxOptions{MaxPending: 2 * tickets},
		})
		if err != nil {
			b.Fatal(err)
		}
		for i := range tickets {
			if _, err := d.Ingest(context.Background(), ticket.Inbound{
				Channel: ticket.ChannelWebForm, SourceKey: fmt.Sprint("form-", i),
				From:    ticket.From{Name: "Pilot", Email: fmt.Sprintf("pilot%d@example.com", i)},
				Subject: fmt.Sprint("Order ", 1000+i), Body: "Where is my order?",
			}); err != nil {
				b.Fatal(err)
			}
		}
		target, err := zendesk.New(config.SyncTarget{
			Type: "zendesk", Name: "zendesk", BaseURL: srv.URL, Email: "owner@shop.example", Token: "bench-token",
		}, 30*time.Second)
		if err != nil {
			b.Fatal(err)
		}
		e, err := sync.New(d, []sync.Named{{Name: "zendesk", Type: "zendesk", Target: target}}, sync.Options{Parallel: 4})
		if err != nil {
			b.Fatal(err)
		}
		fake.Faults.Limit(limit, window)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		b.StartTimer()
		began := time.Now()
		go func() { e.Run(ctx); close(done) }()
		for {
			if n, _ := d.Pending(sync.Kind("zendesk")); n == 0 {
				break
			}
			time.Sleep(50 * time.Millisecond)
		}
		elapsed := time.Since(began)
		b.StopTimer()
		cancel()
		<-done
		_, served, refused := fake.Faults.Stats()
		made, replayed := fake.Creations()
		dups := 0
		for _, tk := range fake.Tickets() {
			if len(fake.TicketsByExternalID(tk.ExternalID)) != 1 {
				dups++
			}
		}
		if made != tickets || dups != 0 {
			b.Fatalf("%d tickets made in Zendesk (%d replayed, %d duplicated) for %d on the box", made, replayed, dups, tickets)
		}
		// The fake's windows are fixed, as Zendesk's minute is: the fastest
		// any client can serve n requests is the whole windows before the
		// window of the last one. The ratio is that time over the time taken.
		fastest := time.Duration((served-1)/limit) * window
		b.ReportMetric(fastest.Seconds()/elapsed.Seconds(), "limit-ratio")
		b.ReportMetric(elapsed.Seconds(), "drain-seconds")
		b.ReportMetric(float64(served)/float64(tickets), "requests/ticket")
		b.ReportMetric(float64(refused), "429s")
		b.ReportMetric(0, "duplicates")
		d.Close()
		srv.Close()
	}
}
