package webhook_test

import (
	"context"
	"net/http/httptest"
	stdsync "sync"
	"testing"

	"github.com/counterdesk/counterdesk/sync/webhook/webhookfake"
	"github.com/counterdesk/counterdesk/ticket"
)

// BenchmarkCopy copies 10,000 tickets (ticket.created and one
// message.added each) to the fake receiver over 8 connections, as the
// engine does with parallel workers, and checks that each arrived once.
func BenchmarkCopy(b *testing.B) {
	const tickets, workers = 10_000, 8
	for b.Loop() {
		fake := webhookfake.New(secret)
		srv := httptest.NewServer(fake)
		tg := newTarget(b, srv.URL+webhookfake.DefaultPath, secret)
		next := make(chan uint64)
		var wg stdsync.WaitGroup
		for range workers {
			wg.Go(func() {
				ctx := context.Background()
				for n := range next {
					tk := newTicket(n)
					if _, err := tg.Create(ctx, tk, newMessage(1, ticket.Incoming, "first")); err != nil {
						b.Error(err)
						return
					}
					if _, err := tg.Post(ctx, tk.UUID, tk, newMessage(2, ticket.Outgoing, "reply")); err != nil {
						b.Error(err)
						return
					}
				}
			})
		}
		for n := range uint64(tickets) {
			next <- n + 1
		}
		close(next)
		wg.Wait()
		srv.Close()
		if fake.Len() != 2*tickets || fake.Repeats() != 0 || fake.Problems() != nil {
			b.Fatalf("%d events, %d repeats, problems %v", fake.Len(), fake.Repeats(), fake.Problems())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*2*tickets), "ns/event")
}
