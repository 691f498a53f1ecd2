package modem

import (
	"context"
	"fmt"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/modem/pdu"
	"github.com/counterdesk/counterdesk/ticket"
)

// sendingModem accepts AT+CMGS and records the PDUs, numbering them.
type sendingModem struct {
	mu   stdsync.Mutex
	pdus []string
	next int
	fail string // a final result to give instead of +CMGS
}

func (m *sendingModem) answer(cmd string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case strings.HasPrefix(cmd, "AT+CMGS="):
		return "\r\n> "
	case strings.HasPrefix(cmd, "PDU:"):
		if m.fail != "" {
			return "\r\n" + m.fail + "\r\n"
		}
		m.pdus = append(m.pdus, strings.TrimPrefix(cmd, "PDU:"))
		m.next++
		return fmt.Sprintf("\r\n+CMGS: %d\r\n\r\nOK\r\n", 40+m.next)
	}
	return "\r\nOK\r\n"
}

func (m *sendingModem) sentTexts(t *testing.T) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*pdu.Message
	for _, p := range m.pdus {
		msg, err := pdu.DecodeHex(p)
		if err != nil {
			t.Fatalf("the modem got a PDU that does not decode: %v", err)
		}
		out = append(out, msg)
	}
	if len(out) == 0 {
		return nil
	}
	return []string{joinText(out)}
}

// statusReport builds an SMS-STATUS-REPORT (3GPP TS 23.040 clause 9.2.2.3)
// for reference mr to an international number.
func statusReport(to string, mr, status byte) string {
	digits := strings.TrimPrefix(to, "+")
	sw := digits
	if len(sw)%2 == 1 {
		sw += "F"
	}
	var ra strings.Builder
	for i := 0; i < len(sw); i += 2 {
		ra.WriteByte(sw[i+1])
		ra.WriteByte(sw[i])
	}
	ts := "62113201000000"
	return strings.ToUpper(fmt.Sprintf("0006%02X%02X91%s%s%s%02X", mr, len(digits), ra.String(), ts, ts, status))
}

func replyDesk(t *testing.T) (*ticket.Desk, ticket.Message) {
	d := openDesk(t)
	r, err := d.Ingest(context.Background(), ticket.Inbound{Channel: ticket.ChannelSMS, SourceKey: "in-1", From: ticket.From{Phone: "+447700900123"}, Body: "is my prop in stock?"})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("Yes, the 9x4.5 props came in today 🛩️ ", 5)
	m, err := d.Reply(context.Background(), ticket.Staff("ana"), r.Ticket, ticket.Reply{Body: long})
	if err != nil {
		t.Fatal(err)
	}
	return d, m
}

func deliveryOf(t *testing.T, d *ticket.Desk, m ticket.Message) string {
	th, err := d.Thread(m.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range th.Messages {
		if x.ID == m.ID {
			return x.Delivery
		}
	}
	t.Fatalf("message %d not found", m.ID)
	return ""
}

// TestSendReplyAndStatusReport: a staff reply leaves as correct PDUs
// (several parts, emoji), is marked sent, and delivered when the report comes.
func TestSendReplyAndStatusReport(t *testing.T) {
	d, m := replyDesk(t)
	sm := &sendingModem{}
	e, _ := newFake(t, false, sm.answer)
	s := &Sender{Desk: d, DB: d.DB(), PerMinute: 60, StatusReports: true}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- s.Run(ctx, e) }()
	waitFor(t, "the reply to be sent", func() bool { return deliveryOf(t, d, m) == ticket.DeliverySent })
	cancel()
	<-done
	if got := sm.sentTexts(t); len(got) != 1 || got[0] != m.Body {
		t.Fatalf("the modem sent %q, want %q", got, m.Body)
	}
	parts, enc := pdu.Segments(m.Body)
	if len(sm.pdus) != parts || parts < 2 || enc != pdu.UCS2 {
		t.Errorf("%d parts sent, want %d in UCS-2", len(sm.pdus), parts)
	}
	msg, _ := pdu.DecodeHex(sm.pdus[0])
	if msg.Address != "+447700900123" || msg.Concat == nil || int(msg.Concat.Total) != parts {
		t.Errorf("first part = %+v", msg)
	}
	rep, err := pdu.DecodeHex(statusReport("+447700900123", 42, 0x00))
	if err != nil {
		t.Fatal(err)
	}
	if err := s.StatusReport(context.Background(), rep); err != nil {
		t.Fatal(err)
	}
	if got := deliveryOf(t, d, m); got != ticket.DeliveryDelivered {
		t.Errorf("after the report: %s", got)
	}
	if rows, _ := d.Outbox(ticket.RowPending, 10); len(rows) != 0 {
		t.Errorf("rows left: %+v", rows)
	}
}

// TestUnclearAttemptIsNotResent: a part whose attempt was written but whose
// outcome is unknown (a crash while the modem sent it) is not sent again;
// the row is parked for the staff and the message marked failed.
func TestUnclearAttemptIsNotResent(t *testing.T) {
	d, m := replyDesk(t)
	rows, _ := d.Outbox(ticket.RowPending, 10)
	s := &Sender{Desk: d, DB: d.DB(), PerMinute: 60}
	if err := s.record(attemptKey(rows[0].ID, 0), attempt{State: "sending", At: time.Now()}); err != nil {
		t.Fatal(err)
	}
	sm := &sendingModem{}
	e, _ := newFake(t, false, sm.answer)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go s.Run(ctx, e)
	waitFor(t, "the row to be parked", func() bool { dead, _ := d.Outbox(ticket.RowDead, 10); return len(dead) == 1 })
	if len(sm.pdus) != 0 {
		t.Errorf("the part was sent again")
	}
	if got := deliveryOf(t, d, m); got != ticket.DeliveryFailed {
		t.Errorf("delivery = %s, want failed", got)
	}
}

func TestRefusedRecipients(t *testing.T) {
	for _, to := range []string{"Megafon", "12345", "+4477"} {
		if err := checkRecipient(to); err == nil {
			t.Errorf("%q accepted", to)
		}
	}
	if err := checkRecipient("+447700900123"); err != nil {
		t.Error(err)
	}
}
