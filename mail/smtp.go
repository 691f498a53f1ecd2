package mail

// The outbound side of the email channel sends the desk's replies (outbox
// rows of kind "deliver.email") through the shop's mail server.
//
// Libraries, and why:
//   - github.com/emersion/go-message writes the MIME message: RFC 2047
//     header words, quoted-printable and base64 bodies, multipart
//     boundaries and header folding are easy to get subtly wrong by hand,
//     and the inbound side parses mail with the same library, so what the
//     box writes is what it can read back.
//   - github.com/emersion/go-smtp is the SMTP client: unlike net/smtp
//     (frozen, no enhanced status codes) it returns the server's reply as
//     an *smtp.SMTPError with its code, which decides between retrying and
//     parking, and it reads the SIZE and SMTPUTF8 extensions. Its server
//     package is the real peer of the tests.
//   - github.com/emersion/go-sasl provides the PLAIN and LOGIN logins;
//     XOAUTH2, which it lacks, is the few lines in smtp_auth.go.
//
// Threading convention, shared with the inbound side: the box's mails
// carry Message-ID "<counterdesk.TICKETUUID.MESSAGEID@HOST>" (HOST is
// SMTPOptions.Domain, "counterdesk.invalid" by default; see SMTPMessageID),
// a subject ending in the ticket reference such as " [#1042]",
// In-Reply-To the customer's latest Message-ID on the ticket (stored in
// the inbound message's Meta "message_id" and its SourceKey), and
// References the chain. Inbound mails thread onto a ticket by, in order: a
// "counterdesk.UUID." Message-ID in In-Reply-To/References
// (Desk.FindUUID), any other Message-ID there that the box ingested
// (Desk.FindSource(ticket.ChannelEmail, id)), then "[#NNNN]" in the
// subject (Inbound.TicketNumber); else the Desk's usual contact threading.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"time"
	"unicode/utf8"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/emersion/go-smtp"
)

// SMTPHealthName is the name the outbound mail reports its health under.
const SMTPHealthName = "smtp"

// SMTPKind is the outbox kind the SMTP sender delivers.
var SMTPKind = ticket.DeliverKind(ticket.RouteEmail)

// TLS modes of SMTPOptions.TLS.
const (
	// SMTPStartTLS connects in plain text and upgrades with STARTTLS
	// (RFC 3207), usually on port 587; a server that does not offer it
	// gets nothing, not even the login.
	SMTPStartTLS = "starttls"
	// SMTPImplicitTLS speaks TLS from the first byte (RFC 8314 section
	// 3.3), usually on port 465.
	SMTPImplicitTLS = "tls"
	// SMTPNoTLS sends everything in plain text, the login included. It is
	// for tests against a local server only.
	SMTPNoTLS = "none"
)

// Login mechanisms of SMTPOptions.Auth.
const (
	SMTPAuthPlain   = "plain"   // RFC 4616
	SMTPAuthLogin   = "login"   // the common, unstandardised LOGIN
	SMTPAuthXOAuth2 = "xoauth2" // an OAuth2 access token (Gmail, Microsoft 365)
	SMTPAuthNone    = "none"
)

// Defaults of SMTPOptions.
const (
	DefaultSMTPDomain  = "counterdesk.invalid"
	DefaultSMTPTimeout = time.Minute
	// DefaultSMTPMaxAttachmentBytes keeps a mail, base64 and all, under
	// the 25 MB most mail servers take.
	DefaultSMTPMaxAttachmentBytes = 18 << 20
)

// SMTPDesk is what the sender reads of the desk; ticket.Desk provides it.
type SMTPDesk interface {
	Thread(n uint64) (ticket.Thread, error)
	Attachment(id string) (ticket.Attachment, string, error)
}

var (
	_ SMTPDesk       = (*ticket.Desk)(nil)
	_ ticket.Handler = (*SMTPSender)(nil).Deliver
)

