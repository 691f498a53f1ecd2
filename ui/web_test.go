package ui

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// cheapHash keeps the tests fast; the format and the code path are the
// real ones.
var cheapHash = auth.HashParams{Memory: 64, Time: 1, Threads: 1}

// clock is a settable clock shared by the server and its limiters.
type fakeClock struct {
	mu stdsync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// webFixture is a server with the staff pages over a real Desk with the
// default triage rules.
type webFixture struct {
	*fixture
	users *auth.Users
	clock *fakeClock
}

func newWebFixture(t testing.TB, opts ...func(*Options)) *webFixture {
	rules, err := triage.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	desk, err := ticket.Open(t.TempDir(), ticket.Options{Triager: rules, Automator: rules})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { desk.Close() })
	users, err := auth.NewUsers(desk.DB(), auth.UsersOptions{Hash: cheapHash})
	if err != nil {
		t.Fatal(err)
	}
	tokens, err := auth.NewTokens(desk.DB())
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: time.Now()}
	logs := new(logBuffer)
	o := Options{
		Desk:       desk,
		Tokens:     tokens,
		Users:      users,
		Health:     health.New(),
		Logger:     slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Version:    "1.2.3-test",
		ShopName:   "Wingspan Models",
		Categories: []string{"repair", "order"},
		Now:        clk.Now,
	}
	for _, fn := range opts {
		fn(&o)
	}
	srv := New(o)
	f := &fixture{t: t, srv: srv, app: srv.App(), desk: desk, tokens: tokens, health: o.Health, logs: logs}
	return &webFixture{fixture: f, users: users, clock: clk}
}

// browser keeps cookies between requests, as a browser does.
type browser struct {
	f       *webFixture
	t       testing.TB
	cookies map[string]string
	ip      string
}

func (f *webFixture) browser(t testing.TB) *browser {
	return &browser{f: f, t: t, cookies: map[string]string{}, ip: "192.0.2.10"}
}

// page is an answer as a browser sees it.
type page struct {
	status   int
	header   http.Header
	body     string
	location string
}

func (b *browser) send(req *http.Request) page {
	b.t.Helper()
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	req.Header.Set("X-Forwarded-For", b.ip)
	req.RemoteAddr = b.ip + ":40000"
	for k, v := range b.cookies {
		req.AddCookie(&http.Cookie{Name: k, Value: v})
	}
	resp, err := b.f.app.Test(req, -1)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	for _, c := range resp.Cookies() {
		if c.MaxAge < 0 || (!c.Expires.IsZero() && c.Expires.Before(time.Now())) || c.Value == "" {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c.Value
		}
	}
	return page{status: resp.StatusCode, header: resp.Header, body: string(data), location: resp.Header.Get("Location")}
}

func (b *browser) get(path string) page {
	b.t.Helper()
	return b.send(httptest.NewRequest("GET", path, nil))
}

func (b *browser) post(path string, form url.Values) page {
	b.t.Helper()
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.send(req)
}

func (b *browser) postMultipart(path string, fields map[string]string, file string, data []byte) page {
	b.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	if file != "" {
		fw, _ := w.CreateFormFile("photo", file)
		fw.Write(data)
	}
	w.Close()
	req := httptest.NewRequest("POST", path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	return b.send(req)
}

var (
	csrfRE  = regexp.MustCompile(`name="csrf" value="([^"]+)"`)
	nonceRE = regexp.MustCompile(`name="nonce" value="([^"]+)"`)
	stampRE = regexp.MustCompile(`name="stamp" value="([^"]+)"`)
)

func field(t testing.TB, re *regexp.Regexp, body string) string {
	t.Helper()
	m := re.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in page:\n%s", re, body)
	}
	return m[1]
}

func (p page) want(t testing.TB, status int) page {
	t.Helper()
	if p.status != status {
		t.Fatalf("status = %d, want %d; location %q; body:\n%s", p.status, status, p.location, p.body)
	}
	return p
}

func (p page) redirect(t testing.TB, to string) {
	t.Helper()
	if p.status != http.StatusSeeOther || p.location != to {
		t.Fatalf("answer %d to %q, want 303 to %q; body:\n%s", p.status, p.location, to, p.body)
	}
}

func (p page) contains(t testing.TB, parts ...string) {
	t.Helper()
	for _, s := range parts {
		if !strings.Contains(p.body, s) {
			t.Errorf("page lacks %q:\n%s", s, p.body)
		}
	}
}

// login creates a user and returns a browser logged in as them.
func (f *webFixture) login(t testing.TB, name string, role auth.Role) *browser {
	t.Helper()
	if _, err := f.users.Create(name, role, "correct horse "+name); err != nil {
		t.Fatal(err)
	}
	b := f.browser(t)
	p := b.get("/login").want(t, 200)
	b.post("/login", url.Values{"csrf": {field(t, csrfRE, p.body)}, "name": {name}, "password": {"correct horse " + name}, "next": {"/tickets"}}).redirect(t, "/tickets")
	return b
}

// csrf returns the CSRF token of b's session, read from a page.
func (b *browser) csrf() string {
	b.t.Helper()
	return field(b.t, csrfRE, b.get("/tickets/new").want(b.t, 200).body)
}

