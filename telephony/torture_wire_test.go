package telephony

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"
)

// tortureWant is what RFC 4475 expects of an element given one of its
// messages, as the line may answer it: the statuses it may send (none: it
// stays silent), and whether staying silent is also right. Silence is
// right for a request the SIP parser cannot read (a datagram that is no
// SIP is dropped), never for one it reads and the RFC wants answered.
type tortureWant struct {
	section string
	codes   []int
	silent  bool
}

var tortureWants = map[string]tortureWant{
	// 3.1.2, invalid messages: "should respond with a 400 Bad Request",
	// unless said otherwise.
	"invalid/badinv01.dat": {"3.1.2.1", []int{400}, true},
	"invalid/clerr.dat":    {"3.1.2.2", []int{400}, true},
	"invalid/ncl.dat":      {"3.1.2.3", []int{400}, true},
	"invalid/scalar02.dat": {"3.1.2.4", []int{400}, true},
	"invalid/scalarlg.dat": {"3.1.2.5", nil, true}, // a response: discarded
	"invalid/quotbal.dat":  {"3.1.2.6", []int{400}, true},
	"invalid/ltgtruri.dat": {"3.1.2.7", []int{400}, true},
	"invalid/lwsruri.dat":  {"3.1.2.8", []int{400}, true},
	"invalid/lwsstart.dat": {"3.1.2.9", []int{400}, true},
	// 3.1.2.10 to 3.1.2.15: 400, or, for an element liberal in what it
	// accepts, what the request would get were it well formed: an OPTIONS
	// 200, an INVITE rings, a REGISTER 405 (the line registers nobody).
	"invalid/trws.dat":       {"3.1.2.10", []int{400, 200}, true},
	"invalid/escruri.dat":    {"3.1.2.11", []int{400, 100, 180}, false},
	"invalid/baddate.dat":    {"3.1.2.12", []int{400, 100, 180}, false},
	"invalid/regbadct.dat":   {"3.1.2.13", []int{400, 405}, false},
	"invalid/badaspec.dat":   {"3.1.2.14", []int{400, 200}, true},
	"invalid/baddn.dat":      {"3.1.2.15", []int{400, 200}, true},
	"invalid/badvers.dat":    {"3.1.2.16", []int{505}, false},      // Version Not Supported
	"invalid/mismatch01.dat": {"3.1.2.17", []int{400}, false},      // CSeq names another method
	"invalid/mismatch02.dat": {"3.1.2.18", []int{501, 400}, false}, // 501 Not Implemented, or 400
	"invalid/bigcode.dat":    {"3.1.2.19", nil, true},              // a response: dropped

	// 3.2 and 3.3: well-formed messages a UAS answers by their meaning.
	"semantics/badbranch.dat": {"3.2.1", []int{200}, false},       // an RFC 2543 transaction
	"semantics/insuf.dat":     {"3.3.1", []int{400}, false},       // no Call-ID, From, To
	"semantics/unkscm.dat":    {"3.3.2", []int{416}, false},       // Unsupported URI Scheme
	"semantics/novelsc.dat":   {"3.3.3", []int{416}, true},        // a soap.beep URI
	"semantics/unksm2.dat":    {"3.3.4", []int{405}, false},       // a REGISTER, read as usual
	"semantics/bext01.dat":    {"3.3.5", []int{420}, false},       // Bad Extension
	"semantics/invut.dat":     {"3.3.6", []int{415}, false},       // Unsupported Media Type
	"semantics/regaut01.dat":  {"3.3.7", []int{405}, false},       // a REGISTER
	"semantics/multi01.dat":   {"3.3.8", []int{400}, false},       // two Call-IDs, two Tos
	"semantics/mcl01.dat":     {"3.3.9", []int{400}, false},       // two Content-Lengths
	"semantics/bcast.dat":     {"3.3.10", nil, true},              // a response
	"semantics/zeromf.dat":    {"3.3.11", []int{200}, false},      // Max-Forwards 0 at a UA: as usual
	"semantics/cparam01.dat":  {"3.3.12", []int{405}, false},      // a REGISTER
	"semantics/cparam02.dat":  {"3.3.13", []int{405}, false},      // a REGISTER
	"semantics/regescrt.dat":  {"3.3.14", []int{405}, false},      // a REGISTER
	"semantics/sdp01.dat":     {"3.3.15", []int{406, 400}, false}, // Accept leaves SDP out
}

// callIDPattern finds the Call-ID (or compact i) headers of a message
// that may not parse.
var callIDPattern = regexp.MustCompile(`(?im)^(?:call-id|i)[ \t]*:[ \t]*(\S+)`)

