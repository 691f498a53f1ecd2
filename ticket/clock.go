package ticket

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// Clock tells the Desk whether the wall clock can be trusted. A Pi has no
// real-time clock: it boots with the time it had when it last shut down
// (or 1970) and is right only once network time has set it. Until then
// requests are stamped as well as the box can, flagged, and corrected
// when the clock is synchronised; time rules (SLA escalations, "close
// after 7 days") wait, so that a clock that jumps does not fire them.
type Clock interface {
	// Synced reports whether the wall clock is synchronised.
	Synced() bool
	// Boot returns the id of the current boot and the time since it
	// started on a clock that never jumps (CLOCK_BOOTTIME).
	Boot() (id string, uptime time.Duration)
}

// Message flags of the clock.
const (
	// FlagClockUnsynced marks a request stamped while the clock was not
	// synchronised; its times are corrected when it is.
	FlagClockUnsynced = "clock_unsynchronised"
	// FlagClockCorrected marks a request whose times were corrected.
	FlagClockCorrected = "clock_corrected"
)

// keyUnsynced prefixes, in the meta bucket, the messages stamped while the
// clock was not synchronised: ticket number, message id.
const keyUnsynced = "unsynced\x00"

// Meta keys of a message stamped while the clock was not synchronised.
const (
	metaBootID = "boot_id"
	metaBootNs = "boot_ns"  // time since boot when it arrived
	metaWallNs = "stamp_ns" // the wall clock then, as the store stamped it
)

// clockSynced reports whether the Desk's clock is trusted.
func (d *Desk) clockSynced() bool {
	return d.opts.Clock == nil || d.opts.Clock.Synced()
}

// stampUnsynced flags m, stored at t.now while the clock was not
// synchronised, with what correcting it later needs.
func (t *txn) stampUnsynced(m *Message) error {
	id, up := t.d.opts.Clock.Boot()
	m.Flags = append(slices.Clone(m.Flags), FlagClockUnsynced)
	meta := make(Meta, len(m.Meta)+3)
	for k, v := range m.Meta {
		meta[k] = v
	}
	meta[metaBootID] = id
	meta[metaBootNs] = strconv.FormatInt(int64(up), 10)
	meta[metaWallNs] = strconv.FormatInt(t.now.UnixNano(), 10)
	m.Meta = meta
	return t.tx.Bucket(bMeta).Put(key([]byte(keyUnsynced), u64(m.Ticket), u64(m.ID)), nil)
}

// CorrectClock corrects the times of the requests stamped while the clock
// was not synchronised, now that it is: each arrived as long before now as
// the boot clock has run since. A request from an earlier boot cannot be
// placed; it keeps its flag. It returns the number of messages corrected.
func (d *Desk) CorrectClock() (int, error) {
	if d.opts.Clock == nil {
		return 0, nil
	}
	bootID, uptime := d.opts.Clock.Boot()
	now := d.opts.Now().UTC()
	corrected := 0
	err := d.update(System, func(t *txn) error {
		corrected = 0
		meta := t.tx.Bucket(bMeta)
		prefix := []byte(keyUnsynced)
		var keys [][]byte
		c := meta.Cursor()
		for k, _ := c.Seek(prefix); k != nil && hasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, slices.Clone(k))
		}
		for _, k := range keys {
			if err := meta.Delete(k); err != nil {
				return err
			}
			n, id := beU64(k[len(prefix):]), beU64(k[len(prefix)+8:])
			ok, err := t.correctMessage(n, id, bootID, uptime, now)
			if err != nil {
				return err
			}
			if ok {
				corrected++
			}
		}
		return nil
	})
	if err == nil && corrected > 0 {
		d.log.Info("clock synchronised: corrected the times of requests stamped before", "messages", corrected)
	}
	return corrected, err
}

// correctMessage corrects message id of ticket n and the ticket's times
// that were stamped with it.
func (t *txn) correctMessage(n, id uint64, bootID string, uptime time.Duration, now time.Time) (bool, error) {
	var m Message
	ok, err := getJSON(t.tx.Bucket(bThread), threadKey(n, recMessage, id), &m)
	if err != nil || !ok {
		return false, err // merged or gone: nothing left to correct
	}
	bootNs, err1 := strconv.ParseInt(m.Meta[metaBootNs], 10, 64)
	wallNs, err2 := strconv.ParseInt(m.Meta[metaWallNs], 10, 64)
	if m.Meta[metaBootID] != bootID || err1 != nil || err2 != nil || time.Duration(bootNs) > uptime {
		return false, nil // from an earlier boot: its flag stays
	}
	stamped := time.Unix(0, wallNs).UTC()
	at := now.Add(-(uptime - time.Duration(bootNs)))
	delta := at.Sub(stamped)
	if m.At.Equal(stamped) { // not a time the peer gave
		m.At = at
	}
	m.Flags = slices.DeleteFunc(slices.Clone(m.Flags), func(f string) bool { return f == FlagClockUnsynced })
	m.Flags = append(m.Flags, FlagClockCorrected)
	if err := t.putMessage(&m); err != nil {
		return false, err
	}
	tk, err := loadTicket(t.tx, m.Ticket)
	if err != nil {
		return false, err
	}
	old := clone(tk)
	shift := func(tm *time.Time) {
		if tm.Equal(stamped) {
			*tm = tm.Add(delta)
		}
	}
	if tk.CreatedAt.Equal(stamped) {
		// The service-level targets were counted from the wrong creation.
		for _, due := range []*time.Time{&tk.FirstResponseDue, &tk.ResolutionDue} {
			if !due.IsZero() {
				*due = due.Add(delta)
			}
		}
	}
	for _, tm := range []*time.Time{&tk.CreatedAt, &tk.UpdatedAt, &tk.StatusSince, &tk.LastInboundAt} {
		shift(tm)
	}
	if err := t.event(tk.Number, "clock", stamped.Format(time.RFC3339), at.Format(time.RFC3339),
		fmt.Sprintf("message %d arrived before the clock was synchronised; its time is corrected by %s", m.ID, delta.Round(time.Second))); err != nil {
		return false, err
	}
	return true, t.save(old, tk)
}

// clockJump is how far the wall clock may move apart from the monotonic
// clock between two rounds of the scheduler before the round counts as a
// jump.
const clockJump = time.Minute

// jumped reports whether the wall clock moved by more than clockJump
// apart from the monotonic clock, given how far each ran.
func jumped(wall, mono time.Duration) bool {
	diff := wall - mono
	return diff > clockJump || diff < -clockJump
}

// elapsed returns how far the wall clock and the monotonic clock ran from
// prev to now, both read with time.Now.
func elapsed(prev, now time.Time) (wall, mono time.Duration) {
	return now.Round(0).Sub(prev.Round(0)), now.Sub(prev)
}
