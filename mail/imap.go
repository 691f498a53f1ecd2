// The IMAP side of the mail channel takes the shop's support mailbox in.
//
// Libraries, and why:
//   - github.com/emersion/go-imap/v2 speaks IMAP4rev1/rev2 (RFC 3501, RFC
//     9051) with IDLE (RFC 2177), MOVE (RFC 6851) and UIDPLUS: the
//     protocol's literals, unilateral responses and pipelining are easy to
//     get subtly wrong by hand.
//   - github.com/emersion/go-message reads MIME (RFC 2045 to 2049), RFC
//     2047 encoded words and RFC 2231 parameters, and with its charset
//     package the charsets of real mail (ISO-8859-1/9, Windows-1252 ...).
//   - github.com/emersion/go-sasl gives the PLAIN mechanism (RFC 4616);
//     XOAUTH2, which it does not carry, is the few lines in imapauth.go.
//   - golang.org/x/net/html tokenizes HTML as browsers do, so an HTML-only
//     mail becomes text without a script or a hidden tag slipping through.

package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-sasl"
)

// IMAPHealthName is the name the IMAP receiver reports its health under.
const IMAPHealthName = "mail"

// TLS modes of IMAPOptions.TLS.
const (
	IMAPTLS      = "tls"      // implicit TLS, port 993 (RFC 8314)
	IMAPStartTLS = "starttls" // STARTTLS on port 143 (RFC 3501 section 6.2.1)
	IMAPNoTLS    = "none"     // plain text; for tests only
)

// Authentication mechanisms of IMAPOptions.Auth.
const (
	IMAPAuthPlain   = "plain"   // username and password (AUTHENTICATE PLAIN, else LOGIN)
	IMAPAuthXOAuth2 = "xoauth2" // username and an OAuth2 access token
)

// Defaults of IMAPOptions.
const (
	DefaultIMAPMailbox      = "INBOX"
	DefaultIMAPPollInterval = time.Minute
	// DefaultIMAPMaxMailBytes leaves room for the largest attachment
	// the Desk takes, base64-encoded (4/3 of it), and some text.
	DefaultIMAPMaxMailBytes = ticket.DefaultMaxAttachmentBytes*4/3 + 1<<20
	DefaultIMAPRetryMin     = 2 * time.Second
	DefaultIMAPRetryMax     = 5 * time.Minute
	DefaultIMAPLoginRetry   = 15 * time.Minute
	DefaultIMAPDialTimeout  = 30 * time.Second
	// imapDownAfter is how many failed connections in a row turn the
	// state from degraded to down.
	imapDownAfter = 3
)

// Errors of the IMAP receiver.
var (
	// ErrIMAPConfig means IMAPOptions is incomplete or wrong; the error
	// names the field.
	ErrIMAPConfig = errors.New("mail: imap configuration")
	// ErrIMAPLoginRefused means the server refused the username and
	// password (or token). The receiver tries again slowly.
	ErrIMAPLoginRefused = errors.New("the server refused the login")
)

// IMAPIngester is what the receiver stores mails through; *ticket.Desk is
// one.
type IMAPIngester interface {
	Ingest(ctx context.Context, in ticket.Inbound) (ticket.Result, error)
	// FindUUID returns the ticket whose UUID the box wrote into its
	// outbound Message-IDs.
	FindUUID(uuid string) (uint64, error)
	// FindSource returns the ticket holding the message ingested under
	// a source key (for a mail, its Message-ID).
	FindSource(ch ticket.Channel, key string) (uint64, error)
}

var _ IMAPIngester = (*ticket.Desk)(nil)

