package ui

import (
	"errors"
	"fmt"
	"math"
	"net/url"
	"strings"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// Cookie names. The login cookie carries the CSRF token of the login and
// setup forms, which come before any session.
const (
	sessionCookie = "counterdesk_session"
	loginCookie   = "counterdesk_login"
)

// staffKey is the c.Locals key of the logged-in *staffCtx.
type staffKey struct{}

// staffCtx is the session and user of a logged-in request.
type staffCtx struct {
	id      string
	session auth.Session
	user    auth.User
}

// staff returns the logged-in user of c, or nil.
func staff(c *fiber.Ctx) *staffCtx {
	st, _ := c.Locals(staffKey{}).(*staffCtx)
	return st
}

// staffActor is who the Desk records for changes made from the pages.
func staffActor(c *fiber.Ctx) ticket.Actor {
	return ticket.Staff(staff(c).user.Name)
}

// setCookie sets a cookie that scripts cannot read, that no other site's
// request carries, and that travels only over TLS when the page came over
// TLS.
func setCookie(c *fiber.Ctx, name, value string, expires time.Time) {
	c.Cookie(&fiber.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Expires:  expires,
		HTTPOnly: true,
		Secure:   c.Protocol() == "https",
		SameSite: fiber.CookieSameSiteStrictMode,
	})
}

func clearCookie(c *fiber.Ctx, name string) {
	setCookie(c, name, "", time.Unix(1, 0))
}

// loadSession puts the session of the request, if any, in its locals.
func (s *Server) loadSession(c *fiber.Ctx) error {
	id := c.Cookies(sessionCookie)
	if id == "" {
		return c.Next()
	}
	sess, user, err := s.opts.Users.Session(id)
	switch {
	case errors.Is(err, auth.ErrNoSession):
		clearCookie(c, sessionCookie)
	case err != nil:
		return fmt.Errorf("read session: %w", err)
	default:
		c.Locals(staffKey{}, &staffCtx{id: id, session: sess, user: user})
	}
	return c.Next()
}

// requireStaff sends a request without a session to the login page, and
// checks the CSRF token of every request that changes something.
func (s *Server) requireStaff(c *fiber.Ctx) error {
	st := staff(c)
	if st == nil {
		next := c.OriginalURL()
		if c.Method() != fiber.MethodGet || !localPath(next) {
			next = "/tickets"
		}
		return c.Redirect("/login?next="+url.QueryEscape(next), fiber.StatusSeeOther)
	}
	switch c.Method() {
	case fiber.MethodGet, fiber.MethodHead, fiber.MethodOptions:
		return c.Next()
	}
	token := c.FormValue("csrf")
	if token == "" {
		token = c.Get("X-CSRF-Token")
	}
	if !st.session.CheckCSRF(token) {
		return httpError(fiber.StatusForbidden, "The form was out of date or not sent from this appliance's pages. Reload the page and try again.")
	}
	return c.Next()
}

// localPath reports whether p is a path on this server, safe to redirect
// to: it starts with one slash and no backslash.
func localPath(p string) bool {
	return strings.HasPrefix(p, "/") && !strings.HasPrefix(p, "//") && !strings.ContainsAny(p, "\\\r\n")
}

// home sends a new appliance to onboarding, and everyone else to the
// ticket list.
func (s *Server) home(c *fiber.Ctx) error {
	any, err := s.opts.Users.Any()
	if err != nil {
		return err
	}
	if !any {
		return c.Redirect("/setup", fiber.StatusSeeOther)
	}
	return c.Redirect("/tickets", fiber.StatusSeeOther)
}

// loginToken returns the CSRF token of the login and setup forms, making
// one (and its cookie) if the browser has none.
func loginToken(c *fiber.Ctx) (string, error) {
	if tok := c.Cookies(loginCookie); len(tok) == 43 {
		return tok, nil
	}
	tok, err := randomString(32)
	if err != nil {
		return "", err
	}
	setCookie(c, loginCookie, tok, time.Time{})
	return tok, nil
}

// checkLoginToken compares the form's token with the cookie's. A form
// posted from another site carries no cookie (SameSite=Strict).
func checkLoginToken(c *fiber.Ctx) error {
	cookie := c.Cookies(loginCookie)
	if cookie == "" || !(auth.Session{CSRF: cookie}).CheckCSRF(c.FormValue("csrf")) {
		return httpError(fiber.StatusForbidden, "The form was out of date or not sent from this appliance's pages. Reload the page and try again.")
	}
	return nil
}

type setupData struct {
	Name string
}

