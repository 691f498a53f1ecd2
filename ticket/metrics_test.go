package ticket

import (
	"context"
	"testing"
)

func TestCountsAndIngestStats(t *testing.T) {
	d := openDesk(t, Options{})
	ctx := context.Background()
	var first uint64
	for i, in := range []Inbound{
		{Channel: ChannelSMS, SourceKey: "a", From: From{Phone: "+447700900001"}, Body: "one"},
		{Channel: ChannelSMS, SourceKey: "b", From: From{Phone: "+447700900002"}, Body: "two"},
		{Channel: ChannelVoicemail, SourceKey: "c", From: From{Phone: "+447700900003"}, Body: "three"},
		{Channel: ChannelSMS, SourceKey: "a", From: From{Phone: "+447700900001"}, Body: "one"}, // duplicate
	} {
		res, err := d.Ingest(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			first = res.Ticket
		}
	}
	if _, err := d.Ingest(ctx, Inbound{Channel: ChannelSMS}); err == nil {
		t.Fatal("an inbound without a source key was taken")
	}
	if err := d.Delete(ctx, Staff("ana"), first, "spam"); err != nil {
		t.Fatal(err)
	}
	c, err := d.Counts()
	if err != nil {
		t.Fatal(err)
	}
	if c.ByStatus[StatusNew] != 2 || c.Deleted != 1 || c.ByChannel[ChannelSMS] != 1 || c.ByChannel[ChannelVoicemail] != 1 {
		t.Errorf("counts %+v", c)
	}
	s := d.IngestStats()
	if s.Stored != 3 || s.Duplicates != 1 || s.Refused != 1 || s.Count != 4 || s.Sum <= 0 {
		t.Errorf("ingest stats %+v", s)
	}
	if len(s.Buckets) != len(IngestBuckets()) || s.Buckets[len(s.Buckets)-1] > s.Count {
		t.Errorf("buckets %v of %d", s.Buckets, s.Count)
	}
	for i := 1; i < len(s.Buckets); i++ {
		if s.Buckets[i] < s.Buckets[i-1] {
			t.Errorf("histogram not cumulative: %v", s.Buckets)
		}
	}
}