// IMAPOptions configure an IMAPReceiver: the [mail] section's inbound
// half, plus what the receiver reports to and stores through.
type IMAPOptions struct {
	// Server is host:port, such as "imap.example.com:993".
	Server string
	// TLS is "tls" (implicit TLS, the default), "starttls" or "none".
	TLS string
	// TLSConfig, when set, replaces the default (system roots, the
	// server's host name); tests set their own roots.
	TLSConfig *tls.Config
	Username  string
	// Password is used with Auth "plain"; AccessToken with "xoauth2".
	// Neither ever appears in a log, an error or the health state.
	Password    string
	AccessToken string
	// Auth is "plain" (the default) or "xoauth2".
	Auth string
	// Mailbox is read for new mail; "INBOX" when empty.
	Mailbox string
	// ProcessedFolder, when set, is where taken-in mails are moved
	// (created if missing), and every mail left in Mailbox counts as new;
	// otherwise taken-in mails stay and are marked \Seen, and the mails
	// not \Seen count as new.
	ProcessedFolder string
	// PollInterval is how often the mailbox is searched when the server
	// has no IDLE; with IDLE it is how often the receiver checks anyway.
	PollInterval time.Duration
	// NoIdle polls even when the server offers IDLE.
	NoIdle bool
	// MaxMailBytes bounds the mail read from the server. A larger mail
	// is taken in with the start of its text only, flagged "too_large",
	// and stays in the mailbox.
	MaxMailBytes int64
	// MaxBodyBytes, MaxAttachmentBytes and MaxAttachments are the
	// Desk's limits (ticket.Limits); zero takes ticket's defaults.
	MaxBodyBytes       int
	MaxAttachmentBytes int64
	MaxAttachments     int
	// RetryMin and RetryMax bound the backoff between reconnections;
	// LoginRetry is the wait after the server refused the login.
	RetryMin, RetryMax time.Duration
	LoginRetry         time.Duration
	DialTimeout        time.Duration

	Logger   *slog.Logger
	Health   *health.Registry
	Ingester IMAPIngester
	// Bounced, when set, is told of a bounce that reports an outbound
	// mail of the box as failed for good (see IMAPReceiver): messageID is
	// the outbound message of ticket ticketNumber, detail a line such as
	// "bounced: 550 5.1.1 <a@example.com>: user unknown". The appliance
	// records it with Desk.SetDelivery(..., ticket.DeliveryFailed,
	// detail). It is called after the bounce was stored and before the
	// mail is acknowledged, so a crash in between calls it again; an
	// error is logged and the mail taken in all the same.
	Bounced func(ctx context.Context, ticketNumber, messageID uint64, detail string) error
}

