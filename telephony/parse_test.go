package telephony

import (
	"bytes"
	"errors"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/counterdesk/counterdesk/telephony/media"
)

// sdpText joins SDP lines with CRLF, as phones send them (RFC 4566
// section 5).
func sdpText(lines ...string) string {
	return strings.Join(lines, "\r\n") + "\r\n"
}

// offerCase is an SDP offer and what parseOffer must take from it.
type offerCase struct {
	name string
	sdp  string
	// want: a nil err means the offer parses.
	pt, event uint8
	ip        string
	port      int
	direction string
	hold      bool
	// err is errNoCodec for an offer the box refuses with 488; bad is
	// set for one that is malformed, refused with 400.
	err error
	bad bool
}

// offerCases are offers as Linphone, Asterisk, Cisco and other phones and
// PBXs write them. FuzzParseOffer takes them as seeds too.
var offerCases = []offerCase{
	{
		name: "linphone PCMU only",
		sdp: sdpText(
			"v=0",
			"o=shop 3106 2093 IN IP4 192.168.1.20",
			"s=Talk",
			"c=IN IP4 192.168.1.20",
			"t=0 0",
			"a=rtcp-xr:rcvr-rtt=all:10000 stat-summary=loss,dup,jitt,TTL voip-metrics",
			"m=audio 7078 RTP/AVP 0 101",
			"a=rtpmap:101 telephone-event/8000",
			"a=rtcp-fb:* trr-int 1000",
		),
		pt: 0, event: 101, ip: "192.168.1.20", port: 7078, direction: "sendrecv",
	},
	{
		name: "asterisk PCMA only",
		sdp: sdpText(
			"v=0",
			"o=- 1710245843 1710245843 IN IP4 203.0.113.5",
			"s=Asterisk",
			"c=IN IP4 203.0.113.5",
			"t=0 0",
			"m=audio 14162 RTP/AVP 8 101",
			"a=rtpmap:8 PCMA/8000",
			"a=rtpmap:101 telephone-event/8000",
			"a=fmtp:101 0-16",
			"a=ptime:20",
			"a=maxptime:150",
			"a=sendrecv",
		),
		pt: 8, event: 101, ip: "203.0.113.5", port: 14162, direction: "sendrecv",
	},
	{
		// RFC 3264 section 5.1: the formats are in order of preference.
		name: "asterisk 8 0: the caller's order decides",
		sdp: sdpText(
			"v=0",
			"o=- 1710245843 1710245843 IN IP4 203.0.113.5",
			"s=Asterisk",
			"c=IN IP4 203.0.113.5",
			"t=0 0",
			"m=audio 14162 RTP/AVP 8 0 3 101",
			"a=rtpmap:8 PCMA/8000",
			"a=rtpmap:0 PCMU/8000",
			"a=rtpmap:3 GSM/8000",
			"a=rtpmap:101 telephone-event/8000",
			"a=fmtp:101 0-16",
			"a=ptime:20",
			"a=sendrecv",
		),
		pt: 8, event: 101, ip: "203.0.113.5", port: 14162, direction: "sendrecv",
	},
	{
		name: "cisco G.729 first, then 0 8",
		sdp: sdpText(
			"v=0",
			"o=CiscoSystemsSIP-GW-UserAgent 4101 7526 IN IP4 198.51.100.10",
			"s=SIP Call",
			"c=IN IP4 198.51.100.10",
			"t=0 0",
			"m=audio 16444 RTP/AVP 18 0 8 101 19",
			"c=IN IP4 198.51.100.10",
			"a=rtpmap:18 G729/8000",
			"a=fmtp:18 annexb=no",
			"a=rtpmap:0 PCMU/8000",
			"a=rtpmap:8 PCMA/8000",
			"a=rtpmap:101 telephone-event/8000",
			"a=fmtp:101 0-15",
			"a=rtpmap:19 CN/8000",
			"a=ptime:20",
		),
		pt: 0, event: 101, ip: "198.51.100.10", port: 16444, direction: "sendrecv",
	},
	{
		// Linphone offers telephone-event once per clock rate; only the
		// 8000 Hz one goes with G.711 (RFC 4733 section 2.5.1.1).
		name: "linphone telephone-event at 100, the 8000 Hz one of three",
		sdp: sdpText(
			"v=0",
			"o=shop 3106 2093 IN IP4 192.168.1.20",
			"s=Talk",
			"c=IN IP4 192.168.1.20",
			"t=0 0",
			"m=audio 7078 RTP/AVP 96 97 98 0 8 101 99 100",
			"a=rtpmap:96 opus/48000/2",
			"a=fmtp:96 useinbandfec=1",
			"a=rtpmap:97 speex/16000",
			"a=fmtp:97 vbr=on",
			"a=rtpmap:98 speex/8000",
			"a=fmtp:98 vbr=on",
			"a=rtpmap:101 telephone-event/48000",
			"a=rtpmap:99 telephone-event/16000",
			"a=rtpmap:100 telephone-event/8000",
		),
		pt: 0, event: 100, ip: "192.168.1.20", port: 7078, direction: "sendrecv",
	},
	{
		name: "telephone-event at 96",
		sdp: sdpText(
			"v=0",
			"o=- 20518 0 IN IP4 192.0.2.33",
			"s=SDP data",
			"c=IN IP4 192.0.2.33",
			"t=0 0",
			"m=audio 5004 RTP/AVP 8 96",
			"a=rtpmap:8 PCMA/8000",
			"a=rtpmap:96 TELEPHONE-EVENT/8000",
			"a=fmtp:96 0-15",
			"a=ptime:20",
		),
		pt: 8, event: 96, ip: "192.0.2.33", port: 5004, direction: "sendrecv",
	},
	{
		name: "telephone-event mapped but not among the formats",
		sdp: sdpText(
			"v=0",
			"o=- 20518 0 IN IP4 192.0.2.33",
			"s=-",
			"c=IN IP4 192.0.2.33",
			"t=0 0",
			"m=audio 5004 RTP/AVP 0",
			"a=rtpmap:101 telephone-event/8000",
		),
		pt: 0, event: 0, ip: "192.0.2.33", port: 5004, direction: "sendrecv",
	},
	{
		name: "cisco G.729 only",
		sdp: sdpText(
			"v=0",
			"o=CiscoSystemsSIP-GW-UserAgent 4101 7526 IN IP4 198.51.100.10",
			"s=SIP Call",
			"c=IN IP4 198.51.100.10",
			"t=0 0",
			"m=audio 16444 RTP/AVP 18 101",
			"a=rtpmap:18 G729/8000",
			"a=fmtp:18 annexb=no",
			"a=rtpmap:101 telephone-event/8000",
			"a=fmtp:101 0-15",
		),
		err: errNoCodec,
	},
	{
		name: "G.722 and G.729",
		sdp: sdpText(
			"v=0",
			"o=- 1 1 IN IP4 192.0.2.40",
			"s=-",
			"c=IN IP4 192.0.2.40",
			"t=0 0",
			"m=audio 3456 RTP/AVP 9 18 101",
			"a=rtpmap:9 G722/8000",
			"a=rtpmap:18 G729/8000",
			"a=rtpmap:101 telephone-event/8000",
		),
		err: errNoCodec,
	},
	{
		name: "video only",
		sdp: sdpText(
			"v=0",
			"o=- 1 1 IN IP4 192.0.2.40",
			"s=-",
			"c=IN IP4 192.0.2.40",
			"t=0 0",
			"m=video 3458 RTP/AVP 96",
			"a=rtpmap:96 H264/90000",
		),
		err: errNoCodec,
	},
	{
		// RFC 3264 section 5.1: port 0 marks a stream the offerer
		// declined; the box takes the next audio stream.
		name: "rejected SRTP stream at port 0, then plain RTP",
		sdp: sdpText(
			"v=0",
			"o=shop 3106 2094 IN IP4 192.168.1.20",
			"s=Talk",
			"c=IN IP4 192.168.1.20",
			"t=0 0",
			"m=audio 0 RTP/SAVP 0",
			"m=audio 40000 RTP/AVP 0 8",
			"a=rtpmap:0 PCMU/8000",
			"a=rtpmap:8 PCMA/8000",
		),
		pt: 0, ip: "192.168.1.20", port: 40000, direction: "sendrecv",
	},
	{
		name: "SRTP only (RTP/SAVP)",
		sdp: sdpText(
			"v=0",
			"o=shop 3106 2093 IN IP4 192.168.1.20",
			"s=Talk",
			"c=IN IP4 192.168.1.20",
			"t=0 0",
			"m=audio 7078 RTP/SAVP 0 8 101",
			"a=rtpmap:101 telephone-event/8000",
			"a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:WVNfX19zZW1jdGwgKCkgewkyMjA7fQp9CnVubGVz|2^20|1:4",
		),
		err: errNoCodec,
	},
	{
		name: "media-level c= wins over session-level",
		sdp: sdpText(
			"v=0",
			"o=- 8000 8000 IN IP4 192.0.2.1",
			"s=-",
			"c=IN IP4 192.0.2.1",
			"t=0 0",
			"m=audio 20000 RTP/AVP 0",
			"c=IN IP4 198.51.100.7",
		),
		pt: 0, ip: "198.51.100.7", port: 20000, direction: "sendrecv",
	},
	{
		name: "media-level c= only",
		sdp: sdpText(
			"v=0",
			"o=- 8000 8000 IN IP4 192.0.2.1",
			"s=-",
			"t=0 0",
			"m=audio 20000 RTP/AVP 8",
			"c=IN IP4 198.51.100.7",
		),
		pt: 8, ip: "198.51.100.7", port: 20000, direction: "sendrecv",
	},
	{
		// RFC 3264 section 8.4: the RFC 2543 way to put a call on hold.
		name: "c=0.0.0.0 hold",
		sdp: sdpText(
			"v=0",
			"o=CiscoSystemsSIP-GW-UserAgent 4101 7527 IN IP4 198.51.100.10",
			"s=SIP Call",
			"c=IN IP4 0.0.0.0",
			"t=0 0",
			"m=audio 16444 RTP/AVP 0 101",
			"a=rtpmap:0 PCMU/8000",
			"a=rtpmap:101 telephone-event/8000",
		),
		pt: 0, event: 101, ip: "0.0.0.0", port: 16444, direction: "sendrecv", hold: true,
	},
	{
		name: "asterisk hold a=sendonly",
		sdp: sdpText(
			"v=0",
			"o=- 1710245843 1710245844 IN IP4 203.0.113.5",
			"s=Asterisk",
			"c=IN IP4 203.0.113.5",
			"t=0 0",
			"m=audio 14162 RTP/AVP 8 101",
			"a=rtpmap:8 PCMA/8000",
			"a=rtpmap:101 telephone-event/8000",
			"a=fmtp:101 0-16",
			"a=sendonly",
		),
		pt: 8, event: 101, ip: "203.0.113.5", port: 14162, direction: "sendonly", hold: true,
	},
	{
		name: "a=inactive",
		sdp: sdpText(
			"v=0",
			"o=shop 3106 2095 IN IP4 192.168.1.20",
			"s=Talk",
			"c=IN IP4 192.168.1.20",
			"t=0 0",
			"m=audio 7078 RTP/AVP 0",
			"a=inactive",
		),
		pt: 0, ip: "192.168.1.20", port: 7078, direction: "inactive", hold: true,
	},
	{
		name: "a=recvonly",
		sdp: sdpText(
			"v=0",
			"o=shop 3106 2095 IN IP4 192.168.1.20",
			"s=Talk",
			"c=IN IP4 192.168.1.20",
			"t=0 0",
			"m=audio 7078 RTP/AVP 0",
			"a=recvonly",
		),
		pt: 0, ip: "192.168.1.20", port: 7078, direction: "recvonly",
	},
	{
		name: "session-level a=sendonly",
		sdp: sdpText(
			"v=0",
			"o=- 1 2 IN IP4 192.0.2.50",
			"s=-",
			"c=IN IP4 192.0.2.50",
			"t=0 0",
			"a=sendonly",
			"m=audio 6000 RTP/AVP 0",
		),
		pt: 0, ip: "192.0.2.50", port: 6000, direction: "sendonly", hold: true,
	},
	{
		// RFC 4566 section 6: a media-level direction overrides the
		// session-level one.
		name: "media-level a=sendrecv over session-level a=sendonly",
		sdp: sdpText(
			"v=0",
			"o=- 1 2 IN IP4 192.0.2.50",
			"s=-",
			"c=IN IP4 192.0.2.50",
			"t=0 0",
			"a=sendonly",
			"m=audio 6000 RTP/AVP 0",
			"a=sendrecv",
		),
		pt: 0, ip: "192.0.2.50", port: 6000, direction: "sendrecv",
	},
	{
		name: "IPv6",
		sdp: sdpText(
			"v=0",
			"o=shop 3106 2093 IN IP6 2001:db8::20",
			"s=Talk",
			"c=IN IP6 2001:db8::20",
			"t=0 0",
			"m=audio 7078 RTP/AVP 8 0 101",
			"a=rtpmap:101 telephone-event/8000",
		),
		pt: 8, event: 101, ip: "2001:db8::20", port: 7078, direction: "sendrecv",
	},
	{
		// RFC 4566 section 5.7: a multicast address carries a TTL.
		name: "multicast address with TTL",
		sdp: sdpText(
			"v=0",
			"o=- 1 1 IN IP4 192.0.2.1",
			"s=-",
			"c=IN IP4 233.252.0.1/127",
			"t=0 0",
			"m=audio 49170 RTP/AVP 0",
		),
		pt: 0, ip: "233.252.0.1", port: 49170, direction: "sendrecv",
	},
	{
		// A host name in c= is allowed (RFC 4566 section 5.7). parseOffer
		// does not resolve it and the media latches on the caller's first
		// packet; that is no hold, or the greeting would never play.
		name: "host name in c=",
		sdp: sdpText(
			"v=0",
			"o=- 1 1 IN IP4 pbx.example.com",
			"s=-",
			"c=IN IP4 pbx.example.com",
			"t=0 0",
			"m=audio 10000 RTP/AVP 0",
		),
		pt: 0, ip: "", port: 10000, direction: "sendrecv",
	},
	{
		name: "no c= line",
		sdp: sdpText(
			"v=0",
			"o=- 1 1 IN IP4 192.0.2.1",
			"s=-",
			"t=0 0",
			"m=audio 10000 RTP/AVP 0",
		),
		bad: true,
	},
	{name: "garbage", sdp: "this is not SDP at all\r\n", bad: true},
	{name: "HTML error page", sdp: "<html><body>502 Bad Gateway</body></html>", bad: true},
	{name: "bad port", sdp: sdpText("v=0", "o=- 1 1 IN IP4 192.0.2.1", "s=-", "c=IN IP4 192.0.2.1", "t=0 0", "m=audio 99999 RTP/AVP 0"), bad: true},
	{name: "empty", sdp: "", bad: true},
	{name: "only v=0", sdp: sdpText("v=0"), bad: true},
}

