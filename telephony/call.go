package telephony

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	stdsync "sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/counterdesk/counterdesk/telephony/media"
	"github.com/counterdesk/counterdesk/telephony/stream"
	"github.com/counterdesk/counterdesk/ticket"
)

// allowed is the Allow header of the box's responses: the methods of an
// answering machine.
const allowed = "INVITE, ACK, BYE, CANCEL, OPTIONS"

// call is one inbound call, from INVITE to the ticket it leaves.
type call struct {
	s     *Service
	id    string // Call-ID
	dlg   *sipgo.DialogServerSession
	tx    sip.ServerTransaction
	from  caller
	start time.Time
	open  bool // the shop was open when the call came in
	log   *slog.Logger

	offer     offer
	localIP   net.IP
	sessionID uint64
	version   uint64
	media     *stream.Session

	cancelled chan string // the CANCEL's Reason header, once

	mu        stdsync.Mutex
	recording bool
	rec       *recording
	silence   media.SilenceDetector
	lastAudio time.Time
	full      bool          // the recording reached its size bound
	ends      chan struct{} // '#' pressed, or the recording is full
}

// onInvite handles an INVITE: a new call, or a re-INVITE within one.
func (s *Service) onInvite(req *sip.Request, tx sip.ServerTransaction) {
	if to := req.To(); to != nil {
		if _, ok := to.Params.Get("tag"); ok {
			s.onReinvite(req, tx)
			return
		}
	}
	id := ""
	if h := req.CallID(); h != nil {
		id = h.Value()
	}
	log := s.log().With("call_id", id)
	refuse := func(code int, reason, why string) {
		s.count(func(st *Stats) { st.Refused++ })
		log.Warn("call refused", "status", code, "why", why, "source", req.Source())
		res := refusal(req, code, reason, why)
		if code == 488 || code == 415 || code == 406 {
			res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
		}
		tx.Respond(res)
	}
	if req.Contact() == nil {
		refuse(400, "Bad Request", "the INVITE has no Contact header")
		return
	}
	if !acceptsSDP(req) {
		// RFC 3261 section 21.4.7; RFC 4475 section 3.3.15.
		refuse(406, "Not Acceptable", "the answer to an INVITE is application/sdp, which the Accept header leaves out")
		return
	}
	if len(req.Body()) == 0 {
		refuse(488, "Not Acceptable Here", "an INVITE without an SDP offer is not supported")
		return
	}
	if ct := req.ContentType(); ct != nil && !strings.EqualFold(strings.TrimSpace(strings.Split(ct.Value(), ";")[0]), "application/sdp") {
		refuse(415, "Unsupported Media Type", "the offer must be application/sdp")
		return
	}
	off, err := parseOffer(req.Body())
	switch {
	case errors.Is(err, errNoCodec):
		refuse(488, "Not Acceptable Here", "the box speaks G.711 (PCMU, PCMA) only")
		return
	case err != nil:
		refuse(400, "Bad Request", err.Error())
		return
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		refuse(503, "Service Unavailable", "the line is shutting down")
		return
	}
	select {
	case s.slots <- struct{}{}:
	default:
		s.stats.Busy++
		s.mu.Unlock()
		log.Warn("call refused: all lines busy", "max_calls", s.Config.MaxCalls, "source", req.Source())
		tx.Respond(sip.NewResponseFromRequest(req, 486, "Busy Here", nil))
		return
	}
	s.callWG.Add(1)
	s.mu.Unlock()
	defer s.callWG.Done()
	defer func() { <-s.slots }()

	// The CANCEL's Reason is taken before the dialog layer ends the
	// dialog on the same CANCEL, so it is there when the call sees the end.
	cancelled := make(chan string, 1)
	tx.OnCancel(func(r *sip.Request) {
		reason := ""
		if h := r.GetHeader("Reason"); h != nil {
			reason = h.Value()
		}
		select {
		case cancelled <- reason:
		default:
		}
	})
	dlg, err := s.dialogs.ReadInvite(req, tx)
	if err != nil {
		refuse(400, "Bad Request", err.Error())
		return
	}
	defer dlg.Close()
	now := s.now()
	c := &call{
		s: s, id: id, dlg: dlg, tx: tx, from: callerOf(req), start: now, open: s.open(now),
		log: log, offer: off, sessionID: rand.Uint64() >> 1, version: 1,
		cancelled: cancelled, ends: make(chan struct{}, 1),
	}
	c.log = log.With("from", c.from.number)
	s.mu.Lock()
	s.calls[id] = c
	s.stats.Calls++
	s.mu.Unlock()
	s.report()
	defer func() {
		s.mu.Lock()
		delete(s.calls, id)
		s.mu.Unlock()
		s.report()
	}()
	c.run()
}

