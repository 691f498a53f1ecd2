package telephony

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/counterdesk/counterdesk/internal/testvectors"
	"github.com/counterdesk/counterdesk/telephony/media"
)

// sharedSeeds returns the files matching pattern in the pjsip project's
// fuzz seed corpus, read from shared/testdata when it is beside the
// project. They are GPL-2.0 and so not copied into this project; without
// them the fuzz targets run on their own seeds.
func sharedSeeds(pattern string) [][]byte {
	shared := testvectors.Find()
	if shared == "" {
		return nil
	}
	names, _ := filepath.Glob(filepath.Join(shared, "pjsip-fuzz-seeds", pattern))
	var seeds [][]byte
	for _, name := range names {
		if b, err := os.ReadFile(name); err == nil {
			seeds = append(seeds, b)
		}
	}
	return seeds
}

// checkOffer checks what parseOffer returned for body, and that the box's
// answer to it is SDP that reads back.
func checkOffer(t *testing.T, body []byte) {
	o, err := parseOffer(body)
	if err != nil {
		return
	}
	if o.payloadType != media.PayloadTypePCMU && o.payloadType != media.PayloadTypePCMA {
		t.Fatalf("payload type %d", o.payloadType)
	}
	if o.eventType > 127 {
		t.Fatalf("event payload type %d", o.eventType)
	}
	// A nil IP (a host name in c=) means latching on the first packet.
	if o.addr == nil {
		t.Fatalf("offer %+v has no address", o)
	}
	if o.addr.Port < 1 || o.addr.Port > 65535 {
		t.Fatalf("port %d", o.addr.Port)
	}
	switch o.direction {
	case "sendrecv", "sendonly", "recvonly", "inactive":
	default:
		t.Fatalf("direction %q", o.direction)
	}
	o.onHold()
	for _, local := range []net.IP{net.IPv4(192, 0, 2, 10), net.ParseIP("2001:db8::10")} {
		ans, err := answer(local, 40000, o, 1, 2)
		if err != nil {
			t.Fatalf("answer(%+v): %v", o, err)
		}
		var sd sdp.SessionDescription
		if err := sd.Unmarshal(ans); err != nil {
			t.Fatalf("the answer to %+v does not parse: %v\n%s", o, err, ans)
		}
		back, err := parseOffer(ans)
		if err != nil {
			t.Fatalf("parseOffer(answer): %v\n%s", err, ans)
		}
		if back.payloadType != o.payloadType || back.eventType != o.eventType || back.direction != answerDirection(o.direction) {
			t.Fatalf("the answer reads back as %+v, offer %+v\n%s", back, o, ans)
		}
	}
}

// FuzzParseOffer feeds SDP offers to parseOffer and the answer built from
// what it returns: an SDP body is the part of an INVITE a caller writes
// most freely.
func FuzzParseOffer(f *testing.F) {
	for _, tc := range offerCases {
		f.Add([]byte(tc.sdp))
	}
	for _, s := range sharedSeeds("sdp/*") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		checkOffer(t, body)
	})
}

// FuzzSIPRequest follows a datagram from the wire to the call: sipgo
// parses it, and a request gives its caller and, for an INVITE, its offer.
func FuzzSIPRequest(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join(tortureDir, "*", "*.dat"))
	if len(files) == 0 {
		f.Fatalf("no torture messages in %s", tortureDir)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range sharedSeeds("sip/*") {
		f.Add(s)
	}
	for _, s := range sharedSeeds("sip-dialog/*") {
		f.Add(s)
	}
	f.Add([]byte(strings.ReplaceAll(invite("From: \"Harriet \\\"Flying\\\" Jones\" <sip:+447700900123@voip.example.net>;tag=a7\n"+
		"P-Asserted-Identity: \"Harriet Jones\" <sip:+447700900123@trunk.example.net;user=phone>, <tel:+447700900123>\n"+
		"Remote-Party-ID: <sip:+447700900123@gw.example.net>;party=calling;privacy=full\n"), "\n", "\r\n")))
	f.Fuzz(func(t *testing.T, data []byte) {
		msg, err := sip.ParseMessage(data)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		c := callerOf(req)
		if c.number != "" && !numberPattern.MatchString(c.number) {
			t.Fatalf("caller number %q", c.number)
		}
		if req.Method == sip.INVITE {
			checkOffer(t, req.Body())
		}
	})
}

