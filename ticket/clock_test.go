package ticket

import (
	"slices"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/triage"
)

// piClock is a box without a real-time clock: its wall clock is wrong
// until synced, while the boot clock runs on.
type piClock struct {
	wall   *clock
	synced bool
	boot   string
	uptime time.Duration
}

func (p *piClock) Synced() bool                  { return p.synced }
func (p *piClock) Boot() (string, time.Duration) { return p.boot, p.uptime }
func (p *piClock) pass(d time.Duration)          { p.wall.Add(d); p.uptime += d }
func hasFlag(m Message, flag string) bool        { return slices.Contains(m.Flags, flag) }
func lastMessage(t *testing.T, d *Desk, n uint64) Message {
	t.Helper()
	th, err := d.Thread(n)
	if err != nil {
		t.Fatal(err)
	}
	return th.Messages[len(th.Messages)-1]
}

// A box that boots with its clock in 1970 stamps requests with the wrong
// time, flags them, runs no time rule, and corrects the times when
// network time arrives: each request then sits as long before the
// correction as the boot clock ran since it came.
func TestUnsynchronisedClockIsCorrected(t *testing.T) {
	rules, err := triage.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	wall := &clock{now: time.Date(1970, 1, 1, 0, 0, 30, 0, time.UTC)}
	pi := &piClock{wall: wall, boot: "boot-1", uptime: 30 * time.Second}
	d := openDesk(t, Options{Now: wall.Now, Clock: pi, Triager: rules, Automator: rules})

	sms := mustIngest(t, d, Inbound{Channel: ChannelSMS, SourceKey: "s1", From: From{Phone: "+447700900123"},
		Body: "My LiPo is swollen", At: time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)}) // the network's time
	pi.pass(2 * time.Minute)
	form := mustIngest(t, d, Inbound{Channel: ChannelWebForm, SourceKey: "f1", From: From{Email: "pilot@example.com"}, Body: "Where is my order 5531?"})
	m := lastMessage(t, d, form.Ticket)
	if !hasFlag(m, FlagClockUnsynced) || m.At.Year() != 1970 {
		t.Fatalf("message stamped before sync = %+v", m)
	}
	// Time rules do not run on a clock that is not the shop's.
	if n, err := d.RunDue(wall.Now().Add(365 * 24 * time.Hour)); err != nil || n != 0 {
		t.Errorf("RunDue while unsynchronised = %d, %v", n, err)
	}

	// Network time arrives 5 minutes after the web form came.
	pi.pass(5 * time.Minute)
	pi.synced = true
	synced := time.Date(2026, 11, 22, 8, 10, 0, 0, time.UTC)
	wall.now = synced
	n, err := d.CorrectClock()
	if err != nil || n != 2 {
		t.Fatalf("CorrectClock = %d, %v; want 2", n, err)
	}
	m = lastMessage(t, d, form.Ticket)
	if want := synced.Add(-5 * time.Minute); !m.At.Equal(want) || hasFlag(m, FlagClockUnsynced) || !hasFlag(m, FlagClockCorrected) {
		t.Errorf("corrected message = at %v flags %v, want at %v", m.At, m.Flags, want)
	}
	tk, _ := d.Get(form.Ticket)
	if want := synced.Add(-5 * time.Minute); !tk.CreatedAt.Equal(want) || !tk.LastInboundAt.Equal(want) || tk.FirstResponseDue.Year() != 2026 {
		t.Errorf("corrected ticket = created %v, last inbound %v, first response due %v", tk.CreatedAt, tk.LastInboundAt, tk.FirstResponseDue)
	}
	// The SMS kept the network's time; only the store's own stamps moved.
	if m := lastMessage(t, d, sms.Ticket); !m.At.Equal(time.Date(2026, 11, 22, 8, 0, 0, 0, time.UTC)) {
		t.Errorf("the SMS's own time changed to %v", m.At)
	}
	if tk, _ := d.Get(sms.Ticket); !tk.CreatedAt.Equal(synced.Add(-7 * time.Minute)) {
		t.Errorf("SMS ticket created %v, want %v", tk.CreatedAt, synced.Add(-7*time.Minute))
	}
	// The list's index moved with the times: each ticket once, newest first.
	page, err := d.List(Filter{})
	if err != nil || len(page.Tickets) != 2 || page.Tickets[0].Number != form.Ticket || !page.Tickets[1].UpdatedAt.Equal(synced.Add(-7*time.Minute)) {
		t.Errorf("list after the correction = %+v, %v", page.Tickets, err)
	}
	// Correcting again finds nothing; a request after the sync is not flagged.
	if n, _ := d.CorrectClock(); n != 0 {
		t.Errorf("second CorrectClock = %d", n)
	}
	r := mustIngest(t, d, Inbound{Channel: ChannelWebForm, SourceKey: "f2", From: From{Email: "other@example.com"}, Body: "Hello"})
	if m := lastMessage(t, d, r.Ticket); hasFlag(m, FlagClockUnsynced) {
		t.Errorf("message after the sync flagged: %+v", m)
	}
}

// A request stamped in an earlier boot cannot be placed: it keeps its flag.
func TestUnsynchronisedStampFromEarlierBootKeepsFlag(t *testing.T) {
	wall := &clock{now: time.Date(1970, 1, 1, 0, 1, 0, 0, time.UTC)}
	pi := &piClock{wall: wall, boot: "boot-1", uptime: time.Minute}
	d := openDesk(t, Options{Now: wall.Now, Clock: pi})
	r := mustIngest(t, d, sms("a", "+447700900123", "hi"))
	pi.boot, pi.uptime, pi.synced = "boot-2", 20*time.Second, true
	wall.now = time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	if n, err := d.CorrectClock(); err != nil || n != 0 {
		t.Fatalf("CorrectClock = %d, %v", n, err)
	}
	if m := lastMessage(t, d, r.Ticket); !hasFlag(m, FlagClockUnsynced) {
		t.Errorf("message of an earlier boot lost its flag: %+v", m)
	}
}

func TestJumped(t *testing.T) {
	tests := []struct {
		wall, mono time.Duration
		want       bool
	}{
		{10 * time.Second, 10 * time.Second, false},
		{10*time.Second + 50*time.Millisecond, 10 * time.Second, false}, // NTP slewing
		{59 * time.Second, 0, false},
		{56 * 365 * 24 * time.Hour, 10 * time.Second, true}, // 1970 to 2026
		{-2 * time.Hour, 10 * time.Second, true},            // set back
	}
	for _, tt := range tests {
		if got := jumped(tt.wall, tt.mono); got != tt.want {
			t.Errorf("jumped(wall %v, mono %v) = %v", tt.wall, tt.mono, got)
		}
	}
	now := time.Now()
	if wall, mono := elapsed(now, now.Add(3*time.Second)); wall != 3*time.Second || mono != 3*time.Second {
		t.Errorf("elapsed over 3 s = %v, %v", wall, mono)
	}
}