func TestParseOffer(t *testing.T) {
	for _, tc := range offerCases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := parseOffer([]byte(tc.sdp))
			switch {
			case tc.bad:
				if err == nil {
					t.Fatalf("parseOffer = %+v, want an error", o)
				}
				if errors.Is(err, errNoCodec) {
					t.Fatalf("parseOffer error %q is errNoCodec (488); a malformed offer wants 400", err)
				}
				return
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Fatalf("parseOffer error = %v, want %v", err, tc.err)
				}
				return
			case err != nil:
				t.Fatalf("parseOffer: %v", err)
			}
			if o.payloadType != tc.pt || o.eventType != tc.event {
				t.Errorf("payload type %d, event type %d; want %d, %d", o.payloadType, o.eventType, tc.pt, tc.event)
			}
			if o.addr == nil {
				t.Fatal("addr is nil")
			}
			if !o.addr.IP.Equal(net.ParseIP(tc.ip)) || o.addr.Port != tc.port {
				t.Errorf("addr %v, want %s port %d", o.addr, tc.ip, tc.port)
			}
			if o.direction != tc.direction {
				t.Errorf("direction %q, want %q", o.direction, tc.direction)
			}
			if o.onHold() != tc.hold {
				t.Errorf("onHold() = %v, want %v", o.onHold(), tc.hold)
			}
		})
	}
}

