package telephony

import (
	"bytes"
	"fmt"
	"strings"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// Every request the line takes passes the checks a user agent server makes
// before it looks at the method (RFC 3261 section 8.2), answered as the
// RFC 4475 torture messages expect: a request that is not SIP/2.0 gets 505,
// one missing a header every request carries, repeating a header that
// appears once, or naming another method in CSeq gets 400, a Request-URI
// of a scheme the line does not take 416, and one that requires an
// extension 420. A method the line does not know gets 501, one it knows
// but does not take 405.

// single are header fields that appear at most once (RFC 3261 section 7.3.1:
// only a comma-separated list may repeat; RFC 4475 sections 3.3.8, 3.3.9).
var single = []string{"From", "To", "Call-ID", "CSeq", "Max-Forwards", "Content-Length", "Content-Type"}

// known are the methods of RFC 3261 and its common extensions: the line
// answers the ones it does not take with 405, any other with 501.
var known = []sip.RequestMethod{
	sip.REGISTER, sip.INFO, sip.PRACK, sip.SUBSCRIBE, sip.NOTIFY, sip.UPDATE, sip.REFER, sip.MESSAGE, sip.PUBLISH,
}

// checked runs the checks before h.
func (s *Service) checked(h sipgo.RequestHandler) sipgo.RequestHandler {
	return func(req *sip.Request, tx sip.ServerTransaction) {
		if res := check(req); res != nil {
			if req.IsAck() {
				return // an ACK is never answered (RFC 3261 section 17.2.3)
			}
			s.log().Debug("request refused", "method", req.Method, "status", res.StatusCode, "source", req.Source())
			tx.Respond(res)
			return
		}
		h(req, tx)
	}
}

// check returns the response that refuses req, or nil when req passes.
func check(req *sip.Request) *sip.Response {
	if !strings.EqualFold(req.SipVersion, "SIP/2.0") {
		res := refusal(req, 505, "Version Not Supported", "the line speaks SIP/2.0")
		res.SipVersion = "SIP/2.0"
		return res
	}
	// RFC 3261 section 8.1.1: the header fields every request carries.
	// Max-Forwards is left out: a user agent server loses nothing without
	// it, and some gateways leave it out.
	for _, h := range []struct {
		name    string
		missing bool
	}{
		{"Via", req.Via() == nil}, {"From", req.From() == nil}, {"To", req.To() == nil},
		{"Call-ID", req.CallID() == nil}, {"CSeq", req.CSeq() == nil},
	} {
		if h.missing {
			return refusal(req, 400, "Bad Request", "the request has no "+h.name+" header")
		}
	}
	for _, name := range single {
		if len(req.GetHeaders(name)) > 1 {
			return refusal(req, 400, "Bad Request", "the request has more than one "+name+" header")
		}
	}
	// RFC 3261 section 8.1.1.5: the CSeq method matches the request's.
	if m := req.CSeq().MethodName; m != req.Method {
		return refusal(req, 400, "Bad Request", fmt.Sprintf("the CSeq method %s is not the request's, %s", m, req.Method))
	}
	// RFC 3261 section 8.2.2.1.
	switch strings.ToLower(req.Recipient.Scheme) {
	case "sip", "sips", "tel":
	default:
		return refusal(req, 416, "Unsupported URI Scheme", "the line takes sip, sips and tel addresses")
	}
	// RFC 3261 section 8.2.2.3: the line supports no extension, and
	// neither ACK nor CANCEL is refused for one.
	if !req.IsAck() && !req.IsCancel() {
		var required []string
		for _, h := range req.GetHeaders("Require") {
			for _, opt := range strings.Split(h.Value(), ",") {
				if opt = strings.TrimSpace(opt); opt != "" {
					required = append(required, opt)
				}
			}
		}
		if len(required) > 0 {
			res := refusal(req, 420, "Bad Extension", "the line supports no SIP extension")
			res.AppendHeader(sip.NewHeader("Unsupported", strings.Join(required, ", ")))
			return res
		}
	}
	return nil
}

// refusal is a response refusing req, with a Warning saying why (RFC 3261
// section 20.43, code 399: miscellaneous warning).
func refusal(req *sip.Request, code int, reason, why string) *sip.Response {
	res := sip.NewResponseFromRequest(req, code, reason, nil)
	res.AppendHeader(sip.NewHeader("Warning", fmt.Sprintf("399 counterdesk %q", why)))
	return res
}

// onOther answers a method the line has no handler for.
func (s *Service) onOther(req *sip.Request, tx sip.ServerTransaction) {
	for _, m := range known {
		if req.Method == m {
			// RFC 3261 section 8.2.1: 405 says which methods the line takes.
			res := sip.NewResponseFromRequest(req, 405, "Method Not Allowed", nil)
			res.AppendHeader(sip.NewHeader("Allow", allowed))
			tx.Respond(res)
			return
		}
	}
	res := sip.NewResponseFromRequest(req, 501, "Not Implemented", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	tx.Respond(res)
}

// dropNoise is the SIP transport's read filter over UDP: it drops a
// datagram the line could not answer sensibly before the stack sees it.
// That is one that does not begin with a SIP start line (RFC 3261 section
// 7.1: Method SP Request-URI SP SIP-Version, or SIP-Version SP Status-Code
// SP Reason-Phrase) or does not parse, and a request without a CSeq or a
// well-formed Via: it can start no transaction, and its answer would have
// nowhere to go (sections 8.1.1.7, 18.2.1). Empty lines before the start
// line are taken off (section 7.5). A stream (TCP) passes: its reads are
// not messages.
func dropNoise(props sip.TransportReadProps, data []byte) ([]byte, error) {
	if !strings.EqualFold(props.Transport, "udp") {
		return data, nil
	}
	data = bytes.TrimLeft(data, "\r\n")
	if !isStartLine(data) {
		return nil, nil
	}
	msg, err := sip.ParseMessage(data)
	if err != nil {
		return nil, nil
	}
	if req, ok := msg.(*sip.Request); ok {
		v := req.Via()
		if v == nil || req.CSeq() == nil || !sipVersion([]byte(v.ProtocolName+"/"+v.ProtocolVersion)) || !token([]byte(v.Transport)) || v.Host == "" {
			return nil, nil
		}
	}
	return data, nil
}

// isStartLine reports whether data begins with a SIP start line.
func isStartLine(data []byte) bool {
	line, _, _ := bytes.Cut(data, []byte("\n"))
	line = bytes.TrimSuffix(line, []byte("\r"))
	f := bytes.Split(line, []byte(" "))
	if sipVersion(f[0]) {
		return len(f) >= 3 && len(f[1]) == 3 && digits(f[1])
	}
	return len(f) == 3 && token(f[0]) && len(f[1]) > 0 && sipVersion(f[2])
}

// sipVersion reports whether b is "SIP/" 1*DIGIT "." 1*DIGIT.
func sipVersion(b []byte) bool {
	if len(b) < 4 || !strings.EqualFold(string(b[:4]), "SIP/") {
		return false
	}
	major, minor, ok := bytes.Cut(b[4:], []byte("."))
	return ok && digits(major) && digits(minor)
}

func digits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return len(b) > 0
}

// token reports whether b is an RFC 3261 token (section 25.1).
func token(b []byte) bool {
	for _, c := range b {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-.!%*_+`'~", c) >= 0:
		default:
			return false
		}
	}
	return len(b) > 0
}
