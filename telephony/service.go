package telephony

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strconv"
	stdsync "sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
)

// Desk is what the phone line needs of the ticket store.
type Desk interface {
	Ingest(ctx context.Context, in ticket.Inbound) (ticket.Result, error)
	RecordCall(ctx context.Context, call ticket.AnsweredCall) error
}

// Config is the phone line's configuration, from the [sip] table.
type Config struct {
	// Mode is "listen" or "register".
	Mode string
	// Listen is the host:port for SIP; UDP and TCP choose the transports.
	Listen   string
	UDP, TCP bool
	// PublicAddress, when set, goes in Contact headers and SDP instead of
	// the address the box finds for each peer.
	PublicAddress string
	// RTPPortMin and RTPPortMax bound the audio ports.
	RTPPortMin, RTPPortMax int
	// Ring and RingAfterHours are how long a call rings before the box
	// answers, while the shop is open and while it is closed.
	Ring, RingAfterHours time.Duration
	// MaxMessage ends a recording; a recording shorter than MinMessage
	// (not counting the silence at its end) is a missed call; Silence of
	// silence ends a recording.
	MaxMessage, MinMessage, Silence time.Duration
	// MaxRecordingBytes bounds a recording file (the store's attachment
	// limit); 0 means no bound beyond MaxMessage.
	MaxRecordingBytes int64
	// MinFreeBytes is the disk space a recording must leave free (the
	// store's reserve); with less, the call is answered but not recorded
	// and becomes a missed call. 0 means no check.
	MinFreeBytes uint64
	// MaxCalls bounds the calls handled at once.
	MaxCalls int
	// Registration, for Mode "register".
	Registrar, Username, AuthUsername, Password, Domain string
	RegisterExpires                                     time.Duration
	// TranscribeCommand turns a recording into text; "" for none.
	TranscribeCommand string
	TranscribeTimeout time.Duration
	// SpoolDir holds recordings until they are stored as tickets. A
	// recording left there by a power cut becomes a ticket at the next
	// start.
	SpoolDir string
}

// Service is the shop's phone line: a SIP user agent that lets calls ring,
// answers the ones nobody picks up, plays the greeting and records a
// voicemail, and turns each call into a ticket.
type Service struct {
	Config    Config
	Desk      Desk
	Greetings Greetings
	// Open reports whether the shop is open at a time; nil means always.
	Open func(time.Time) bool
	// Health, when set, receives the line's state as "sip".
	Health *health.Registry
	// Warning, when set, is a problem shown with the line's health (a
	// greeting file that did not load).
	Warning string
	Log     *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time

	// wrapUDP, when set, wraps the SIP socket over UDP once it is bound:
	// tests watch every datagram the line sends through it.
	wrapUDP func(net.PacketConn) net.PacketConn
	// backoff, when set, replaces defaultBackoff: tests retry a
	// registration in milliseconds.
	backoff backoff

	ua      *sipgo.UserAgent
	srv     *sipgo.Server
	client  *sipgo.Client
	dialogs *sipgo.DialogServerCache
	udp     net.PacketConn
	tcp     net.Listener
	slots   chan struct{}
	beep    []int16

	stop    context.CancelFunc
	ctx     context.Context
	wg      stdsync.WaitGroup // registration and spool recovery
	serveWG stdsync.WaitGroup // the transports
	callWG  stdsync.WaitGroup
	unwatch func() bool
	mu      stdsync.Mutex
	calls   map[string]*call // by Call-ID
	closed  bool
	stats   Stats
	reg     registration
}

// Stats counts what the line did since it started.
type Stats struct {
	Calls       int // INVITEs that started a call
	Missed      int // missed-call tickets
	Voicemails  int // voicemail tickets
	Answered    int // calls answered elsewhere
	Busy        int // refused with 486, over max_calls
	Refused     int // refused for another reason (488, 400, 503)
	Active      int // calls in progress now
	StoreErrors int // tickets that could not be stored
	// RTP packets of the calls that ended: received from the caller,
	// lost on the way (filled with silence), and sent by strangers
	// (ignored).
	RTPReceived, RTPLost, RTPForeign uint64
}

