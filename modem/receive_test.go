package modem

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/modem/pdu"
	"github.com/counterdesk/counterdesk/ticket"
	bolt "go.etcd.io/bbolt"
)

// sim is a fake modem's message memory, served over AT+CMGL and AT+CMGD.
type sim struct {
	mu   stdsync.Mutex
	msgs map[int]string // index -> PDU hex
}

func (s *sim) answer(cmd string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case cmd == "AT+CMGL=4":
		var idx []int
		for i := range s.msgs {
			idx = append(idx, i)
		}
		slices.Sort(idx)
		var b strings.Builder
		for _, i := range idx {
			fmt.Fprintf(&b, "\r\n+CMGL: %d,0,,%d\r\n%s", i, len(s.msgs[i])/2-1, s.msgs[i])
		}
		return b.String() + "\r\n\r\nOK\r\n"
	case strings.HasPrefix(cmd, "AT+CMGD="):
		i, _ := strconv.Atoi(strings.TrimPrefix(cmd, "AT+CMGD="))
		if _, ok := s.msgs[i]; !ok {
			return "\r\n+CMS ERROR: 321\r\n"
		}
		delete(s.msgs, i)
	}
	return "\r\nOK\r\n"
}

func (s *sim) left() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []int
	for i := range s.msgs {
		out = append(out, i)
	}
	slices.Sort(out)
	return out
}

// deliverUCS2 builds an SMS-DELIVER in UCS-2 from an international number
// (3GPP TS 23.040 clause 9.2.2.1), as a network would hand it over.
func deliverUCS2(t testing.TB, from, text string, at time.Time) string {
	t.Helper()
	digits := strings.TrimPrefix(from, "+")
	sw := digits
	if len(sw)%2 == 1 {
		sw += "F"
	}
	var oa strings.Builder
	for i := 0; i < len(sw); i += 2 {
		oa.WriteByte(sw[i+1])
		oa.WriteByte(sw[i])
	}
	semi := func(n int) string { return fmt.Sprintf("%d%d", n%10, n/10%10) }
	_, off := at.Zone()
	scts := semi(at.Year()%100) + semi(int(at.Month())) + semi(at.Day()) + semi(at.Hour()) + semi(at.Minute()) + semi(at.Second()) + semi(off/900)
	ud := pdu.EncodeUCS2(text)
	return strings.ToUpper(fmt.Sprintf("0004%02X91%s0008%s%02X%s", len(digits), oa.String(), scts, len(ud), hex.EncodeToString(ud)))
}

// multipartPDUs reads ModemManager's two-part test message from the shared
// cross-decoded vectors.
func multipartPDUs(t *testing.T) []string {
	f, err := os.Open(sharedTestdata(t, "CROSS-DECODED-PDUS.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var row struct {
			PDU     string   `json:"pdu_hex"`
			Sources []string `json:"sources"`
		}
		if json.Unmarshal(sc.Bytes(), &row) == nil && slices.Contains(row.Sources, "modemmanager/test-sms-part-3gpp.c test_pdu_multipart") {
			out = append(out, row.PDU)
		}
	}
	if len(out) != 2 {
		t.Fatalf("found %d parts of the multipart vector", len(out))
	}
	return out
}

func openDesk(t *testing.T) *ticket.Desk { return openDeskB(t) }