func (o IMAPOptions) withDefaults() IMAPOptions {
	if o.TLS == "" {
		o.TLS = IMAPTLS
	}
	if o.Auth == "" {
		o.Auth = IMAPAuthPlain
	}
	if o.Mailbox == "" {
		o.Mailbox = DefaultIMAPMailbox
	}
	if o.PollInterval <= 0 {
		o.PollInterval = DefaultIMAPPollInterval
	}
	if o.MaxMailBytes <= 0 {
		o.MaxMailBytes = DefaultIMAPMaxMailBytes
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = ticket.DefaultMaxMessageBytes
	}
	if o.MaxAttachmentBytes <= 0 {
		o.MaxAttachmentBytes = ticket.DefaultMaxAttachmentBytes
	}
	if o.MaxAttachments <= 0 {
		o.MaxAttachments = ticket.DefaultMaxAttachments
	}
	if o.RetryMin <= 0 {
		o.RetryMin = DefaultIMAPRetryMin
	}
	if o.RetryMax <= 0 {
		o.RetryMax = DefaultIMAPRetryMax
	}
	if o.RetryMax < o.RetryMin {
		o.RetryMax = o.RetryMin
	}
	if o.LoginRetry <= 0 {
		o.LoginRetry = DefaultIMAPLoginRetry
	}
	if o.DialTimeout <= 0 {
		o.DialTimeout = DefaultIMAPDialTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Health == nil {
		o.Health = health.New()
	}
	return o
}

func (o IMAPOptions) validate() error {
	bad := func(field, format string, args ...any) error {
		return fmt.Errorf("%w: %s: %s", ErrIMAPConfig, field, fmt.Sprintf(format, args...))
	}
	if _, port, err := net.SplitHostPort(o.Server); err != nil || port == "" {
		return bad("server", "%q must be host:port, such as imap.example.com:993", o.Server)
	}
	switch o.TLS {
	case IMAPTLS, IMAPStartTLS, IMAPNoTLS:
	default:
		return bad("tls", "%q must be tls, starttls or none", o.TLS)
	}
	if o.Username == "" {
		return bad("username", "is required")
	}
	switch o.Auth {
	case IMAPAuthPlain:
		if o.Password == "" {
			return bad("password", "is required with auth plain")
		}
	case IMAPAuthXOAuth2:
		if o.AccessToken == "" {
			return bad("access_token", "is required with auth xoauth2")
		}
	default:
		return bad("auth", "%q must be plain or xoauth2", o.Auth)
	}
	if o.ProcessedFolder != "" && strings.EqualFold(o.ProcessedFolder, o.Mailbox) {
		return bad("processed_folder", "%q must differ from the mailbox read", o.ProcessedFolder)
	}
	if o.Ingester == nil {
		return bad("ingester", "is required")
	}
	return nil
}

// IMAPReceiver takes new mail from an IMAP mailbox into the Desk. It reads
// the mails not yet \Seen in UID order, turns each into a ticket.Inbound,
// stores it with Ingest, and only then marks it \Seen (or moves it to the
// processed folder): a crash in between takes the mail in again on
// restart, and its source key, the Message-ID, makes that one message.
// It waits for new mail with IDLE (RFC 2177) where the server offers it,
// else polls, and reconnects with backoff.
//
// Threading. The box's outbound mails carry the Message-ID
// "<counterdesk.TICKETUUID.MESSAGEID@HOST>" (HOST the configured domain or
// "counterdesk.invalid"), a subject ending in " [#1042]", In-Reply-To the
// customer's last Message-ID on the ticket, and References the chain. An
// inbound mail joins a ticket by, in order: a "counterdesk.UUID." id in
// In-Reply-To or References (FindUUID); any other id there that the box
// took in (FindSource with ticket.ChannelEmail); "[#NNNN]" in the subject
// (Inbound.TicketNumber); else the Desk's contact threading. Message-IDs
// are stored without angle brackets: the SourceKey and Meta "message_id"
// hold "abc@example.com"; Meta "in_reply_to" and "references" hold the
// field values with brackets.
//
// Automatic mail. A mail flagged "auto_reply" (an out-of-office, a list
// mail, a bounce: see imapAutoReply) is ingested with Inbound.Automatic:
// it joins the ticket it threads onto without reopening it, and opens
// none. When it threads onto no ticket, Ingest stores nothing and returns
// ticket.ErrNoThread; the receiver then acknowledges the mail like a
// stored one (\Seen, or moved to the processed folder), so it is not read
// again, counts it in counterdesk_mail_ignored_total (not in
// counterdesk_mail_received_total), and logs it at debug level with the
// reason it is automatic.
//
// Bounces. A delivery status notification (RFC 3464, a multipart/report
// with report-type delivery-status) or a mail server's plain-text bounce
// (from MAILER-DAEMON or postmaster, quoting the returned mail's
// Message-ID) is flagged "bounce" and "auto_reply", with what it reports
// in Meta "bounce_recipient", "bounce_action", "bounce_status",
// "bounce_diagnostic" and "bounce_message_id". The returned mail's
// Message-ID is tried first for threading, so the bounce of a box mail
// joins its ticket. When that Message-ID names an outbound message of
// the box ("counterdesk.UUID.MSGID@HOST"), the delivery failed for good
// (Action failed, or a 5.x.x status; a delayed delivery does not count),
// and the bounce was stored on that message's ticket, IMAPOptions.Bounced
// is called with the ticket, the message and a line for the staff.
type IMAPReceiver struct {
	opts IMAPOptions
	host string
	// wake is signalled when the server reports new mail (EXISTS).
	wake chan struct{}

	received, raw, dropped, ignored, failures atomic.Int64
	connected                                 atomic.Bool
}

// NewIMAPReceiver checks opts and returns a receiver; Run starts it.
func NewIMAPReceiver(opts IMAPOptions) (*IMAPReceiver, error) {
	opts = opts.withDefaults()
	if err := opts.validate(); err != nil {
		return nil, err
	}
	host, _, _ := net.SplitHostPort(opts.Server)
	return &IMAPReceiver{opts: opts, host: host, wake: make(chan struct{}, 1)}, nil
}

// Run takes mail in until ctx ends; it returns nil then. Errors are
// logged, reported in the health state and retried.
func (r *IMAPReceiver) Run(ctx context.Context) error {
	o := r.opts
	o.Health.AddSource(IMAPHealthName, r.metrics)
	o.Health.Set(IMAPHealthName, health.Degraded, "connecting to the mail server "+o.Server)
	wait := o.RetryMin
	fails := 0
	for {
		start := time.Now()
		progress, err := r.session(ctx)
		r.connected.Store(false)
		if ctx.Err() != nil {
			return nil
		}
		if progress || time.Since(start) > o.RetryMax {
			// It had been working: try again soon. A session that
			// fails on the same mail each time backs off instead.
			wait, fails = o.RetryMin, 0
		}
		fails++
		var delay time.Duration
		if errors.Is(err, ErrIMAPLoginRefused) {
			delay = o.LoginRetry
			o.Health.Fail(IMAPHealthName, health.Down, fmt.Errorf(
				"the server refused the login of %s at %s: check the username and the password (or token) in [mail]; trying again in %s",
				o.Username, o.Server, delay))
			o.Logger.Error("mail: the server refused the login", "server", o.Server, "user", o.Username, "err", err, "retry_in", delay)
		} else {
			delay = wait
			state := health.Degraded
			if fails >= imapDownAfter {
				state = health.Down
			}
			o.Health.Fail(IMAPHealthName, state, fmt.Errorf("mail from %s is not coming in: %v; trying again in %s", o.Server, err, delay))
			o.Logger.Warn("mail: connection lost; connecting again later", "server", o.Server, "err", err, "retry_in", delay)
			wait = min(2*wait, o.RetryMax)
		}
		r.failures.Add(1)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(delay):
		}
	}
}

