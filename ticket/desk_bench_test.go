package ticket

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	stdsync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	bolt "go.etcd.io/bbolt"
)

// benchCommon are the everyday words of requests, most common first.
var benchCommon = strings.Fields(`the a is my of to and in it for on with was has but not please help
thanks hello when where why can you me we they this that there what how number week days today
yesterday friday bought new old still again just working problem question need know`)

// benchTopics are what requests are about: each generated request keeps to
// one, as real ones mostly do.
var benchTopics = [][]string{
	strings.Fields("order tracking parcel delivery late shipping dispatched address"),
	strings.Fields("battery lipo charger cell balance lead connector xt60 voltage"),
	strings.Fields("servo horn linkage pushrod jitter twitching centre"),
	strings.Fields("esc motor beeping hot timing calibration throttle"),
	strings.Fields("propeller prop spinner nut adapter balance"),
	strings.Fields("receiver transmitter binding bind failsafe range antenna telemetry"),
	strings.Fields("flight controller firmware betaflight ardupilot gps compass arming"),
	strings.Fields("kit assembly glue balsa wing fuselage tail canopy decal"),
	strings.Fields("crash repair broken cracked snapped fuselage wing"),
	strings.Fields("warranty refund return faulty exchange receipt"),
}

// benchSafety are words that page staff: in about one request in a hundred.
var benchSafety = strings.Fields("swollen puffed smoke")

// benchText returns a request body of n words: everyday words drawn with
// a skew towards the common ones, a third of them words of one topic.
func benchText(r *rand.Rand, n int) string {
	topic := benchTopics[r.IntN(len(benchTopics))]
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(' ')
		}
		switch {
		case i%3 == 2:
			b.WriteString(topic[r.IntN(len(topic))])
		case r.IntN(100*n) == 0:
			b.WriteString(benchSafety[r.IntN(len(benchSafety))])
		default:
			b.WriteString(benchCommon[int(float64(len(benchCommon))*r.Float64()*r.Float64())])
		}
	}
	return b.String()
}

func benchInbound(r *rand.Rand, i int) Inbound {
	return Inbound{
		Channel:   Channels[i%5],
		SourceKey: fmt.Sprintf("bench-%d", i),
		From:      From{Phone: fmt.Sprintf("+4477009%05d", i%60000), Name: "Customer " + fmt.Sprint(i%60000)},
		Body:      benchText(r, 24),
	}
}

// BenchmarkIngestVsRawBatch measures Ingest with 8 parallel producers
// against the baseline of the issue: raw bbolt Batch puts of the same byte
// volume, with the same fsync policy, by 8 producers, in the same run. It
// reports both rates and their ratio (goal: at least 0.5).
func BenchmarkIngestVsRawBatch(b *testing.B) {
	const producers = 8
	ops := max(b.N, 400)

	// The byte volume of one ingest: every key and value it adds.
	probe := openDesk(b, Options{})
	mustIngest(b, probe, benchInbound(rand.New(rand.NewPCG(1, 1)), 0))
	perOp := storeBytes(b, probe)

	run := func(do func(i int)) time.Duration {
		var next atomic.Int64
		var wg stdsync.WaitGroup
		start := time.Now()
		for range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)); i <= ops; i = int(next.Add(1)) {
					do(i)
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}

	b.ResetTimer()
	raw, err := bolt.Open(filepath.Join(b.TempDir(), "raw.db"), 0o600, nil)
	if err != nil {
		b.Fatal(err)
	}
	raw.MaxBatchDelay = DefaultBatchDelay
	if err := raw.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		b.Fatal(err)
	}
	value := make([]byte, perOp-8)
	rawTime := run(func(i int) {
		err := raw.Batch(func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put(u64(uint64(i)), value) })
		if err != nil {
			b.Error(err)
		}
	})
	raw.Close()

	d := openDesk(b, Options{})
	inputs := make([]Inbound, ops+1)
	r := rand.New(rand.NewPCG(2, 2))
	for i := range inputs {
		inputs[i] = benchInbound(r, i)
	}
	deskTime := run(func(i int) {
		if _, err := d.Ingest(context.Background(), inputs[i]); err != nil {
			b.Error(err)
		}
	})
	// The word-index merge is part of the cost of ingesting: finish it
	// inside the measured time.
	mergeStart := time.Now()
	for {
		moved, err := d.mergeRecent()
		if err != nil {
			b.Fatal(err)
		}
		if moved == 0 {
			break
		}
	}
	deskTime += time.Since(mergeStart)
	b.StopTimer()

	rawRate := float64(ops) / rawTime.Seconds()
	deskRate := float64(ops) / deskTime.Seconds()
	b.ReportMetric(float64(perOp), "bytes/ingest")
	b.ReportMetric(rawRate, "raw-puts/s")
	b.ReportMetric(deskRate, "ingests/s")
	b.ReportMetric(deskRate/rawRate, "ratio")
}