// acceptsSDP reports whether the Accept headers of req, if any, take an SDP
// body. An empty Accept header takes nothing (RFC 3261 section 20.1).
func acceptsSDP(req *sip.Request) bool {
	hs := req.GetHeaders("Accept")
	if len(hs) == 0 {
		return true
	}
	for _, h := range hs {
		for _, r := range strings.Split(h.Value(), ",") {
			r, _, _ = strings.Cut(r, ";")
			switch strings.ToLower(strings.TrimSpace(r)) {
			case "application/sdp", "application/*", "*/*":
				return true
			}
		}
	}
	return false
}

// run takes the call from ringing to its ticket.
func (c *call) run() {
	ctx := c.s.ctx
	c.dlg.Respond(sip.StatusTrying, "Trying", nil)
	c.dlg.Respond(sip.StatusRinging, "Ringing", nil)
	ring := c.s.Config.Ring
	if !c.open {
		ring = c.s.Config.RingAfterHours
	}
	c.log.Info("call ringing", "name", c.from.name, "ring", ring, "open", c.open)
	timer := time.NewTimer(ring)
	defer timer.Stop()
	select {
	case reason := <-c.cancelled:
		c.rangOut(reason)
		return
	case <-c.dlg.Context().Done():
		reason := ""
		select {
		case reason = <-c.cancelled:
		default:
		}
		c.rangOut(reason)
		return
	case <-ctx.Done():
		// Straight to the transaction: the line does not wait for the
		// caller's ACK while it shuts down.
		c.tx.Respond(sip.NewResponseFromRequest(c.dlg.InviteRequest, 480, "Temporarily Unavailable", nil))
		c.missed(ctx, "the line shut down while the call rang", 0)
		return
	case <-timer.C:
	}
	if err := c.answer(); err != nil {
		select {
		case reason := <-c.cancelled:
			c.rangOut(reason)
			return
		default:
		}
		c.closeMedia()
		if c.dlg.Context().Err() != nil {
			// The BYE overtook the ACK: the caller hung up as the box
			// answered.
			c.missed(ctx, "the caller hung up during the greeting", 0)
			return
		}
		c.log.Error("call not answered", "err", err)
		c.hangUp()
		c.missed(ctx, "the call could not be answered: "+err.Error(), 0)
		return
	}
	c.takeMessage(ctx)
}

// rangOut handles a caller who hung up before the box answered. A CANCEL
// with "Reason: SIP;cause=200" (RFC 3326) means the call was answered
// elsewhere in the ring group: that is no missed call.
func (c *call) rangOut(reason string) {
	ctx := c.s.ctx
	rang := c.s.now().Sub(c.start)
	if answeredElsewhere(reason) {
		c.log.Info("call answered elsewhere", "rang", rang.Round(time.Millisecond))
		// Counted once the call is on the contact, as a missed call is
		// once its ticket is stored.
		defer c.s.count(func(st *Stats) { st.Answered++ })
		if c.from.number == "" {
			return
		}
		sctx, cancel := storeContext(ctx)
		defer cancel()
		err := c.s.Desk.RecordCall(sctx, ticket.AnsweredCall{
			Channel: ticket.ChannelMissedCall, Key: sourceKey(c.id), At: c.start,
			From: ticket.From{Name: c.from.name, Phone: c.from.number}, Ring: rang, Where: "answered elsewhere",
		})
		if err != nil {
			c.s.count(func(st *Stats) { st.StoreErrors++ })
			c.log.Error("answered call not recorded", "err", err)
		}
		return
	}
	c.missed(ctx, "the caller hung up while it rang", rang)
}

// answeredElsewhere reports whether a Reason header value says the call
// was completed elsewhere: protocol SIP, cause 200.
func answeredElsewhere(reason string) bool {
	for _, r := range splitAddresses(reason) {
		parts := splitParams(r)
		if !strings.EqualFold(strings.TrimSpace(parts[0]), "SIP") {
			continue
		}
		for _, p := range parts[1:] {
			k, v, _ := strings.Cut(p, "=")
			if strings.EqualFold(strings.TrimSpace(k), "cause") && strings.TrimSpace(v) == "200" {
				return true
			}
		}
	}
	return false
}