// SMTPOptions configure an SMTPSender. Zero values take the defaults.
type SMTPOptions struct {
	// Server is the mail server as host:port, such as
	// "smtp.example.com:587".
	Server string
	// TLS is SMTPStartTLS (the default), SMTPImplicitTLS or SMTPNoTLS.
	TLS string
	// TLSConfig replaces the default TLS settings (the system's roots,
	// the server name from Server, TLS 1.2 or later); tests pass one that
	// trusts their own certificate.
	TLSConfig *tls.Config
	// Auth is SMTPAuthPlain, SMTPAuthLogin, SMTPAuthXOAuth2 or
	// SMTPAuthNone. Empty picks xoauth2 when a token is set, plain when a
	// password is, and none otherwise.
	Auth string
	// Username is the login; empty logs in as From.
	Username string
	Password string
	// Token is the OAuth2 access token for xoauth2.
	Token string
	// TokenFunc, when set, returns the access token for each login (one
	// that is refreshed as it expires); Token is then not used.
	TokenFunc func(ctx context.Context) (string, error)
	// From is the shop's address, FromName the shop's name: mails come
	// from "FromName <From>".
	From     string
	FromName string
	// Domain is the right-hand side of the Message-IDs the box writes;
	// DefaultSMTPDomain when empty.
	Domain string
	// HelloName is the name the box gives itself in EHLO; empty uses the
	// domain of From, or Domain when that is no plain host name. (With
	// STARTTLS, the EHLO before the handshake says "localhost": go-smtp's
	// client sends it itself.)
	HelloName string
	// Timeout bounds one delivery, from connecting to the server's answer
	// to the message.
	Timeout time.Duration
	// MaxAttachmentBytes bounds the attachments of one mail together; a
	// reply carrying more is parked with a message saying so.
	MaxAttachmentBytes int64
	// Location is the time zone of the Date header; nil is the system's.
	Location *time.Location

	Desk   SMTPDesk
	Logger *slog.Logger
	// Health receives the state of the mail server under SMTPHealthName;
	// nil reports nowhere.
	Health *health.Registry
	// Release, when set, gives a claimed row back without using one of
	// its attempts; the appliance passes Desk.Release. A delivery the
	// server could not even be asked about (it is unreachable, refuses
	// the login, offers no TLS, answers 421) then releases its row, due
	// again after as long as the server has been down (30 seconds to 15
	// minutes), so that no row is parked while the shop fixes the
	// password; the outbox's Fail that follows finds the lease given back
	// and leaves the row alone. Without it, such failures use the row's
	// attempts like any other.
	Release func(id, lease uint64, at time.Time) error
	// Delivered, when set, records a delivery's outcome on its message:
	// ticket.DeliverySent after the server took the mail, and
	// ticket.DeliveryFailed with the reason when it never can. The
	// appliance passes Desk.SetDelivery with its actor.
	Delivered func(ctx context.Context, ticketNumber, messageID uint64, state, detail string) error
}

// String describes the options without their secrets, so that printing
// them never shows a password or a token.
func (o SMTPOptions) String() string {
	return fmt.Sprintf("smtp %s tls=%s auth=%s user=%q from=%q password=%s token=%s",
		o.Server, o.TLS, o.Auth, o.Username, o.From, smtpSecretState(o.Password), smtpSecretState(o.Token))
}

// GoString is String, for %#v.
func (o SMTPOptions) GoString() string { return o.String() }

// LogValue logs the options without their secrets.
func (o SMTPOptions) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("server", o.Server), slog.String("tls", o.TLS), slog.String("auth", o.Auth),
		slog.String("user", o.Username), slog.String("from", o.From),
		slog.String("password", smtpSecretState(o.Password)), slog.String("token", smtpSecretState(o.Token)))
}

func smtpSecretState(s string) string {
	if s == "" {
		return "unset"
	}
	return "set"
}