func openDeskB(t testing.TB) *ticket.Desk {
	d, err := ticket.Open(t.TempDir(), ticket.Options{Region: "TR", ThreadWindow: time.Nanosecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

// TestReceiveEndToEnd: a two-part message (parts listed in reverse), one
// with emoji and one in Turkish sit on the SIM; they become three tickets
// and leave the SIM only once committed.
func TestReceiveEndToEnd(t *testing.T) {
	parts := multipartPDUs(t)
	at := time.Date(2026, 11, 23, 14, 5, 9, 0, time.FixedZone("", 3*3600))
	s := &sim{msgs: map[int]string{
		3: parts[1],
		4: parts[0],
		5: deliverUCS2(t, "+905321234567", "Merhaba, ESC ısınıyor ve pervane kırıldı 🙁 siparişim nerede?", at),
		6: deliverUCS2(t, "+447700900123", "Battery puffed up 🔥🔋 after one flight", at),
	}}
	e, _ := newFake(t, false, s.answer)
	d := openDesk(t)
	r := &Receiver{Desk: d, DB: d.DB()}
	n, err := r.ReceiveAll(context.Background(), e)
	if err != nil || n != 4 {
		t.Fatalf("ReceiveAll = %d, %v", n, err)
	}
	if left := s.left(); len(left) != 0 {
		t.Errorf("left on the SIM: %v", left)
	}
	page, _ := d.List(ticket.Filter{})
	if len(page.Tickets) != 3 {
		t.Fatalf("%d tickets, want 3", len(page.Tickets))
	}
	bodies := map[string]string{}
	for _, tk := range page.Tickets {
		th, _ := d.Thread(tk.Number)
		bodies[th.Contact.Phones[0]] = th.Messages[0].Body
	}
	if b := bodies["+16175046925"]; !strings.HasPrefix(b, "This is a very long test designed to exercise multi part cap") || !strings.HasSuffix(b, "that the parts are related to one another. ") {
		t.Errorf("two-part message = %q", b)
	}
	if b := bodies["+905321234567"]; b != "Merhaba, ESC ısınıyor ve pervane kırıldı 🙁 siparişim nerede?" {
		t.Errorf("Turkish message = %q", b)
	}
	if b := bodies["+447700900123"]; b != "Battery puffed up 🔥🔋 after one flight" {
		t.Errorf("emoji message = %q", b)
	}
	if p, _ := d.List(ticket.Filter{Query: "pervane kirildi"}); len(p.Tickets) != 1 {
		t.Errorf("search for the Turkish words found %d", len(p.Tickets))
	}
}

// failingDesk refuses the first ingest, as a desk that crashed would.
type failingDesk struct {
	*ticket.Desk
	fails int
}

func (f *failingDesk) Ingest(ctx context.Context, in ticket.Inbound) (ticket.Result, error) {
	if f.fails > 0 {
		f.fails--
		return ticket.Result{}, errors.New("disk full")
	}
	return f.Desk.Ingest(ctx, in)
}

// TestNothingDeletedBeforeCommit: a message the desk could not take stays
// on the SIM, and taking it again later makes one ticket, not two.
func TestNothingDeletedBeforeCommit(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	msg := deliverUCS2(t, "+447700900123", "where is my order 55123", at)
	s := &sim{msgs: map[int]string{1: msg}}
	e, _ := newFake(t, false, s.answer)
	d := openDesk(t)
	fd := &failingDesk{Desk: d, fails: 1}
	r := &Receiver{Desk: fd, DB: d.DB()}
	if n, _ := r.ReceiveAll(context.Background(), e); n != 0 || len(s.left()) != 1 {
		t.Fatalf("a refused message was deleted: %d deleted, %v left", n, s.left())
	}
	if n, err := r.ReceiveAll(context.Background(), e); n != 1 || err != nil {
		t.Fatalf("second pass = %d, %v", n, err)
	}
	// The same message read again (a crash after commit, before delete).
	s.msgs[1] = msg
	if _, err := r.ReceiveAll(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if c, _ := d.Count(); c != 1 {
		t.Errorf("%d tickets, want 1", c)
	}
}

// TestPartsWaitThenFlush: the first part of a message survives on disk,
// off the SIM, and becomes a ticket flagged incomplete when the second
// never comes.
func TestPartsWaitThenFlush(t *testing.T) {
	parts := multipartPDUs(t)
	s := &sim{msgs: map[int]string{1: parts[0]}}
	e, _ := newFake(t, false, s.answer)
	d := openDesk(t)
	now := time.Now()
	r := &Receiver{Desk: d, DB: d.DB(), PartsMaxAge: time.Hour, Now: func() time.Time { return now }}
	if _, err := r.ReceiveAll(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if c, _ := d.Count(); c != 0 || len(s.left()) != 0 {
		t.Fatalf("after part 1: %d tickets, SIM %v", c, s.left())
	}
	now = now.Add(2 * time.Hour)
	if err := r.FlushStale(context.Background()); err != nil {
		t.Fatal(err)
	}
	page, _ := d.List(ticket.Filter{})
	if len(page.Tickets) != 1 {
		t.Fatalf("%d tickets after the wait", len(page.Tickets))
	}
	th, _ := d.Thread(page.Tickets[0].Number)
	if !slices.Contains(th.Messages[0].Flags, "incomplete") {
		t.Errorf("flags = %v, want incomplete", th.Messages[0].Flags)
	}
}

func TestUndecodablePDUKeptOnATicket(t *testing.T) {
	s := &sim{msgs: map[int]string{7: "0791447758100650040C9144"}}
	e, _ := newFake(t, false, s.answer)
	d := openDesk(t)
	r := &Receiver{Desk: d, DB: d.DB()}
	if n, err := r.ReceiveAll(context.Background(), e); n != 1 || err != nil {
		t.Fatalf("ReceiveAll = %d, %v", n, err)
	}
	page, _ := d.List(ticket.Filter{})
	if len(page.Tickets) != 1 {
		t.Fatalf("%d tickets", len(page.Tickets))
	}
	th, _ := d.Thread(page.Tickets[0].Number)
	m := th.Messages[0]
	if !slices.Contains(m.Flags, "undecodable") || m.Meta["pdu"] != "0791447758100650040C9144" {
		t.Errorf("message = %+v", m)
	}
}

// TestStopAndStart: a customer who texts STOP gets no SMS reply until they
// text START; both are audited on the ticket.
func TestStopAndStart(t *testing.T) {
	at := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	s := &sim{msgs: map[int]string{1: deliverUCS2(t, "+447700900123", "my order 55123?", at), 2: deliverUCS2(t, "+447700900123", "Stop", at.Add(time.Minute))}}
	e, _ := newFake(t, false, s.answer)
	d := openDesk(t)
	r := &Receiver{Desk: d, DB: d.DB()}
	if _, err := r.ReceiveAll(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	page, _ := d.List(ticket.Filter{})
	n := page.Tickets[0].Number
	_, err := d.Reply(context.Background(), ticket.Staff("ana"), n, ticket.Reply{Body: "It ships today."})
	if !errors.Is(err, ticket.ErrInvalid) || !strings.Contains(err.Error(), "STOP") {
		t.Fatalf("reply after STOP = %v", err)
	}
	s.mu.Lock()
	s.msgs[3] = deliverUCS2(t, "+447700900123", "START", at.Add(2*time.Minute))
	s.mu.Unlock()
	if _, err := r.ReceiveAll(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reply(context.Background(), ticket.Staff("ana"), n, ticket.Reply{Body: "It ships today."}); err != nil {
		t.Fatalf("reply after START = %v", err)
	}
	opt := 0
	all, _ := d.List(ticket.Filter{})
	for _, tk := range all.Tickets {
		th, _ := d.Thread(tk.Number)
		for _, ev := range th.Events {
			if ev.Action == "opt_out" {
				opt++
			}
		}
	}
	if opt != 2 {
		t.Errorf("%d opt-out events, want 2", opt)
	}
}

// A long message sent with a national language shift table (here the
// Turkish locking and single shift tables) reads back whole once its parts
// are joined.
func TestJoinTextNationalShift(t *testing.T) {
	text := strings.Repeat("Şişeler güzel, İstanbul'da ışık çok; pervanem kırıldı. ", 4)
	encoded, err := pdu.EncodeSubmit("+905321234567", text, pdu.SubmitOptions{NationalLanguages: []pdu.Language{pdu.Turkish}, Class: -1})
	if err != nil {
		t.Fatal(err)
	}
	if len(encoded) < 2 {
		t.Fatalf("%d parts, want a long message", len(encoded))
	}
	var parts []*pdu.Message
	for _, b := range encoded {
		m, err := pdu.Decode(b)
		if err != nil {
			t.Fatal(err)
		}
		if m.Encoding != pdu.GSM7 || m.Shift.IsZero() {
			t.Fatalf("part encoded as %v with shift %v, want 7-bit with the Turkish tables", m.Encoding, m.Shift)
		}
		parts = append(parts, m)
	}
	if got := joinText(parts); got != text {
		t.Errorf("joined\n%q\nwant\n%q", got, text)
	}
}

// TestLatePartAfterCommit: a long message is stored, then a crash before
// the delete leaves its second part on the SIM. Read again, the part is
// deleted without being stored, and no fragment appears later, even though
// the network stamped each part with its own time.
func TestLatePartAfterCommit(t *testing.T) {
	parts := multipartPDUs(t)
	s := &sim{msgs: map[int]string{1: parts[0], 2: parts[1]}}
	e, _ := newFake(t, false, s.answer)
	d := openDesk(t)
	now := time.Now()
	r := &Receiver{Desk: d, DB: d.DB(), PartsMaxAge: time.Hour, Now: func() time.Time { return now }}
	if _, err := r.ReceiveAll(context.Background(), e); err != nil {
		t.Fatal(err)
	}
	for _, p := range parts {
		s.msgs[7] = p
		if _, err := r.ReceiveAll(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		if left := s.left(); len(left) != 0 {
			t.Fatalf("a late part stayed on the SIM: %v", left)
		}
	}
	now = now.Add(90 * time.Minute)
	if err := r.FlushStale(context.Background()); err != nil {
		t.Fatal(err)
	}
	page, _ := d.List(ticket.Filter{})
	if len(page.Tickets) != 1 {
		t.Fatalf("%d tickets", len(page.Tickets))
	}
	th, _ := d.Thread(page.Tickets[0].Number)
	if len(th.Messages) != 1 {
		t.Errorf("%d messages, want the long message once: %+v", len(th.Messages), th.Messages)
	}
	// After twice parts_max_age the record is pruned.
	now = now.Add(3 * time.Hour)
	if err := r.FlushStale(context.Background()); err != nil {
		t.Fatal(err)
	}
	d.DB().View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bPartsDone); b != nil && b.Stats().KeyN != 0 {
			t.Errorf("%d finished groups still remembered", b.Stats().KeyN)
		}
		return nil
	})
}