// splitParams splits "a;b=1;c=\"x;y\"" at the semicolons outside quotes.
func splitParams(v string) []string {
	var out []string
	quoted, start := false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '\\':
			if quoted {
				i++
			}
		case '"':
			quoted = !quoted
		case ';':
			if !quoted {
				out = append(out, v[start:i])
				start = i + 1
			}
		}
	}
	return append(out, v[start:])
}

// answer opens the call's audio and sends 200 OK with the SDP answer. It
// returns once the caller's ACK arrived.
func (c *call) answer() error {
	cfg := c.s.Config
	var bind net.IP
	if host, _, _ := net.SplitHostPort(cfg.Listen); host != "" {
		bind = net.ParseIP(host)
	}
	conn, err := stream.ListenRange(bind, cfg.RTPPortMin, cfg.RTPPortMax)
	if err != nil {
		return err
	}
	c.localIP = c.s.localIP(c.peerIP())
	remote := c.offer.addr
	if remote.IP == nil || remote.IP.IsUnspecified() {
		remote = nil
	}
	c.media, err = stream.Start(c.s.ctx, stream.Config{
		Conn: conn, Remote: remote, PayloadType: c.offer.payloadType, EventType: c.offer.eventType,
		OnAudio: c.onAudio, OnDTMF: c.onDTMF, Log: c.log,
	})
	if err != nil {
		conn.Close()
		return err
	}
	c.media.Hold(c.offer.onHold())
	body, err := answer(c.localIP, conn.LocalAddr().(*net.UDPAddr).Port, c.offer, c.sessionID, c.version)
	if err != nil {
		return err
	}
	res := sip.NewSDPResponseFromRequest(c.dlg.InviteRequest, body)
	res.AppendHeader(c.s.contact(c.dlg.InviteRequest, c.localIP))
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	return c.dlg.WriteResponse(res)
}

// peerIP is the caller's media address, or where the INVITE came from.
func (c *call) peerIP() net.IP {
	if ip := c.offer.addr.IP; ip != nil && !ip.IsUnspecified() {
		return ip
	}
	host, _, _ := net.SplitHostPort(c.dlg.InviteRequest.Source())
	return net.ParseIP(host)
}

// localIP is the box's address as a peer at remote sees it.
func (s *Service) localIP(remote net.IP) net.IP {
	if ip := net.ParseIP(s.Config.PublicAddress); ip != nil {
		return ip
	}
	if s.Config.PublicAddress != "" {
		if ips, err := net.LookupIP(s.Config.PublicAddress); err == nil && len(ips) > 0 {
			return ips[0]
		}
	}
	return outboundIP(remote)
}

// contact is the Contact header of the box's 2xx responses.
func (s *Service) contact(req *sip.Request, ip net.IP) *sip.ContactHeader {
	host := s.Config.PublicAddress
	if host == "" {
		host = ip.String()
	}
	uri := sip.Uri{Scheme: "sip", User: "counterdesk", Host: host, Port: s.sipPort()}
	if t := strings.ToLower(req.Transport()); t != "" && t != "udp" {
		uri.UriParams = sip.NewParams()
		uri.UriParams.Add("transport", t)
	}
	return &sip.ContactHeader{Address: uri}
}

func (s *Service) sipPort() int {
	switch a := s.Addr().(type) {
	case *net.UDPAddr:
		return a.Port
	case *net.TCPAddr:
		return a.Port
	}
	return 5060
}

