// Package ui is the appliance's HTTP face: the JSON API under /api/v1,
// the programmatic face of the ticket Desk; /healthz; the staff pages
// (login, the ticket list with its live feed, the ticket page); and the
// public counter form.
package ui

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"runtime/debug"
	"strings"
	stdsync "sync"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// Defaults for Options, used where a field is zero. They match the
// defaults of the [http] section of the config file.
const (
	DefaultMaxBodyBytes = 1 << 20
	DefaultReadTimeout  = 30 * time.Second
	DefaultWriteTimeout = 60 * time.Second
)

// Options configure a Server.
type Options struct {
	// Desk is the ticket service the API drives. It is required.
	Desk *ticket.Desk
	// Tokens holds the API tokens. Without it every API request is
	// refused.
	Tokens *auth.Tokens
	// Health is read by /healthz. Without it /healthz reports no
	// subsystems.
	Health *health.Registry
	// MaxBodyBytes limits a request body; a larger one is answered 413.
	MaxBodyBytes int
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	Logger       *slog.Logger
	// Version is reported by /healthz.
	Version string

	// Users holds the staff accounts and sessions. Without it the staff
	// pages and the counter form are not served, only the API.
	Users *auth.Users
	// ShopName is shown in the pages' header.
	ShopName string
	// Categories are offered on the counter form; without them the
	// category is free text.
	Categories []string
	// MaxPhotoBytes bounds the photo sent with the counter form.
	MaxPhotoBytes int64
	// CounterMinFill is the least time between handing out the counter
	// form and taking it back; a faster answer is a bot's.
	CounterMinFill time.Duration
	// CounterRate bounds the counter requests of one client address per
	// CounterWindow.
	CounterRate   int
	CounterWindow time.Duration
	// LoginMaxFailures failed logins of one user name lock it out for
	// LoginLockout; a client address gets four times as many.
	LoginMaxFailures int
	LoginLockout     time.Duration
	// MaxStreams bounds the live feeds (/events) open at once.
	MaxStreams int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Location is the shop's time zone, for the times the pages show, the
	// days of the list's date filter and of the reports; nil means the
	// process's local zone.
	Location *time.Location
	// RemoteLink returns the address of a ticket's copy in a sync target,
	// or "" when the target has none (a webhook). Nil shows bare ids.
	RemoteLink func(target, id string) string
}

