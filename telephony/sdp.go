package telephony

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"

	"github.com/counterdesk/counterdesk/telephony/media"
)

// errNoCodec is returned for an offer with no audio codec the box speaks;
// the call is refused with 488 Not Acceptable Here.
var errNoCodec = errors.New("the offer has neither PCMU nor PCMA")

// offer is what the box takes from the caller's SDP: where to send audio,
// in which G.711 law, and which payload type carries RFC 4733 key presses.
type offer struct {
	// addr is where the caller receives audio. An unspecified IP
	// (c=0.0.0.0) is the old way of putting a call on hold; a nil IP (a
	// host name in c=) means the media latches on the caller's first
	// packet.
	addr *net.UDPAddr
	// payloadType is 0 (PCMU) or 8 (PCMA), the first of the two in the
	// caller's order of preference.
	payloadType uint8
	// eventType is the telephone-event payload type, 0 when none is offered.
	eventType uint8
	// direction is the caller's a=sendrecv, sendonly, recvonly or inactive.
	direction string
}

// onHold reports whether the caller asks the box not to send audio.
func (o offer) onHold() bool {
	return o.direction == "sendonly" || o.direction == "inactive" || (o.addr.IP != nil && o.addr.IP.IsUnspecified())
}

// parseOffer reads an SDP offer (RFC 4566, RFC 3264). It takes the first
// audio stream with a port; a stream offering neither G.711 law gives
// errNoCodec.
func parseOffer(body []byte) (offer, error) {
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(body); err != nil {
		return offer{}, fmt.Errorf("sdp: %w", err)
	}
	if sd.Origin.UnicastAddress == "" {
		return offer{}, errors.New("sdp: no origin (o=) line")
	}
	var audio *sdp.MediaDescription
	for _, md := range sd.MediaDescriptions {
		if md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 {
			audio = md
			break
		}
	}
	if audio == nil {
		return offer{}, fmt.Errorf("sdp: no audio stream: %w", errNoCodec)
	}
	proto := strings.Join(audio.MediaName.Protos, "/")
	if proto != "RTP/AVP" {
		return offer{}, fmt.Errorf("sdp: audio transport %q is not plain RTP/AVP: %w", proto, errNoCodec)
	}
	o := offer{direction: "sendrecv"}
	found := false
	for _, f := range audio.MediaName.Formats {
		pt, err := strconv.ParseUint(f, 10, 7)
		if err != nil {
			continue
		}
		if (pt == media.PayloadTypePCMU || pt == media.PayloadTypePCMA) && !found {
			o.payloadType, found = uint8(pt), true
		}
	}
	// telephone-event has a dynamic payload type, named by an rtpmap; a
	// static G.711 type mapped to another clock rate is not G.711.
	for _, a := range audio.Attributes {
		if a.Key != "rtpmap" {
			continue
		}
		ptText, enc, _ := strings.Cut(a.Value, " ")
		pt, err := strconv.ParseUint(ptText, 10, 7)
		if err != nil || !containsFormat(audio.MediaName.Formats, ptText) {
			continue
		}
		name, rate, _ := strings.Cut(strings.ToLower(enc), "/")
		rate, _, _ = strings.Cut(rate, "/")
		switch {
		case name == "telephone-event" && rate == "8000" && o.eventType == 0:
			o.eventType = uint8(pt)
		case (name == "pcmu" || name == "pcma") && rate != "8000":
			// The static types at another clock rate are not G.711 as we
			// speak it.
			if uint8(pt) == o.payloadType && found {
				found = false
			}
		}
	}
	if !found {
		return offer{}, errNoCodec
	}
	for _, attrs := range [][]sdp.Attribute{sd.Attributes, audio.Attributes} {
		for _, a := range attrs {
			switch a.Key {
			case "sendrecv", "sendonly", "recvonly", "inactive":
				o.direction = a.Key
			}
		}
	}
	ci := audio.ConnectionInformation
	if ci == nil {
		ci = sd.ConnectionInformation
	}
	if ci == nil || ci.Address == nil {
		return offer{}, errors.New("sdp: no connection address for the audio stream")
	}
	host, _, _ := strings.Cut(ci.Address.Address, "/")
	ip := net.ParseIP(host)
	if ip == nil {
		// A host name in c= is allowed but rare; resolving it is not worth
		// a DNS wait while the caller rings. Latch instead.
		ip = nil
	}
	o.addr = &net.UDPAddr{IP: ip, Port: audio.MediaName.Port.Value}
	return o, nil
}

func containsFormat(formats []string, f string) bool {
	for _, x := range formats {
		if x == f {
			return true
		}
	}
	return false
}

// answerDirection is the direction the box answers an offer's with (RFC
// 3264 section 6.1): it receives what the caller sends and sends only when
// the caller receives.
func answerDirection(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}

// answer builds the SDP answer: one audio stream on ip:port in the chosen
// law, with telephone-event when the caller offered it. version is the
// o= line's session version, raised by one for each new answer in a call.
func answer(ip net.IP, port int, o offer, sessionID, version uint64) ([]byte, error) {
	addrType := "IP4"
	if ip.To4() == nil {
		addrType = "IP6"
	}
	name := "PCMU"
	if o.payloadType == media.PayloadTypePCMA {
		name = "PCMA"
	}
	formats := []string{strconv.Itoa(int(o.payloadType))}
	attrs := []sdp.Attribute{sdp.NewAttribute("rtpmap", fmt.Sprintf("%d %s/8000", o.payloadType, name))}
	if o.eventType != 0 {
		formats = append(formats, strconv.Itoa(int(o.eventType)))
		attrs = append(attrs,
			sdp.NewAttribute("rtpmap", fmt.Sprintf("%d telephone-event/8000", o.eventType)),
			sdp.NewAttribute("fmtp", fmt.Sprintf("%d 0-15", o.eventType)))
	}
	attrs = append(attrs, sdp.NewAttribute("ptime", "20"), sdp.NewPropertyAttribute(answerDirection(o.direction)))
	sd := sdp.SessionDescription{
		Origin: sdp.Origin{
			Username: "counterdesk", SessionID: sessionID, SessionVersion: version,
			NetworkType: "IN", AddressType: addrType, UnicastAddress: ip.String(),
		},
		SessionName:           "counterdesk",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType, Address: &sdp.Address{Address: ip.String()}},
		TimeDescriptions:      []sdp.TimeDescription{{Timing: sdp.Timing{}}},
		MediaDescriptions: []*sdp.MediaDescription{{
			MediaName: sdp.MediaName{
				Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: []string{"RTP", "AVP"}, Formats: formats,
			},
			Attributes: attrs,
		}},
	}
	return sd.Marshal()
}