// setupPage creates the first admin. Once any user exists it is gone.
func (s *Server) setupPage(c *fiber.Ctx) error {
	any, err := s.opts.Users.Any()
	if err != nil {
		return err
	}
	if any {
		return httpError(fiber.StatusNotFound, "There is no such page.")
	}
	v := view{Title: "Welcome"}
	if c.Method() == fiber.MethodGet {
		if v.CSRF, err = loginToken(c); err != nil {
			return err
		}
		return s.render(c, fiber.StatusOK, "setup", v)
	}
	if err := checkLoginToken(c); err != nil {
		return err
	}
	v.CSRF = c.Cookies(loginCookie)
	name, pw := strings.TrimSpace(c.FormValue("name")), c.FormValue("password")
	v.Data = setupData{Name: name}
	if pw != c.FormValue("password2") {
		v.Error = "The two passwords differ."
		return s.render(c, fiber.StatusUnprocessableEntity, "setup", v)
	}
	u, err := s.opts.Users.CreateFirst(name, pw)
	switch {
	case errors.Is(err, auth.ErrSetupDone):
		return httpError(fiber.StatusNotFound, "There is no such page.")
	case errors.Is(err, auth.ErrBadName), errors.Is(err, auth.ErrWeakPassword):
		v.Error = userError(err)
		return s.render(c, fiber.StatusUnprocessableEntity, "setup", v)
	case err != nil:
		return err
	}
	s.log.Info("ui: first admin created", "user", u.Name)
	return s.startSession(c, u.Name, "/tickets")
}

// userError is the message of an auth error for the person at the form.
func userError(err error) string {
	switch {
	case errors.Is(err, auth.ErrBadName):
		return "The name must be 1 to 64 letters, digits, '.', '_' or '-'."
	case errors.Is(err, auth.ErrWeakPassword):
		return fmt.Sprintf("The password must be %d to %d characters long.", auth.MinPasswordLen, auth.MaxPasswordLen)
	}
	return err.Error()
}

func (s *Server) startSession(c *fiber.Ctx, name, next string) error {
	id, sess, err := s.opts.Users.NewSession(name)
	if err != nil {
		return err
	}
	setCookie(c, sessionCookie, id, sess.ExpiresAt)
	clearCookie(c, loginCookie)
	return c.Redirect(next, fiber.StatusSeeOther)
}

type loginData struct {
	Name string
	Next string
}

// loginPage shows the login form and checks it. Failed logins count
// against the user name and the client's address; past the limit both
// are locked out for a while, even with the right password.
func (s *Server) loginPage(c *fiber.Ctx) error {
	any, err := s.opts.Users.Any()
	if err != nil {
		return err
	}
	if !any {
		return c.Redirect("/setup", fiber.StatusSeeOther)
	}
	next := c.FormValue("next")
	if !localPath(next) {
		next = "/tickets"
	}
	v := view{Title: "Log in", Data: loginData{Next: next}}
	if c.Method() == fiber.MethodGet {
		if staff(c) != nil {
			return c.Redirect(next, fiber.StatusSeeOther)
		}
		if v.CSRF, err = loginToken(c); err != nil {
			return err
		}
		return s.render(c, fiber.StatusOK, "login", v)
	}
	if err := checkLoginToken(c); err != nil {
		return err
	}
	v.CSRF = c.Cookies(loginCookie)
	name, pw := strings.TrimSpace(c.FormValue("name")), c.FormValue("password")
	v.Data = loginData{Name: name, Next: next}
	userKey, ipKey := "user:"+strings.ToLower(name), "ip:"+c.IP()
	lockedU, waitU := s.loginUsers.Locked(userKey)
	lockedIP, waitIP := s.loginIPs.Locked(ipKey)
	if lockedU || lockedIP {
		s.log.Warn("ui: login refused while locked out", "user", name, "ip", c.IP())
		v.Error = fmt.Sprintf("Too many failed logins. Try again in %d minutes.", int(math.Ceil(max(waitU, waitIP).Minutes())))
		c.Set(fiber.HeaderRetryAfter, fmt.Sprint(int(max(waitU, waitIP).Seconds())+1))
		return s.render(c, fiber.StatusTooManyRequests, "login", v)
	}
	u, err := s.opts.Users.Authenticate(name, pw)
	if errors.Is(err, auth.ErrBadLogin) {
		lu := s.loginUsers.Add(userKey)
		li := s.loginIPs.Add(ipKey)
		if lu || li {
			s.log.Warn("ui: login locked out after failures", "user", name, "ip", c.IP())
		}
		v.Error = "Wrong user name or password."
		return s.render(c, fiber.StatusUnauthorized, "login", v)
	}
	if err != nil {
		return err
	}
	s.loginUsers.Reset(userKey)
	s.log.Info("ui: login", "user", u.Name)
	return s.startSession(c, u.Name, next)
}

// logout ends this session.
func (s *Server) logout(c *fiber.Ctx) error {
	if err := s.opts.Users.EndSession(staff(c).id); err != nil {
		return err
	}
	clearCookie(c, sessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}

// logoutEverywhere ends every session of the user, this one included.
func (s *Server) logoutEverywhere(c *fiber.Ctx) error {
	n, err := s.opts.Users.EndSessions(staff(c).user.Name)
	if err != nil {
		return err
	}
	s.log.Info("ui: logged out everywhere", "user", staff(c).user.Name, "sessions", n)
	clearCookie(c, sessionCookie)
	return c.Redirect("/login", fiber.StatusSeeOther)
}