func (f *webFixture) ingest(t testing.TB, in ticket.Inbound) uint64 {
	t.Helper()
	if in.SourceKey == "" {
		in.SourceKey = fmt.Sprintf("test:%d", time.Now().UnixNano())
	}
	res, err := f.desk.Ingest(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return res.Ticket
}

func sms(phone, body string) ticket.Inbound {
	return ticket.Inbound{Channel: ticket.ChannelSMS, From: ticket.From{Phone: phone}, Body: body}
}

func TestOnboarding(t *testing.T) {
	f := newWebFixture(t)
	b := f.browser(t)
	b.get("/").redirect(t, "/setup")
	b.get("/login").redirect(t, "/setup")
	p := b.get("/setup").want(t, 200)
	p.contains(t, "Create the first account", `name="password2"`)
	if csp := p.header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Errorf("CSP = %q", csp)
	}
	tok := field(t, csrfRE, p.body)

	// A form without the login cookie (another site's) is refused.
	other := f.browser(t)
	other.post("/setup", url.Values{"csrf": {tok}, "name": {"eve"}, "password": {"password1"}, "password2": {"password1"}}).want(t, 403)

	b.post("/setup", url.Values{"csrf": {tok}, "name": {"ann"}, "password": {"short"}, "password2": {"short"}}).want(t, 422).contains(t, "8 to 256")
	b.post("/setup", url.Values{"csrf": {tok}, "name": {"ann"}, "password": {"password1"}, "password2": {"password2"}}).want(t, 422).contains(t, "differ")
	b.post("/setup", url.Values{"csrf": {tok}, "name": {"a n n"}, "password": {"password1"}, "password2": {"password1"}}).want(t, 422)
	b.post("/setup", url.Values{"csrf": {tok}, "name": {"ann"}, "password": {"password1"}, "password2": {"password1"}}).redirect(t, "/tickets")
	if b.cookies[sessionCookie] == "" {
		t.Fatal("no session cookie after setup")
	}
	b.get("/tickets").want(t, 200).contains(t, "ann", "(admin)")
	u, err := f.users.Get("ann")
	if err != nil || u.Role != auth.RoleAdmin {
		t.Fatalf("first user = %+v, %v", u, err)
	}
	// Onboarding is gone.
	b.get("/setup").want(t, 404)
	other.get("/setup").want(t, 404)
	other.post("/setup", url.Values{"csrf": {tok}, "name": {"eve"}, "password": {"password1"}, "password2": {"password1"}}).want(t, 404)
	other.get("/").redirect(t, "/tickets")
	if list, _ := f.users.List(); len(list) != 1 {
		t.Errorf("%d users after setup", len(list))
	}
}