func TestAnswer(t *testing.T) {
	tests := []struct {
		name    string
		ip      string
		port    int
		o       offer
		version uint64
		// want
		addrType, direction string
	}{
		{"PCMU sendrecv", "192.0.2.10", 10000, offer{payloadType: 0, direction: "sendrecv"}, 1, "IP4", "sendrecv"},
		{"PCMA with events", "192.0.2.10", 10002, offer{payloadType: 8, eventType: 101, direction: "sendrecv"}, 1, "IP4", "sendrecv"},
		{"events at 96", "192.0.2.10", 10004, offer{payloadType: 0, eventType: 96, direction: "sendrecv"}, 3, "IP4", "sendrecv"},
		{"sendonly gets recvonly", "192.0.2.10", 10006, offer{payloadType: 8, eventType: 101, direction: "sendonly"}, 2, "IP4", "recvonly"},
		{"recvonly gets sendonly", "192.0.2.10", 10008, offer{payloadType: 0, direction: "recvonly"}, 2, "IP4", "sendonly"},
		{"inactive gets inactive", "192.0.2.10", 10010, offer{payloadType: 0, direction: "inactive"}, 5, "IP4", "inactive"},
		{"no direction given", "192.0.2.10", 10012, offer{payloadType: 0}, 1, "IP4", "sendrecv"},
		{"IPv6", "2001:db8::10", 10014, offer{payloadType: 8, eventType: 101, direction: "sendrecv"}, 1, "IP6", "sendrecv"},
		{"IPv4 in IPv6 form", "::ffff:192.0.2.10", 10016, offer{payloadType: 0, direction: "sendrecv"}, 1, "IP4", "sendrecv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			const sessionID = 4242424242
			body, err := answer(net.ParseIP(tc.ip), tc.port, tc.o, sessionID, tc.version)
			if err != nil {
				t.Fatalf("answer: %v", err)
			}
			if !bytes.Contains(body, []byte("\r\n")) || bytes.Contains(bytes.ReplaceAll(body, []byte("\r\n"), nil), []byte("\n")) {
				t.Errorf("answer lines do not all end in CRLF:\n%q", body)
			}
			var sd sdp.SessionDescription
			if err := sd.Unmarshal(body); err != nil {
				t.Fatalf("the answer does not parse: %v\n%s", err, body)
			}
			wantIP := net.ParseIP(tc.ip).String()
			if sd.Origin.SessionID != sessionID || sd.Origin.SessionVersion != tc.version {
				t.Errorf("o= session %d version %d, want %d %d", sd.Origin.SessionID, sd.Origin.SessionVersion, uint64(sessionID), tc.version)
			}
			if sd.Origin.AddressType != tc.addrType || sd.Origin.UnicastAddress != wantIP {
				t.Errorf("o= address %s %s, want %s %s", sd.Origin.AddressType, sd.Origin.UnicastAddress, tc.addrType, wantIP)
			}
			if ci := sd.ConnectionInformation; ci == nil || ci.AddressType != tc.addrType || ci.Address == nil || ci.Address.Address != wantIP {
				t.Errorf("c= %+v, want IN %s %s", sd.ConnectionInformation, tc.addrType, wantIP)
			}
			if len(sd.MediaDescriptions) != 1 {
				t.Fatalf("%d m= lines, want 1", len(sd.MediaDescriptions))
			}
			md := sd.MediaDescriptions[0]
			if md.MediaName.Media != "audio" || md.MediaName.Port.Value != tc.port || strings.Join(md.MediaName.Protos, "/") != "RTP/AVP" {
				t.Errorf("m= %s %d %v, want audio %d RTP/AVP", md.MediaName.Media, md.MediaName.Port.Value, md.MediaName.Protos, tc.port)
			}
			law := "PCMU"
			if tc.o.payloadType == media.PayloadTypePCMA {
				law = "PCMA"
			}
			wantFormats := []string{itoa(tc.o.payloadType)}
			wantRtpmap := []string{itoa(tc.o.payloadType) + " " + law + "/8000"}
			if tc.o.eventType != 0 {
				wantFormats = append(wantFormats, itoa(tc.o.eventType))
				wantRtpmap = append(wantRtpmap, itoa(tc.o.eventType)+" telephone-event/8000")
			}
			if !slices.Equal(md.MediaName.Formats, wantFormats) {
				t.Errorf("formats %v, want %v", md.MediaName.Formats, wantFormats)
			}
			var rtpmap, fmtp, dirs []string
			for _, a := range md.Attributes {
				switch a.Key {
				case "rtpmap":
					rtpmap = append(rtpmap, a.Value)
				case "fmtp":
					fmtp = append(fmtp, a.Value)
				case "sendrecv", "sendonly", "recvonly", "inactive":
					dirs = append(dirs, a.Key)
				}
			}
			if !slices.Equal(rtpmap, wantRtpmap) {
				t.Errorf("rtpmap %q, want %q", rtpmap, wantRtpmap)
			}
			if tc.o.eventType != 0 && (len(fmtp) != 1 || !strings.HasPrefix(fmtp[0], itoa(tc.o.eventType)+" 0-15")) {
				t.Errorf("fmtp %q, want the events 0-15 for %d (RFC 4733 section 7.1.1)", fmtp, tc.o.eventType)
			}
			if tc.o.eventType == 0 && (len(fmtp) != 0 || bytes.Contains(body, []byte("telephone-event"))) {
				t.Errorf("telephone-event answered though not offered:\n%s", body)
			}
			if len(dirs) != 1 || dirs[0] != tc.direction {
				t.Errorf("direction attributes %q, want [%s] (RFC 3264 section 6.1)", dirs, tc.direction)
			}

			// The answer read as an offer gives back what went in.
			back, err := parseOffer(body)
			if err != nil {
				t.Fatalf("parseOffer(answer): %v", err)
			}
			if back.payloadType != tc.o.payloadType || back.eventType != tc.o.eventType || back.direction != tc.direction ||
				back.addr.Port != tc.port || !back.addr.IP.Equal(net.ParseIP(tc.ip)) {
				t.Errorf("parseOffer(answer) = %+v addr %v", back, back.addr)
			}
		})
	}
}