// storeBytes sums the keys and values of every bucket but meta.
func storeBytes(b testing.TB, d *Desk) int {
	n := 0
	err := d.db.View(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if string(name) == string(bMeta) {
				continue
			}
			c := tx.Bucket(name).Cursor()
			for k, v := c.First(); k != nil; k, v = c.Next() {
				n += len(k) + len(v)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

var (
	bigDeskOnce stdsync.Once
	bigDeskDir  string
	bigDeskErr  error
)

// BigStoreTickets is the size of the store the read benchmarks run on.
const BigStoreTickets = 100_000

// bigDesk fills a store with 100,000 tickets once per process, by parallel
// Ingest, with a fifth of them resolved.
func bigDesk(b *testing.B) *Desk {
	bigDeskOnce.Do(func() {
		dir, err := mkdirTemp()
		if err != nil {
			bigDeskErr = err
			return
		}
		bigDeskDir = dir
		d, err := Open(dir, Options{ThreadWindow: time.Nanosecond})
		if err != nil {
			bigDeskErr = err
			return
		}
		defer d.Close()
		var next atomic.Int64
		var wg stdsync.WaitGroup
		for w := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := rand.New(rand.NewPCG(uint64(w), 7))
				for i := int(next.Add(1)); i <= BigStoreTickets; i = int(next.Add(1)) {
					in := benchInbound(r, i)
					in.NewTicket = true
					res, err := d.Ingest(context.Background(), in)
					if err != nil {
						bigDeskErr = err
						return
					}
					if i%5 == 0 {
						if _, err := d.SetStatus(context.Background(), Staff("ana"), res.Ticket, StatusResolved, ""); err != nil {
							bigDeskErr = err
							return
						}
					}
				}
			}()
		}
		wg.Wait()
	})
	if bigDeskErr != nil {
		b.Fatal(bigDeskErr)
	}
	d, err := Open(bigDeskDir, Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { d.Close() })
	return d
}

// latencies runs fn n times and returns the p50 and p99 durations.
func latencies(n int, fn func()) (p50, p99 time.Duration) {
	ds := make([]time.Duration, n)
	for i := range ds {
		start := time.Now()
		fn()
		ds[i] = time.Since(start)
	}
	slices.Sort(ds)
	return ds[n/2], ds[n*99/100]
}

// BenchmarkReadsOn100k measures, on a store of 100,000 tickets, the p99 of
// listing the first page of open tickets and of a two-word search, against
// the baseline of reading the same 50 ticket records straight from bbolt by
// key in the same run (goal: each under 5 ms p99).
func BenchmarkReadsOn100k(b *testing.B) {
	d := bigDesk(b)
	rounds := max(b.N, 500)
	var first Page
	var err error
	b.ResetTimer()
	_, listP99 := latencies(rounds, func() {
		first, err = d.List(Filter{Status: StatusNew})
	})
	if err != nil || len(first.Tickets) != DefaultPageSize {
		b.Fatalf("list = %d tickets, %v", len(first.Tickets), err)
	}
	var found Page
	_, searchP99 := latencies(rounds, func() {
		found, err = d.List(Filter{Query: "lipo battery"})
	})
	if err != nil || len(found.Tickets) == 0 {
		b.Fatalf("search found %d tickets, %v", len(found.Tickets), err)
	}
	_, rareP99 := latencies(rounds, func() {
		found, err = d.List(Filter{Query: "betaflight failsafe"})
	})
	if err != nil {
		b.Fatal(err)
	}
	_, rawP99 := latencies(rounds, func() {
		_ = d.db.View(func(tx *bolt.Tx) error {
			bk := tx.Bucket(bTickets)
			for _, tk := range first.Tickets {
				var t Ticket
				if _, err := getJSON(bk, u64(tk.Number), &t); err != nil {
					return err
				}
			}
			return nil
		})
	})
	b.StopTimer()
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	b.ReportMetric(ms(listP99), "list-p99-ms")
	b.ReportMetric(ms(searchP99), "search-p99-ms")
	b.ReportMetric(ms(rareP99), "rare-search-p99-ms")
	b.ReportMetric(ms(rawP99), "raw50-p99-ms")
	b.ReportMetric(float64(listP99)/float64(rawP99), "list/raw")
	b.ReportMetric(float64(searchP99)/float64(rawP99), "search/raw")
}

func mkdirTemp() (string, error) { return os.MkdirTemp("", "counterdesk-bench-") }

func TestMain(m *testing.M) {
	code := m.Run()
	if bigDeskDir != "" {
		os.RemoveAll(bigDeskDir)
	}
	os.Exit(code)
}

// BenchmarkIngestTriageOnOff measures Ingest with the shipped triage and
// automation rules against Ingest with no rules, in the same run, 8
// producers each (goal: triage costs under 10% of ingest).
func BenchmarkIngestTriageOnOff(b *testing.B) {
	const producers = 8
	ops := max(b.N, 400)
	engine := shopEngine(b, func(c *config.Config) {
		for i := range c.Triage.Teams {
			c.Triage.Teams[i].Members = []string{"ana", "bob", "carla"}
		}
	})
	r := rand.New(rand.NewPCG(3, 3))
	inputs := make([]Inbound, ops+1)
	for i := range inputs {
		inputs[i] = benchInbound(r, i)
	}
	measure := func(opts Options) time.Duration {
		d := openDesk(b, opts)
		var next atomic.Int64
		var wg stdsync.WaitGroup
		start := time.Now()
		for range producers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := int(next.Add(1)); i <= ops; i = int(next.Add(1)) {
					if _, err := d.Ingest(context.Background(), inputs[i]); err != nil {
						b.Error(err)
					}
				}
			}()
		}
		wg.Wait()
		return time.Since(start)
	}
	// Tuesday morning: within opening hours, so routing runs too.
	now := func() time.Time { return tuesdayMorning }
	// Alternate the two, three rounds each, so that neither gains from
	// going first or last (the disk's write-back, the page cache).
	b.ResetTimer()
	var off, on time.Duration
	for round := range 6 {
		if round%2 == 0 {
			off += measure(Options{Now: now})
		} else {
			on += measure(Options{Now: now, Triager: engine, Automator: engine})
		}
	}
	off, on = off/3, on/3
	b.StopTimer()
	b.ReportMetric(float64(ops)/off.Seconds(), "ingests/s-off")
	b.ReportMetric(float64(ops)/on.Seconds(), "ingests/s-on")
	b.ReportMetric(on.Seconds()/off.Seconds()-1, "triage-cost")
}
