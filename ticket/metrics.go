package ticket

import (
	"bytes"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Counts are the live tickets by status and by channel, and the outbox
// rows waiting by kind, read from the indexes.
type Counts struct {
	ByStatus  map[Status]int
	ByChannel map[Channel]int
	Deleted   int
	// OutboxByKind counts the rows waiting for delivery (not the parked
	// ones) by their kind, such as "sms" or "sync".
	OutboxByKind map[string]int
}

// Counts walks the status and channel indexes and the outbox's due list.
// It reads keys only, about a millisecond per 10,000 tickets.
func (d *Desk) Counts() (Counts, error) {
	c := Counts{ByStatus: map[Status]int{}, ByChannel: map[Channel]int{}, OutboxByKind: map[string]int{}}
	err := d.db.View(func(tx *bolt.Tx) error {
		cur := tx.Bucket(bIndex).Cursor()
		for _, id := range []byte{ixStatus, ixChannel} {
			prefix := []byte{id}
			for k, _ := cur.Seek(prefix); k != nil && k[0] == id; k, _ = cur.Next() {
				name, _, ok := bytes.Cut(k[1:], []byte{0})
				if !ok {
					continue
				}
				switch {
				case id == ixStatus && string(name) == deletedStatus:
					c.Deleted++
				case id == ixStatus:
					c.ByStatus[Status(name)]++
				default:
					c.ByChannel[Channel(name)]++
				}
			}
		}
		due := tx.Bucket(bOutboxDue).Cursor()
		for k, _ := due.First(); k != nil; k, _ = due.Next() {
			if kind, _, ok := bytes.Cut(k, []byte{0}); ok {
				c.OutboxByKind[string(kind)]++
			}
		}
		return nil
	})
	return c, err
}

// ingestBounds are the upper bounds of the ingest latency histogram.
var ingestBounds = [...]time.Duration{
	time.Millisecond, 5 * time.Millisecond, 10 * time.Millisecond, 25 * time.Millisecond,
	50 * time.Millisecond, 100 * time.Millisecond, 250 * time.Millisecond, time.Second,
}

// IngestBuckets returns the upper bounds of the ingest latency histogram.
func IngestBuckets() []time.Duration { return ingestBounds[:] }

// IngestStats count the Ingest calls since the desk opened and how long
// they took (until the transaction was on disk).
type IngestStats struct {
	Stored, Duplicates, Refused uint64
	// Buckets[i] counts the calls that took at most IngestBuckets()[i];
	// calls slower than the last bound are only in Count.
	Buckets []uint64
	Count   uint64
	Sum     time.Duration
}

// ingestMeter gathers IngestStats with atomics, off the write path's lock.
type ingestMeter struct {
	stored, duplicates, refused atomic.Uint64
	buckets                     [len(ingestBounds)]atomic.Uint64
	count                       atomic.Uint64
	sumNanos                    atomic.Int64
}

func (m *ingestMeter) observe(took time.Duration, res Result, err error) {
	switch {
	case err != nil:
		m.refused.Add(1)
		return
	case res.Duplicate:
		m.duplicates.Add(1)
	default:
		m.stored.Add(1)
	}
	m.count.Add(1)
	m.sumNanos.Add(int64(took))
	for i, b := range ingestBounds {
		if took <= b {
			m.buckets[i].Add(1)
		}
	}
}

// IngestStats returns the ingest counters.
func (d *Desk) IngestStats() IngestStats {
	m := &d.meter
	s := IngestStats{
		Stored: m.stored.Load(), Duplicates: m.duplicates.Load(), Refused: m.refused.Load(),
		Count: m.count.Load(), Sum: time.Duration(m.sumNanos.Load()),
	}
	for i := range ingestBounds {
		s.Buckets = append(s.Buckets, m.buckets[i].Load())
	}
	return s
}
