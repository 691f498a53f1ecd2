package telephony

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/counterdesk/counterdesk/ticket"
)

// tap is the line's SIP socket over UDP with a record of every datagram
// the line sends through it, wherever it goes: a response follows the
// request's Via header, which a test's socket cannot always be.
type tap struct {
	net.PacketConn
	mu   stdsync.Mutex
	sent []datagram
	more chan struct{}
}

// datagram is one datagram the line sent.
type datagram struct {
	to   string
	data []byte
}

// wrap puts the tap around the line's socket; it is Service.wrapUDP.
func (t *tap) wrap(c net.PacketConn) net.PacketConn {
	t.PacketConn = c
	t.more = make(chan struct{}, 1)
	return t
}

func (t *tap) WriteTo(b []byte, addr net.Addr) (int, error) {
	t.mu.Lock()
	t.sent = append(t.sent, datagram{to: addr.String(), data: append([]byte(nil), b...)})
	t.mu.Unlock()
	select {
	case t.more <- struct{}{}:
	default:
	}
	return t.PacketConn.WriteTo(b, addr)
}

// mark is the number of datagrams sent so far.
func (t *tap) mark() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.sent)
}

// since returns the datagrams sent after mark m.
func (t *tap) since(m int) []datagram {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]datagram(nil), t.sent[m:]...)
}

// quiet waits until the line has sent nothing for d, or until limit.
func (t *tap) quiet(d, limit time.Duration) {
	end := time.Now().Add(limit)
	for time.Now().Before(end) {
		select {
		case <-t.more:
		case <-time.After(d):
			return
		}
	}
}

// responses parses the datagrams as SIP responses; a datagram that is no
// response is returned in others.
func responses(ds []datagram) (res []*sip.Response, others []datagram) {
	for _, d := range ds {
		msg, err := sip.ParseMessage(d.data)
		if r, ok := msg.(*sip.Response); err == nil && ok {
			res = append(res, r)
			continue
		}
		others = append(others, d)
	}
	return res, others
}

// memDesk is a Desk that keeps what the line stores in memory.
type memDesk struct {
	mu    stdsync.Mutex
	in    []ticket.Inbound
	calls []ticket.AnsweredCall
}

func (d *memDesk) Ingest(_ context.Context, in ticket.Inbound) (ticket.Result, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.in = append(d.in, in)
	return ticket.Result{Ticket: uint64(1000 + len(d.in)), Created: true}, nil
}

func (d *memDesk) RecordCall(_ context.Context, c ticket.AnsweredCall) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.calls = append(d.calls, c)
	return nil
}

// wireLine is a line on loopback as a datagram sees it: SIP over UDP only,
// a tap on its socket, and an in-memory desk.
type wireLine struct {
	svc  *Service
	tap  *tap
	desk *memDesk
	logs *syncBuffer
}

// startWireLine starts a wireLine with a 20 ms ring and a 40 ms greeting;
// change adjusts the configuration first. The caller closes it.
func startWireLine(t testing.TB, change func(*Service)) *wireLine {
	t.Helper()
	w := &wireLine{tap: &tap{}, desk: &memDesk{}, logs: &syncBuffer{}}
	w.svc = &Service{
		Config: Config{
			Mode: "listen", Listen: "127.0.0.1:0", UDP: true,
			RTPPortMin: 31000, RTPPortMax: 31999,
			Ring: 20 * time.Millisecond, RingAfterHours: 20 * time.Millisecond,
			MaxMessage: 10 * time.Second, MinMessage: time.Second, Silence: 2 * time.Second,
			MaxCalls: 4, SpoolDir: t.TempDir(), TranscribeTimeout: time.Second,
		},
		Desk:      w.desk,
		Greetings: Greetings{Open: tone(40*time.Millisecond, 400), Closed: tone(40*time.Millisecond, 600)},
		Log:       slog.New(slog.NewTextHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelInfo})),
	}
	w.svc.wrapUDP = w.tap.wrap
	if change != nil {
		change(w.svc)
	}
	if err := w.svc.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	return w
}