// session connects, logs in, and takes mail in until an error or the end
// of ctx. It reports whether it made progress: a pass that ended, or a
// mail taken in.
func (r *IMAPReceiver) session(ctx context.Context) (progress bool, err error) {
	o := r.opts
	c, stop, err := r.dial(ctx)
	if err != nil {
		return false, err
	}
	defer c.Close()
	defer stop()

	if err := r.login(c); err != nil {
		return false, err
	}
	if o.ProcessedFolder != "" {
		if err := r.ensureFolder(c, o.ProcessedFolder); err != nil {
			return false, err
		}
	}
	if _, err := c.Select(o.Mailbox, nil).Wait(); err != nil {
		return false, fmt.Errorf("select mailbox %q: %w", o.Mailbox, err)
	}
	r.connected.Store(true)
	idle := !o.NoIdle && (c.Caps().Has(imap.CapIdle) || c.Caps().Has(imap.CapIMAP4rev2))
	how := "checking every " + o.PollInterval.String()
	if idle {
		how = "waiting for new mail with IDLE"
	}
	o.Logger.Info("mail: connected", "server", o.Server, "user", o.Username, "mailbox", o.Mailbox, "idle", idle)
	for {
		n, err := r.pass(ctx, c)
		progress = progress || n > 0
		if err != nil {
			return progress, err
		}
		progress = true
		o.Health.Set(IMAPHealthName, health.OK, fmt.Sprintf("reading %s at %s as %s, %s", o.Mailbox, o.Server, o.Username, how))
		if idle {
			err = r.idle(ctx, c)
		} else {
			err = r.sleep(ctx, c)
		}
		if err != nil {
			return progress, err
		}
	}
}