func TestSessionCookie(t *testing.T) {
	f := newWebFixture(t)
	f.users.Create("ann", auth.RoleAdmin, "password1")
	b := f.browser(t)
	p := b.get("/login")
	req := httptest.NewRequest("POST", "/login", strings.NewReader(url.Values{"csrf": {field(t, csrfRE, p.body)}, "name": {"ann"}, "password": {"password1"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: loginCookie, Value: b.cookies[loginCookie]})
	resp, err := f.app.Test(req, -1)
	if err != nil {
		t.Fatal(err)
	}
	var found bool
	for _, h := range resp.Header.Values("Set-Cookie") {
		if !strings.HasPrefix(h, sessionCookie+"=") {
			continue
		}
		found = true
		for _, want := range []string{"HttpOnly", "SameSite=Strict", "path=/"} {
			if !strings.Contains(h, want) {
				t.Errorf("session cookie %q lacks %s", h, want)
			}
		}
		if strings.Contains(h, "Secure") {
			t.Errorf("session cookie %q is Secure over plain HTTP", h)
		}
	}
	if !found {
		t.Fatal("no session cookie set")
	}
}

func TestLoginRequired(t *testing.T) {
	f := newWebFixture(t)
	f.users.Create("ann", auth.RoleAdmin, "password1")
	n := f.ingest(t, sms("+447700900001", "hello"))
	b := f.browser(t)
	for _, path := range []string{"/tickets", "/tickets?view=sms", "/tickets/new", fmt.Sprintf("/tickets/%d", n), "/files/abc", "/events"} {
		p := b.get(path)
		if p.status != 303 || !strings.HasPrefix(p.location, "/login?next=") {
			t.Errorf("GET %s without a session: %d to %q", path, p.status, p.location)
		}
	}
	for _, path := range []string{"/tickets/new", "/logout", "/logout-everywhere"} {
		b.post(path, url.Values{}).redirect(t, "/login?next=%2Ftickets")
	}
	for _, act := range []string{"reply", "note", "update", "archive", "delete"} {
		b.post(fmt.Sprintf("/tickets/%d/%s", n, act), url.Values{"body": {"x"}}).redirect(t, "/login?next=%2Ftickets")
	}
	// A forged cookie is no session.
	b.cookies[sessionCookie] = strings.Repeat("A", 43)
	b.get("/tickets").redirect(t, "/login?next=%2Ftickets")
	if th, _ := f.desk.Thread(n); len(th.Messages) != 1 {
		t.Errorf("%d messages: a request without a session changed the ticket", len(th.Messages))
	}
	// After login the next page is the one asked for.
	p := b.get("/login?next=/tickets/new")
	b.post("/login", url.Values{"csrf": {field(t, csrfRE, p.body)}, "name": {"ann"}, "password": {"password1"}, "next": {"/tickets/new"}}).redirect(t, "/tickets/new")
	// An outside address is not followed.
	b2 := f.browser(t)
	p = b2.get("/login")
	b2.post("/login", url.Values{"csrf": {field(t, csrfRE, p.body)}, "name": {"ann"}, "password": {"password1"}, "next": {"//evil.example/"}}).redirect(t, "/tickets")
}

func TestCSRF(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "ann", auth.RoleAgent)
	n := f.ingest(t, sms("+447700900001", "hello"))
	tok := b.csrf()
	path := fmt.Sprintf("/tickets/%d/note", n)
	b.post(path, url.Values{"body": {"no token"}}).want(t, 403)
	b.post(path, url.Values{"body": {"wrong"}, "csrf": {tok[:len(tok)-1] + "x"}}).want(t, 403).contains(t, "Reload the page")
	// Another session's token does not work either.
	other := f.login(t, "bob", auth.RoleAgent)
	b.post(path, url.Values{"body": {"other"}, "csrf": {other.csrf()}}).want(t, 403)
	b.post("/logout", url.Values{}).want(t, 403)
	b.post("/tickets/new", url.Values{"name": {"x"}}).want(t, 403)
	if th, _ := f.desk.Thread(n); len(th.Messages) != 1 {
		t.Fatalf("%d messages after refused forms", len(th.Messages))
	}
	b.post(path, url.Values{"body": {"good"}, "csrf": {tok}}).redirect(t, fmt.Sprintf("/tickets/%d#end", n))
	// The login form needs its token too.
	c := f.browser(t)
	c.get("/login")
	c.post("/login", url.Values{"name": {"ann"}, "password": {"correct horse ann"}}).want(t, 403)
}

func TestLockout(t *testing.T) {
	f := newWebFixture(t, func(o *Options) { o.LoginMaxFailures = 3; o.LoginLockout = 10 * time.Minute })
	f.users.Create("ann", auth.RoleAgent, "password1")
	b := f.browser(t)
	tok := field(t, csrfRE, b.get("/login").body)
	try := func(b *browser, name, pw string) page {
		return b.post("/login", url.Values{"csrf": {tok}, "name": {name}, "password": {pw}})
	}
	for range 3 {
		try(b, "ann", "wrong-password").want(t, 401).contains(t, "Wrong user name or password")
	}
	// Locked: even the right password is refused, from anywhere.
	try(b, "ann", "password1").want(t, 429).contains(t, "Too many failed logins")
	c := f.browser(t)
	c.ip = "192.0.2.99"
	tok2 := field(t, csrfRE, c.get("/login").body)
	p := c.post("/login", url.Values{"csrf": {tok2}, "name": {"ann"}, "password": {"password1"}}).want(t, 429)
	if p.header.Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
	if !strings.Contains(f.logs.String(), "locked out") {
		t.Error("the lockout was not logged")
	}
	f.clock.Add(11 * time.Minute)
	try(b, "ann", "password1").redirect(t, "/tickets")

	// Per address: many names from one address lock the address.
	d := f.browser(t)
	d.ip = "198.51.100.7"
	tok3 := field(t, csrfRE, d.get("/login").body)
	for i := range 12 {
		d.post("/login", url.Values{"csrf": {tok3}, "name": {fmt.Sprintf("guess%d", i)}, "password": {"x"}}).want(t, 401)
	}
	d.post("/login", url.Values{"csrf": {tok3}, "name": {"ann"}, "password": {"password1"}}).want(t, 429)
}

func TestLogoutEverywhere(t *testing.T) {
	f := newWebFixture(t)
	a := f.login(t, "ann", auth.RoleAgent)
	b := f.browser(t)
	tok := field(t, csrfRE, b.get("/login").body)
	b.post("/login", url.Values{"csrf": {tok}, "name": {"ann"}, "password": {"correct horse ann"}}).redirect(t, "/tickets")
	bob := f.login(t, "bob", auth.RoleAgent)

	a.post("/logout", url.Values{"csrf": {a.csrf()}}).redirect(t, "/login")
	a.get("/tickets").redirect(t, "/login?next=%2Ftickets")
	b.get("/tickets").want(t, 200)

	c := f.browser(t)
	tok = field(t, csrfRE, c.get("/login").body)
	c.post("/login", url.Values{"csrf": {tok}, "name": {"ann"}, "password": {"correct horse ann"}}).redirect(t, "/tickets")
	c.post("/logout-everywhere", url.Values{"csrf": {c.csrf()}}).redirect(t, "/login")
	b.get("/tickets").redirect(t, "/login?next=%2Ftickets")
	c.get("/tickets").redirect(t, "/login?next=%2Ftickets")
	bob.get("/tickets").want(t, 200)
}

func TestDeleteAdminOnly(t *testing.T) {
	f := newWebFixture(t)
	agent := f.login(t, "till", auth.RoleAgent)
	admin := f.login(t, "boss", auth.RoleAdmin)
	n := f.ingest(t, sms("+447700900001", "delete me"))
	path := fmt.Sprintf("/tickets/%d/delete", n)

	p := agent.get("/tickets").want(t, 200)
	if strings.Contains(p.body, path) {
		t.Error("the list offers an agent the delete action")
	}
	agent.post(path, url.Values{"csrf": {agent.csrf()}}).want(t, 403).contains(t, "Only an admin")
	if tk, _ := f.desk.Get(n); tk.Deleted {
		t.Fatal("an agent deleted a ticket")
	}
	admin.get("/tickets").contains(t, path)
	admin.post(path, url.Values{"csrf": {admin.csrf()}, "back": {"/tickets?view=sms"}}).redirect(t, "/tickets?view=sms")
	if tk, _ := f.desk.Get(n); !tk.Deleted {
		t.Fatal("the admin's delete did not happen")
	}
	th, _ := f.desk.Thread(n)
	if last := th.Events[len(th.Events)-1]; last.Action != "delete" || last.Actor.Name != "boss" {
		t.Errorf("last event %+v, want a delete by boss", last)
	}
	agent.get(fmt.Sprintf("/tickets/%d", n)).want(t, 404)
	admin.get(fmt.Sprintf("/tickets/%d", n)).want(t, 200).contains(t, "deleted")
	admin.post(path, url.Values{"csrf": {admin.csrf()}}).want(t, 404)
}

func TestArchive(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	n := f.ingest(t, sms("+447700900001", "archive me"))
	b.post(fmt.Sprintf("/tickets/%d/archive", n), url.Values{"csrf": {b.csrf()}, "back": {"//evil.example"}}).redirect(t, "/tickets")
	if tk, _ := f.desk.Get(n); tk.Status != ticket.StatusArchived {
		t.Fatalf("status %s", tk.Status)
	}
	b.get("/tickets?view=archived").contains(t, fmt.Sprintf(`id="t-%d"`, n))
	// Archiving again changes nothing and is no error.
	b.post(fmt.Sprintf("/tickets/%d/archive", n), url.Values{"csrf": {b.csrf()}}).redirect(t, "/tickets")
	b.post("/tickets/9999/archive", url.Values{"csrf": {b.csrf()}}).want(t, 404)
}

func TestTicketList(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	f.login(t, "sam", auth.RoleAgent)
	ctx := context.Background()
	nSMS := f.ingest(t, sms("+447700900001", "Where is my order?"))
	nMail := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelEmail, From: ticket.From{Name: "Jo Flyer", Email: "jo@example.com"}, Subject: "Broken propeller", Body: "The prop snapped."})
	nVM := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelVoicemail, From: ticket.From{Phone: "+447700900003"}, Transcript: "call me back"})
	urgent := ticket.PriorityUrgent
	mine := "till"
	if _, err := f.desk.Update(ctx, ticket.Staff("till"), nMail, ticket.Patch{Priority: &urgent, Assignee: &mine, AddTags: []string{"glider"}}); err != nil {
		t.Fatal(err)
	}
	spam := ticket.StatusSpam
	if _, err := f.desk.Update(ctx, ticket.Staff("till"), nVM, ticket.Patch{Status: &spam}); err != nil {
		t.Fatal(err)
	}
	row := func(n uint64) string { return fmt.Sprintf(`id="t-%d"`, n) }
	for _, tc := range []struct {
		query   string
		in, out []uint64
	}{
		{"", []uint64{nSMS, nMail, nVM}, nil},
		{"?view=mine", []uint64{nMail}, []uint64{nSMS, nVM}},
		{"?view=unassigned", []uint64{nSMS, nVM}, []uint64{nMail}},
		{"?view=urgent", []uint64{nMail}, []uint64{nSMS}},
		{"?view=sms", []uint64{nSMS}, []uint64{nMail, nVM}},
		{"?view=email", []uint64{nMail}, []uint64{nSMS}},
		{"?view=voicemail", []uint64{nVM}, []uint64{nSMS}},
		{"?view=spam", []uint64{nVM}, []uint64{nSMS, nMail}},
		{"?view=archived", nil, []uint64{nSMS, nMail, nVM}},
		{"?view=after-hours", nil, nil},
		{"?status=spam", []uint64{nVM}, []uint64{nSMS}},
		{"?assignee=till", []uint64{nMail}, []uint64{nSMS}},
		{"?assignee=none", []uint64{nSMS}, []uint64{nMail}},
		{"?priority=urgent", []uint64{nMail}, []uint64{nSMS}},
		{"?tag=glider", []uint64{nMail}, []uint64{nSMS}},
		{"?q=propeller", []uint64{nMail}, []uint64{nSMS}},
		{"?q=order", []uint64{nSMS}, []uint64{nMail}},
		{"?view=sms&status=spam", nil, []uint64{nSMS, nVM}},
		{"?team=nobody", nil, []uint64{nSMS, nMail}},
		{"?category=nothing", nil, []uint64{nSMS, nMail}},
	} {
		p := b.get("/tickets"+tc.query).want(t, 200)
		for _, n := range tc.in {
			if !strings.Contains(p.body, row(n)) {
				t.Errorf("%s: #%d missing", tc.query, n)
			}
		}
		for _, n := range tc.out {
			if strings.Contains(p.body, row(n)) {
				t.Errorf("%s: #%d listed", tc.query, n)
			}
		}
	}
	p := b.get("/tickets")
	p.contains(t, "Jo Flyer", "Broken propeller", "&#43;447700900001", `href="#i-email"`, `href="#i-sms"`, `href="#i-voicemail"`,
		"pr-urgent", fmt.Sprintf(`/tickets/%d#reply`, nSMS), fmt.Sprintf(`/tickets/%d/archive`, nSMS), `data-events="/events"`)
	for _, bad := range []string{"?view=nope", "?status=nope", "?priority=nope", "?tag=%20%21", "?cursor=%21%21"} {
		b.get("/tickets"+bad).want(t, 400)
	}
}