func itoa(pt uint8) string { return strconv.Itoa(int(pt)) }

// parseRequest parses raw SIP text, with LF line ends turned to CRLF.
func parseRequest(t testing.TB, raw string) *sip.Request {
	t.Helper()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("sip.ParseMessage: %v\n%s", err, raw)
	}
	req, ok := msg.(*sip.Request)
	if !ok {
		t.Fatalf("parsed a %T, want a request", msg)
	}
	return req
}

// invite is an INVITE from a SIP trunk with the given identity headers.
func invite(headers string) string {
	return "INVITE sip:shop@192.0.2.10:5060 SIP/2.0\n" +
		"Via: SIP/2.0/UDP 198.51.100.1:5060;branch=z9hG4bK-524287-1---3a7c2b\n" +
		"Max-Forwards: 69\n" +
		headers +
		"To: <sip:shop@192.0.2.10>\n" +
		"Call-ID: 3848276298220188511@198.51.100.1\n" +
		"CSeq: 102 INVITE\n" +
		"Contact: <sip:gw@198.51.100.1:5060>\n" +
		"Content-Length: 0\n\n"
}

// numberPattern is what a caller's number may look like.
var numberPattern = regexp.MustCompile(`^\+?[0-9]{3,15}$`)

func TestCallerOf(t *testing.T) {
	tests := []struct {
		name    string
		headers string
		number  string
		// name is the wanted name; anyName skips the check.
		wantName string
		anyName  bool
	}{
		{
			name:    "From with a number",
			headers: "From: <sip:07700900123@voip.example.net>;tag=a73kszlfl\n",
			number:  "07700900123",
		},
		{
			name:     "From with a display name and a number",
			headers:  "From: \"Harriet Jones\" <sip:+447700900123@voip.example.net>;tag=a73kszlfl\n",
			number:   "+447700900123",
			wantName: "Harriet Jones",
		},
		{
			// RFC 3261 section 25.1: quoted-pair; the name shown is
			// without the backslashes.
			name:     "display name with escaped quotes",
			headers:  "From: \"Harriet \\\"Flying\\\" Jones\" <sip:+447700900123@voip.example.net>;tag=a73kszlfl\n",
			number:   "+447700900123",
			wantName: `Harriet "Flying" Jones`,
		},
		{
			name:     "From with visual separators in the user part",
			headers:  "From: <sip:+44-7700-900123@voip.example.net;user=phone>;tag=a73kszlfl\n",
			number:   "+447700900123",
			wantName: "",
		},
		{
			name:     "tel URI in From",
			headers:  "From: <tel:+44-7700-900123>;tag=a73kszlfl\n",
			number:   "+447700900123",
			wantName: "",
		},
		{
			// RFC 3325 section 9.1: one sip: and one tel: identity.
			name: "P-Asserted-Identity sip: and tel: wins over From",
			headers: "From: \"Front desk\" <sip:2001@pbx.example.net>;tag=a73kszlfl\n" +
				"P-Asserted-Identity: \"Harriet Jones\" <sip:+447700900123@trunk.example.net;user=phone>, <tel:+447700900123>\n",
			number:   "+447700900123",
			wantName: "Harriet Jones",
		},
		{
			name: "P-Asserted-Identity tel: first",
			headers: "From: <sip:anonymous@anonymous.invalid>;tag=a73kszlfl\n" +
				"P-Asserted-Identity: <tel:+44-7700-900123;phone-context=+44>, <sip:harriet@example.com>\n",
			number:  "+447700900123",
			anyName: true,
		},
		{
			name: "P-Asserted-Identity without a number falls back to From",
			headers: "From: \"Harriet Jones\" <sip:07700900123@voip.example.net>;tag=a73kszlfl\n" +
				"P-Asserted-Identity: <sip:harriet@example.com>\n",
			number:  "07700900123",
			anyName: true,
		},
		{
			name: "Remote-Party-ID privacy=full, From anonymous",
			headers: "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=a73kszlfl\n" +
				"Remote-Party-ID: \"Harriet Jones\" <sip:+447700900123@gw.example.net>;party=calling;privacy=full;screen=yes\n",
			wantName: "anonymous",
		},
		{
			// A gateway that leaves the number in From and asks for
			// privacy in Remote-Party-ID only: the privacy request holds.
			name: "Remote-Party-ID privacy=full, From with the number",
			headers: "From: <sip:+447700900123@gw.example.net>;tag=a73kszlfl\n" +
				"Remote-Party-ID: \"Harriet Jones\" <sip:+447700900123@gw.example.net>;party=calling;privacy=full;screen=yes\n",
			wantName: "anonymous",
		},
		{
			// draft-ietf-sip-privacy-04: privacy=uri hides the number,
			// privacy=name only the name.
			name: "Remote-Party-ID privacy=uri",
			headers: "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=a73kszlfl\n" +
				"Remote-Party-ID: \"Harriet Jones\" <sip:+447700900123@gw.example.net>;party=calling;privacy=uri;screen=yes\n",
			number:  "",
			anyName: true,
		},
		{
			name:     "Remote-Party-ID privacy=off",
			headers:  "From: <sip:gw@gw.example.net>;tag=a73kszlfl\nRemote-Party-ID: \"Harriet Jones\" <sip:+447700900123@gw.example.net>;party=calling;privacy=off;screen=yes\n",
			number:   "+447700900123",
			wantName: "Harriet Jones",
		},
		{
			// RFC 3323 section 4.1.1.3.
			name:     "From Anonymous, anonymous.invalid",
			headers:  "From: \"Anonymous\" <sip:anonymous@anonymous.invalid>;tag=a73kszlfl\n",
			wantName: "anonymous",
		},
		{
			name:     "From user anonymous at the provider",
			headers:  "From: <sip:anonymous@voip.example.net>;tag=a73kszlfl\n",
			wantName: "anonymous",
		},
		{
			name:     "display name Withheld",
			headers:  "From: \"Withheld\" <sip:unknown@voip.example.net>;tag=a73kszlfl\n",
			wantName: "anonymous",
		},
		{
			name:    "a SIP user that is no number",
			headers: "From: <sip:alice@example.com>;tag=a73kszlfl\n",
			number:  "", wantName: "alice@example.com",
		},
		{
			name:    "a SIP user with a display name",
			headers: "From: \"Alice\" <sip:alice@example.com>;tag=a73kszlfl\n",
			number:  "", wantName: "Alice",
		},
		{
			// E.164 allows 15 digits at most.
			name:    "16 digits is no number",
			headers: "From: <sip:+4477009001234567@voip.example.net>;tag=a73kszlfl\n",
			number:  "", anyName: true,
		},
		{
			name:    "two digits is no number",
			headers: "From: <sip:12@pbx.example.net>;tag=a73kszlfl\n",
			number:  "", anyName: true,
		},
		{
			name: "unparsable P-Asserted-Identity is skipped",
			headers: "From: <sip:07700900123@voip.example.net>;tag=a73kszlfl\n" +
				"P-Asserted-Identity: <<<>>>\n",
			number:  "07700900123",
			anyName: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := callerOf(parseRequest(t, invite(tc.headers)))
			if c.number != tc.number {
				t.Errorf("number %q, want %q (caller %+v)", c.number, tc.number, c)
			}
			if !tc.anyName && c.name != tc.wantName {
				t.Errorf("name %q, want %q", c.name, tc.wantName)
			}
			if c.number != "" && !numberPattern.MatchString(c.number) {
				t.Errorf("number %q is not a phone number", c.number)
			}
			if tc.wantName == "anonymous" && !c.anonymous() {
				t.Errorf("caller %+v is not anonymous", c)
			}
		})
	}
}

