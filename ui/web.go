package ui

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"mime"
	"path"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// webFS holds the staff pages' templates and static assets. The UI must
// work with no internet, so nothing is loaded from elsewhere.
//
//go:embed web/templates/*.html web/static/*
var webFS embed.FS

// pageCSP is the content security policy of the HTML pages: scripts,
// styles and media only from the appliance itself, no inline script or
// style, and no framing.
const pageCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self'; " +
	"frame-ancestors 'none'; form-action 'self'; base-uri 'none'"

// templates are the parsed pages, by name ("tickets", "thread", ...).
// Each is the layout with the page's own "title" and "content".
type templates map[string]*template.Template

func parseTemplates(loc *time.Location) (templates, error) {
	funcs := template.FuncMap{
		"ago":          ago,
		"due":          due,
		"dueClass":     dueClass,
		"clock":        func(t time.Time) string { return clock(t, loc) },
		"channelLabel": channelLabel,
		"contactLabel": contactLabel,
		"isAudio":      func(ct string) bool { return strings.HasPrefix(ct, "audio/") },
		"isImage":      func(ct string) bool { return strings.HasPrefix(ct, "image/") },
		"join":         strings.Join,
		"statuses":     func() []ticket.Status { return ticket.Statuses },
		"priorities":   func() []ticket.Priority { return ticket.Priorities },
		"channels":     func() []ticket.Channel { return ticket.Channels },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(webFS, "web/templates/layout.html", "web/templates/parts.html")
	if err != nil {
		return nil, fmt.Errorf("ui: parse layout: %w", err)
	}
	pages, err := fs.Glob(webFS, "web/templates/page_*.html")
	if err != nil {
		return nil, err
	}
	out := make(templates)
	for _, p := range pages {
		t, err := template.Must(base.Clone()).ParseFS(webFS, p)
		if err != nil {
			return nil, fmt.Errorf("ui: parse %s: %w", p, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(path.Base(p), "page_"), ".html")
		out[name] = t
	}
	return out, nil
}

// view is what every page template gets.
type view struct {
	Title    string
	Shop     string
	User     *auth.User // nil on public pages
	CSRF     string     // the session's CSRF token, or the login form's
	Error    string
	Nav      string // the active item of the navigation
	Data     any
	Now      time.Time
	IsAdmin  bool
	Version  string
	BodyAttr string // the page's name, for the script
}

// render writes page name with status.
func (s *Server) render(c *fiber.Ctx, status int, name string, v view) error {
	t, ok := s.pages[name]
	if !ok {
		return fmt.Errorf("ui: no page %q", name)
	}
	if st := staff(c); st != nil {
		v.User = &st.user
		v.CSRF = st.session.CSRF
		v.IsAdmin = st.user.Role == auth.RoleAdmin
	}
	v.Shop = s.opts.ShopName
	v.Version = s.opts.Version
	v.BodyAttr = name
	if v.Now.IsZero() {
		v.Now = s.now()
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		return fmt.Errorf("ui: render %s: %w", name, err)
	}
	setPageHeaders(c)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(buf.Bytes())
}

func setPageHeaders(c *fiber.Ctx) {
	setSecurityHeaders(c)
	c.Set(fiber.HeaderContentSecurityPolicy, pageCSP)
}

// pageError is an error answer a person reads.
type pageError struct {
	Status  int
	Message string
}

func (e *pageError) Error() string { return e.Message }

func httpError(status int, format string, args ...any) *pageError {
	return &pageError{Status: status, Message: fmt.Sprintf(format, args...)}
}

// wantsHTML reports whether an error for c should be a page rather than
// JSON: a browser asked for a page outside the API.
func wantsHTML(c *fiber.Ctx) bool {
	p := c.Path()
	if strings.HasPrefix(p, "/api/") || p == "/healthz" {
		return false
	}
	return strings.Contains(c.Get(fiber.HeaderAccept), "text/html")
}

// renderError answers with the error page.
func (s *Server) renderError(c *fiber.Ctx, e *apiError) error {
	c.Response().ResetBody()
	msg := e.Message
	if e.Status >= 500 {
		msg = "Something went wrong on the appliance. The error is in its log."
		if e.Code == codeUnavailable {
			msg = e.Message
		}
	}
	return s.render(c, e.Status, "error", view{Title: fmt.Sprintf("Error %d", e.Status), Error: msg})
}

// serveStatic serves an embedded asset.
func (s *Server) serveStatic(c *fiber.Ctx) error {
	name := path.Clean("/" + c.Params("*"))
	data, err := webFS.ReadFile("web/static" + name)
	if err != nil {
		return httpError(fiber.StatusNotFound, "no such file")
	}
	ct := mime.TypeByExtension(path.Ext(name))
	if ct == "" {
		ct = fiber.MIMEOctetStream
	}
	setPageHeaders(c)
	c.Set(fiber.HeaderContentType, ct)
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(data)
}

// Template helpers.

// ago says how long ago t was, in the largest whole unit: "5m", "3h", "2d".
func ago(now, t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return shortDuration(now.Sub(t))
}

func shortDuration(d time.Duration) string {
	if d < 0 {
		d = -d
	}
	switch {
	case d < time.Minute:
		return "now"
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d/time.Hour))
	}
	return fmt.Sprintf("%dd", int(d/(24*time.Hour)))
}

// slaDue is the next service-level target of tk: the first response
// while none was given, then the resolution while the ticket is worked.
func slaDue(tk *ticket.Ticket) time.Time {
	if !tk.Status.Active() {
		return time.Time{}
	}
	if tk.FirstResponseAt.IsZero() && !tk.FirstResponseDue.IsZero() {
		return tk.FirstResponseDue
	}
	return tk.ResolutionDue
}

// due says when the next target of tk falls: "in 3h" or "3h late".
func due(now time.Time, tk ticket.Ticket) string {
	d := slaDue(&tk)
	if d.IsZero() {
		return ""
	}
	if now.After(d) {
		return shortDuration(now.Sub(d)) + " late"
	}
	return "in " + shortDuration(d.Sub(now))
}

func dueClass(now time.Time, tk ticket.Ticket) string {
	d := slaDue(&tk)
	switch {
	case d.IsZero():
		return ""
	case now.After(d):
		return "late"
	case d.Sub(now) < time.Hour:
		return "soon"
	}
	return ""
}

// clock writes t in the shop's time zone.
func clock(t time.Time, loc *time.Location) string {
	if t.IsZero() {
		return ""
	}
	return t.In(loc).Format("2 Jan 2006 15:04")
}

var channelLabels = map[ticket.Channel]string{
	ticket.ChannelVoicemail:  "Voicemail",
	ticket.ChannelMissedCall: "Missed call",
	ticket.ChannelSMS:        "SMS",
	ticket.ChannelWebForm:    "Web form",
	ticket.ChannelEmail:      "Email",
	ticket.ChannelStaff:      "Staff-entered",
	ticket.ChannelAPI:        "API",
	ticket.ChannelCloud:      "Cloud",
}

func channelLabel(ch ticket.Channel) string {
	if l, ok := channelLabels[ch]; ok {
		return l
	}
	return string(ch)
}

func contactLabel(c ticket.Contact) string {
	switch {
	case c.Name != "":
		return c.Name
	case len(c.Phones) > 0:
		return c.Phones[0]
	case len(c.Emails) > 0:
		return c.Emails[0]
	}
	return ""
}