func TestTicketListPages(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	for i := range ticket.DefaultPageSize + 5 {
		f.ingest(t, sms(fmt.Sprintf("+4477009%05d", i), fmt.Sprintf("request %d", i)))
	}
	p := b.get("/tickets?view=sms").want(t, 200)
	next := regexp.MustCompile(`href="(/tickets\?[^"]*cursor=[^"]+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatalf("no next link")
	}
	if n := strings.Count(p.body, `<tr id="t-`); n != ticket.DefaultPageSize {
		t.Errorf("first page has %d rows", n)
	}
	link := strings.ReplaceAll(next[1], "&amp;", "&")
	if !strings.Contains(link, "view=sms") {
		t.Errorf("next link %q loses the view", link)
	}
	p = b.get(link).want(t, 200)
	if n := strings.Count(p.body, `<tr id="t-`); n != 5 {
		t.Errorf("second page has %d rows", n)
	}
	if strings.Contains(p.body, `rel="next"`) || strings.Contains(p.body, "data-events") {
		t.Error("the last page has a next link or a live feed")
	}
}

func TestThreadPage(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	f.login(t, "sam", auth.RoleAgent)
	n := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: ticket.From{Phone: "+447700900001", Name: "Kim"}, Body: "My glider is broken, order 12345"})
	path := fmt.Sprintf("/tickets/%d", n)
	p := b.get(path).want(t, 200)
	p.contains(t, "My glider is broken", "Kim", "&#43;447700900001", "triage", `class="rule"`, `id="reply"`, `name="status"`)
	if strings.Contains(p.body, "/delete") {
		t.Error("an agent sees the delete button")
	}
	tok := field(t, csrfRE, p.body)

	// Reply and resolve in one action.
	b.post(path+"/reply", url.Values{"csrf": {tok}, "body": {"It is fixed, come by."}, "status": {"resolved"}}).redirect(t, path+"#end")
	tk, _ := f.desk.Get(n)
	if tk.Status != ticket.StatusResolved {
		t.Errorf("status %s after reply and resolve", tk.Status)
	}
	p = b.get(path)
	p.contains(t, "It is fixed, come by.", "dl-queued", "replied by SMS")

	// An empty reply is refused on the page, keeping nothing lost.
	b.post(path+"/reply", url.Values{"csrf": {tok}, "body": {"  "}}).want(t, 422).contains(t, "body: is required")
	// A status the state machine refuses is shown.
	b.post(path+"/reply", url.Values{"csrf": {tok}, "body": {"again"}, "status": {"pending"}}).want(t, 422).contains(t, "cannot go from resolved to pending", "again")
	b.post(path+"/reply", url.Values{"csrf": {tok}, "body": {"x"}, "status": {"bogus"}}).want(t, 400)

	b.post(path+"/note", url.Values{"csrf": {tok}, "body": {"Checked the stock."}}).redirect(t, path+"#end")
	b.get(path).contains(t, "Checked the stock.", "internal note")

	b.post(path+"/update", url.Values{"csrf": {tok}, "assignee": {"sam"}, "status": {"open"}, "priority": {"high"}, "tags": {"Glider, repair"}}).redirect(t, path)
	tk, _ = f.desk.Get(n)
	if tk.Assignee != "sam" || tk.Status != ticket.StatusOpen || tk.Priority != ticket.PriorityHigh || strings.Join(tk.Tags, ",") != "glider,repair" {
		t.Errorf("after update: %+v", tk)
	}
	b.post(path+"/update", url.Values{"csrf": {tok}, "assignee": {""}, "tags": {"repair"}}).redirect(t, path)
	tk, _ = f.desk.Get(n)
	if tk.Assignee != "" || strings.Join(tk.Tags, ",") != "repair" {
		t.Errorf("after unassign and untag: %+v", tk)
	}
	b.post(path+"/update", url.Values{"csrf": {tok}, "assignee": {"nobody-here"}}).want(t, 422).contains(t, "There is no user")
	b.post(path+"/update", url.Values{"csrf": {tok}, "tags": {"!!"}}).want(t, 422)
	b.post(path+"/update", url.Values{"csrf": {tok}, "priority": {"bogus"}}).want(t, 400)

	b.get("/tickets/99999").want(t, 404)
	b.get("/tickets/abc").want(t, 404)
	b.post("/tickets/99999/note", url.Values{"csrf": {tok}, "body": {"x"}}).want(t, 404)
}

