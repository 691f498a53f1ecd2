package ui

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
	"github.com/gofiber/fiber/v2"
)

// The API's side of what the staff pages do besides tickets: the report of
// the reports page (any token) and the staff accounts and API tokens of
// the people page (admin tokens only). Each change an admin token makes is
// logged at info with the token's name; secrets and passwords never are.

// Reports.

// reportResponse answers GET /api/v1/reports: the numbers of the reports
// page for the same period.
type reportResponse struct {
	From string `json:"from"` // the first day, YYYY-MM-DD
	To   string `json:"to"`   // the last day, YYYY-MM-DD
	Days int    `json:"days"`
	// Clamped is set when the period asked for ran past today and was
	// cut there.
	Clamped    bool                `json:"clamped"`
	Zone       string              `json:"zone"`
	Channels   []reportChannelJSON `json:"channels"`
	Daily      []reportDayJSON     `json:"daily"`
	Total      reportRowJSON       `json:"total"`
	Agents     []reportRowJSON     `json:"agents"`
	Categories []reportRowJSON     `json:"categories"`
	Spam       int                 `json:"spam"`
	Merged     int                 `json:"merged"`
}

// reportChannelJSON is a channel with tickets created in the period.
type reportChannelJSON struct {
	Channel ticket.Channel `json:"channel"`
	Label   string         `json:"label"`
	Total   int            `json:"total"`
}

// reportDayJSON is one day of the period.
type reportDayJSON struct {
	Date string `json:"date"`
	// ByChannel counts the day's new tickets for each channel of the
	// report's channels, zeros included.
	ByChannel map[ticket.Channel]int `json:"by_channel"`
	New       int                    `json:"new"`
	Open      int                    `json:"open"`
}

// reportRowJSON is one line of the summary, agent or category table.
type reportRowJSON struct {
	Label     string `json:"label"`
	None      bool   `json:"none"`
	Created   int    `json:"created"`
	Responded int    `json:"responded"`
	Resolved  int    `json:"resolved"`
	// ResolutionRate is in percent, to one decimal as the page shows it;
	// null without tickets created.
	ResolutionRate        *float64     `json:"resolution_rate_percent"`
	FirstResponse         durStatsJSON `json:"first_response"`
	Resolution            durStatsJSON `json:"resolution"`
	FirstResponseBreaches int          `json:"first_response_breaches"`
	ResolutionBreaches    int          `json:"resolution_breaches"`
	OpenAtEnd             int          `json:"open_at_end"`
}

// durStatsJSON is the median and 90th percentile of some durations, in
// seconds; both null when there are none.
type durStatsJSON struct {
	Count         int      `json:"count"`
	MedianSeconds *float64 `json:"median_seconds"`
	P90Seconds    *float64 `json:"p90_seconds"`
}

func newDurStatsJSON(d durStats) durStatsJSON {
	out := durStatsJSON{Count: d.N}
	if d.N > 0 {
		med, p90 := d.Median.Seconds(), d.P90.Seconds()
		out.MedianSeconds, out.P90Seconds = &med, &p90
	}
	return out
}

func newReportRowJSON(r reportRow) reportRowJSON {
	out := reportRowJSON{
		Label: r.Label, None: r.None,
		Created: r.Created, Responded: r.Responded, Resolved: r.Resolved,
		FirstResponse:         newDurStatsJSON(r.FirstResponse),
		Resolution:            newDurStatsJSON(r.Resolution),
		FirstResponseBreaches: r.FirstResponseBreaches,
		ResolutionBreaches:    r.ResolutionBreaches,
		OpenAtEnd:             r.OpenAtEnd,
	}
	if v := r.Rate(); v >= 0 {
		v = math.Round(v*10) / 10
		out.ResolutionRate = &v
	}
	return out
}

func newReportRowsJSON(rows []reportRow) []reportRowJSON {
	out := make([]reportRowJSON, 0, len(rows))
	for _, r := range rows {
		out = append(out, newReportRowJSON(r))
	}
	return out
}

