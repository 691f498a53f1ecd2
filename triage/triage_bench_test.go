package triage

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
)

// benchMessage is a request of about 1 KB, as a customer writes one.
func benchMessage() string {
	const para = "Hi there, I bought a 1400mm foam glider from you last month (order #48213) and " +
		"after a hard landing the fuselage cracked near the wing joint. The ESC now beeps " +
		"three times when I plug in the battery and the motor will not spin, although the " +
		"servos still move when I use the transmitter. Is this covered, or can I buy the " +
		"spare parts? Tracking said it was delivered on Tuesday. Thanks, Sam. "
	var b strings.Builder
	for b.Len() < 1024 {
		b.WriteString(para)
	}
	return b.String()[:1024]
}

// benchRules returns a configuration with n generated rules: half
// categories, a third tags and the rest flags. Each has eight keywords and
// three phrases from a vocabulary of made-up words and common English ones,
// and every tenth a pattern, half of which need a word of the message.
func benchRules(n int) config.Config {
	common := strings.Fields("order battery motor servo esc glider wing landing spare parts tracking delivered transmitter fuselage cracked beeps")
	word := func(i int) string {
		if i%9 == 0 {
			return common[i%len(common)]
		}
		return fmt.Sprintf("w%04d", i)
	}
	c := config.Default()
	c.Triage.Categories, c.Triage.Tags, c.Triage.Flags = nil, nil, nil
	for r := range n {
		var kw, ph, pat []string
		for k := range 8 {
			kw = append(kw, word(r*11+k))
		}
		for p := range 3 {
			ph = append(ph, word(r*7+p)+" "+word(r*5+p+1))
		}
		switch r % 20 {
		case 0: // its literal is not in the message, so it is skipped
			pat = append(pat, fmt.Sprintf(`\bw%04d\d*\b`, r))
		case 10: // its literal is, so it runs
			pat = append(pat, fmt.Sprintf(`\b%s\w*\b`, common[r%len(common)]))
		}
		name := fmt.Sprintf("rule%03d", r)
		switch {
		case r < n/2:
			c.Triage.Categories = append(c.Triage.Categories, config.Category{Name: name, Team: "shop", Keywords: kw, Phrases: ph, Patterns: pat})
		case r < n/2+n/3:
			c.Triage.Tags = append(c.Triage.Tags, config.TagRule{Name: name, Keywords: kw, Phrases: ph, Patterns: pat})
		default:
			c.Triage.Flags = append(c.Triage.Flags, config.Flag{Name: name, Priority: "high", Keywords: kw, Phrases: ph, Patterns: pat})
		}
	}
	c.Triage.Categories = append(c.Triage.Categories, config.Category{Name: "general", Team: "shop"})
	return c
}

// BenchmarkClassify triages a 1 KB message against 200 rules. Besides
// ns/op it reports, from the same run, the time to only fold and split the
// message into words (baseline-ns/op) and how many times that the whole
// triage takes (x-baseline).
func BenchmarkClassify(b *testing.B) {
	for _, bench := range []struct {
		name string
		c    config.Config
	}{
		{"rules=200", benchRules(200)},
		{"rules=default", config.Default()},
	} {
		b.Run(bench.name, func(b *testing.B) {
			if err := bench.c.Validate(); err != nil {
				b.Fatal(err)
			}
			e, err := New(bench.c)
			if err != nil {
				b.Fatal(err)
			}
			msg := benchMessage()
			in := Input{Channel: "email", Subject: "Cracked glider", Body: msg, ReceivedAt: time.Date(2026, 5, 4, 10, 0, 0, 0, time.UTC), NewTicket: true}

			var n int
			start := time.Now()
			for range b.N {
				n += len(words(in.Subject)) + len(words(in.Body))
			}
			baseline := time.Since(start)
			if n == 0 {
				b.Fatal("no words")
			}

			b.ReportAllocs()
			b.ResetTimer()
			var d Decision
			for range b.N {
				d = e.Triage(in)
			}
			b.StopTimer()
			if d.Category == "" {
				b.Fatal("no category")
			}
			b.ReportMetric(float64(baseline.Nanoseconds())/float64(b.N), "baseline-ns/op")
			b.ReportMetric(float64(b.Elapsed())/float64(baseline), "x-baseline")
		})
	}
}