// Each RFC 4475 torture message sent to a running line as a datagram gets
// what the RFC expects of an element: for the invalid messages 400 (505,
// 501 where the RFC says so), or nothing when the message cannot be read
// at all; the line keeps answering. Each message goes to a line of its
// own, since the RFC's messages share Via branches and a line would take
// a later one for a retransmission of an earlier one.
func TestTortureOverTheWire(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob(filepath.Join(tortureDir, "*", "*.dat"))
	if err != nil || len(files) < 49 {
		t.Fatalf("torture messages: %v (%d files)", err, len(files))
	}
	var names []string
	for _, f := range files {
		names = append(names, filepath.ToSlash(strings.TrimPrefix(f, tortureDir+string(filepath.Separator))))
	}
	for name := range tortureWants {
		if !slices.Contains(names, name) {
			t.Errorf("%s is not in %s", name, tortureDir)
		}
	}
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			data, err := os.ReadFile(filepath.Join(tortureDir, filepath.FromSlash(name)))
			if err != nil {
				t.Fatal(err)
			}
			w := startWireLine(t, func(s *Service) { s.Config.Ring, s.Config.RingAfterHours = time.Minute, time.Minute })
			defer w.svc.Close()
			p := newPeer(t, w.addr())
			defer p.close()
			// The message, then an OPTIONS: once the OPTIONS is answered,
			// the line has read both (and keeps answering); what it
			// answers to the message comes by then or soon after.
			p.send(data)
			p.send(p.request("OPTIONS", "after-torture", 1, []string{"From: <sip:monitor@127.0.0.1>;tag=m1", "To: <sip:shop@127.0.0.1>"}, ""))
			probed := func(res []*sip.Response) bool {
				return slices.ContainsFunc(res, func(r *sip.Response) bool {
					return r.CallID() != nil && r.CallID().Value() == "after-torture" && r.StatusCode == 200
				})
			}
			for end := time.Now().Add(10 * time.Second); ; {
				w.tap.quiet(100*time.Millisecond, time.Second)
				if res, _ := responses(w.tap.since(0)); probed(res) {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("the line does not answer an OPTIONS after the message:\n%s", w.logs)
				}
			}
			res, others := responses(w.tap.since(0))
			for _, o := range others {
				t.Errorf("the line sent a datagram that is no response, to %s:\n%s", o.to, o.data)
			}
			ids := callIDPattern.FindAllSubmatch(data, -1)
			var codes []int
			for _, r := range res {
				id := ""
				if h := r.CallID(); h != nil {
					id = h.Value()
				}
				if id == "after-torture" {
					continue
				}
				if !slices.ContainsFunc(ids, func(m [][]byte) bool { return string(m[1]) == id }) && !(id == "" && len(ids) == 0) {
					t.Errorf("a response with Call-ID %q answers no Call-ID of the message: %s", id, r.StartLine())
				}
				if !slices.Contains(codes, r.StatusCode) {
					codes = append(codes, r.StatusCode)
				}
				switch r.StatusCode {
				case 420:
					if u := r.GetHeader("Unsupported"); u == nil || !strings.Contains(u.Value(), "nothingSupportsThisEither") {
						t.Errorf("420 without the options it does not support:\n%s", r)
					}
				case 505:
					if r.SipVersion != "SIP/2.0" {
						t.Errorf("505 in version %q", r.SipVersion)
					}
				}
			}
			want, ok := tortureWants[name]
			if !ok {
				// A valid message: the line reads it; the test only logs
				// what it answered (the line refuses an INVITE with no
				// Contact, as RFC 2543's may be; a too-long answer does
				// not fit a datagram).
				t.Logf("answered %v", codes)
			} else {
				t.Logf("answered %v; RFC 4475 section %s expects %v (or silence: %v)", codes, want.section, want.codes, want.silent)
				if len(codes) == 0 && !want.silent {
					t.Errorf("no answer; RFC 4475 section %s expects %v", want.section, want.codes)
				}
				if msg, err := sip.ParseMessage(data); len(codes) == 0 && err == nil && msg != nil && len(want.codes) > 0 {
					if _, ok := msg.(*sip.Request); ok {
						t.Errorf("no answer to a request the line can read; RFC 4475 section %s expects %v", want.section, want.codes)
					}
				}
				for _, c := range codes {
					if !slices.Contains(want.codes, c) {
						t.Errorf("answered %d; RFC 4475 section %s expects %v", c, want.section, want.codes)
					}
				}
			}
		})
	}
}