func TestCallerOfNoFrom(t *testing.T) {
	req := parseRequest(t, "INVITE sip:shop@192.0.2.10 SIP/2.0\n"+
		"Via: SIP/2.0/UDP 198.51.100.1;branch=z9hG4bK-1\n"+
		"Call-ID: nofrom@198.51.100.1\n"+
		"CSeq: 1 INVITE\n"+
		"Content-Length: 0\n\n")
	if c := callerOf(req); !c.anonymous() {
		t.Errorf("callerOf without From = %+v, want anonymous", c)
	}
}

func TestAnsweredElsewhere(t *testing.T) {
	tests := []struct {
		reason string
		want   bool
	}{
		{`SIP;cause=200;text="Call completed elsewhere"`, true},
		{`SIP ;cause=200`, true},
		{`sip; cause = 200 ; text="Call completed elsewhere"`, true},
		{`SIP;text="Call completed elsewhere, by Bob";cause=200`, true},
		{`Q.850;cause=16`, false},
		{`Q.850;cause=16;text="Normal call clearing"`, false},
		{`SIP;cause=487`, false},
		{`SIP;cause=487;text="Request Terminated"`, false},
		{`SIP;cause=2000`, false},
		{`Q.850;cause=16;text="Terminated, by the user", SIP;cause=200;text="Call completed elsewhere"`, true},
		{`Q.850;cause=26, SIP;cause=200`, true},
		{`SIP;cause=480, Q.850;cause=200`, false},
		{``, false},
		{`SIP`, false},
		{`;;;,,,`, false},
	}
	for _, tc := range tests {
		if got := answeredElsewhere(tc.reason); got != tc.want {
			t.Errorf("answeredElsewhere(%q) = %v, want %v", tc.reason, got, tc.want)
		}
	}
}

