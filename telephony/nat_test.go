package telephony

import (
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// Behind NAT, public_address is what a peer is told to reach the box at:
// the Contact of the box's 200 OK and the addresses of its SDP answer
// carry it, not the address the box listens on.
func TestPublicAddress(t *testing.T) {
	t.Parallel()
	const public = "203.0.113.7" // TEST-NET-3: the router's public address
	w := startWireLine(t, func(s *Service) { s.Config.PublicAddress = public })
	defer w.svc.Close()
	p := newPeer(t, w.addr())
	defer p.close()
	m := w.tap.mark()
	p.send(p.request("INVITE", "nat@127.0.0.1", 1, []string{
		"From: <sip:+447700900123@127.0.0.1>;tag=n1", "To: <sip:shop@127.0.0.1>",
		"Contact: <sip:+447700900123@" + p.hostPort() + ">",
	}, p.offer("sendrecv")))
	var ok *sip.Response
	for end := time.Now().Add(10 * time.Second); ok == nil && time.Now().Before(end); {
		w.tap.quiet(20*time.Millisecond, 200*time.Millisecond)
		res, _ := responses(w.tap.since(m))
		for _, r := range res {
			if r.StatusCode == 200 {
				ok = r
			}
		}
	}
	if ok == nil {
		t.Fatalf("no 200 OK:\n%s", w.logs)
	}
	// The peer's ACK reaches the box where it listens, as the router
	// forwards it.
	w.settle(t, p, m, 10*time.Second)

	c := ok.Contact()
	if c == nil || c.Address.Host != public || c.Address.Port != w.addr().Port {
		t.Errorf("Contact = %v, want sip:…@%s:%d", c, public, w.addr().Port)
	}
	// The connection (c=) and origin (o=) lines, RFC 4566 sections 5.7
	// and 5.2.
	body := string(ok.Body())
	if !strings.Contains(body, "\r\nc=IN IP4 "+public+"\r\n") || strings.Contains(body, "127.0.0.1") {
		t.Errorf("the SDP answer does not name %s alone:\n%s", public, body)
	}
	if i := strings.Index(body, "o="); i < 0 || !strings.HasSuffix(strings.SplitN(body[i:], "\r\n", 2)[0], " IN IP4 "+public) {
		t.Errorf("the SDP origin does not name %s:\n%s", public, body)
	}
}