// ErrClosed is returned by Start on a service that was closed.
var ErrClosed = errors.New("telephony: the line is closed")

// Start binds the SIP transports and begins taking calls. It returns once
// the sockets are bound, so that Addr is known; Close stops the line.
func (s *Service) Start(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrClosed
	}
	s.mu.Unlock()
	c := s.Config
	if c.MaxCalls < 1 {
		return fmt.Errorf("telephony: max calls is %d", c.MaxCalls)
	}
	if c.SpoolDir == "" {
		return errors.New("telephony: no spool folder for recordings")
	}
	if err := os.MkdirAll(c.SpoolDir, 0o750); err != nil {
		return fmt.Errorf("telephony: %w", err)
	}
	if s.Greetings.Open == nil || s.Greetings.Closed == nil {
		g, err := LoadGreetings("", "")
		if err != nil {
			return err
		}
		if s.Greetings.Open == nil {
			s.Greetings.Open = g.Open
		}
		if s.Greetings.Closed == nil {
			s.Greetings.Closed = g.Closed
		}
	}
	s.beep = beep()
	s.slots = make(chan struct{}, c.MaxCalls)
	s.calls = make(map[string]*call)

	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("telephony: listen address %q: %w", c.Listen, err)
	}
	port, err := s.bind(host, c)
	if err != nil {
		return err
	}
	if s.udp != nil && s.wrapUDP != nil {
		s.udp = s.wrapUDP(s.udp)
	}

	log := s.log()
	contactHost := c.PublicAddress
	if contactHost == "" {
		contactHost = host
	}
	if contactHost == "" || net.ParseIP(contactHost).IsUnspecified() {
		contactHost = outboundIP(nil).String()
	}
	stack := s.stackLogger()
	s.ua, err = sipgo.NewUA(sipgo.WithUserAgent("counterdesk"), sipgo.WithUserAgentHostname(contactHost),
		sipgo.WithUserAgentTransportLayerOptions(sip.WithTransportLayerLogger(stack), sip.WithTransportLayerReadFilter(dropNoise)),
		sipgo.WithUserAgentTransactionLayerOptions(sip.WithTransactionLayerLogger(stack),
			sip.WithTransactionLayerUnhandledResponseHandler(func(r *sip.Response) {
				// A stray response (a retransmission, or anyone's
				// datagram): nothing to do.
				stack.Debug("response matching no request", "status", r.StatusCode, "source", r.Source())
			})))
	if err != nil {
		s.closeSockets()
		return fmt.Errorf("telephony: %w", err)
	}
	s.srv, err = sipgo.NewServer(s.ua, sipgo.WithServerLogger(stack))
	if err != nil {
		s.closeSockets()
		return fmt.Errorf("telephony: %w", err)
	}
	s.client, err = sipgo.NewClient(s.ua, sipgo.WithClientLogger(stack), sipgo.WithClientHostname(contactHost), sipgo.WithClientPort(port))
	if err != nil {
		s.closeSockets()
		return fmt.Errorf("telephony: %w", err)
	}
	s.dialogs = sipgo.NewDialogServerCache(s.client, sip.ContactHeader{
		Address: sip.Uri{Scheme: "sip", User: "counterdesk", Host: contactHost, Port: port},
	})
	s.srv.OnInvite(s.checked(s.onInvite))
	s.srv.OnAck(s.checked(s.onAck))
	s.srv.OnBye(s.checked(s.onBye))
	s.srv.OnCancel(s.checked(s.onStrayCancel))
	s.srv.OnOptions(s.checked(s.onOptions))
	s.srv.OnNoRoute(s.checked(s.onOther))

	s.ctx, s.stop = context.WithCancel(context.WithoutCancel(ctx))
	if s.udp != nil {
		s.goServe(func() error { return s.srv.ServeUDP(s.udp) })
	}
	if s.tcp != nil {
		s.goServe(func() error { return s.srv.ServeTCP(s.tcp) })
	}
	left := s.spooled()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.recoverSpool(s.ctx, left)
	}()
	if c.Mode == "register" {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			s.registerLoop(s.ctx, port)
		}()
	}
	if s.Health != nil {
		s.Health.AddSource("sip", s.metrics)
	}
	s.report()
	log.Info("phone line ready", "mode", c.Mode, "listen", s.listenText(), "contact", contactHost,
		"rtp_ports", fmt.Sprintf("%d-%d", c.RTPPortMin, c.RTPPortMax), "max_calls", c.MaxCalls)
	s.mu.Lock()
	s.unwatch = context.AfterFunc(ctx, func() { s.Close() })
	s.mu.Unlock()
	return nil
}