func (o Options) withDefaults() Options {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if o.ReadTimeout <= 0 {
		o.ReadTimeout = DefaultReadTimeout
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = DefaultWriteTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Health == nil {
		o.Health = health.New()
	}
	if o.MaxPhotoBytes <= 0 {
		o.MaxPhotoBytes = DefaultMaxPhotoBytes
	}
	if o.Location == nil {
		o.Location = time.Local
	}
	if o.CounterMinFill == 0 {
		o.CounterMinFill = DefaultCounterMinFill
	}
	if o.CounterRate <= 0 {
		o.CounterRate = DefaultCounterRate
	}
	if o.CounterWindow <= 0 {
		o.CounterWindow = DefaultCounterWindow
	}
	if o.LoginMaxFailures <= 0 {
		o.LoginMaxFailures = DefaultLoginMaxFailures
	}
	if o.LoginLockout <= 0 {
		o.LoginLockout = DefaultLoginLockout
	}
	if o.MaxStreams <= 0 {
		o.MaxStreams = DefaultMaxStreams
	}
	if o.ShopName == "" {
		o.ShopName = "counterdesk"
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Server serves the JSON API, the staff pages and the counter form.
type Server struct {
	app  *fiber.App
	desk *ticket.Desk
	opts Options
	log  *slog.Logger

	pages      templates
	formKey    []byte        // signs the counter form's time stamps
	loginUsers *auth.Limiter // failed logins per user name
	loginIPs   *auth.Limiter // failed logins per client address
	counterIPs *auth.Limiter // counter requests per client address
	streams    chan struct{} // one token per open live feed
	done       chan struct{} // closed by Shutdown, to end the live feeds
	closeOnce  stdsync.Once
	started    time.Time // for the uptime on the system page
}

// New returns a server for opts. It panics when opts.Desk is nil, which is
// a wiring mistake.
func New(opts Options) *Server {
	if opts.Desk == nil {
		panic("ui: New needs a Desk")
	}
	opts = opts.withDefaults()
	s := &Server{desk: opts.Desk, opts: opts, log: opts.Logger, done: make(chan struct{})}
	s.started = s.now()
	bodyLimit := opts.MaxBodyBytes
	if opts.Users != nil {
		pages, err := parseTemplates(opts.Location)
		if err != nil {
			panic(err) // the templates are embedded: a build mistake
		}
		s.pages = pages
		s.formKey = make([]byte, 32)
		if _, err := rand.Read(s.formKey); err != nil {
			panic(fmt.Sprintf("ui: %v", err))
		}
		const keys = auth.DefaultLimiterKeys
		s.loginUsers = auth.NewLimiter(opts.LoginMaxFailures, opts.LoginLockout, keys, opts.Now)
		s.loginIPs = auth.NewLimiter(4*opts.LoginMaxFailures, opts.LoginLockout, keys, opts.Now)
		s.counterIPs = auth.NewLimiter(opts.CounterRate, opts.CounterWindow, keys, opts.Now)
		s.streams = make(chan struct{}, opts.MaxStreams)
		// The counter form carries a photo; the API keeps its own,
		// smaller limit (limitBody).
		bodyLimit = max(bodyLimit, int(opts.MaxPhotoBytes)+64<<10)
	}
	s.app = fiber.New(fiber.Config{
		AppName:               "counterdesk",
		BodyLimit:             bodyLimit,
		ReadTimeout:           opts.ReadTimeout,
		WriteTimeout:          opts.WriteTimeout,
		DisableStartupMessage: true,
		ErrorHandler:          s.handleError,
	})
	s.routes()
	return s
}

func (s *Server) routes() {
	s.app.Use(s.around)
	s.app.Get("/healthz", s.healthz)
	s.app.Get("/metrics", s.authenticate, s.metrics)
	s.app.Get("/api/openapi.json", s.openapi)

	api := s.app.Group("/api/v1", s.limitBody, s.authenticate)
	api.Get("/tickets", s.listTickets)
	api.Post("/tickets", s.createTicket)
	api.Get("/tickets/:number", s.getThread)
	api.Patch("/tickets/:number", s.patchTicket)
	api.Delete("/tickets/:number", s.deleteTicket)
	api.Post("/tickets/:number/replies", s.addReply)
	api.Post("/tickets/:number/notes", s.addNote)
	api.Post("/tickets/:number/merge", s.mergeTicket)
	api.Get("/attachments/:id", s.getAttachment)
	api.Get("/outbox", s.listOutbox)
	api.Get("/outbox/stats", s.outboxStats)
	api.Post("/outbox/:id/retry", s.retryOutbox)
	api.Get("/reports", s.getReport)
	api.Get("/users", s.listUsers)
	api.Post("/users", s.createUser)
	api.Post("/users/:name/password", s.setUserPassword)
	api.Post("/users/:name/signout", s.signOutUser)
	api.Get("/tokens", s.listTokens)
	api.Post("/tokens", s.createToken)
	api.Delete("/tokens/:name", s.revokeToken)

	if s.opts.Users != nil {
		s.pageRoutes()
	}
}

// pageRoutes adds the staff pages and the counter form.
func (s *Server) pageRoutes() {
	s.app.Get("/static/*", s.serveStatic)
	s.app.Get("/counter", s.counterPage)
	s.app.Post("/counter", s.counterSubmit)

	// Middleware goes on each route, not on a group: a group without a
	// prefix would run it for every path, unknown ones included.
	web := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{s.loadSession, h} }
	st := func(h fiber.Handler) []fiber.Handler { return []fiber.Handler{s.loadSession, s.requireStaff, h} }
	s.app.Get("/", web(s.home)...)
	s.app.Get("/setup", web(s.setupPage)...)
	s.app.Post("/setup", web(s.setupPage)...)
	s.app.Get("/login", web(s.loginPage)...)
	s.app.Post("/login", web(s.loginPage)...)
	s.app.Post("/logout", st(s.logout)...)
	s.app.Post("/logout-everywhere", st(s.logoutEverywhere)...)
	s.app.Get("/tickets", st(s.ticketList)...)
	s.app.Get("/tickets/new", st(s.newTicketPage)...)
	s.app.Post("/tickets/new", st(s.newTicketForm)...)
	s.app.Get("/tickets/:number", st(s.threadPage)...)
	s.app.Post("/tickets/:number/reply", st(s.replyForm)...)
	s.app.Post("/tickets/:number/note", st(s.noteForm)...)
	s.app.Post("/tickets/:number/update", st(s.updateForm)...)
	s.app.Post("/tickets/:number/archive", st(s.archiveForm)...)
	s.app.Post("/tickets/:number/delete", st(s.deleteForm)...)
	s.app.Post("/tickets/:number/merge", st(s.mergeForm)...)
	s.app.Post("/tickets/bulk", st(s.bulkForm)...)
	s.app.Get("/files/:id", st(s.fileForStaff)...)
	s.app.Get("/events", st(s.events)...)
	s.app.Get("/system", st(s.systemPage)...)
	s.app.Get("/reports", st(s.reportsPage)...)
	s.app.Get("/reports.csv", st(s.reportsCSV)...)
	s.app.Post("/system/outbox/:id/retry", st(s.retryOutboxForm)...)
	s.app.Get("/admin/people", st(s.peoplePage)...)
	s.app.Post("/admin/users", st(s.addUserForm)...)
	s.app.Post("/admin/users/:name/password", st(s.passwordForm)...)
	s.app.Post("/admin/users/:name/signout", st(s.signOutForm)...)
	s.app.Post("/admin/tokens", st(s.createTokenForm)...)
	s.app.Post("/admin/tokens/:name/revoke", st(s.revokeTokenForm)...)
}

func (s *Server) now() time.Time { return s.opts.Now() }

// limitBody holds API request bodies to MaxBodyBytes, which may be less
// than the server's limit (that one leaves room for the counter form's
// photo).
func (s *Server) limitBody(c *fiber.Ctx) error {
	if len(c.Request().Body()) > s.opts.MaxBodyBytes {
		return fiber.ErrRequestEntityTooLarge
	}
	return c.Next()
}

// App returns the fiber app, for tests (app.Test) and for mounting.
func (s *Server) App() *fiber.App { return s.app }

// Serve serves requests on ln until Shutdown.
func (s *Server) Serve(ln net.Listener) error {
	return s.app.Listener(ln)
}

// Shutdown stops accepting connections and waits, until ctx ends, for the
// requests in flight to finish.
func (s *Server) Shutdown(ctx context.Context) error {
	s.closeOnce.Do(func() { close(s.done) })
	return s.app.ShutdownWithContext(ctx)
}

// securityHeaders are set on every response. The API serves no pages, so
// the content security policy allows nothing at all.
var securityHeaders = [][2]string{
	{fiber.HeaderXContentTypeOptions, "nosniff"},
	{fiber.HeaderReferrerPolicy, "no-referrer"},
	{fiber.HeaderXFrameOptions, "DENY"},
	{fiber.HeaderContentSecurityPolicy, "default-src 'none'; frame-ancestors 'none'"},
	{fiber.HeaderCacheControl, "no-store"},
}

func setSecurityHeaders(c *fiber.Ctx) {
	for _, h := range securityHeaders {
		c.Set(h[0], h[1])
	}
}

// around wraps every request: security headers, recovery from a panic in a
// handler, one JSON error answer, and a debug log line. It never logs
// request headers, so no token reaches the log.
func (s *Server) around(c *fiber.Ctx) error {
	start := time.Now()
	setSecurityHeaders(c)
	err := s.next(c)
	if err != nil {
		if herr := s.handleError(c, err); herr != nil {
			s.log.Error("http: write error response", "err", herr)
			_ = c.SendStatus(fiber.StatusInternalServerError)
		}
	}
	if ctx := c.UserContext(); s.log.Enabled(ctx, slog.LevelDebug) {
		attrs := []slog.Attr{
			slog.String("method", c.Method()),
			slog.String("path", c.Path()),
			slog.Int("status", c.Response().StatusCode()),
			slog.Duration("duration", time.Since(start)),
		}
		if tok, ok := c.Locals(tokenKey{}).(auth.Token); ok {
			attrs = append(attrs, slog.String("token", tok.Name))
		}
		s.log.LogAttrs(ctx, slog.LevelDebug, "http: request", attrs...)
	}
	return nil
}

// next runs the rest of the chain and turns a panic into an error, so one
// bad request never takes the appliance down.
func (s *Server) next(c *fiber.Ctx) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
		}
	}()
	return c.Next()
}