// SMTPSender delivers the desk's email replies through the shop's mail
// server. Its Deliver method is the ticket.Handler of
// Desk.Consume(ctx, SMTPKind, sender.Deliver): it answers nil when the
// server took the mail, a ticket.PermanentError when it never will (a
// refused recipient, a mail too large), and a plain error to be retried
// otherwise. Retries and backoff live in the outbox.
type SMTPSender struct {
	opts     SMTPOptions
	host     string
	log      *slog.Logger
	redactor *strings.Replacer

	mu        stdsync.Mutex
	state     string    // the health state last reported
	lastToken string    // the token TokenFunc gave last
	downSince time.Time // when the server went down; zero while it is up
}

// NewSMTPSender checks opts and returns a sender. It does not connect;
// Check does.
func NewSMTPSender(opts SMTPOptions) (*SMTPSender, error) {
	if opts.Desk == nil {
		return nil, errors.New("smtp: no desk to read replies from")
	}
	host, port, err := net.SplitHostPort(opts.Server)
	if err != nil || host == "" {
		return nil, fmt.Errorf("smtp: server %q must be host:port, such as smtp.example.com:587", opts.Server)
	}
	if p, err := strconv.Atoi(port); err != nil || p <= 0 || p > 65535 {
		return nil, fmt.Errorf("smtp: server %q has no valid port", opts.Server)
	}
	switch opts.TLS {
	case "":
		opts.TLS = SMTPStartTLS
	case SMTPStartTLS, SMTPImplicitTLS, SMTPNoTLS:
	default:
		return nil, fmt.Errorf("smtp: tls %q must be %q, %q or %q", opts.TLS, SMTPStartTLS, SMTPImplicitTLS, SMTPNoTLS)
	}
	from, err := mail.ParseAddress(opts.From)
	if err != nil || from.Name != "" || smtpHasControl(opts.From) {
		return nil, fmt.Errorf("smtp: from %q is not an email address", opts.From)
	}
	opts.From = from.Address
	if opts.Domain == "" {
		opts.Domain = DefaultSMTPDomain
	}
	if !smtpValidDomain(opts.Domain) {
		return nil, fmt.Errorf("smtp: domain %q is not a host name", opts.Domain)
	}
	if opts.HelloName == "" {
		opts.HelloName = opts.From[strings.LastIndexByte(opts.From, '@')+1:]
		if !smtpValidDomain(opts.HelloName) { // an address literal or a name outside ASCII
			opts.HelloName = opts.Domain
		}
	}
	if !smtpValidDomain(opts.HelloName) {
		return nil, fmt.Errorf("smtp: hello name %q is not a host name", opts.HelloName)
	}
	if opts.Auth == "" {
		switch {
		case opts.Token != "" || opts.TokenFunc != nil:
			opts.Auth = SMTPAuthXOAuth2
		case opts.Password != "":
			opts.Auth = SMTPAuthPlain
		default:
			opts.Auth = SMTPAuthNone
		}
	}
	if opts.Username == "" {
		opts.Username = opts.From
	}
	switch opts.Auth {
	case SMTPAuthPlain, SMTPAuthLogin:
		if opts.Password == "" {
			return nil, fmt.Errorf("smtp: auth %q needs a password", opts.Auth)
		}
	case SMTPAuthXOAuth2:
		if opts.Token == "" && opts.TokenFunc == nil {
			return nil, errors.New("smtp: auth \"xoauth2\" needs an OAuth2 token")
		}
	case SMTPAuthNone:
	default:
		return nil, fmt.Errorf("smtp: auth %q must be %q, %q, %q or %q", opts.Auth, SMTPAuthPlain, SMTPAuthLogin, SMTPAuthXOAuth2, SMTPAuthNone)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultSMTPTimeout
	}
	if opts.MaxAttachmentBytes <= 0 {
		opts.MaxAttachmentBytes = DefaultSMTPMaxAttachmentBytes
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	s := &SMTPSender{opts: opts, host: host, log: opts.Logger}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("server", opts.Server)
	s.redactor = smtpRedactor(opts)
	if opts.TLS == SMTPNoTLS && opts.Auth != SMTPAuthNone {
		s.log.Warn("mail login is sent without encryption (tls = none); use this only with a test server")
	}
	return s, nil
}

// Deliver sends the mail of one "deliver.email" outbox row. A message
// already recorded as sent is not sent again; a mail sent whose recording
// failed goes again with the same Message-ID, which the customer's mail
// program recognises.
func (s *SMTPSender) Deliver(ctx context.Context, row ticket.OutboxRow) error {
	var d ticket.Delivery
	if err := json.Unmarshal(row.Payload, &d); err != nil {
		return ticket.Permanent(fmt.Errorf("smtp: outbox row %d: read delivery: %w", row.ID, err))
	}
	what := fmt.Sprintf("smtp: mail for ticket #%d message %d", d.Ticket, d.MessageID)
	th, err := s.thread(d.Ticket, d.MessageID)
	if errors.Is(err, ticket.ErrNotFound) {
		return ticket.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	if err != nil {
		return fmt.Errorf("%s: read the ticket: %w", what, err)
	}
	cfg := smtpComposeConfig{
		From: s.opts.From, FromName: s.opts.FromName, Domain: s.opts.Domain,
		MaxAttachmentBytes: s.opts.MaxAttachmentBytes, Location: s.opts.Location, Now: time.Now(),
	}
	m, err := smtpCompose(cfg, d, th, s.attachment)
	var unsendable *smtpComposeError
	if errors.As(err, &unsendable) {
		if m.Ticket != 0 { // the message is there to record it on
			s.record(ctx, m.Ticket, d.MessageID, ticket.DeliveryFailed, unsendable.msg)
		}
		return ticket.Permanent(fmt.Errorf("%s: %w", what, err))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	if m.Sent {
		s.log.Debug("mail already sent; not sending it again", "ticket", m.Ticket, "message", d.MessageID, "message_id", m.MessageID)
		return nil
	}
	reply, err := s.send(ctx, m)
	if err != nil {
		var perm *ticket.PermanentError
		if errors.As(err, &perm) {
			s.record(ctx, m.Ticket, d.MessageID, ticket.DeliveryFailed, perm.Err.Error())
		}
		s.releaseIfDown(row, err)
		return fmt.Errorf("%s to %s: %w", what, m.To, err)
	}
	s.releaseIfDown(row, nil)
	s.log.Debug("mail sent", "ticket", m.Ticket, "message", d.MessageID, "to", m.To, "message_id", m.MessageID, "bytes", len(m.Raw))
	s.record(ctx, m.Ticket, d.MessageID, ticket.DeliverySent, reply)
	return nil
}

// Check connects to the mail server, logs in and leaves, reporting the
// outcome to the health registry. The appliance calls it at start, so the
// staff learn of a wrong password before the first reply.
func (s *SMTPSender) Check(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	c, stop, err := s.connect(ctx)
	if err != nil {
		return err
	}
	defer stop()
	if err := c.Quit(); err != nil {
		return s.failure(ctx, "quit", err)
	}
	s.report(health.OK, "connected to the mail server "+s.opts.Server)
	return nil
}

// thread reads ticket n's thread, following merges to the ticket that
// holds message id now.
func (s *SMTPSender) thread(n, id uint64) (ticket.Thread, error) {
	const maxMerges = 8
	for hops := 0; ; hops++ {
		th, err := s.opts.Desk.Thread(n)
		if err != nil {
			return th, err
		}
		has := slices.ContainsFunc(th.Messages, func(m ticket.Message) bool { return m.ID == id })
		if has || th.Ticket.MergedInto == 0 || hops == maxMerges {
			return th, nil
		}
		n = th.Ticket.MergedInto
	}
}

// attachment reads an attachment's file and checks it against the
// SHA-256 it is named by.
func (s *SMTPSender) attachment(a ticket.Attachment) ([]byte, error) {
	_, path, err := s.opts.Desk.Attachment(a.ID)
	if errors.Is(err, ticket.ErrNotFound) {
		return nil, smtpUnsendable("attachment %q is no longer on the box", a.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("attachment %q: %w", a.Name, err)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, smtpUnsendable("the file of attachment %q is missing from the box", a.Name)
	}
	if err != nil {
		return nil, fmt.Errorf("attachment %q: %w", a.Name, err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max(a.Size, 0)+1))
	if err != nil {
		return nil, fmt.Errorf("attachment %q: %w", a.Name, err)
	}
	sum := sha256.Sum256(data)
	if int64(len(data)) != a.Size || hex.EncodeToString(sum[:]) != a.ID {
		return nil, smtpUnsendable("the file of attachment %q on the box is damaged: its checksum does not match", a.Name)
	}
	return data, nil
}

// Waits before a row released while the server is down is due again.
const (
	smtpDownWaitFirst = 30 * time.Second
	smtpDownWaitMax   = 15 * time.Minute
)

// releaseIfDown gives row back through the Release option when err says
// the server is down, due again after as long as the server has been down
// (at least smtpDownWaitFirst, at most smtpDownWaitMax). Any answer from
// the server about a mail ends the down time.
func (s *SMTPSender) releaseIfDown(row ticket.OutboxRow, err error) {
	var f *smtpFailure
	isDown := errors.As(err, &f) && f.down
	now := time.Now()
	s.mu.Lock()
	switch {
	case !isDown:
		s.downSince = time.Time{}
	case s.downSince.IsZero():
		s.downSince = now
	}
	wait := min(max(now.Sub(s.downSince), smtpDownWaitFirst), smtpDownWaitMax)
	s.mu.Unlock()
	if !isDown || s.opts.Release == nil {
		return
	}
	if rerr := s.opts.Release(row.ID, row.Lease, now.Add(wait)); rerr != nil {
		s.log.Warn("could not give an outbox row back; it counts as an attempt", "id", row.ID, "err", rerr)
		return
	}
	s.log.Debug("mail server down; row given back", "id", row.ID, "retry_in", wait)
}

// record reports a delivery's outcome through the Delivered callback. A
// failure to record is logged, not returned: the mail went (or never
// will), and retrying the row would only send it again.
func (s *SMTPSender) record(ctx context.Context, n, id uint64, state, detail string) {
	if s.opts.Delivered == nil {
		return
	}
	detail = smtpTruncate(smtpCleanText(s.redact(detail)), 1000)
	if err := s.opts.Delivered(ctx, n, id, state, detail); err != nil {
		s.log.Error("could not record the state of a mail", "ticket", n, "message", id, "state", state, "err", err)
	}
}

// send runs one SMTP transaction for m and returns the server's answer
// to the message.
func (s *SMTPSender) send(ctx context.Context, m smtpComposed) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	c, stop, err := s.connect(ctx)
	if err != nil {
		return "", err
	}
	defer stop()
	if size, ok := c.MaxMessageSize(); ok && size > 0 && len(m.Raw) > size {
		s.report(health.OK, "sending mail through "+s.opts.Server)
		return "", ticket.Permanent(fmt.Errorf("the mail is %d bytes; the mail server %s takes at most %d", len(m.Raw), s.opts.Server, size))
	}
	rcpts := append([]string{m.To}, m.Also...)
	needUTF8 := false
	for _, a := range append([]string{s.opts.From}, rcpts...) {
		if smtpASCII(a) {
			continue
		}
		needUTF8 = true
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			s.report(health.OK, "sending mail through "+s.opts.Server)
			return "", ticket.Permanent(fmt.Errorf("the address %s is not plain ASCII and the mail server %s does not take such addresses (no SMTPUTF8)", a, s.opts.Server))
		}
	}
	if err := c.Mail(s.opts.From, &smtp.MailOptions{Size: int64(len(m.Raw)), UTF8: needUTF8}); err != nil {
		return "", s.failure(ctx, "sender", err)
	}
	for _, to := range rcpts {
		if err := c.Rcpt(to, nil); err != nil {
			return "", s.failure(ctx, "recipient", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return "", s.failure(ctx, "data", err)
	}
	if _, err := w.Write(m.Raw); err != nil {
		return "", s.failure(ctx, "data", err)
	}
	resp, err := w.CloseWithResponse()
	if err != nil {
		return "", s.failure(ctx, "data", err)
	}
	// The mail is the server's now; a failed QUIT changes nothing.
	_ = c.Quit()
	s.report(health.OK, "sending mail through "+s.opts.Server)
	return smtpTruncate(s.redact(smtpOneLine("250 "+resp.StatusText)), 500), nil
}

// connect dials the server, secures the connection as configured, greets
// it and logs in. stop closes the connection and releases ctx's watch on
// it: when ctx ends, the connection is closed, which ends whatever command
// waits on it.
func (s *SMTPSender) connect(ctx context.Context) (*smtp.Client, func(), error) {
	tlsConfig := s.tlsConfig()
	var conn net.Conn
	var err error
	var d net.Dialer
	if s.opts.TLS == SMTPImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: &d, Config: tlsConfig}).DialContext(ctx, "tcp", s.opts.Server)
	} else {
		conn, err = d.DialContext(ctx, "tcp", s.opts.Server)
	}
	if err != nil {
		return nil, nil, s.failure(ctx, "connect", err)
	}
	release := context.AfterFunc(ctx, func() { conn.Close() })
	var c *smtp.Client
	stop := func() {
		release()
		if c != nil {
			c.Close()
		} else {
			conn.Close()
		}
	}
	fail := func(step string, err error) (*smtp.Client, func(), error) {
		err = s.failure(ctx, step, err)
		stop()
		return nil, nil, err
	}
	timeout := s.opts.Timeout
	if s.opts.TLS == SMTPStartTLS {
		// RFC 3207: STARTTLS before anything else, and nothing at all,
		// the login least, when the server does not offer it.
		if c, err = smtp.NewClientStartTLS(conn, tlsConfig); err != nil {
			return fail("starttls", err)
		}
	} else {
		c = smtp.NewClient(conn)
	}
	c.CommandTimeout, c.SubmissionTimeout = timeout, timeout
	if err := c.Hello(s.opts.HelloName); err != nil {
		return fail("hello", err)
	}
	if s.opts.Auth != SMTPAuthNone {
		if _, secure := c.TLSConnectionState(); !secure && s.opts.TLS != SMTPNoTLS {
			return fail("login", errSMTPNoTLS)
		}
		if err := s.login(ctx, c); err != nil {
			return fail("login", err)
		}
	}
	return c, stop, nil
}

// tlsConfig returns the TLS settings for the server.
func (s *SMTPSender) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.opts.TLSConfig != nil {
		cfg = s.opts.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	return cfg
}

// report sets the health of outbound mail and logs when its state
// changes.
func (s *SMTPSender) report(state, detail string) {
	detail = s.redact(detail)
	s.mu.Lock()
	changed := state != s.state
	was := s.state
	s.state = state
	s.mu.Unlock()
	if h := s.opts.Health; h != nil {
		if state == health.OK {
			h.Set(SMTPHealthName, state, detail)
		} else {
			h.Fail(SMTPHealthName, state, errors.New(detail))
		}
	}
	if !changed {
		return
	}
	switch {
	case state == health.Down:
		s.log.Error("outbound mail is down", "detail", detail)
	case state == health.Degraded:
		s.log.Warn("outbound mail is held up", "detail", detail)
	case was != "":
		s.log.Info("outbound mail is going out again")
	}
}

// redact removes every form of the secrets from s.
func (s *SMTPSender) redact(str string) string {
	s.mu.Lock()
	r := s.redactor
	s.mu.Unlock()
	if r == nil {
		return str
	}
	return r.Replace(str)
}

func smtpValidDomain(s string) bool {
	if s == "" || len(s) > 253 || strings.HasPrefix(s, ".") || strings.HasSuffix(s, ".") || strings.Contains(s, "..") {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r == '-' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
				return false
			}
		}
	}
	return true
}

func smtpASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// smtpOneLine joins a multi-line server reply into one line.
func smtpOneLine(s string) string {
	return strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
}

// smtpTruncate bounds s to n bytes on a rune boundary.
func smtpTruncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8.ValidString(s) {
		s = s[:len(s)-1]
	}
	return s + "…"
}