// takeMessage plays the greeting and the beep and records the caller until
// they hang up, press '#', fall silent, or reach the length limit.
func (c *call) takeMessage(ctx context.Context) {
	// talk ends when the caller hangs up or the line shuts down.
	talk, stop := context.WithCancel(c.dlg.Context())
	defer stop()
	defer context.AfterFunc(ctx, stop)()

	greeting := c.s.Greetings.Open
	if !c.open {
		greeting = c.s.Greetings.Closed
	}
	answered := c.s.now()
	c.log.Info("call answered", "rang", answered.Sub(c.start).Round(time.Millisecond))
	// The recording's files are made before the greeting plays, so that
	// recording starts the moment the beep ends: making them takes two
	// fsyncs, which on a busy SD card would cut off the caller's first
	// words.
	rec, err := c.s.newRecording(c, answered)
	if err != nil {
		c.log.Error("voicemail not recorded", "err", err)
		c.hangUp()
		c.closeMedia()
		c.missed(ctx, "the voicemail could not be recorded: "+err.Error(), answered.Sub(c.start))
		return
	}
	if c.media.Play(talk, greeting) != nil || c.media.Play(talk, c.s.beep) != nil {
		rec.discard()
		c.hangUpUnlessGone()
		c.closeMedia()
		if ctx.Err() != nil {
			c.missed(ctx, "the line shut down during the greeting", answered.Sub(c.start))
			return
		}
		c.missed(ctx, "the caller hung up during the greeting", answered.Sub(c.start))
		return
	}
	c.mu.Lock()
	c.rec, c.recording, c.lastAudio = rec, true, c.s.now()
	c.silence = media.SilenceDetector{}
	c.mu.Unlock()

	cfg := c.s.Config
	limit := time.NewTimer(cfg.MaxMessage)
	defer limit.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var ended string
	for ended == "" {
		select {
		case <-c.dlg.Context().Done():
			ended = "the caller hung up"
		case <-ctx.Done():
			ended = "the line shut down"
		case <-limit.C:
			ended = fmt.Sprintf("the message reached the %s limit", cfg.MaxMessage)
		case <-c.ends:
			c.mu.Lock()
			full := c.full
			c.mu.Unlock()
			ended = "the caller pressed #"
			if full {
				ended = "the message reached the size limit"
			}
		case <-tick.C:
			if quiet := c.quietFor(); quiet >= cfg.Silence {
				ended = fmt.Sprintf("%s of silence", cfg.Silence)
			}
		}
	}
	c.hangUpUnlessGone()
	// Closing the media hands over what the jitter buffer still holds, so
	// the recording stops after it.
	c.closeMedia()
	c.mu.Lock()
	c.recording = false
	c.mu.Unlock()
	st := c.media.Stats()
	c.s.count(func(s *Stats) {
		s.RTPReceived += st.Received
		s.RTPLost += st.Lost
		s.RTPForeign += st.Foreign
	})
	c.log.Info("voicemail ended", "why", ended, "rtp_received", st.Received, "rtp_lost", st.Lost, "rtp_foreign", st.Foreign)
	rec.meta.Ended = ended
	rec.meta.RTPReceived, rec.meta.RTPLost = st.Received, st.Lost
	c.s.finish(ctx, rec)
}

// quietFor is how long the caller has been silent, or sent nothing.
func (c *call) quietFor() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return max(c.silence.SilentFor(), c.s.now().Sub(c.lastAudio))
}

// onAudio receives the caller's audio in order, 20 ms at a time.
func (c *call) onAudio(pcm []int16) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.recording {
		return
	}
	c.silence.Feed(pcm)
	c.lastAudio = c.s.now()
	if c.full {
		return
	}
	if _, err := c.rec.wav.WriteSamples(pcm); err != nil {
		c.full = true
		if !errors.Is(err, media.ErrTooLong) {
			c.log.Error("voicemail write failed", "err", err)
		}
		c.signalEnd()
	}
}

// onDTMF receives the caller's key presses; '#' ends the message.
func (c *call) onDTMF(digit byte) {
	c.mu.Lock()
	recording := c.recording
	c.mu.Unlock()
	if digit == '#' && recording {
		c.signalEnd()
	}
}

func (c *call) signalEnd() {
	select {
	case c.ends <- struct{}{}:
	default:
	}
}

// hangUpUnlessGone sends BYE unless the caller already hung up.
func (c *call) hangUpUnlessGone() {
	if c.dlg.Context().Err() == nil {
		c.hangUp()
	}
}

// hangUp ends an answered call with BYE.
func (c *call) hangUp() {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.s.ctx), 5*time.Second)
	defer cancel()
	if err := c.dlg.Bye(ctx); err != nil && c.dlg.Context().Err() == nil {
		c.log.Warn("BYE not confirmed", "err", err)
	}
}

func (c *call) closeMedia() {
	if c.media != nil {
		c.media.Close()
	}
}

// missed stores a missed-call ticket (or joins the caller's open ticket).
func (c *call) missed(ctx context.Context, why string, rang time.Duration) {
	if rang == 0 {
		rang = c.s.now().Sub(c.start)
	}
	c.s.storeMissed(ctx, missedCall{
		key: sourceKey(c.id), at: c.start, from: c.from, rang: rang, why: why, open: c.open,
	}, c.log)
}

// missedCall is what a missed-call ticket records.
type missedCall struct {
	key  string
	at   time.Time
	from caller
	rang time.Duration
	why  string
	open bool
}