// addr is where the line takes SIP.
func (w *wireLine) addr() *net.UDPAddr { return w.svc.Addr().(*net.UDPAddr) }

// peer is a SIP endpoint on a bare UDP socket that writes its messages by
// hand, so that it can send anything; it plays the caller's part in what
// the line starts (see settle).
type peer struct {
	conn *net.UDPConn
	rtp  *net.UDPConn // the peer's audio port; what arrives is dropped
	line *net.UDPAddr
	n    int
	// ours are the transactions the peer started, as Call-ID, CSeq
	// number and method: the answers to them are not answers to anything
	// else the peer sent.
	ours map[string]bool
	// byed are the dialogs the peer hung up.
	byed map[string]bool
	// dialog is the call the peer set up with call, if any.
	dialog *peerDialog
}

// peerDialog is a call the peer set up.
type peerDialog struct {
	callID  string
	headers []string // From, and To with the line's tag
}

func newPeer(t testing.TB, line *net.UDPAddr) *peer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	rtpConn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		conn.Close()
		t.Fatal(err)
	}
	p := &peer{conn: conn, rtp: rtpConn, line: line, ours: map[string]bool{}, byed: map[string]bool{}}
	go func() {
		buf := make([]byte, 2048)
		for {
			if _, _, err := rtpConn.ReadFrom(buf); err != nil {
				return
			}
		}
	}()
	return p
}

func (p *peer) close() {
	p.conn.Close()
	p.rtp.Close()
}

// hostPort is the peer's SIP address.
func (p *peer) hostPort() string { return p.conn.LocalAddr().String() }

func (p *peer) send(b []byte) { p.conn.WriteToUDP(b, p.line) }

// request writes a request from the peer to the line: a Via with a new
// branch, Max-Forwards, the headers given (From, To, Call-ID ...), a CSeq,
// and the body.
func (p *peer) request(method, callID string, cseq uint32, headers []string, body string) []byte {
	p.n++
	p.ours[txKey(callID, cseq, method)] = true
	var b strings.Builder
	fmt.Fprintf(&b, "%s sip:shop@%s SIP/2.0\r\n", method, p.line)
	fmt.Fprintf(&b, "Via: SIP/2.0/UDP %s;rport;branch=z9hG4bK-peer-%d\r\n", p.hostPort(), p.n)
	b.WriteString("Max-Forwards: 70\r\n")
	fmt.Fprintf(&b, "Call-ID: %s\r\nCSeq: %d %s\r\n", callID, cseq, method)
	for _, h := range headers {
		b.WriteString(h + "\r\n")
	}
	if body != "" {
		b.WriteString("Content-Type: application/sdp\r\n")
	}
	fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n%s", len(body), body)
	return []byte(b.String())
}

// offer is an SDP offer of PCMU and telephone-event for the peer's audio port.
func (p *peer) offer(direction string) string {
	return fmt.Sprintf("v=0\r\no=- 7 7 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"+
		"m=audio %d RTP/AVP 0 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=%s\r\n",
		p.rtp.LocalAddr().(*net.UDPAddr).Port, direction)
}

func txKey(callID string, cseq uint32, method string) string {
	return fmt.Sprintf("%s|%d|%s", callID, cseq, method)
}

// responseKey is the transaction a response answers.
func responseKey(r *sip.Response) string {
	id := ""
	if h := r.CallID(); h != nil {
		id = h.Value()
	}
	var n uint32
	m := ""
	if h := r.CSeq(); h != nil {
		n, m = h.SeqNo, string(h.MethodName)
	}
	return txKey(id, n, m)
}