// bind opens the SIP sockets and returns their port. With port 0 in the
// listen address, TCP takes the port UDP got; when another socket holds
// that TCP port, both are tried again on a new one.
func (s *Service) bind(host string, c Config) (int, error) {
	_, p, _ := net.SplitHostPort(c.Listen)
	tries := 1
	if p == "0" && c.UDP && c.TCP {
		tries = 20
	}
	var err error
	for range tries {
		port := 0
		if c.UDP {
			s.udp, err = net.ListenPacket("udp", c.Listen)
			if err != nil {
				return 0, fmt.Errorf("telephony: SIP over UDP: %w", err)
			}
			port = s.udp.LocalAddr().(*net.UDPAddr).Port
		}
		if !c.TCP {
			return port, nil
		}
		addr := c.Listen
		if port != 0 {
			addr = net.JoinHostPort(host, strconv.Itoa(port))
		}
		s.tcp, err = net.Listen("tcp", addr)
		if err == nil {
			return s.tcp.Addr().(*net.TCPAddr).Port, nil
		}
		s.closeSockets()
		s.udp, s.tcp = nil, nil
	}
	return 0, fmt.Errorf("telephony: SIP over TCP: %w", err)
}

func (s *Service) goServe(serve func() error) {
	s.serveWG.Add(1)
	go func() {
		defer s.serveWG.Done()
		if err := serve(); err != nil && s.ctx.Err() == nil && !errors.Is(err, net.ErrClosed) {
			s.log().Error("SIP transport stopped", "err", err)
			if s.Health != nil {
				s.Health.Fail("sip", health.Down, err)
			}
		}
	}()
}

// Addr returns the UDP address the line listens on, or the TCP one when
// UDP is off.
func (s *Service) Addr() net.Addr {
	if s.udp != nil {
		return s.udp.LocalAddr()
	}
	if s.tcp != nil {
		return s.tcp.Addr()
	}
	return nil
}

func (s *Service) listenText() string {
	var t string
	if s.udp != nil {
		t = "udp " + s.udp.LocalAddr().String()
	}
	if s.tcp != nil {
		if t != "" {
			t += ", "
		}
		t += "tcp " + s.tcp.Addr().String()
	}
	return t
}

// Close hangs up the calls in progress (their recordings become tickets),
// unregisters, and stops the transports. It waits for every goroutine.
func (s *Service) Close() error {
	s.mu.Lock()
	if s.closed || s.stop == nil {
		s.closed = true
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	unwatch := s.unwatch
	s.mu.Unlock()
	if unwatch != nil {
		unwatch()
	}
	s.stop()
	s.callWG.Wait()
	// The transports go last, so that the BYEs of the calls hung up above
	// and the unregistration leave first.
	s.wg.Wait()
	err := s.ua.Close()
	s.srv.Close()
	s.closeSockets()
	s.serveWG.Wait()
	if s.Health != nil {
		s.Health.Set("sip", health.Disabled, "the phone line is stopped")
	}
	return err
}

func (s *Service) closeSockets() {
	if s.udp != nil {
		s.udp.Close()
	}
	if s.tcp != nil {
		s.tcp.Close()
	}
}

// Stats returns the line's counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Active = len(s.calls)
	return st
}