func TestHTMLEscaping(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	evil := `<script>alert("x")</script><img src=x onerror=alert(1)><b>bold</b>`
	n := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelEmail, From: ticket.From{Name: `<i>Mallory</i>`, Email: "m@example.com"}, Subject: evil, Body: evil})
	for _, path := range []string{fmt.Sprintf("/tickets/%d", n), "/tickets"} {
		p := b.get(path).want(t, 200)
		for _, raw := range []string{"<script>alert", "<img src=x", "<b>bold", "<i>Mallory"} {
			if strings.Contains(p.body, raw) {
				t.Errorf("%s: %q is in the page unescaped", path, raw)
			}
		}
		p.contains(t, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
		if strings.Count(p.body, "<script") != 1 {
			t.Errorf("%s: a script element besides app.js", path)
		}
	}
}

func TestVoicemailAudio(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	wav := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), bytes.Repeat([]byte{1}, 100)...)
	n := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelVoicemail, From: ticket.From{Phone: "+447700900001"},
		Transcript: "Hi, it is about my order", Attachments: []ticket.NewAttachment{{Name: "voicemail.wav", ContentType: "audio/wav", Data: wav}}})
	th, _ := f.desk.Thread(n)
	id := th.Messages[0].Attachments[0].ID
	p := b.get(fmt.Sprintf("/tickets/%d", n)).want(t, 200)
	p.contains(t, fmt.Sprintf(`<audio controls preload="metadata" src="/files/%s">`, id), "Transcript:", "Hi, it is about my order")

	req := httptest.NewRequest("GET", "/files/"+id, nil)
	req.Header.Set("Range", "bytes=4-11")
	r := b.send(req).want(t, 206)
	if r.body != "\x24\x00\x00\x00WAVE" || r.header.Get("Content-Range") != fmt.Sprintf("bytes 4-11/%d", len(wav)) {
		t.Errorf("range answer %q, Content-Range %q", r.body, r.header.Get("Content-Range"))
	}
	if r.header.Get("Content-Type") != "audio/wav" {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
	if b.get("/files/"+id).want(t, 200).body != string(wav) {
		t.Error("whole file differs")
	}
	req = httptest.NewRequest("GET", "/files/"+id, nil)
	req.Header.Set("Range", "bytes=5000-")
	b.send(req).want(t, 416)
	b.get("/files/"+strings.Repeat("ab", 32)).want(t, 404)
}