// answer plays the caller's part in what the line sent: it ACKs every
// final response to an INVITE (RFC 3261 sections 17.1.1.3 and 13.2.2.4),
// hangs up with BYE each call the line answered, unless keep says to keep
// it, and answers the line's requests (a BYE) with 200.
func (p *peer) answer(ds []datagram, keep func(callID string) bool) {
	for _, d := range ds {
		msg, err := sip.ParseMessage(d.data)
		if err != nil {
			continue
		}
		switch m := msg.(type) {
		case *sip.Request:
			res := sip.NewResponseFromRequest(m, 200, "OK", nil)
			p.send([]byte(res.String()))
		case *sip.Response:
			cs, id := m.CSeq(), m.CallID()
			if cs == nil || id == nil || cs.MethodName != sip.INVITE || m.StatusCode < 200 || m.From() == nil || m.To() == nil {
				continue
			}
			from, to := "From: "+m.From().Value(), "To: "+m.To().Value()
			if m.StatusCode >= 300 {
				// The ACK of a failed INVITE belongs to its transaction:
				// the INVITE's Via (RFC 3261 section 17.1.1.3).
				var b strings.Builder
				fmt.Fprintf(&b, "ACK sip:shop@%s SIP/2.0\r\n", p.line)
				if v := m.Via(); v != nil {
					fmt.Fprintf(&b, "Via: %s\r\n", v.Value())
				}
				fmt.Fprintf(&b, "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d ACK\r\nContent-Length: 0\r\n\r\n",
					m.From().Value(), m.To().Value(), id.Value(), cs.SeqNo)
				p.send([]byte(b.String()))
				continue
			}
			hs := []string{from, to}
			p.send(p.request("ACK", id.Value(), cs.SeqNo, hs, ""))
			tag, _ := m.To().Params.Get("tag")
			if dialog := id.Value() + "|" + tag; !p.byed[dialog] && (keep == nil || !keep(id.Value())) {
				p.byed[dialog] = true
				p.send(p.request("BYE", id.Value(), cs.SeqNo+1, hs, ""))
			}
		}
	}
}

// settle plays the caller's part until the line has no call left, or
// fails after limit.
func (w *wireLine) settle(t testing.TB, p *peer, from int, limit time.Duration) {
	t.Helper()
	end := time.Now().Add(limit)
	seen := from
	for {
		w.tap.quiet(20*time.Millisecond, 200*time.Millisecond)
		now := w.tap.mark()
		if now == seen && w.svc.Stats().Active == 0 {
			return
		}
		p.answer(w.tap.since(seen)[:now-seen], nil)
		seen = now
		if time.Now().After(end) {
			t.Fatalf("the line still has %d calls after %v\nline log:\n%s", w.svc.Stats().Active, limit, w.logs)
		}
	}
}

// call sets up a call with the line: INVITE, the line's 200 once it
// rang, ACK. It returns the substitutions that name the call in a
// FuzzSIPDatagram input.
func (p *peer) call(t testing.TB, w *wireLine) []string {
	t.Helper()
	callID := "dialog-" + strconv.Itoa(p.conn.LocalAddr().(*net.UDPAddr).Port) + "@127.0.0.1"
	from := "From: <sip:+447700900123@127.0.0.1>;tag=peer1"
	m := w.tap.mark()
	p.send(p.request("INVITE", callID, 1, []string{from, "To: <sip:shop@127.0.0.1>", "Contact: <sip:+447700900123@" + p.hostPort() + ">"}, p.offer("sendrecv")))
	end := time.Now().Add(10 * time.Second)
	for time.Now().Before(end) {
		w.tap.quiet(10*time.Millisecond, 100*time.Millisecond)
		res, _ := responses(w.tap.since(m))
		for _, r := range res {
			if responseKey(r) != txKey(callID, 1, "INVITE") || r.StatusCode < 200 {
				continue
			}
			if r.StatusCode != 200 {
				t.Fatalf("the line answered the peer's call with %s", r.StartLine())
			}
			tag, _ := r.To().Params.Get("tag")
			p.dialog = &peerDialog{callID: callID, headers: []string{from, "To: " + r.To().Value()}}
			p.send(p.request("ACK", callID, 1, p.dialog.headers, ""))
			return []string{"{call-id}", callID, "{from-tag}", "peer1", "{to-tag}", tag}
		}
	}
	t.Fatalf("the line did not answer the peer's call\n%s", w.logs)
	return nil
}