// dial connects and reads the greeting. The connection closes when ctx
// ends, whatever the client is waiting for.
func (r *IMAPReceiver) dial(ctx context.Context) (*imapclient.Client, func() bool, error) {
	o := r.opts
	opts := &imapclient.Options{
		UnilateralDataHandler: &imapclient.UnilateralDataHandler{
			Mailbox: func(d *imapclient.UnilateralDataMailbox) {
				if d.NumMessages != nil {
					r.signal()
				}
			},
		},
	}
	if o.TLSConfig != nil {
		opts.TLSConfig = o.TLSConfig.Clone()
	} else {
		opts.TLSConfig = &tls.Config{ServerName: r.host, MinVersion: tls.VersionTLS12}
	}
	nd := &net.Dialer{Timeout: o.DialTimeout}
	var conn net.Conn
	var err error
	if o.TLS == IMAPTLS {
		conn, err = (&tls.Dialer{NetDialer: nd, Config: opts.TLSConfig}).DialContext(ctx, "tcp", o.Server)
	} else {
		conn, err = nd.DialContext(ctx, "tcp", o.Server)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("connect to %s (%s): %w", o.Server, o.TLS, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	var c *imapclient.Client
	if o.TLS == IMAPStartTLS {
		c, err = imapclient.NewStartTLS(conn, opts)
		if err != nil {
			stop()
			conn.Close()
			return nil, nil, fmt.Errorf("connect to %s: starttls: %w", o.Server, err)
		}
	} else {
		c = imapclient.New(conn, opts)
	}
	if err := c.WaitGreeting(); err != nil {
		stop()
		c.Close()
		return nil, nil, fmt.Errorf("connect to %s: greeting: %w", o.Server, err)
	}
	return c, stop, nil
}

// login authenticates. A NO or BAD answer wraps ErrIMAPLoginRefused. The
// secret is in no error: go-imap's errors hold the server's answer only.
func (r *IMAPReceiver) login(c *imapclient.Client) error {
	o := r.opts
	var err error
	switch o.Auth {
	case IMAPAuthXOAuth2:
		err = c.Authenticate(&imapXOAuth2{user: o.Username, token: o.AccessToken})
	default:
		if c.Caps().Has(imap.AuthCap(sasl.Plain)) {
			err = c.Authenticate(sasl.NewPlainClient("", o.Username, o.Password))
		} else {
			err = c.Login(o.Username, o.Password).Wait()
		}
	}
	if err == nil {
		return nil
	}
	var ie *imap.Error
	if errors.As(err, &ie) && (ie.Type == imap.StatusResponseTypeNo || ie.Type == imap.StatusResponseTypeBad) {
		return fmt.Errorf("login as %s at %s: %w: %w", o.Username, o.Server, ErrIMAPLoginRefused, err)
	}
	return fmt.Errorf("login as %s at %s: %w", o.Username, o.Server, err)
}

// ensureFolder creates the processed folder when it does not exist.
func (r *IMAPReceiver) ensureFolder(c *imapclient.Client, name string) error {
	list, err := c.List("", name, nil).Collect()
	if err != nil {
		return fmt.Errorf("look for folder %q: %w", name, err)
	}
	if len(list) > 0 {
		return nil
	}
	if err := c.Create(name, nil).Wait(); err != nil {
		var ie *imap.Error
		if errors.As(err, &ie) && ie.Code == imap.ResponseCodeAlreadyExists {
			return nil
		}
		return fmt.Errorf("create folder %q: %w", name, err)
	}
	r.opts.Logger.Info("mail: created the processed folder", "folder", name)
	return nil
}

func (r *IMAPReceiver) signal() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// pass takes in the new mails of the mailbox in UID order and returns how
// many it took. New mails are those not \Seen; with a processed folder,
// every mail still in the mailbox (not \Deleted), so that a person
// reading the mailbox hides nothing from the box, and a mail whose move
// failed is moved on the next pass.
func (r *IMAPReceiver) pass(ctx context.Context, c *imapclient.Client) (int, error) {
	// New mail announced from here on wakes the next wait.
	select {
	case <-r.wake:
	default:
	}
	criteria := &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}
	if r.opts.ProcessedFolder != "" {
		criteria = &imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagDeleted}}
	}
	data, err := c.UIDSearch(criteria, nil).Wait()
	if err != nil {
		return 0, fmt.Errorf("search %s for new mail: %w", r.opts.Mailbox, err)
	}
	uids := data.AllUIDs()
	slices.Sort(uids)
	for i, uid := range uids {
		if err := ctx.Err(); err != nil {
			return i, err
		}
		if err := r.take(ctx, c, uid); err != nil {
			return i, err
		}
	}
	return len(uids), nil
}