// newReportResponse maps the report the page shows to its JSON.
func newReportResponse(r *report) reportResponse {
	out := reportResponse{
		From: r.Period.First, To: r.Period.Last, Days: r.Period.Days, Clamped: r.Period.Clamped,
		Zone:       r.Zone,
		Channels:   make([]reportChannelJSON, 0, len(r.Channels)),
		Daily:      make([]reportDayJSON, 0, len(r.Days)),
		Total:      newReportRowJSON(r.Total),
		Agents:     newReportRowsJSON(r.Agents),
		Categories: newReportRowsJSON(r.Categories),
		Spam:       r.Spam,
		Merged:     r.Merged,
	}
	for _, ch := range r.Channels {
		out.Channels = append(out.Channels, reportChannelJSON{Channel: ch.Channel, Label: ch.Label, Total: ch.Total})
	}
	for _, d := range r.Days {
		day := reportDayJSON{Date: d.ISO(), ByChannel: make(map[ticket.Channel]int, len(r.Channels)), New: d.Total, Open: d.Open}
		for j, ch := range r.Channels {
			day.ByChannel[ch.Channel] = d.Counts[j]
		}
		out.Daily = append(out.Daily, day)
	}
	return out
}

// getReport answers the report for the period of the from and to
// parameters, checked as the reports page checks them. Any token may.
func (s *Server) getReport(c *fiber.Ctx) error {
	q, err := queryParams(c, "from", "to")
	if err != nil {
		return err
	}
	loc, now := s.reportLocation(), s.now()
	p, err := parsePeriod(q["from"], q["to"], now, loc)
	if err != nil {
		return periodError(err, q, loc)
	}
	r, err := s.buildReport(p, loc, now)
	if err != nil {
		return err
	}
	return c.JSON(newReportResponse(r))
}

// periodError turns the page's error about a period into a 400 that
// names the date at fault: the one that is not a date, checked in the
// order parsePeriod reads them. A period that is reversed, in the future
// or too long names no field.
func periodError(err error, q map[string]string, loc *time.Location) error {
	var pe *pageError
	if !errors.As(err, &pe) {
		return err
	}
	e := &apiError{Status: pe.Status, Code: codeOf(pe.Status), Message: pe.Message, Err: err}
	for _, k := range []string{"to", "from"} {
		if v, ok := q[k]; ok && v != "" {
			if _, derr := parseReportDate(k, v, loc); derr != nil {
				e.Field = k
				break
			}
		}
	}
	return e
}

// Staff accounts and API tokens.

// userList answers GET /api/v1/users.
type userList struct {
	Users []auth.User `json:"users"`
}

// tokenList answers GET /api/v1/tokens.
type tokenList struct {
	Tokens []auth.Token `json:"tokens"`
}

// createUserRequest is the body of POST /api/v1/users.
type createUserRequest struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Password string `json:"password"`
}

// passwordRequest is the body of POST /api/v1/users/{name}/password.
type passwordRequest struct {
	Password string `json:"password"`
}

// createTokenRequest is the body of POST /api/v1/tokens.
type createTokenRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

// createTokenResponse answers POST /api/v1/tokens. It is the only answer
// that ever holds the secret.
type createTokenResponse struct {
	Name   string    `json:"name"`
	Role   auth.Role `json:"role"`
	Secret string    `json:"secret"`
}

// users returns the store of staff accounts, or a 503 when the server
// keeps none (it serves only the API).
func (s *Server) users() (*auth.Users, error) {
	if s.opts.Users == nil {
		return nil, &apiError{Status: fiber.StatusServiceUnavailable, Code: codeUnavailable, Message: "this server keeps no staff accounts"}
	}
	return s.opts.Users, nil
}

// accountError maps an error of the auth stores about the user or token
// (what) called name to its answer; other errors pass through.
func accountError(err error, what, name string) error {
	var e *apiError
	switch {
	case errors.Is(err, auth.ErrExists):
		e = &apiError{Status: fiber.StatusConflict, Code: codeConflict, Field: "name", Message: fmt.Sprintf("there is already a %s named %q", what, name)}
	case errors.Is(err, auth.ErrNotFound):
		e = notFound("there is no %s named %q", what, name)
	case errors.Is(err, auth.ErrBadName):
		e = invalid("name", "must be 1 to 64 letters, digits, '.', '_' or '-'")
	case errors.Is(err, auth.ErrBadRole):
		e = invalid("role", "must be %s or %s", auth.RoleAdmin, auth.RoleAgent)
	case errors.Is(err, auth.ErrWeakPassword):
		e = invalid("password", "must be %d to %d bytes long", auth.MinPasswordLen, auth.MaxPasswordLen)
	default:
		return err
	}
	e.Err = err
	return e
}

