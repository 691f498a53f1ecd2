package telephony

import (
	"context"
	"errors"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
	"github.com/pion/rtp"

	"github.com/counterdesk/counterdesk/telephony/media"
)

// phone is an in-process caller: a sipgo user agent on loopback with its
// own RTP socket.
type phone struct {
	t       *testing.T
	ua      *sipgo.UserAgent
	client  *sipgo.Client
	dialogs *sipgo.DialogClientCache
	port    int
	number  string
	rtp     *net.UDPConn
	byes    chan struct{} // the box hung up
}

func newPhone(t *testing.T, number string) *phone {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent("test-phone"))
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := conn.LocalAddr().(*net.UDPAddr).Port
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"), sipgo.WithClientPort(port))
	if err != nil {
		t.Fatal(err)
	}
	p := &phone{t: t, ua: ua, client: client, port: port, number: number, byes: make(chan struct{}, 4)}
	p.dialogs = sipgo.NewDialogClientCache(client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: number, Host: "127.0.0.1", Port: port},
	})
	srv.OnBye(func(req *sip.Request, tx sip.ServerTransaction) {
		if err := p.dialogs.ReadBye(req, tx); err != nil {
			tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
			return
		}
		p.byes <- struct{}{}
	})
	go srv.ServeUDP(conn)
	p.rtp, err = net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		p.rtp.Close()
		ua.Close()
		srv.Close()
		conn.Close()
	})
	return p
}

// offer is an SDP offer for the phone's RTP socket.
func (p *phone) offer(formats string, extra ...string) []byte {
	sdp := fmt.Sprintf("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP %s\r\n",
		p.rtp.LocalAddr().(*net.UDPAddr).Port, formats)
	for _, e := range extra {
		sdp += e + "\r\n"
	}
	return []byte(sdp)
}

// call sends an INVITE to the line.
func (p *phone) call(ctx context.Context, l *line, body []byte, headers ...sip.Header) (*sipgo.DialogClientSession, error) {
	to := sip.Uri{Scheme: "sip", User: "shop", Host: "127.0.0.1", Port: l.port()}
	from := &sip.FromHeader{Address: sip.Uri{Scheme: "sip", User: p.number, Host: "127.0.0.1", Port: p.port}, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(16))
	return p.dialogs.Invite(ctx, to, body, append(headers, from, sip.NewHeader("Content-Type", "application/sdp"))...)
}

// answered calls the line and waits for it to answer; it returns the
// dialog and where the box receives audio.
func (p *phone) answered(l *line, body []byte, headers ...sip.Header) (*sipgo.DialogClientSession, *net.UDPAddr) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	d, err := p.call(ctx, l, body, headers...)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := d.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		p.t.Fatal(err)
	}
	if err := d.Ack(ctx); err != nil {
		p.t.Fatal(err)
	}
	o, err := parseOffer(d.InviteResponse.Body())
	if err != nil {
		p.t.Fatalf("the box's answer: %v\n%s", err, d.InviteResponse.Body())
	}
	return d, o.addr
}

// talk sends pcm (PCMU) to the box in 20 ms packets, paced in real time.
// It stops at the first failed send (the call is over).
func (p *phone) talk(to *net.UDPAddr, pcm []int16, ssrc uint32, seq uint16, ts uint32) {
	next := time.Now()
	for i := 0; i+160 <= len(pcm); i += 160 {
		pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: media.PayloadTypePCMU, SequenceNumber: seq, Timestamp: ts, SSRC: ssrc},
			Payload: media.AppendULaw(nil, pcm[i:i+160])}
		b, _ := pkt.Marshal()
		if _, err := p.rtp.WriteToUDP(b, to); err != nil {
			return
		}
		seq++
		ts += 160
		next = next.Add(20 * time.Millisecond)
		time.Sleep(time.Until(next))
	}
}

// hangUp sends BYE.
func hangUp(t *testing.T, d *sipgo.DialogClientSession) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := d.Bye(ctx); err != nil {
		t.Fatal(err)
	}
}

// statusOf returns the final status of a call attempt that failed.
func statusOf(err error) int {
	var e *sipgo.ErrDialogResponse
	if errors.As(err, &e) {
		return e.Res.StatusCode
	}
	return 0
}