// take fetches, stores and acknowledges one mail.
func (r *IMAPReceiver) take(ctx context.Context, c *imapclient.Client, uid imap.UID) error {
	o := r.opts
	section := &imap.FetchItemBodySection{Peek: true, Partial: &imap.SectionPartial{Offset: 0, Size: o.MaxMailBytes + 1}}
	msgs, err := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{
		UID: true, InternalDate: true, RFC822Size: true, BodySection: []*imap.FetchItemBodySection{section},
	}).Collect()
	if err != nil {
		return fmt.Errorf("fetch mail %d: %w", uid, err)
	}
	if len(msgs) == 0 {
		return nil // gone meanwhile (another client expunged it)
	}
	m := msgs[0]
	var raw []byte
	for _, bs := range m.BodySection {
		raw = bs.Bytes
	}
	lim := imapLimits{body: o.MaxBodyBytes, attBytes: o.MaxAttachmentBytes, atts: o.MaxAttachments, maxMail: o.MaxMailBytes}
	if m.RFC822Size > o.MaxMailBytes || int64(len(raw)) > o.MaxMailBytes {
		lim.size = max(m.RFC822Size, int64(len(raw)))
		if int64(len(raw)) > o.MaxMailBytes {
			raw = raw[:o.MaxMailBytes]
		}
		o.Logger.Warn("mail: over the size limit; taking in its start only", "uid", uid, "size", lim.size, "limit", o.MaxMailBytes)
	}
	p := imapParse(raw, lim)
	in := p.in
	in.At = imapAt(in.At, m.InternalDate)
	in.Automatic = slices.Contains(in.Flags, IMAPFlagAutoReply)
	if in.TicketNumber, err = r.thread(p); err != nil {
		return fmt.Errorf("thread mail %d (%s): %w", uid, in.SourceKey, err)
	}
	res, err := o.Ingester.Ingest(ctx, in)
	if err != nil && (errors.Is(err, ticket.ErrInvalid) || errors.Is(err, ticket.ErrTooLarge)) {
		// The Desk refused what the parser made of it: keep it raw
		// rather than lose it or block the mailbox.
		o.Logger.Warn("mail: refused as parsed; storing it raw", "uid", uid, "message_id", in.SourceKey, "err", err)
		fallback := imapFallback(in, raw, lim, err)
		res, err = o.Ingester.Ingest(ctx, fallback)
		in = fallback
	}
	if in.Automatic && errors.Is(err, ticket.ErrNoThread) {
		// An automatic mail that answers no ticket: nothing to store,
		// and nothing to read again.
		if err := r.ack(c, uid); err != nil {
			return err
		}
		r.ignored.Add(1)
		o.Logger.Debug("mail: ignored an automatic mail that answers no ticket", "uid", uid, "message_id", in.SourceKey,
			"from", in.From.Email, "subject", in.Subject, "reason", in.Meta["auto_submitted"], "flags", in.Flags)
		return nil
	}
	if err != nil {
		return fmt.Errorf("store mail %d (%s): %w", uid, in.SourceKey, err)
	}
	if p.bounce != nil {
		r.bounced(ctx, uid, p.bounce, res)
	}
	// Durable: now, and only now, tell the server.
	if err := r.ack(c, uid); err != nil {
		return err
	}
	r.received.Add(1)
	if slices.Contains(in.Flags, IMAPFlagRaw) {
		r.raw.Add(1)
	}
	for _, f := range in.Flags {
		if f == IMAPFlagAttachmentTooLarge || f == IMAPFlagTooManyAttachments || f == IMAPFlagAttachmentBroken {
			r.dropped.Add(1)
		}
	}
	o.Logger.Debug("mail: taken in", "uid", uid, "message_id", in.SourceKey, "ticket", res.Ticket,
		"created", res.Created, "duplicate", res.Duplicate, "flags", in.Flags)
	return nil
}

// bounced tells IMAPOptions.Bounced of a bounce that reports an outbound
// mail of the box as failed, when the bounce was stored on that mail's
// ticket (res). A duplicate counts: the first take may have crashed
// before telling it.
func (r *IMAPReceiver) bounced(ctx context.Context, uid imap.UID, b *imapBounce, res ticket.Result) {
	o := r.opts
	if o.Bounced == nil || !b.failed {
		return
	}
	uuid, id, ok := imapBoxID(b.original)
	if !ok {
		return
	}
	n, err := o.Ingester.FindUUID(uuid)
	if err != nil || n != res.Ticket {
		o.Logger.Debug("mail: the bounce is not on the ticket of the mail it returns", "uid", uid,
			"returned", b.original, "stored_on", res.Ticket, "err", err)
		return
	}
	detail := b.detail()
	if err := o.Bounced(ctx, n, id, detail); err != nil {
		o.Logger.Warn("mail: could not mark the bounced mail failed", "uid", uid, "ticket", n, "message", id,
			"detail", detail, "err", err)
		return
	}
	o.Logger.Info("mail: a mail of the box bounced", "ticket", n, "message", id, "detail", detail)
}

// imapFallback is the raw form of a mail the Desk refused as parsed:
// no sender fields (the address is kept in Meta), the start of the raw
// text as the body, and why in Meta "ingest_error".
func imapFallback(in ticket.Inbound, raw []byte, lim imapLimits, why error) ticket.Inbound {
	out := ticket.Inbound{Channel: in.Channel, SourceKey: in.SourceKey, At: in.At, Subject: in.Subject,
		Flags: slices.Clone(in.Flags), Meta: ticket.Meta{}, TicketNumber: in.TicketNumber, Automatic: in.Automatic}
	for _, k := range []string{"message_id", "in_reply_to", "references", "auto_submitted",
		"bounce_recipient", "bounce_action", "bounce_status", "bounce_diagnostic", "bounce_message_id"} {
		if v, ok := in.Meta[k]; ok {
			out.Meta[k] = v
		}
	}
	if in.From.Email != "" {
		out.Meta["from"] = imapCleanLine(in.From.Email, imapMaxMeta)
	}
	out.Meta["ingest_error"] = imapCleanLine(why.Error(), imapMaxMeta)
	if len(out.Subject) > imapMaxSubject {
		out.Subject = imapTruncate(out.Subject, imapMaxSubject)
	}
	imapRaw(&out, raw, lim)
	return out
}