func TestSourceKey(t *testing.T) {
	const maxKey = 512 // ticket.Inbound's source key limit
	short := "a84b4c76e66710@pc33.atlanta.example.com"
	if got := sourceKey(short); got != "sip|"+short {
		t.Errorf("sourceKey(%q) = %q", short, got)
	}
	at200 := strings.Repeat("c", 200)
	if got := sourceKey(at200); got != "sip|"+at200 {
		t.Errorf("a 200-byte Call-ID is kept whole, got %q", got)
	}
	long := strings.Repeat("0123456789", 30)
	k := sourceKey(long)
	if len(k) > maxKey || strings.Contains(k, long[:50]) || !strings.HasPrefix(k, "sip|") {
		t.Errorf("sourceKey(300 bytes) = %q (%d bytes), want a hash under %d bytes", k, len(k), maxKey)
	}
	if k != sourceKey(long) {
		t.Error("sourceKey is not deterministic")
	}
	if k == sourceKey(long[:299]+"x") {
		t.Error("two long Call-IDs give the same key")
	}
	huge := strings.Repeat("x", 64<<10)
	if k := sourceKey(huge); len(k) > maxKey {
		t.Errorf("sourceKey(64 KiB) is %d bytes", len(k))
	}
}

// registerOK is a registrar's 200 OK to a REGISTER, with the given
// binding headers.
func registerOK(t *testing.T, headers string) *sip.Response {
	t.Helper()
	raw := "SIP/2.0 200 OK\n" +
		"Via: SIP/2.0/UDP 192.0.2.10:5060;branch=z9hG4bK.3a8f;received=203.0.113.9;rport=5060\n" +
		"From: <sip:shop@voip.example.net>;tag=b7d2\n" +
		"To: <sip:shop@voip.example.net>;tag=as1f7d\n" +
		"Call-ID: 8f2c1e@192.0.2.10\n" +
		"CSeq: 2 REGISTER\n" +
		headers +
		"Content-Length: 0\n\n"
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatalf("sip.ParseMessage: %v", err)
	}
	res, ok := msg.(*sip.Response)
	if !ok {
		t.Fatalf("parsed a %T", msg)
	}
	return res
}