// tokenKey is the c.Locals key of the authenticated auth.Token.
type tokenKey struct{}

// authenticate admits requests that carry a live API token as
// "Authorization: Bearer <token>" (RFC 6750 section 2.1).
func (s *Server) authenticate(c *fiber.Ctx) error {
	scheme, secret, _ := strings.Cut(c.Get(fiber.HeaderAuthorization), " ")
	secret = strings.TrimSpace(secret)
	if !strings.EqualFold(scheme, "Bearer") || secret == "" {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="counterdesk"`)
		return &apiError{Status: fiber.StatusUnauthorized, Code: codeUnauthorized, Message: "an API token is required: Authorization: Bearer <token>"}
	}
	if s.opts.Tokens == nil {
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="counterdesk", error="invalid_token"`)
		return &apiError{Status: fiber.StatusUnauthorized, Code: codeUnauthorized, Message: "the API token is not valid"}
	}
	tok, err := s.opts.Tokens.Check(secret)
	if errors.Is(err, auth.ErrBadToken) {
		// RFC 6750 section 3: error="invalid_token" for a token that
		// is malformed, revoked or unknown.
		c.Set(fiber.HeaderWWWAuthenticate, `Bearer realm="counterdesk", error="invalid_token"`)
		return &apiError{Status: fiber.StatusUnauthorized, Code: codeUnauthorized, Message: "the API token is not valid"}
	}
	if err != nil {
		return fmt.Errorf("check API token: %w", err)
	}
	c.Locals(tokenKey{}, tok)
	return c.Next()
}

// token returns the token that authenticated the request.
func token(c *fiber.Ctx) auth.Token {
	tok, _ := c.Locals(tokenKey{}).(auth.Token)
	return tok
}

// actor is who the Desk records for changes made with the request's token.
func actor(c *fiber.Ctx) ticket.Actor {
	return ticket.Actor{Kind: ticket.ActorAPI, Name: token(c).Name}
}

// requireAdmin refuses requests whose token is not an admin's.
func requireAdmin(c *fiber.Ctx, what string) error {
	if token(c).Role != auth.RoleAdmin {
		return &apiError{Status: fiber.StatusForbidden, Code: codeForbidden, Message: what + " needs an admin token"}
	}
	return nil
}