// thread finds the ticket a mail answers, by the convention in the
// IMAPReceiver doc: the box's own Message-IDs, then ids the box took in,
// then the subject's "[#NNNN]". 0 leaves it to the Desk.
func (r *IMAPReceiver) thread(p imapParsed) (uint64, error) {
	ing := r.opts.Ingester
	for _, id := range p.refs {
		if uuid, ok := imapBoxUUID(id); ok {
			n, err := ing.FindUUID(uuid)
			if err == nil {
				return n, nil
			}
			if !errors.Is(err, ticket.ErrNotFound) {
				return 0, err
			}
		}
	}
	for _, id := range p.refs {
		if _, ok := imapBoxUUID(id); ok {
			continue
		}
		n, err := ing.FindSource(ticket.ChannelEmail, id)
		if err == nil {
			return n, nil
		}
		if !errors.Is(err, ticket.ErrNotFound) {
			return 0, err
		}
	}
	return imapSubjectRef(p.in.Subject), nil
}

// ack marks a stored mail \Seen and, with a processed folder, moves it
// there.
func (r *IMAPReceiver) ack(c *imapclient.Client, uid imap.UID) error {
	set := imap.UIDSetNum(uid)
	err := c.Store(set, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}, nil).Close()
	if err != nil {
		return fmt.Errorf("mark mail %d seen: %w", uid, err)
	}
	if f := r.opts.ProcessedFolder; f != "" {
		if _, err := c.Move(set, f).Wait(); err != nil {
			return fmt.Errorf("move mail %d to %q: %w", uid, f, err)
		}
	}
	return nil
}

// idle waits with IDLE until the server reports new mail, the poll
// interval passes, or ctx ends.
func (r *IMAPReceiver) idle(ctx context.Context, c *imapclient.Client) error {
	cmd, err := c.Idle()
	if err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	t := time.NewTimer(r.opts.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-r.wake:
	case <-t.C:
	case <-c.Closed():
	}
	if err := cmd.Close(); err != nil {
		return fmt.Errorf("end idle: %w", err)
	}
	if err := cmd.Wait(); err != nil {
		return fmt.Errorf("idle: %w", err)
	}
	return ctx.Err()
}

// sleep waits for the next poll; a NOOP on waking keeps the connection
// checked.
func (r *IMAPReceiver) sleep(ctx context.Context, c *imapclient.Client) error {
	t := time.NewTimer(r.opts.PollInterval)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-c.Closed():
		return errors.New("the server closed the connection")
	case <-t.C:
	}
	if err := c.Noop().Wait(); err != nil {
		return fmt.Errorf("noop: %w", err)
	}
	return nil
}

func (r *IMAPReceiver) metrics() []health.Metric {
	connected := 0.0
	if r.connected.Load() {
		connected = 1
	}
	return []health.Metric{
		{Name: "counterdesk_mail_imap_connected", Type: "gauge", Help: "Whether the IMAP mailbox is connected.", Value: connected},
		{Name: "counterdesk_mail_received_total", Type: "counter", Help: "Mails taken in from the IMAP mailbox.", Value: float64(r.received.Load())},
		{Name: "counterdesk_mail_raw_total", Type: "counter", Help: "Mails stored raw because they could not be parsed.", Value: float64(r.raw.Load())},
		{Name: "counterdesk_mail_attachments_dropped_total", Type: "counter", Help: "Mails with an attachment dropped at a limit.", Value: float64(r.dropped.Load())},
		{Name: "counterdesk_mail_ignored_total", Type: "counter", Help: "Automatic mails (out-of-office, bounces) that answered no ticket and were acknowledged without being stored.", Value: float64(r.ignored.Load())},
		{Name: "counterdesk_mail_imap_failures_total", Type: "counter", Help: "IMAP sessions that ended in an error.", Value: float64(r.failures.Load())},
	}
}