// listUsers lists the staff accounts by name, without their password
// hashes.
func (s *Server) listUsers(c *fiber.Ctx) error {
	if err := requireAdmin(c, "listing staff accounts"); err != nil {
		return err
	}
	us, err := s.users()
	if err != nil {
		return err
	}
	list, err := us.List()
	if err != nil {
		return err
	}
	if list == nil {
		list = []auth.User{}
	}
	return c.JSON(userList{Users: list})
}

// createUser adds a staff account.
func (s *Server) createUser(c *fiber.Ctx) error {
	if err := requireAdmin(c, "adding a staff account"); err != nil {
		return err
	}
	us, err := s.users()
	if err != nil {
		return err
	}
	var req createUserRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	u, err := us.Create(req.Name, auth.Role(req.Role), req.Password)
	if err != nil {
		return accountError(err, "staff account", req.Name)
	}
	s.log.Info("api: staff account added", "user", u.Name, "role", u.Role, "by_token", token(c).Name)
	return c.Status(fiber.StatusCreated).JSON(u)
}

// setUserPassword sets a new password for a staff account and ends its
// sessions.
func (s *Server) setUserPassword(c *fiber.Ctx) error {
	if err := requireAdmin(c, "setting a password"); err != nil {
		return err
	}
	us, err := s.users()
	if err != nil {
		return err
	}
	name := c.Params("name")
	if _, err := us.Get(name); err != nil {
		return accountError(err, "staff account", name)
	}
	var req passwordRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := us.SetPassword(name, req.Password); err != nil {
		return accountError(err, "staff account", name)
	}
	// SetPassword ends the sessions in the same transaction; this says
	// so again in case a login raced it.
	if _, err := us.EndSessions(name); err != nil {
		return err
	}
	s.log.Info("api: staff password reset", "user", name, "by_token", token(c).Name)
	return c.SendStatus(fiber.StatusNoContent)
}

// signOutUser ends every session of a staff account (a lost tablet).
func (s *Server) signOutUser(c *fiber.Ctx) error {
	if err := requireAdmin(c, "signing out a staff account"); err != nil {
		return err
	}
	us, err := s.users()
	if err != nil {
		return err
	}
	name := c.Params("name")
	if _, err := us.Get(name); err != nil {
		return accountError(err, "staff account", name)
	}
	n, err := us.EndSessions(name)
	if err != nil {
		return err
	}
	s.log.Info("api: staff signed out everywhere", "user", name, "sessions", n, "by_token", token(c).Name)
	return c.SendStatus(fiber.StatusNoContent)
}

// listTokens lists the API tokens by name, without their secrets.
func (s *Server) listTokens(c *fiber.Ctx) error {
	if err := requireAdmin(c, "listing API tokens"); err != nil {
		return err
	}
	list, err := s.opts.Tokens.List()
	if err != nil {
		return err
	}
	if list == nil {
		list = []auth.Token{}
	}
	return c.JSON(tokenList{Tokens: list})
}

// createToken makes an API token and answers its secret, once.
func (s *Server) createToken(c *fiber.Ctx) error {
	if err := requireAdmin(c, "creating an API token"); err != nil {
		return err
	}
	var req createTokenRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	role := auth.Role(req.Role)
	secret, err := s.opts.Tokens.Create(req.Name, role)
	if err != nil {
		return accountError(err, "token", req.Name)
	}
	// The secret is in this answer only: never logged, never stored in
	// the clear.
	s.log.Info("api: API token created", "token", req.Name, "role", role, "by_token", token(c).Name)
	return c.Status(fiber.StatusCreated).JSON(createTokenResponse{Name: req.Name, Role: role, Secret: secret})
}

// revokeToken revokes an API token. A token may revoke itself: the
// request that does so is answered, and the next one is refused.
func (s *Server) revokeToken(c *fiber.Ctx) error {
	if err := requireAdmin(c, "revoking an API token"); err != nil {
		return err
	}
	name := c.Params("name")
	if err := s.opts.Tokens.Revoke(name); err != nil {
		return accountError(err, "token", name)
	}
	by := token(c).Name
	s.log.Info("api: API token revoked", "token", name, "by_token", by, "self", name == by)
	return c.SendStatus(fiber.StatusNoContent)
}