func TestStaffEnteredTicket(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	p := b.get("/tickets/new").want(t, 200)
	form := url.Values{"csrf": {field(t, csrfRE, p.body)}, "nonce": {field(t, nonceRE, p.body)},
		"name": {"Walk-in Pat"}, "phone": {"07700 900123"}, "subject": {"Servo question"}, "body": {"Asked about servos"}, "priority": {"high"}}
	r := b.post("/tickets/new", form)
	if r.status != 303 || !strings.HasPrefix(r.location, "/tickets/") {
		t.Fatalf("create: %d %q\n%s", r.status, r.location, r.body)
	}
	// Sent twice, one ticket.
	again := b.post("/tickets/new", form)
	if again.location != r.location {
		t.Errorf("second submit went to %q, first to %q", again.location, r.location)
	}
	if c, _ := f.desk.Count(); c != 1 {
		t.Errorf("%d tickets", c)
	}
	page := b.get(r.location).want(t, 200)
	page.contains(t, "Servo question", "Asked about servos", "Staff-entered", "&#43;447700900123", "entered_by: till")
	page2 := b.get("/tickets?view=all")
	page2.contains(t, "pr-high")

	bad := url.Values{"csrf": {form.Get("csrf")}, "nonce": {field(t, nonceRE, b.get("/tickets/new").body)}, "subject": {"no contact"}}
	b.post("/tickets/new", bad).want(t, 422).contains(t, "phone number or email")
	bad.Set("phone", "not a phone")
	b.post("/tickets/new", bad).want(t, 422).contains(t, "The phone number is not valid", "no contact")
	bad.Set("nonce", "short")
	b.post("/tickets/new", bad).want(t, 400)
}

func TestCounterForm(t *testing.T) {
	f := newWebFixture(t, func(o *Options) { o.CounterRate = 4; o.MaxPhotoBytes = 1000 })
	b := f.browser(t)
	form := func() map[string]string {
		p := b.get("/counter").want(t, 200)
		p.contains(t, `<option>repair</option>`, `name="website"`, `enctype="multipart/form-data"`)
		return map[string]string{"nonce": field(t, nonceRE, p.body), "stamp": field(t, stampRE, p.body),
			"name": "Alex", "email": "alex@example.com", "subject": "Wing repair", "message": "Cracked wing", "category": "repair"}
	}
	fields := form()
	// Too fast for a person.
	b.postMultipart("/counter", fields, "", nil).want(t, 400).contains(t, "That was quick", "Cracked wing")
	f.clock.Add(5 * time.Second)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0}, 50)...)
	p := b.postMultipart("/counter", fields, "part.png", png).want(t, 200)
	m := regexp.MustCompile(`We received your request #(\d+)\.`).FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no confirmation:\n%s", p.body)
	}
	// A double submit gives the same ticket.
	b.postMultipart("/counter", fields, "part.png", png).want(t, 200).contains(t, m[0])
	if c, _ := f.desk.Count(); c != 1 {
		t.Fatalf("%d tickets after a double submit", c)
	}
	var num uint64
	fmt.Sscan(m[1], &num)
	th, _ := f.desk.Thread(num)
	if th.Ticket.Channel != ticket.ChannelWebForm || len(th.Messages[0].Attachments) != 1 || th.Messages[0].Meta["category"] != "repair" ||
		th.Messages[0].Attachments[0].ContentType != "image/png" {
		t.Errorf("ticket %+v message %+v", th.Ticket, th.Messages[0])
	}

	fields = form()
	f.clock.Add(5 * time.Second)
	bad := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range fields {
			m[a] = b
		}
		m[k] = v
		return m
	}
	b.postMultipart("/counter", bad("website", "http://spam.example"), "", nil).want(t, 400)
	f.clock.Add(time.Hour) // a fresh rate window
	noContact := bad("email", "")
	b.postMultipart("/counter", noContact, "", nil).want(t, 422).contains(t, "phone number or an email address")
	b.postMultipart("/counter", bad("email", "not-an-address"), "", nil).want(t, 422).contains(t, "The email address is not valid")
	b.postMultipart("/counter", bad("category", "other"), "", nil).want(t, 422)
	b.postMultipart("/counter", bad("stamp", "1.forged"), "", nil).want(t, 400).contains(t, "expired")
	b.postMultipart("/counter", fields, "big.png", append(png, bytes.Repeat([]byte{0}, 1000)...)).want(t, 422).contains(t, "too large")
	b.postMultipart("/counter", fields, "x.png", []byte("#!/bin/sh\necho hi\n")).want(t, 422).contains(t, "must be a photo")
	if c, _ := f.desk.Count(); c != 1 {
		t.Fatalf("%d tickets after refused forms", c)
	}
	// The rate limit per address.
	for i := range 4 {
		fs := form()
		f.clock.Add(5 * time.Second)
		fs["email"] = fmt.Sprintf("a%d@example.com", i)
		b.postMultipart("/counter", fs, "", nil).want(t, 200)
	}
	fs := form()
	f.clock.Add(5 * time.Second)
	b.postMultipart("/counter", fs, "", nil).want(t, 429)
	other := f.browser(t)
	other.ip = "203.0.113.5"
	other.get("/counter").want(t, 200)
}

