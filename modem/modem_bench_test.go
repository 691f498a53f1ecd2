package modem

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/modem/pdu"
	"github.com/counterdesk/counterdesk/ticket"
)

// BenchmarkThousandSMS takes 1,000 SMS from a fake modem's SIM into
// tickets (list, decode, ingest, delete, one by one as on a real modem),
// against the baseline of ingesting the same 1,000 decoded messages
// straight into a desk, in the same run.
func BenchmarkThousandSMS(b *testing.B) {
	const n = 1000
	at := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	pdus := make(map[int]string, n)
	for i := range n {
		pdus[i] = deliverUCS2(b, fmt.Sprintf("+4477009%05d", i), fmt.Sprintf("Is order %d shipped? 🛩️", 50000+i), at.Add(time.Duration(i)*time.Second))
	}
	var viaModem, direct time.Duration
	for range b.N {
		msgs := make(map[int]string, n)
		for k, v := range pdus {
			msgs[k] = v
		}
		s := &sim{msgs: msgs}
		e, _ := newFakeB(b, s.answer)
		d := openDeskB(b)
		r := &Receiver{Desk: d, DB: d.DB()}
		start := time.Now()
		got, err := r.ReceiveAll(context.Background(), e)
		viaModem += time.Since(start)
		if err != nil || got != n {
			b.Fatalf("ReceiveAll = %d, %v", got, err)
		}

		d2 := openDeskB(b)
		r2 := &Receiver{Desk: d2, DB: d2.DB()}
		ins := make([]ticket.Inbound, 0, n)
		for i := range n {
			m, err := pdu.DecodeHex(pdus[i])
			if err != nil {
				b.Fatal(err)
			}
			ins = append(ins, r2.inbound(m, []*pdu.Message{m}, nil))
		}
		start = time.Now()
		for _, in := range ins {
			if _, err := d2.Ingest(context.Background(), in); err != nil {
				b.Fatal(err)
			}
		}
		direct += time.Since(start)
	}
	b.ReportMetric(float64(n*b.N)/viaModem.Seconds(), "sms/s-via-modem")
	b.ReportMetric(float64(n*b.N)/direct.Seconds(), "ingests/s-direct")
	b.ReportMetric(viaModem.Seconds()/direct.Seconds(), "x-direct")
}
