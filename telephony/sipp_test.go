package telephony

import (
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

// A caller who hangs up while it rings leaves a missed-call ticket with
// their number and the ring time.
func TestSippCancelIsMissedCall(t *testing.T) {
	l := startLine(t, ringFor(5*time.Second))
	code, out := runSipp(t, l, "cancel.xml", "-key", "reasonheader", "X-Test: plain cancel")
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	l.waitStats(t, "the missed call", func(s Stats) bool { return s.Missed == 1 })
	th := l.threads(t)
	if len(th) != 1 {
		t.Fatalf("%d tickets, want 1", len(th))
	}
	tk, m := th[0].Ticket, th[0].Messages[0]
	if tk.Channel != ticket.ChannelMissedCall || m.Channel != ticket.ChannelMissedCall {
		t.Errorf("channel = %s/%s, want missed_call", tk.Channel, m.Channel)
	}
	if got := th[0].Contact.Phones; len(got) != 1 || got[0] != "+447700900123" {
		t.Errorf("contact phones = %v", got)
	}
	if th[0].Contact.Name != "Ana Silva" {
		t.Errorf("contact name = %q", th[0].Contact.Name)
	}
	if !strings.Contains(m.Body, "hung up while it rang") {
		t.Errorf("body = %q", m.Body)
	}
}

// A CANCEL saying the call was completed elsewhere (the desk phone picked
// up) opens no ticket; the call is noted on the contact.
func TestSippCancelAnsweredElsewhere(t *testing.T) {
	l := startLine(t, ringFor(5*time.Second))
	code, out := runSipp(t, l, "cancel.xml", "-key", "reasonheader", `Reason: SIP;cause=200;text="Call completed elsewhere"`)
	if code != 0 {
		t.Fatalf("sipp exit %d:\n%s", code, out)
	}
	l.waitStats(t, "the answered call", func(s Stats) bool { return s.Answered == 1 })
	if n, _ := l.desk.Count(); n != 0 {
		t.Fatalf("%d tickets, want none", n)
	}
}

// ringFor sets how long calls ring before the line answers.
func ringFor(d time.Duration) func(*Service) {
	return func(s *Service) { s.Config.Ring, s.Config.RingAfterHours = d, d }
}