func TestStaticAssets(t *testing.T) {
	f := newWebFixture(t)
	b := f.browser(t)
	for path, ct := range map[string]string{"/static/app.js": "javascript", "/static/app.css": "text/css"} {
		p := b.get(path).want(t, 200)
		if !strings.Contains(p.header.Get("Content-Type"), ct) {
			t.Errorf("%s: Content-Type %q", path, p.header.Get("Content-Type"))
		}
	}
	b.get("/static/nope.js").want(t, 404)
	b.get("/static/../web.go").want(t, 404)
	// The API keeps answering JSON, and the pages are HTML with their
	// own policy.
	f.do("GET", "/nothing", "", nil).wantError(t, 404, "not_found")
	p := b.get("/nothing").want(t, 404)
	if !strings.HasPrefix(p.header.Get("Content-Type"), "text/html") || p.header.Get("Content-Security-Policy") != pageCSP {
		t.Errorf("HTML 404: %v", p.header)
	}
}

// The system page shows each part's state, problems first, with what it
// reported escaped.
func TestSystemPage(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	f.health.Set("store", health.OK, "3 tickets")
	f.health.Set("modem", health.Disabled, "no modem found")
	f.health.Fail("sip", health.Down, fmt.Errorf("registrar answered 403 %s", "<b>Forbidden</b>"))
	p := b.get("/system").want(t, 200)
	p.contains(t, "Something needs a look", "registrar answered 403 &lt;b&gt;Forbidden&lt;/b&gt;", `class="state-down"`, "no modem found", `aria-current="page">System`)
	if strings.Index(p.body, "state-down") > strings.Index(p.body, "state-ok") {
		t.Error("a part that is down is not listed first")
	}
	// Signed out, the page asks for a login.
	if r := f.do("GET", "/system", "", nil, "Accept", "text/html"); r.status != 303 && r.status != 302 {
		t.Errorf("signed out: status %d", r.status)
	}
}

// An admin adds staff, resets a password (which signs the person out),
// makes an API token whose secret is shown once and works, and revokes it.
// An agent cannot reach any of it, and a form without the CSRF token does
// nothing.
func TestPeoplePage(t *testing.T) {
	f := newWebFixture(t)
	admin := f.login(t, "ana", auth.RoleAdmin)
	agent := f.login(t, "bob", auth.RoleAgent)
	agent.get("/admin/people").want(t, 403)
	if p := agent.get("/tickets").want(t, 200); strings.Contains(p.body, "/admin/people") {
		t.Error("an agent sees the staff link")
	}
	tok := admin.csrf()

	// Without the CSRF token nothing happens.
	admin.post("/admin/users", url.Values{"name": {"eve"}, "role": {"admin"}, "password": {"long enough pw"}, "password2": {"long enough pw"}}).want(t, 403)
	if _, err := f.users.Get("eve"); err == nil {
		t.Fatal("a form without the CSRF token added an account")
	}
	// An agent's form is refused even with its own token.
	agent.post("/admin/users", url.Values{"csrf": {agent.csrf()}, "name": {"eve"}, "role": {"admin"}, "password": {"long enough pw"}, "password2": {"long enough pw"}}).want(t, 403)

	// Bad input is explained and changes nothing.
	p := admin.post("/admin/users", url.Values{"csrf": {tok}, "name": {"cem"}, "role": {"agent"}, "password": {"long enough pw"}, "password2": {"other"}}).want(t, 422)
	p.contains(t, "The two passwords differ.", `value="cem"`)
	admin.post("/admin/users", url.Values{"csrf": {tok}, "name": {"<x>"}, "role": {"agent"}, "password": {"long enough pw"}, "password2": {"long enough pw"}}).want(t, 422).contains(t, "The name must be", "&lt;x&gt;")
	admin.post("/admin/users", url.Values{"csrf": {tok}, "name": {"bob"}, "role": {"agent"}, "password": {"long enough pw"}, "password2": {"long enough pw"}}).want(t, 409)

	admin.post("/admin/users", url.Values{"csrf": {tok}, "name": {"cem"}, "role": {"agent"}, "password": {"long enough pw"}, "password2": {"long enough pw"}}).redirect(t, "/admin/people?done=user")
	if u, err := f.users.Get("cem"); err != nil || u.Role != auth.RoleAgent {
		t.Fatalf("cem = %+v, %v", u, err)
	}
	admin.get("/admin/people?done=user").want(t, 200).contains(t, "The account was added.", ">cem<")

	// A new password for bob signs bob out.
	admin.post("/admin/users/bob/password", url.Values{"csrf": {tok}, "password": {"another long one"}, "password2": {"another long one"}}).redirect(t, "/admin/people?done=password")
	if _, err := f.users.Authenticate("bob", "another long one"); err != nil {
		t.Errorf("bob's new password: %v", err)
	}
	if r := agent.get("/tickets"); r.status != 303 {
		t.Errorf("bob still signed in after the reset: %d", r.status)
	}

	// A token: its secret is on the page once, and it works on the API.
	p = admin.post("/admin/tokens", url.Values{"csrf": {tok}, "name": {"prometheus"}, "role": {"agent"}}).want(t, 200)
	secret := field(t, regexp.MustCompile(`<code class="secret">([^<]+)</code>`), p.body)
	f.do("GET", "/metrics", secret, nil).wantStatus(t, 200)
	if strings.Contains(f.logs.String(), secret) {
		t.Error("the token's secret reached the log")
	}
	if p := admin.get("/admin/people").want(t, 200); strings.Contains(p.body, secret) || !strings.Contains(p.body, "prometheus") {
		t.Error("the secret is shown again, or the token is not listed")
	}
	admin.post("/admin/tokens/prometheus/revoke", url.Values{"csrf": {tok}}).redirect(t, "/admin/people?done=revoked")
	f.do("GET", "/metrics", secret, nil).wantStatus(t, 401)
	admin.post("/admin/tokens/nope/revoke", url.Values{"csrf": {tok}}).want(t, 404)
}

