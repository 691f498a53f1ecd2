package telephony

import (
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
