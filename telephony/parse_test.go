package telephony

import (
	"fmt"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestExplore(t *testing.T) {
	for _, b := range []string{"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 99999 RTP/AVP 0\r\n", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio -5 RTP/AVP 8\r\na=rtpmap:8 telephone-event/8000\r\n", "", "garbage", "v=0\r\n", "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 pbx.example.com\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n",
		"v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\nc=IN IP6 2001:db8::5\r\n"} {
		o, err := parseOffer([]byte(b))
		t.Logf("%q -> %+v hold=%v err=%v", b, o, err == nil && o.onHold(), err)
	}
	for _, from := range []string{
		`"Alice \"Ace\" Smith" <sip:+447700900123@example.com>;tag=1`,
		`<tel:+44-7700-900123>;tag=1`,
		`<tel:+44-7700-900123;phone-context=+44>;tag=1`,
		`tel:+447700900123;tag=1`,
		`"Anonymous" <sip:anonymous@anonymous.invalid>;tag=1`,
		`<sip:+1234567890123456@example.com>;tag=1`,
		`<sip:alice@example.com>;tag=1`,
	} {
		raw := "INVITE sip:shop@192.0.2.10 SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.20;branch=z9hG4bK1\r\nFrom: " + from + "\r\nTo: <sip:shop@192.0.2.10>\r\nCall-ID: x\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n"
		m, err := sip.ParseMessage([]byte(raw))
		if err != nil {
			t.Logf("%s: %v", from, err)
			continue
		}
		t.Logf("%s -> %+v", from, callerOf(m.(*sip.Request)))
	}
	_ = fmt.Sprint
	_ = strings.Cut
}
