package ui

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http/httptest"
	"slices"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// pageWords make the benchmark's ticket texts: a model shop's vocabulary,
// so that a two-word search meets realistic posting lists.
var pageWords = []string{
	"lipo", "battery", "charger", "servo", "esc", "motor", "propeller", "receiver", "binding",
	"transmitter", "betaflight", "failsafe", "glider", "wing", "fuselage", "crash", "repair",
	"order", "shipping", "refund", "warranty", "kit", "glue", "carbon", "landing", "gear",
	"the", "my", "is", "not", "working", "after", "flight", "please", "help", "when", "arrive",
}

// BenchmarkPagesOn100k serves the staff list page and a search page over
// 100,000 tickets, 500 times each, and reports each page's p99 server time
// (goal: under 20 ms) against a baseline measured in the same run: the
// store's own query for the same page, without the page around it.
//
//	go test -run='^$' -bench=PagesOn100k -benchtime=1x -timeout 30m ./ui
func BenchmarkPagesOn100k(b *testing.B) {
	const tickets = 100_000
	f := newWebFixture(b)
	r := rand.New(rand.NewPCG(7, 7))
	texts := make([]string, tickets)
	for i := range texts {
		var words []string
		for range 20 {
			words = append(words, pageWords[r.IntN(len(pageWords))])
		}
		texts[i] = fmt.Sprint(words)
	}
	var next atomic.Int64
	var wg stdsync.WaitGroup
	fill := time.Now()
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1)) - 1; i < tickets; i = int(next.Add(1)) - 1 {
				in := ticket.Inbound{
					Channel:   ticket.Channels[i%5],
					SourceKey: fmt.Sprintf("bench-%d", i),
					From:      ticket.From{Phone: fmt.Sprintf("+4477009%05d", i%60000)},
					Body:      texts[i],
				}
				if _, err := f.desk.Ingest(context.Background(), in); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	b.Logf("filled %d tickets in %v", tickets, time.Since(fill).Round(time.Second))
	br := f.login(b, "ana", auth.RoleAgent)

	cases := []struct {
		name   string
		path   string
		filter ticket.Filter
	}{
		{"list", "/tickets", ticket.Filter{}},
		{"search", "/tickets?q=lipo+charger", ticket.Filter{Query: "lipo charger"}},
	}
	p99 := func(ds []time.Duration) time.Duration {
		slices.Sort(ds)
		return ds[len(ds)*99/100]
	}
	b.ResetTimer()
	for _, c := range cases {
		var page, store []time.Duration
		for range 500 {
			start := time.Now()
			if _, err := f.desk.List(c.filter); err != nil {
				b.Fatal(err)
			}
			store = append(store, time.Since(start))
			req := httptest.NewRequest("GET", c.path, nil)
			start = time.Now()
			p := br.send(req)
			page = append(page, time.Since(start))
			if p.status != 200 {
				b.Fatalf("%s: status %d", c.path, p.status)
			}
		}
		pp, sp := p99(page), p99(store)
		b.ReportMetric(float64(pp.Microseconds())/1000, c.name+"-p99-ms")
		b.ReportMetric(float64(pp)/float64(sp), c.name+"-x-store")
	}
}