func (s *Service) storeMissed(ctx context.Context, m missedCall, log *slog.Logger) bool {
	in := ticket.Inbound{
		Channel:   ticket.ChannelMissedCall,
		SourceKey: m.key,
		At:        m.at,
		From:      ticket.From{Name: m.from.name, Phone: m.from.number},
		Body:      fmt.Sprintf("Missed call from %s: rang %s; %s.", m.from.label(), roundSeconds(m.rang), m.why),
		Meta:      ticket.Meta{"ring_seconds": fmt.Sprintf("%.0f", m.rang.Seconds()), "ended": m.why},
	}
	if !m.open {
		in.Meta["after_hours"] = "true"
	}
	sctx, cancel := storeContext(ctx)
	defer cancel()
	res, err := s.Desk.Ingest(sctx, in)
	if err != nil {
		s.count(func(st *Stats) { st.StoreErrors++ })
		log.Error("missed call not stored", "err", err)
		return false
	}
	s.count(func(st *Stats) { st.Missed++ })
	log.Info("missed call stored", "ticket", res.Ticket, "new_ticket", res.Created, "why", m.why)
	return true
}

// label names the caller in a ticket's text.
func (c caller) label() string {
	switch {
	case c.number != "" && c.name != "":
		return c.name + " (" + c.number + ")"
	case c.number != "":
		return c.number
	case c.name != "":
		return c.name
	}
	return "anonymous"
}

func roundSeconds(d time.Duration) string {
	return d.Round(time.Second).String()
}

// storeContext gives a ticket write its own time even while the line shuts
// down: a call that ended is stored.
func storeContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
}

// sourceKey is the ticket source key of a call: its Call-ID, hashed when it
// is long.
func sourceKey(callID string) string {
	if len(callID) > 200 {
		callID = keyHash(callID)
	}
	return "sip|" + callID
}

func sha256sum(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// onReinvite handles an INVITE within a call: hold, resume, or the
// caller's media moving.
func (s *Service) onReinvite(req *sip.Request, tx sip.ServerTransaction) {
	dlg, err := s.dialogs.MatchDialogRequest(req)
	var c *call
	if err == nil {
		s.mu.Lock()
		c = s.calls[req.CallID().Value()]
		s.mu.Unlock()
	}
	if c == nil || c.media == nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
		return
	}
	if err := dlg.ReadRequest(req, tx); err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return
	}
	off := c.offer
	if len(req.Body()) > 0 {
		off, err = parseOffer(req.Body())
		if err != nil {
			res := sip.NewResponseFromRequest(req, 488, "Not Acceptable Here", nil)
			res.AppendHeader(sip.NewHeader("Warning", fmt.Sprintf("399 counterdesk %q", err.Error())))
			tx.Respond(res)
			return
		}
	}
	// The codec stays the one the call started with.
	off.payloadType = c.offer.payloadType
	if ip := off.addr.IP; ip != nil && !ip.IsUnspecified() {
		c.media.SetRemote(off.addr)
	}
	c.media.Hold(off.onHold())
	c.mu.Lock()
	c.version++
	version := c.version
	c.mu.Unlock()
	c.log.Info("call re-INVITE", "direction", off.direction, "hold", off.onHold())
	body, err := answer(c.localIP, c.media.LocalAddr().Port, off, c.sessionID, version)
	if err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 500, "Server Internal Error", nil))
		return
	}
	res := sip.NewSDPResponseFromRequest(req, body)
	res.AppendHeader(s.contact(req, c.localIP))
	tx.Respond(res)
}

func (s *Service) onAck(req *sip.Request, tx sip.ServerTransaction) {
	// An ACK for a re-INVITE's 2xx does not match the dialog's CSeq; it
	// needs nothing.
	s.dialogs.ReadAck(req, tx)
}

func (s *Service) onBye(req *sip.Request, tx sip.ServerTransaction) {
	if err := s.dialogs.ReadBye(req, tx); err != nil {
		tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
	}
}

// onStrayCancel answers a CANCEL that matches no ringing call.
func (s *Service) onStrayCancel(req *sip.Request, tx sip.ServerTransaction) {
	tx.Respond(sip.NewResponseFromRequest(req, 481, "Call/Transaction Does Not Exist", nil))
}

func (s *Service) onOptions(req *sip.Request, tx sip.ServerTransaction) {
	res := sip.NewResponseFromRequest(req, 200, "OK", nil)
	res.AppendHeader(sip.NewHeader("Allow", allowed))
	res.AppendHeader(sip.NewHeader("Accept", "application/sdp"))
	tx.Respond(res)
}

// removeFiles deletes a recording's files once its ticket is stored.
func removeFiles(paths ...string) {
	for _, p := range paths {
		os.Remove(p)
	}
}