// datagramSeeds are requests a phone or trunk sends, written for
// FuzzSIPDatagram: {peer} is the fuzzing peer's SIP address, {rtp} its
// audio port (five digits, as the Content-Length counts it), {line} the
// line's address; {call-id}, {from-tag} and {to-tag} name a call the peer
// set up first, so that a request within it (a re-INVITE, a BYE) reaches
// the call.
var datagramSeeds = []string{
	// A new call, answered, then hung up by the peer.
	withBody("INVITE sip:shop@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-1\r\nMax-Forwards: 70\r\n"+
		"From: \"Ana Silva\" <sip:+447700900123@127.0.0.1>;tag=s1\r\nTo: <sip:shop@{line}>\r\nCall-ID: seed-1@127.0.0.1\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:+447700900123@{peer}>\r\n",
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp} RTP/AVP 8 0 101\r\n"+
			"a=rtpmap:101 telephone-event/8000\r\na=ptime:20\r\n"),
	// G.729 only: 488.
	withBody("INVITE sip:shop@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-2\r\nMax-Forwards: 70\r\n"+
		"From: <sip:+447700900123@127.0.0.1>;tag=s2\r\nTo: <sip:shop@{line}>\r\nCall-ID: seed-2@127.0.0.1\r\n"+
		"CSeq: 1 INVITE\r\nContact: <sip:+447700900123@{peer}>\r\n",
		"v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp} RTP/AVP 18\r\n"),
	// No Contact: 400.
	"INVITE sip:shop@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-3\r\nFrom: <sip:100@127.0.0.1>;tag=s3\r\n" +
		"To: <sip:shop@{line}>\r\nCall-ID: seed-3@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	// Hold, then a broken offer, then no offer, within the peer's call.
	withBody("INVITE sip:counterdesk@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-4\r\nMax-Forwards: 70\r\n"+
		"From: <sip:+447700900123@127.0.0.1>;tag={from-tag}\r\nTo: <sip:shop@{line}>;tag={to-tag}\r\nCall-ID: {call-id}\r\n"+
		"CSeq: 2 INVITE\r\nContact: <sip:+447700900123@{peer}>\r\n",
		"v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio {rtp} RTP/AVP 0 101\r\n"+
			"a=rtpmap:101 telephone-event/8000\r\na=sendonly\r\n"),
	withBody("INVITE sip:counterdesk@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-5\r\n"+
		"From: <sip:+447700900123@127.0.0.1>;tag={from-tag}\r\nTo: <sip:shop@{line}>;tag={to-tag}\r\nCall-ID: {call-id}\r\n"+
		"CSeq: 2 INVITE\r\nContact: <sip:+447700900123@{peer}>\r\n", "v=0\r\nm=audio x y z\r\n"),
	"INVITE sip:counterdesk@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-6\r\n" +
		"From: <sip:+447700900123@127.0.0.1>;tag={from-tag}\r\nTo: <sip:shop@{line}>;tag={to-tag}\r\nCall-ID: {call-id}\r\n" +
		"CSeq: 2 INVITE\r\nContact: <sip:+447700900123@{peer}>\r\nContent-Length: 0\r\n\r\n",
	// The caller hangs up; a CANCEL after the answer; an INFO.
	"BYE sip:counterdesk@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-7\r\n" +
		"From: <sip:+447700900123@127.0.0.1>;tag={from-tag}\r\nTo: <sip:shop@{line}>;tag={to-tag}\r\nCall-ID: {call-id}\r\n" +
		"CSeq: 3 BYE\r\nContent-Length: 0\r\n\r\n",
	"CANCEL sip:shop@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-peer-1\r\n" +
		"From: <sip:+447700900123@127.0.0.1>;tag={from-tag}\r\nTo: <sip:shop@{line}>\r\nCall-ID: {call-id}\r\n" +
		"CSeq: 1 CANCEL\r\nReason: SIP;cause=200;text=\"Call completed elsewhere\"\r\nContent-Length: 0\r\n\r\n",
	"INFO sip:counterdesk@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-9\r\n" +
		"From: <sip:+447700900123@127.0.0.1>;tag={from-tag}\r\nTo: <sip:shop@{line}>;tag={to-tag}\r\nCall-ID: {call-id}\r\n" +
		"CSeq: 3 INFO\r\nContent-Type: application/dtmf-relay\r\nContent-Length: 24\r\n\r\nSignal=#\r\nDuration=160\r\n",
	// An ACK and a response that belong to nothing; a CSeq naming
	// another method; a request from a later version of SIP.
	"ACK sip:counterdesk@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};branch=z9hG4bK-seed-10\r\nFrom: <sip:1@127.0.0.1>;tag=a\r\n" +
		"To: <sip:shop@{line}>;tag=b\r\nCall-ID: nothing@127.0.0.1\r\nCSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP {line};branch=z9hG4bK-seed-11\r\nFrom: <sip:shop@{line}>;tag={to-tag}\r\n" +
		"To: <sip:+447700900123@127.0.0.1>;tag={from-tag}\r\nCall-ID: {call-id}\r\nCSeq: 1 BYE\r\nContent-Length: 0\r\n\r\n",
	"OPTIONS sip:shop@{line} SIP/2.0\r\nVia: SIP/2.0/UDP {peer};rport;branch=z9hG4bK-seed-12\r\nFrom: <sip:1@127.0.0.1>;tag=a\r\n" +
		"To: <sip:shop@{line}>\r\nCall-ID: seed-12@127.0.0.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n",
	"OPTIONS sip:shop@{line} SIP/3.0\r\nVia: SIP/3.0/UDP {peer};rport;branch=z9hG4bK-seed-13\r\nFrom: <sip:1@127.0.0.1>;tag=a\r\n" +
		"To: <sip:shop@{line}>\r\nCall-ID: seed-13@127.0.0.1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n",
}