func (s *Service) count(f func(*Stats)) {
	s.mu.Lock()
	f(&s.stats)
	s.mu.Unlock()
	s.report()
}

// report puts the line's state in the health registry.
func (s *Service) report() {
	if s.Health == nil {
		return
	}
	st := s.Stats()
	detail := fmt.Sprintf("listening on %s; %d of %d calls in progress", s.listenText(), st.Active, s.Config.MaxCalls)
	state := health.OK
	if s.Config.Mode == "register" {
		r := s.regState()
		detail = r.text() + "; " + detail
		if !r.registered {
			state = health.Down
		}
	}
	if s.Warning != "" && state == health.OK {
		state = health.Degraded
		detail += "; " + s.Warning
	}
	if st.StoreErrors > 0 {
		state = health.Degraded
		detail += fmt.Sprintf("; %d calls could not be stored (see the log)", st.StoreErrors)
	}
	s.Health.Set("sip", state, detail)
}

func (s *Service) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.Default()
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Service) open(t time.Time) bool {
	return s.Open == nil || s.Open(t)
}

// outboundIP returns the local address the kernel would use to reach
// remote (or the default route when remote is nil): the address a peer can
// reach the box on, for Contact headers and SDP.
func outboundIP(remote net.IP) net.IP {
	target := "192.0.2.1:9" // TEST-NET-1: only a route lookup, nothing is sent
	if remote != nil && !remote.IsUnspecified() {
		target = net.JoinHostPort(remote.String(), "9")
	}
	conn, err := net.Dial("udp", target)
	if err != nil {
		return net.IPv4(127, 0, 0, 1)
	}
	defer conn.Close()
	return conn.LocalAddr().(*net.UDPAddr).IP
}

// resolveIP returns host's address, looking it up when it is a name.
func resolveIP(host string) (net.IP, error) {
	if ip := net.ParseIP(host); ip != nil {
		return ip, nil
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return nil, err
	}
	return ips[0], nil
}

// metrics gives the line's counters to the metrics page.
func (s *Service) metrics() []health.Metric {
	st := s.Stats()
	calls := func(outcome string, n int) health.Metric {
		return health.Metric{Name: "counterdesk_sip_calls_total", Type: "counter",
			Help:   "Calls that reached the phone line since it started, by outcome.",
			Labels: map[string]string{"outcome": outcome}, Value: float64(n)}
	}
	rtp := func(kind string, n uint64) health.Metric {
		return health.Metric{Name: "counterdesk_sip_rtp_packets_total", Type: "counter",
			Help:   "RTP packets of finished calls: received from callers, lost on the way, and from strangers (ignored).",
			Labels: map[string]string{"kind": kind}, Value: float64(n)}
	}
	out := []health.Metric{
		calls("voicemail", st.Voicemails), calls("missed", st.Missed), calls("answered_elsewhere", st.Answered),
		calls("busy", st.Busy), calls("refused", st.Refused),
		{Name: "counterdesk_sip_calls_active", Type: "gauge", Help: "Calls in progress.", Value: float64(st.Active)},
		{Name: "counterdesk_sip_calls_max", Type: "gauge", Help: "The most calls handled at once (max_calls).", Value: float64(s.Config.MaxCalls)},
		{Name: "counterdesk_sip_store_errors_total", Type: "counter", Help: "Calls whose ticket could not be stored.", Value: float64(st.StoreErrors)},
		rtp("received", st.RTPReceived), rtp("lost", st.RTPLost), rtp("foreign", st.RTPForeign),
	}
	if s.Config.Mode == "register" {
		r := s.regState()
		v := 0.0
		if r.registered {
			v = 1
		}
		out = append(out,
			health.Metric{Name: "counterdesk_sip_registered", Type: "gauge", Help: "1 while the line is registered with its registrar.", Value: v},
			health.Metric{Name: "counterdesk_sip_register_failures", Type: "gauge", Help: "Failed registration attempts since the last success.", Value: float64(r.failures)})
	}
	return out
}