func TestGrantedExpiry(t *testing.T) {
	ours := sip.Uri{Scheme: "sip", User: "shop", Host: "192.0.2.10", Port: 5060}
	const asked = 3600 * time.Second
	tests := []struct {
		name    string
		headers string
		want    time.Duration
	}{
		{
			name:    "our binding's expires",
			headers: "Contact: <sip:shop@192.0.2.10:5060>;expires=300\nExpires: 600\n",
			want:    300 * time.Second,
		},
		{
			name: "other bindings' params ignored",
			headers: "Contact: <sip:shop@192.0.2.77:5060>;expires=60, <sip:shop@192.0.2.10:5060>;expires=1800;q=0.5\n" +
				"Contact: \"Desk phone\" <sip:shop@192.0.2.99>;expires=90\n",
			want: 1800 * time.Second,
		},
		{
			name:    "only other bindings: the Expires header",
			headers: "Contact: <sip:shop@192.0.2.77:5060>;expires=60\nExpires: 600\n",
			want:    600 * time.Second,
		},
		{
			name:    "our binding without a port",
			headers: "Contact: <sip:shop@192.0.2.10>;expires=120\n",
			want:    120 * time.Second,
		},
		{
			name:    "our binding at another port is not ours",
			headers: "Contact: <sip:shop@192.0.2.10:5062>;expires=120\nExpires: 900\n",
			want:    900 * time.Second,
		},
		{
			name:    "Expires header",
			headers: "Expires: 600\n",
			want:    600 * time.Second,
		},
		{
			name:    "expires=0 on ours is no grant",
			headers: "Contact: <sip:shop@192.0.2.10:5060>;expires=0\nExpires: 600\n",
			want:    600 * time.Second,
		},
		{
			name:    "garbage expires",
			headers: "Contact: <sip:shop@192.0.2.10:5060>;expires=soon\nExpires: later\n",
			want:    asked,
		},
		{
			name: "nothing: what was asked",
			want: asked,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := grantedExpiry(registerOK(t, tc.headers), ours, asked); got != tc.want {
				t.Errorf("grantedExpiry = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRefreshAfter(t *testing.T) {
	tests := []struct{ granted, want time.Duration }{
		{time.Hour, 58 * time.Minute},
		{600 * time.Second, 450 * time.Second},
		{60 * time.Second, 45 * time.Second},
		{10 * time.Second, 5 * time.Second},
		{time.Second, time.Second},
	}
	for _, tc := range tests {
		if got := refreshAfter(tc.granted); got != tc.want {
			t.Errorf("refreshAfter(%s) = %s, want %s", tc.granted, got, tc.want)
		}
		if got := refreshAfter(tc.granted); got <= 0 || (tc.granted >= 2*time.Second && got >= tc.granted) {
			t.Errorf("refreshAfter(%s) = %s is not before the binding expires", tc.granted, got)
		}
	}
}

func TestRepairWAV(t *testing.T) {
	dir := t.TempDir()
	pcm := make([]int16, 3*media.ClockRate/2)
	for i := range pcm {
		pcm[i] = int16(i*37) - 12000
	}
	for _, tc := range []struct {
		name  string
		extra []byte // bytes a power cut left after the last whole sample
	}{
		{"whole samples", nil},
		{"half a sample at the end", []byte{0x42}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "-")+".wav")
			f, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			w, err := media.NewWAVWriter(f, media.ClockRate, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := w.WriteSamples(pcm); err != nil {
				t.Fatal(err)
			}
			f.Write(tc.extra)
			// The appliance lost power here: w.Close never ran.
			f.Close()
			// Its header still says the data chunk is empty.
			if data, err := os.ReadFile(path); err != nil {
				t.Fatal(err)
			} else if w, err := media.ReadWAV(bytes.NewReader(data), int64(len(data))); err == nil && w.Frames() != 0 {
				t.Fatalf("the unclosed file reads %d samples before repair", w.Frames())
			}

			if err := repairWAV(path); err != nil {
				t.Fatalf("repairWAV: %v", err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			got, err := media.ReadWAV(bytes.NewReader(data), int64(len(data)))
			if err != nil {
				t.Fatalf("ReadWAV after repair: %v", err)
			}
			if got.Format != media.FormatPCM || got.Channels != 1 || got.SampleRate != media.ClockRate || got.BitsPerSample != 16 {
				t.Errorf("format %v, %d channels, %d Hz, %d bits", got.Format, got.Channels, got.SampleRate, got.BitsPerSample)
			}
			if got.Frames() != len(pcm) {
				t.Fatalf("%d samples after repair, want %d", got.Frames(), len(pcm))
			}
			for i, s := range pcm {
				if v := int16(uint16(got.Data[2*i]) | uint16(got.Data[2*i+1])<<8); v != s {
					t.Fatalf("sample %d = %d, want %d", i, v, s)
				}
			}
			if len(data) != 44+2*len(pcm) {
				t.Errorf("file is %d bytes, want %d", len(data), 44+2*len(pcm))
			}
			// Repairing twice changes nothing.
			if err := repairWAV(path); err != nil {
				t.Fatal(err)
			}
			if again, _ := os.ReadFile(path); !bytes.Equal(again, data) {
				t.Error("a second repair changed the file")
			}
		})
	}
	t.Run("empty recording", func(t *testing.T) {
		path := filepath.Join(dir, "empty.wav")
		f, err := os.Create(path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := media.NewWAVWriter(f, media.ClockRate, 0); err != nil {
			t.Fatal(err)
		}
		f.Close()
		if err := repairWAV(path); err != nil {
			t.Fatalf("repairWAV: %v", err)
		}
		data, _ := os.ReadFile(path)
		if w, err := media.ReadWAV(bytes.NewReader(data), int64(len(data))); err != nil || w.Frames() != 0 {
			t.Errorf("ReadWAV = %v, %v; want no samples", w, err)
		}
	})
	t.Run("shorter than a header", func(t *testing.T) {
		path := filepath.Join(dir, "short.wav")
		if err := os.WriteFile(path, []byte("RIFF\x00\x00\x00\x00WAVEfmt "), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := repairWAV(path); err == nil {
			t.Error("repairWAV of a 16-byte file succeeded")
		}
	})
	t.Run("missing", func(t *testing.T) {
		if err := repairWAV(filepath.Join(dir, "gone.wav")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("repairWAV of a missing file = %v, want os.ErrNotExist", err)
		}
	})
}

func TestCleanText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Hello, I'd like to order a Cessna 182 kit.", "Hello, I'd like to order a Cessna 182 kit."},
		{"line one\nline two\tand a tab", "line one\nline two\tand a tab"},
		{"windows\r\nline ends\r\n", "windows\nline ends\n"},
		{"bell\a escape\x1b[31mred\x1b[0m nul\x00 del\x7f", "bell escape[31mred[0m nul del"},
		{"C1 \u0085next line \u009bCSI", "C1 next line CSI"},
		{"bad \xff\xfe utf-8", "bad \uFFFD utf-8"},
		{"cut \xe2\x82", "cut \uFFFD"},
		{"Zoë ordered a Spitfire 🛩", "Zoë ordered a Spitfire 🛩"},
		{"", ""},
	}
	for _, tc := range tests {
		got := cleanText(tc.in)
		if got != tc.want {
			t.Errorf("cleanText(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("cleanText(%q) = %q is not valid UTF-8", tc.in, got)
		}
	}
}

func TestTruncate(t *testing.T) {
	for _, s := range []string{"", "plain ascii text", "Zoë — Spitfire 🛩 Mk IX", "日本語のテキスト", "\xff\xfe broken"} {
		for n := 0; n <= len(s)+2; n++ {
			got := truncate(s, n)
			if len(got) > n || !strings.HasPrefix(s, got) {
				t.Fatalf("truncate(%q, %d) = %q", s, n, got)
			}
			if utf8.ValidString(s) && !utf8.ValidString(got) {
				t.Fatalf("truncate(%q, %d) = %q splits a rune", s, n, got)
			}
			if utf8.ValidString(s) && n < len(s) && n-len(got) >= utf8.UTFMax {
				t.Fatalf("truncate(%q, %d) = %q drops more than a rune", s, n, got)
			}
			if n >= len(s) && got != s {
				t.Fatalf("truncate(%q, %d) = %q, want it whole", s, n, got)
			}
		}
	}
	if got := truncate("a€b", 3); got != "a" {
		t.Errorf(`truncate("a€b", 3) = %q, want "a"`, got)
	}
}

func TestLimitedBuffer(t *testing.T) {
	b := limitedBuffer{max: 10}
	for _, p := range []string{"hello ", "world, ", "and more", ""} {
		n, err := b.Write([]byte(p))
		if n != len(p) || err != nil {
			t.Errorf("Write(%q) = %d, %v; want %d, nil", p, n, err, len(p))
		}
	}
	if got := b.String(); got != "hello worl" {
		t.Errorf("kept %q, want %q", got, "hello worl")
	}
	var none limitedBuffer
	if n, err := none.Write([]byte("anything")); n != 8 || err != nil || none.Len() != 0 {
		t.Errorf("max 0: Write = %d, %v, kept %d bytes", n, err, none.Len())
	}
}

// tortureDir holds the RFC 4475 messages (see its README.md).
const tortureDir = "testdata/sip/rfc4475"

// sdpHasPCMU reports whether body is SDP with an audio stream on a port
// that lists payload type 0. It reads the lines itself, so as not to
// check parseOffer with parseOffer.
func sdpHasPCMU(body []byte) bool {
	for _, line := range strings.Split(strings.ReplaceAll(string(body), "\r\n", "\n"), "\n") {
		f := strings.Fields(line)
		if len(f) >= 4 && f[0] == "m=audio" && f[1] != "0" && f[2] == "RTP/AVP" && slices.Contains(f[3:], "0") {
			return true
		}
	}
	return false
}

func TestTorture(t *testing.T) {
	// The caller of a few of the messages: RFC 4475 quotes each one's
	// intent in its section.
	callers := map[string]caller{
		// 3.1.1.1: the display name is the quoted-string
		// "J Rosenberg \\\"", which reads J Rosenberg \" once unquoted.
		"valid/wsinv.dat": {name: `J Rosenberg \"`},
		// 3.1.1.2: a display name of tokens, with no quotes.
		"valid/intmeth.dat": {name: "token1~` token2'+_ token3*%!.-"},
		// 3.1.1.5: % is no escape inside a quoted-string.
		"valid/esc02.dat": {name: "%Z%45"},
		// 3.1.1.6: no space between display name and <.
		"valid/lwsdisp.dat": {name: "caller"},
		"valid/longreq.dat": {name: strings.Repeat("amazinglylongcallername", 5) + "@example.net"},
		// 3.4.1: RFC 2543 syntax, a telephone number with user=phone.
		"valid/inv2543.dat": {number: "+13035551111"},
	}
	files, err := filepath.Glob(filepath.Join(tortureDir, "*", "*.dat"))
	if err != nil || len(files) < 49 {
		t.Fatalf("%d torture messages in %s (%v), want 49", len(files), tortureDir, err)
	}
	seen := 0
	for _, path := range files {
		name, _ := filepath.Rel(tortureDir, path)
		name = filepath.ToSlash(name)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			valid := strings.HasPrefix(name, "valid/")
			msg, err := sip.ParseMessage(data)
			if err != nil {
				if valid {
					t.Fatalf("sip.ParseMessage of a valid message: %v", err)
				}
				t.Logf("rejected: %v", err)
				return
			}
			if strings.HasPrefix(name, "invalid/") {
				t.Logf("sipgo accepts it (RFC 4475 says it is invalid)")
			}
			req, ok := msg.(*sip.Request)
			if !ok {
				return
			}
			c := callerOf(req)
			if c.number != "" && !numberPattern.MatchString(c.number) {
				t.Errorf("caller number %q is not a phone number", c.number)
			}
			if c.number == "" && c.name == "" {
				t.Errorf("caller %+v has neither number nor name", c)
			}
			if want, ok := callers[name]; ok {
				seen++
				if c != want {
					t.Errorf("callerOf = %+v, want %+v", c, want)
				}
			}
			if req.Method != sip.INVITE {
				return
			}
			o, err := parseOffer(req.Body())
			if ct := req.ContentType(); ct != nil && strings.HasPrefix(strings.ToLower(ct.Value()), "application/sdp") && sdpHasPCMU(req.Body()) {
				if err != nil {
					t.Fatalf("parseOffer of an SDP offer with PCMU: %v", err)
				}
				if o.payloadType != media.PayloadTypePCMU || o.addr == nil || o.addr.Port == 0 {
					t.Errorf("parseOffer = %+v (addr %v), want PCMU", o, o.addr)
				}
			}
		})
	}
	if seen != len(callers) {
		t.Errorf("checked the caller of %d messages, want %d", seen, len(callers))
	}
}
