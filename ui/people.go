package ui

import (
	"errors"
	"fmt"
	"strings"

	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// peopleData is what the people page shows: the staff accounts and the
// API tokens, and, once, the secret of a token just made.
type peopleData struct {
	Users     []auth.User
	Tokens    []auth.Token
	NewSecret string // shown once, right after the token is made
	NewToken  string
	Notice    string
	Form      struct{ Name, Role, TokenName, TokenRole string }
}

// requirePageAdmin refuses an agent.
func requirePageAdmin(c *fiber.Ctx) error {
	if st := staff(c); st == nil || st.user.Role != auth.RoleAdmin {
		return httpError(fiber.StatusForbidden, "Only an admin may manage staff accounts and API tokens.")
	}
	return nil
}

// peoplePage lists the staff and the API tokens, with the forms to add
// and change them.
func (s *Server) peoplePage(c *fiber.Ctx) error {
	if err := requirePageAdmin(c); err != nil {
		return err
	}
	return s.renderPeople(c, fiber.StatusOK, peopleData{Notice: noticeText(c.Query("done"))})
}

func (s *Server) renderPeople(c *fiber.Ctx, status int, d peopleData, errMsg ...string) error {
	var err error
	if d.Users, err = s.opts.Users.List(); err != nil {
		return err
	}
	if s.opts.Tokens != nil {
		if d.Tokens, err = s.opts.Tokens.List(); err != nil {
			return err
		}
	}
	v := view{Title: "Staff and tokens", Nav: "people", Data: d}
	if len(errMsg) > 0 {
		v.Error = errMsg[0]
	}
	return s.render(c, status, "people", v)
}

// noticeText turns the done= parameter of a redirect back into a sentence.
func noticeText(done string) string {
	switch done {
	case "user":
		return "The account was added."
	case "password":
		return "The password was changed and the person was signed out everywhere."
	case "signout":
		return "The person was signed out everywhere."
	case "revoked":
		return "The token was revoked."
	}
	return ""
}

// addUserForm adds a staff account.
func (s *Server) addUserForm(c *fiber.Ctx) error {
	if err := requirePageAdmin(c); err != nil {
		return err
	}
	var d peopleData
	d.Form.Name, d.Form.Role = strings.TrimSpace(c.FormValue("name")), c.FormValue("role")
	role, err := auth.ParseRole(d.Form.Role)
	if err != nil {
		return s.renderPeople(c, fiber.StatusUnprocessableEntity, d, "Choose the role: admin or agent.")
	}
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		return s.renderPeople(c, fiber.StatusUnprocessableEntity, d, "The two passwords differ.")
	}
	if _, err := s.opts.Users.Create(d.Form.Name, role, pw); err != nil {
		if errors.Is(err, auth.ErrExists) {
			return s.renderPeople(c, fiber.StatusConflict, d, fmt.Sprintf("There is already an account named %q.", d.Form.Name))
		}
		if errors.Is(err, auth.ErrBadName) || errors.Is(err, auth.ErrWeakPassword) {
			return s.renderPeople(c, fiber.StatusUnprocessableEntity, d, userError(err))
		}
		return err
	}
	s.opts.Logger.Info("staff account added", "user", d.Form.Name, "role", role, "by", staff(c).user.Name)
	return c.Redirect("/admin/people?done=user", fiber.StatusSeeOther)
}

// passwordForm sets a new password for an account and ends its sessions.
func (s *Server) passwordForm(c *fiber.Ctx) error {
	if err := requirePageAdmin(c); err != nil {
		return err
	}
	name := c.Params("name")
	if _, err := s.opts.Users.Get(name); err != nil {
		return httpError(fiber.StatusNotFound, "There is no account named %q.", name)
	}
	pw := c.FormValue("password")
	if pw != c.FormValue("password2") {
		return s.renderPeople(c, fiber.StatusUnprocessableEntity, peopleData{}, "The two passwords differ.")
	}
	if err := s.opts.Users.SetPassword(name, pw); err != nil {
		if errors.Is(err, auth.ErrWeakPassword) {
			return s.renderPeople(c, fiber.StatusUnprocessableEntity, peopleData{}, userError(err))
		}
		return err
	}
	if _, err := s.opts.Users.EndSessions(name); err != nil {
		return err
	}
	s.opts.Logger.Info("staff password reset", "user", name, "by", staff(c).user.Name)
	if name == staff(c).user.Name {
		// The admin changed their own password: their session ended too.
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Redirect("/admin/people?done=password", fiber.StatusSeeOther)
}

// signOutForm ends every session of an account (a lost tablet).
func (s *Server) signOutForm(c *fiber.Ctx) error {
	if err := requirePageAdmin(c); err != nil {
		return err
	}
	name := c.Params("name")
	if _, err := s.opts.Users.Get(name); err != nil {
		return httpError(fiber.StatusNotFound, "There is no account named %q.", name)
	}
	if _, err := s.opts.Users.EndSessions(name); err != nil {
		return err
	}
	s.opts.Logger.Info("staff signed out everywhere", "user", name, "by", staff(c).user.Name)
	if name == staff(c).user.Name {
		return c.Redirect("/login", fiber.StatusSeeOther)
	}
	return c.Redirect("/admin/people?done=signout", fiber.StatusSeeOther)
}

// createTokenForm makes an API token and shows its secret once.
func (s *Server) createTokenForm(c *fiber.Ctx) error {
	if err := requirePageAdmin(c); err != nil {
		return err
	}
	var d peopleData
	d.Form.TokenName, d.Form.TokenRole = strings.TrimSpace(c.FormValue("name")), c.FormValue("role")
	role, err := auth.ParseRole(d.Form.TokenRole)
	if err != nil {
		return s.renderPeople(c, fiber.StatusUnprocessableEntity, d, "Choose the token's role: admin or agent.")
	}
	secret, err := s.opts.Tokens.Create(d.Form.TokenName, role)
	if err != nil {
		if errors.Is(err, auth.ErrExists) {
			return s.renderPeople(c, fiber.StatusConflict, d, fmt.Sprintf("There is already a token named %q.", d.Form.TokenName))
		}
		if errors.Is(err, auth.ErrBadName) {
			return s.renderPeople(c, fiber.StatusUnprocessableEntity, d, "The token's name must be 1 to 64 letters, digits, '.', '_' or '-'.")
		}
		return err
	}
	// The secret is in this one page only: never logged, never stored in
	// the clear.
	s.opts.Logger.Info("API token created", "token", d.Form.TokenName, "role", role, "by", staff(c).user.Name)
	return s.renderPeople(c, fiber.StatusOK, peopleData{NewSecret: secret, NewToken: d.Form.TokenName})
}

// revokeTokenForm revokes an API token.
func (s *Server) revokeTokenForm(c *fiber.Ctx) error {
	if err := requirePageAdmin(c); err != nil {
		return err
	}
	name := c.Params("name")
	if err := s.opts.Tokens.Revoke(name); err != nil {
		if errors.Is(err, auth.ErrNotFound) {
			return httpError(fiber.StatusNotFound, "There is no token named %q.", name)
		}
		return err
	}
	s.opts.Logger.Info("API token revoked", "token", name, "by", staff(c).user.Name)
	return c.Redirect("/admin/people?done=revoked", fiber.StatusSeeOther)
}