// withBody ends a request's head with an SDP body.
func withBody(head, body string) string {
	return head + fmt.Sprintf("Content-Type: application/sdp\r\nContent-Length: %d\r\n\r\n", len(body)) + body
}

// FuzzSIPDatagram sends each input as one datagram to a running line (on
// loopback, ringing 20 ms) and plays the caller's part in whatever call it
// starts: the input reaches the transport, the transaction and dialog
// layers, and the line's INVITE, re-INVITE, BYE, CANCEL and OPTIONS
// handling. An input that names {to-tag} goes into a call the peer set up
// first. The line must not crash; it must answer a datagram that is no
// SIP request with nothing, a request missing a header every request
// carries or naming another method in CSeq with 400 (or nothing), a
// request of another SIP version with 505 or 400; every call must end
// within a bound once the peer hangs up, and the line must leave no
// goroutine or socket behind when it closes.
func FuzzSIPDatagram(f *testing.F) {
	for _, s := range datagramSeeds {
		f.Add([]byte(s))
	}
	files, _ := filepath.Glob(filepath.Join(tortureDir, "*", "*.dat"))
	for _, name := range files {
		if b, err := os.ReadFile(name); err == nil {
			f.Add(b)
		}
	}
	for _, s := range sharedSeeds("sip/*") {
		f.Add(s)
	}
	for _, s := range sharedSeeds("sip-dialog/*") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		datagramRun(t, data)
	})
}

// datagramStatuses are the statuses the line answers with.
var datagramStatuses = []int{100, 180, 200, 400, 405, 406, 415, 416, 420, 480, 481, 486, 487, 488, 500, 501, 503, 505}

// datagramRun is one FuzzSIPDatagram input.
func datagramRun(t *testing.T, data []byte) {
	goroutines, fds := runtime.NumGoroutine(), openFiles(t)
	w := startWireLine(t, nil)
	p := newPeer(t, w.addr())
	subst := []string{"{peer}", p.hostPort(), "{line}", w.addr().String(), "{rtp}", strconv.Itoa(p.rtp.LocalAddr().(*net.UDPAddr).Port)}
	if bytes.Contains(data, []byte("{to-tag}")) || bytes.Contains(data, []byte("{call-id}")) || bytes.Contains(data, []byte("{from-tag}")) {
		subst = append(subst, p.call(t, w)...)
	}
	data = []byte(strings.NewReplacer(subst...).Replace(string(data)))

	m := w.tap.mark()
	p.send(data)
	w.tap.quiet(20*time.Millisecond, 500*time.Millisecond)
	// The call the peer set up ends here, whatever the input did to it.
	if p.dialog != nil {
		p.send(p.request("BYE", p.dialog.callID, 100, p.dialog.headers, ""))
	}
	// A call whose ACK the peer cannot write (headers that do not read
	// back the same) waits out the ACK timer, 64*T1 (RFC 3261 section
	// 13.3.1.4), and then the BYE the line sends.
	w.settle(t, p, m, 45*time.Second)

	// What the line answered to the input: every response since, but
	// those to the peer's own requests.
	res, others := responses(w.tap.since(m))
	var codes []int
	for _, r := range res {
		if !p.ours[responseKey(r)] {
			codes = append(codes, r.StatusCode)
		}
	}
	for _, o := range others {
		msg, err := sip.ParseMessage(o.data)
		if req, ok := msg.(*sip.Request); err != nil || !ok || req.Method != sip.BYE {
			t.Errorf("the line sent something other than a response or a BYE:\n%s", o.data)
		}
	}
	for _, c := range codes {
		if !slices.Contains(datagramStatuses, c) {
			t.Errorf("the line answered %d", c)
		}
	}
	w.desk.mu.Lock()
	t.Logf("answered %v; %d tickets, %d answered calls; line stats %+v", codes, len(w.desk.in), len(w.desk.calls), w.svc.Stats())
	w.desk.mu.Unlock()
	// Empty lines before the start line do not count (RFC 3261 section 7.5).
	msg, err := sip.ParseMessage(bytes.TrimLeft(data, "\r\n"))
	req, isRequest := msg.(*sip.Request)
	switch {
	case err != nil || !isRequest:
		if len(codes) > 0 {
			t.Errorf("the line answered %v to a datagram that is no SIP request (%v)", codes, err)
		}
	case !strings.EqualFold(req.SipVersion, "SIP/2.0"):
		for _, c := range codes {
			if c != 505 && c != 400 {
				t.Errorf("the line answered %d to a request of %s", c, req.SipVersion)
			}
		}
	case req.Via() == nil || req.From() == nil || req.To() == nil || req.CallID() == nil || req.CSeq() == nil ||
		req.CSeq().MethodName != req.Method:
		for _, c := range codes {
			if c != 400 {
				t.Errorf("the line answered %d to a malformed request", c)
			}
		}
	}

	w.svc.Close()
	p.close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		g, f := runtime.NumGoroutine(), openFiles(t)
		if g <= goroutines && f <= fds {
			break
		}
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("goroutines %d (before %d), open files %d (before %d): %v\n%s", g, goroutines, f, fds, fdTargets(), buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}
