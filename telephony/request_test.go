package telephony

import (
	"testing"

	"github.com/emiago/sipgo/sip"
)

func TestDropNoise(t *testing.T) {
	const head = "Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-1\r\nFrom: <sip:a@192.0.2.1>;tag=1\r\nTo: <sip:b@192.0.2.2>\r\nCall-ID: x\r\n"
	tests := []struct {
		name, transport, data string
		pass                  bool
	}{
		{"a request", "UDP", "OPTIONS sip:b@192.0.2.2 SIP/2.0\r\n" + head + "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", true},
		{"empty lines before it (RFC 3261 section 7.5)", "UDP", "\r\n\r\nOPTIONS sip:b@192.0.2.2 SIP/2.0\r\n" + head + "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", true},
		{"another version: answered 505", "UDP", "OPTIONS sip:b@192.0.2.2 SIP/7.0\r\nVia: SIP/7.0/UDP 192.0.2.1;branch=z9hG4bK-1\r\nCSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", true},
		{"a response", "UDP", "SIP/2.0 200 OK\r\n" + head + "CSeq: 1 OPTIONS\r\nContent-Length: 0\r\n\r\n", true},
		{"a keep-alive", "UDP", "\r\n\r\n", false},
		{"no start line", "UDP", " AAA: SIP\r\nV:// 0:A\r\n\r\n", false},
		{"two spaces in the start line", "UDP", "OPTIONS  sip:b@192.0.2.2 SIP/2.0\r\n" + head + "CSeq: 1 OPTIONS\r\n\r\n", false},
		{"a Via of no protocol", "UDP", "0 :00 SIP/0.0\r\nV:// 0:A\r\nCSeq: 1 0\r\n\r\n", false},
		{"no Via", "UDP", "OPTIONS sip:b@192.0.2.2 SIP/2.0\r\nCSeq: 1 OPTIONS\r\n\r\n", false},
		{"no CSeq", "UDP", "OPTIONS sip:b@192.0.2.2 SIP/2.0\r\n" + head + "\r\n", false},
		{"binary", "UDP", "\x80\x00\x01\x02RTP?", false},
		{"a stream read passes as it is", "TCP", " AAA: SIP\r\n", true},
	}
	for _, tt := range tests {
		out, err := dropNoise(sip.TransportReadProps{Transport: tt.transport}, []byte(tt.data))
		if err != nil {
			t.Fatalf("%s: %v (an error would stop the transport)", tt.name, err)
		}
		if pass := len(out) > 0; pass != tt.pass {
			t.Errorf("%s: passed %v, want %v", tt.name, pass, tt.pass)
		}
	}
}