// A parked delivery shows on the system page with its error, and an admin
// can put it back in the queue from there; an agent cannot.
func TestSystemPageParkedRetry(t *testing.T) {
	f := newWebFixture(t)
	admin := f.login(t, "ana", auth.RoleAdmin)
	agent := f.login(t, "bob", auth.RoleAgent)
	n := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: ticket.From{Phone: "+447700900001"}, Body: "Is the Bixler back in stock?"})
	if _, err := f.desk.Reply(context.Background(), ticket.Staff("ana"), n, ticket.Reply{Body: "Yes, since Monday."}); err != nil {
		t.Fatal(err)
	}
	rows, err := f.desk.Claim(ticket.DeliverKind(ticket.RouteSMS), 1)
	if err != nil || len(rows) != 1 {
		t.Fatalf("claim: %v %v", rows, err)
	}
	if err := f.desk.Fail(rows[0].ID, rows[0].Lease, ticket.Permanent(fmt.Errorf("the SIM has no credit %s", "<b>"))); err != nil {
		t.Fatal(err)
	}
	p := admin.get("/system").want(t, 200)
	p.contains(t, "1 parked after failing", "the SIM has no credit &lt;b&gt;", fmt.Sprintf(`action="/system/outbox/%d/retry"`, rows[0].ID), "Database", "free of")
	if strings.Contains(agent.get("/system").want(t, 200).body, "/retry") {
		t.Error("an agent sees the retry button")
	}
	path := fmt.Sprintf("/system/outbox/%d/retry", rows[0].ID)
	agent.post(path, url.Values{"csrf": {agent.csrf()}}).want(t, 403)
	admin.post(path, url.Values{}).want(t, 403) // no CSRF token
	admin.post(path, url.Values{"csrf": {admin.csrf()}}).redirect(t, "/system")
	if st, _ := f.desk.OutboxStats(); st.Dead != 0 || st.Pending != 1 {
		t.Errorf("after the retry: %+v", st)
	}
}

// Times on the pages are in the shop's zone, not the server's.
func TestClockInShopZone(t *testing.T) {
	at := time.Date(2026, 11, 22, 23, 30, 0, 0, time.UTC)
	if got := clock(at, time.FixedZone("TRT", 3*3600)); got != "23 Nov 2026 02:30" {
		t.Errorf("clock = %q", got)
	}
	if clock(time.Time{}, time.UTC) != "" {
		t.Error("a zero time is shown")
	}
	f := newWebFixture(t, func(o *Options) { o.Location = time.FixedZone("TRT", 3*3600) })
	if f.srv.opts.Location.String() != "TRT" {
		t.Errorf("location %v", f.srv.opts.Location)
	}
}

func TestThreadPageLinksCloudCopies(t *testing.T) {
	f := newWebFixture(t, func(o *Options) {
		o.RemoteLink = func(target, id string) string {
			switch target {
			case "zendesk":
				return "https://wingspan.zendesk.com/agent/tickets/" + id
			case "evil":
				return "javascript:alert(1)"
			}
			return ""
		}
	})
	b := f.login(t, "till", auth.RoleAgent)
	n := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: ticket.From{Phone: "+447700900001"}, Body: "Servo buzzing"})
	for target, id := range map[string]string{"zendesk": "4711", "webhook": "0b9f-uuid", "evil": "666"} {
		if err := f.desk.SetRemote(context.Background(), ticket.Actor{Kind: ticket.ActorRemote, Name: target}, n, target, id); err != nil {
			t.Fatal(err)
		}
	}
	p := b.get(fmt.Sprintf("/tickets/%d", n)).want(t, 200)
	p.contains(t, "Copies in the cloud", `<a href="https://wingspan.zendesk.com/agent/tickets/4711" rel="noopener noreferrer" target="_blank">4711</a>`,
		"webhook: 0b9f-uuid", "copied to zendesk")
	if strings.Contains(p.body, "javascript:") {
		t.Error("a target's link reached the page unescaped")
	}
}
