package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// newAdminFixture is the API fixture with staff accounts kept beside the
// tokens, as on the appliance.
func newAdminFixture(t *testing.T) (*fixture, *auth.Users) {
	var users *auth.Users
	f := newFixture(t, func(o *Options) {
		var err error
		if users, err = auth.NewUsers(o.Desk.DB(), auth.UsersOptions{Hash: cheapHash}); err != nil {
			t.Fatal(err)
		}
		o.Users = users
	})
	return f, users
}

// docCaller returns a function that sends a request with f and checks
// the answer, and a body the server took, against the document; docPath
// is the documented path of the request's route.
func docCaller(f *fixture) func(t *testing.T, method, path, docPath, tok string, body any, hdr ...string) result {
	return func(t *testing.T, method, path, docPath, tok string, body any, hdr ...string) result {
		t.Helper()
		s := loadSpec(t)
		r := f.with(t).do(method, path, tok, body, hdr...)
		s.checkAnswer(t, method, docPath, r)
		if body != nil && r.status < 300 {
			s.checkRequest(t, method, docPath, body)
		}
		return r
	}
}

// wantField checks that r is a JSON error answer with status, code and
// field.
func (r result) wantField(t testing.TB, status int, code, field string) {
	t.Helper()
	if e := r.wantError(t, status, code); e.Field != field {
		t.Errorf("error %+v: field %q, want %q", e, e.Field, field)
	}
}

func TestAdminAPIUsers(t *testing.T) {
	f, users := newAdminFixture(t)
	call := docCaller(f)
	const (
		list     = "/api/v1/users"
		password = "/api/v1/users/{name}/password"
		signout  = "/api/v1/users/{name}/signout"
		pw       = "correct horse battery"
		newPW    = "staple gun and tape"
	)

	t.Run("list empty", func(t *testing.T) {
		r := call(t, "GET", list, list, f.admin, nil)
		r.wantStatus(t, 200)
		if got := strings.TrimSpace(string(r.body)); got != `{"users":[]}` {
			t.Errorf("body %s, want an empty list", got)
		}
	})
	t.Run("create", func(t *testing.T) {
		r := call(t, "POST", list, list, f.admin, map[string]any{"name": "kim", "role": "agent", "password": pw})
		r.wantStatus(t, 201)
		var u auth.User
		r.decode(t, &u)
		if u.Name != "kim" || u.Role != auth.RoleAgent || u.CreatedAt.IsZero() || u.PasswordAt.IsZero() {
			t.Errorf("created %+v", u)
		}
		if _, err := users.Authenticate("kim", pw); err != nil {
			t.Errorf("kim cannot log in: %v", err)
		}
		call(t, "POST", list, list, f.admin, map[string]any{"name": "ana", "role": "admin", "password": pw}).wantStatus(t, 201)
	})
	t.Run("create refused", func(t *testing.T) {
		call(t, "POST", list, list, f.admin, map[string]any{"name": "kim", "role": "agent", "password": pw}).wantField(t, 409, codeConflict, "name")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "<x>", "role": "agent", "password": pw}).wantField(t, 422, codeInvalid, "name")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "", "role": "agent", "password": pw}).wantField(t, 422, codeInvalid, "name")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "lee", "role": "owner", "password": pw}).wantField(t, 422, codeInvalid, "role")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "lee", "password": pw}).wantField(t, 422, codeInvalid, "role")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "lee", "role": "agent", "password": "short"}).wantField(t, 422, codeInvalid, "password")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "lee", "role": "agent", "password": pw, "hash": "x"}).wantField(t, 400, codeBadRequest, "hash")
		call(t, "POST", list, list, f.admin, map[string]any{"name": 7}).wantField(t, 400, codeBadRequest, "name")
		call(t, "POST", list, list, f.admin, "{}", "Content-Type", "text/plain").wantError(t, 415, codeUnsupportedMedia)
		if _, err := users.Get("lee"); !errors.Is(err, auth.ErrNotFound) {
			t.Errorf("a refused request added lee: %v", err)
		}
	})
	t.Run("list", func(t *testing.T) {
		r := call(t, "GET", list, list, f.admin, nil)
		r.wantStatus(t, 200)
		var l userList
		r.decode(t, &l)
		if len(l.Users) != 2 || l.Users[0].Name != "ana" || l.Users[1].Name != "kim" || l.Users[1].Role != auth.RoleAgent {
			t.Errorf("users %+v", l.Users)
		}
		if strings.Contains(string(r.body), "hash") || strings.Contains(string(r.body), "argon2") {
			t.Errorf("the list shows a password hash: %s", r.body)
		}
	})
	t.Run("password", func(t *testing.T) {
		id, _, err := users.NewSession("kim")
		if err != nil {
			t.Fatal(err)
		}
		call(t, "POST", "/api/v1/users/kim/password", password, f.admin, map[string]any{"password": newPW}).wantStatus(t, 204)
		if _, err := users.Authenticate("kim", newPW); err != nil {
			t.Errorf("the new password does not work: %v", err)
		}
		if _, err := users.Authenticate("kim", pw); !errors.Is(err, auth.ErrBadLogin) {
			t.Errorf("the old password still works: %v", err)
		}
		if _, _, err := users.Session(id); !errors.Is(err, auth.ErrNoSession) {
			t.Errorf("kim's session outlived the new password: %v", err)
		}
		call(t, "POST", "/api/v1/users/kim/password", password, f.admin, map[string]any{"password": "short"}).wantField(t, 422, codeInvalid, "password")
		call(t, "POST", "/api/v1/users/kim/password", password, f.admin, map[string]any{}).wantField(t, 422, codeInvalid, "password")
		call(t, "POST", "/api/v1/users/kim/password", password, f.admin, map[string]any{"password": newPW, "again": newPW}).wantField(t, 400, codeBadRequest, "again")
		call(t, "POST", "/api/v1/users/nobody/password", password, f.admin, map[string]any{"password": newPW}).wantError(t, 404, codeNotFound)
	})
	t.Run("signout", func(t *testing.T) {
		var ids []string
		for range 2 {
			id, _, err := users.NewSession("ana")
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, id)
		}
		call(t, "POST", "/api/v1/users/ana/signout", signout, f.admin, nil).wantStatus(t, 204)
		for _, id := range ids {
			if _, _, err := users.Session(id); !errors.Is(err, auth.ErrNoSession) {
				t.Errorf("a session of ana outlived the sign-out: %v", err)
			}
		}
		if _, err := users.Authenticate("ana", pw); err != nil {
			t.Errorf("signing out changed the password: %v", err)
		}
		call(t, "POST", "/api/v1/users/nobody/signout", signout, f.admin, nil).wantError(t, 404, codeNotFound)
	})
	t.Run("roles", func(t *testing.T) {
		for _, c := range []struct{ method, path, doc string }{
			{"GET", list, list},
			{"POST", list, list},
			{"POST", "/api/v1/users/kim/password", password},
			{"POST", "/api/v1/users/kim/signout", signout},
		} {
			var body any
			if c.method == "POST" && c.doc != signout {
				body = map[string]any{"name": "eve", "role": "admin", "password": pw}
			}
			call(t, c.method, c.path, c.doc, f.agent, body).wantError(t, 403, codeForbidden)
			call(t, c.method, c.path, c.doc, "", body).wantError(t, 401, codeUnauthorized)
		}
		if _, err := users.Get("eve"); err == nil {
			t.Error("an agent's token added an account")
		}
	})

	logs := f.logs.String()
	for _, want := range []string{
		`msg="api: staff account added" user=kim role=agent by_token=backoffice`,
		`msg="api: staff password reset" user=kim by_token=backoffice`,
		`msg="api: staff signed out everywhere" user=ana sessions=2 by_token=backoffice`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("no log line %q in\n%s", want, logs)
		}
	}
	for _, secret := range []string{pw, newPW, "argon2"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs)
		}
	}
}

// Without staff accounts (a server that serves only the API) the user
// routes say so; the role check still comes first.
func TestAdminAPINoUsers(t *testing.T) {
	f := newFixture(t)
	call := docCaller(f)
	call(t, "GET", "/api/v1/users", "/api/v1/users", f.admin, nil).wantError(t, 503, codeUnavailable)
	call(t, "POST", "/api/v1/users/kim/signout", "/api/v1/users/{name}/signout", f.admin, nil).wantError(t, 503, codeUnavailable)
	call(t, "GET", "/api/v1/users", "/api/v1/users", f.agent, nil).wantError(t, 403, codeForbidden)
}

func TestAdminAPITokens(t *testing.T) {
	f, _ := newAdminFixture(t)
	call := docCaller(f)
	const (
		list = "/api/v1/tokens"
		one  = "/api/v1/tokens/{name}"
	)
	var secrets []string
	create := func(t *testing.T, name string, role auth.Role) string {
		t.Helper()
		r := call(t, "POST", list, list, f.admin, map[string]any{"name": name, "role": role})
		r.wantStatus(t, 201)
		var got createTokenResponse
		r.decode(t, &got)
		if got.Name != name || got.Role != role || !strings.HasPrefix(got.Secret, auth.Prefix) {
			t.Fatalf("created %+v", got)
		}
		secrets = append(secrets, got.Secret)
		return got.Secret
	}

	t.Run("list", func(t *testing.T) {
		f.do("GET", "/api/v1/tickets", f.agent, nil).wantStatus(t, 200) // till is used, backoffice is not yet
		r := call(t, "GET", list, list, f.admin, nil)
		r.wantStatus(t, 200)
		var l tokenList
		r.decode(t, &l)
		if len(l.Tokens) != 2 || l.Tokens[0].Name != "backoffice" || l.Tokens[0].Role != auth.RoleAdmin ||
			l.Tokens[1].Name != "till" || l.Tokens[1].Role != auth.RoleAgent || l.Tokens[1].LastUsed.IsZero() {
			t.Errorf("tokens %+v", l.Tokens)
		}
		for _, s := range []string{f.admin, f.agent, "hash"} {
			if strings.Contains(string(r.body), s) {
				t.Errorf("the list holds %q: %s", s, r.body)
			}
		}
	})
	t.Run("create, use, revoke", func(t *testing.T) {
		secret := create(t, "label-printer", auth.RoleAgent)
		f.do("GET", "/api/v1/tickets", secret, nil).wantStatus(t, 200)
		f.do("GET", list, secret, nil).wantError(t, 403, codeForbidden)
		var l tokenList
		f.do("GET", list, f.admin, nil).decode(t, &l)
		if len(l.Tokens) != 3 || l.Tokens[1].Name != "label-printer" {
			t.Errorf("tokens %+v", l.Tokens)
		}
		call(t, "DELETE", "/api/v1/tokens/label-printer", one, f.admin, nil).wantStatus(t, 204)
		f.do("GET", "/api/v1/tickets", secret, nil).wantError(t, 401, codeUnauthorized)
		call(t, "DELETE", "/api/v1/tokens/label-printer", one, f.admin, nil).wantError(t, 404, codeNotFound)
	})
	t.Run("an admin token it makes is an admin's", func(t *testing.T) {
		secret := create(t, "deputy", auth.RoleAdmin)
		call(t, "GET", list, list, secret, nil).wantStatus(t, 200)
	})
	t.Run("revoke itself", func(t *testing.T) {
		secret := create(t, "one-shot", auth.RoleAdmin)
		call(t, "DELETE", "/api/v1/tokens/one-shot", one, secret, nil).wantStatus(t, 204)
		call(t, "GET", list, list, secret, nil).wantError(t, 401, codeUnauthorized)
		if !strings.Contains(f.logs.String(), `msg="api: API token revoked" token=one-shot by_token=one-shot self=true`) {
			t.Errorf("no log line for the token revoking itself:\n%s", f.logs)
		}
	})
	t.Run("create refused", func(t *testing.T) {
		call(t, "POST", list, list, f.admin, map[string]any{"name": "till", "role": "agent"}).wantField(t, 409, codeConflict, "name")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "two words", "role": "agent"}).wantField(t, 422, codeInvalid, "name")
		call(t, "POST", list, list, f.admin, map[string]any{"name": strings.Repeat("x", 65), "role": "agent"}).wantField(t, 422, codeInvalid, "name")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "pos", "role": "root"}).wantField(t, 422, codeInvalid, "role")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "pos"}).wantField(t, 422, codeInvalid, "role")
		call(t, "POST", list, list, f.admin, map[string]any{"name": "pos", "role": "agent", "secret": "cdk_mine"}).wantField(t, 400, codeBadRequest, "secret")
		call(t, "POST", list, list, f.admin, "").wantError(t, 400, codeBadRequest)
		call(t, "POST", list, list, f.admin, `{"name":"pos","role":"agent"}`, "Content-Type", "application/x-www-form-urlencoded").wantError(t, 415, codeUnsupportedMedia)
	})
	t.Run("roles", func(t *testing.T) {
		body := map[string]any{"name": "sneaky", "role": "admin"}
		call(t, "GET", list, list, f.agent, nil).wantError(t, 403, codeForbidden)
		call(t, "POST", list, list, f.agent, body).wantError(t, 403, codeForbidden)
		call(t, "DELETE", "/api/v1/tokens/backoffice", one, f.agent, nil).wantError(t, 403, codeForbidden)
		call(t, "GET", list, list, "", nil).wantError(t, 401, codeUnauthorized)
		call(t, "POST", list, list, "", body).wantError(t, 401, codeUnauthorized)
		call(t, "DELETE", "/api/v1/tokens/till", one, "", nil).wantError(t, 401, codeUnauthorized)
		f.do("GET", "/api/v1/tickets", f.admin, nil).wantStatus(t, 200)
		f.do("GET", "/api/v1/tickets", f.agent, nil).wantStatus(t, 200)
		if _, err := f.tokens.Check(f.admin); err != nil {
			t.Errorf("an agent revoked the admin's token: %v", err)
		}
	})

	logs := f.logs.String()
	for _, want := range []string{
		`msg="api: API token created" token=label-printer role=agent by_token=backoffice`,
		`msg="api: API token revoked" token=label-printer by_token=backoffice self=false`,
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("no log line %q in\n%s", want, logs)
		}
	}
	if len(secrets) != 3 {
		t.Fatalf("%d secrets made, want 3", len(secrets))
	}
	for _, secret := range append(secrets, f.admin, f.agent) {
		if strings.Contains(logs, secret) {
			t.Errorf("the log holds the secret %q:\n%s", secret, logs)
		}
	}
}

// TestReportAPI asks for the period of the reports page's tests and
// expects the numbers that page and its CSV show.
func TestReportAPI(t *testing.T) {
	sc := newReportScenario(t)
	f := sc.f.fixture
	agent, err := f.tokens.Create("till", auth.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	call := docCaller(f)
	const path = "/api/v1/reports"

	r := call(t, "GET", path+"?from=2025-03-03&to=2025-03-07", path, agent, nil)
	r.wantStatus(t, 200)
	var got reportResponse
	r.decode(t, &got)
	if got.From != "2025-03-03" || got.To != "2025-03-07" || got.Days != 5 || got.Clamped || got.Zone == "" {
		t.Errorf("period %s to %s, %d days, clamped %v, zone %q", got.From, got.To, got.Days, got.Clamped, got.Zone)
	}
	if got.Spam != 1 || got.Merged != 0 {
		t.Errorf("spam %d, merged %d; want 1, 0", got.Spam, got.Merged)
	}

	// The channels in display order, as the daily table's columns.
	var chans []string
	for _, ch := range got.Channels {
		chans = append(chans, fmt.Sprintf("%s:%s:%d", ch.Channel, ch.Label, ch.Total))
	}
	if want := "voicemail:Voicemail:1 sms:SMS:2 web_form:Web form:1 email:Email:1"; strings.Join(chans, " ") != want {
		t.Errorf("channels %v, want %s", chans, want)
	}
	// The rows of the daily CSV: the channels with tickets, new, open.
	wantDaily := []string{
		"2025-03-03 v0 s1 w0 e1 new 2 open 3",
		"2025-03-04 v1 s0 w0 e0 new 1 open 3",
		"2025-03-05 v0 s1 w0 e0 new 1 open 3",
		"2025-03-06 v0 s0 w0 e0 new 0 open 2",
		"2025-03-07 v0 s0 w1 e0 new 1 open 2",
	}
	if len(got.Daily) != len(wantDaily) {
		t.Fatalf("%d days, want %d", len(got.Daily), len(wantDaily))
	}
	for i, d := range got.Daily {
		if len(d.ByChannel) != 4 {
			t.Errorf("%s: by_channel %v, want the four channels of the report", d.Date, d.ByChannel)
		}
		line := fmt.Sprintf("%s v%d s%d w%d e%d new %d open %d", d.Date,
			d.ByChannel[ticket.ChannelVoicemail], d.ByChannel[ticket.ChannelSMS], d.ByChannel[ticket.ChannelWebForm], d.ByChannel[ticket.ChannelEmail], d.New, d.Open)
		if line != wantDaily[i] {
			t.Errorf("day %d: %s, want %s", i, line, wantDaily[i])
		}
	}

	// The summary, and the agent and category tables, in the CSV's
	// columns: created, responded, FR median and p90 (minutes), resolved,
	// rate, resolution median and p90 (minutes), breaches, open at end.
	row := func(r reportRowJSON) string {
		mins := func(v *float64) string {
			if v == nil {
				return ""
			}
			return fmt.Sprintf("%.1f", *v/60)
		}
		rate := ""
		if r.ResolutionRate != nil {
			rate = fmt.Sprintf("%.1f", *r.ResolutionRate)
		}
		return strings.Join([]string{
			fmt.Sprint(r.Created), fmt.Sprint(r.Responded),
			mins(r.FirstResponse.MedianSeconds), mins(r.FirstResponse.P90Seconds),
			fmt.Sprint(r.Resolved), rate,
			mins(r.Resolution.MedianSeconds), mins(r.Resolution.P90Seconds),
			fmt.Sprint(r.FirstResponseBreaches), fmt.Sprint(r.ResolutionBreaches), fmt.Sprint(r.OpenAtEnd),
		}, ",")
	}
	if s, want := row(got.Total), "5,3,30.0,120.0,3,60.0,1440.0,2880.0,2,2,2"; s != want || got.Total.Label != "All tickets" {
		t.Errorf("total %q %s, want %s", got.Total.Label, s, want)
	}
	if got.Total.FirstResponse.Count != 3 || got.Total.Resolution.Count != 3 {
		t.Errorf("total counts %+v %+v", got.Total.FirstResponse, got.Total.Resolution)
	}
	byLabel := func(rows []reportRowJSON) map[string]string {
		m := map[string]string{}
		for _, r := range rows {
			label := r.Label
			if r.None {
				label = "(" + strings.ToLower(label) + ")"
			}
			m[label] = row(r)
		}
		return m
	}
	agents := byLabel(got.Agents)
	for name, want := range map[string]string{
		"ann":          "1,1,30.0,30.0,1,100.0,360.0,360.0,0,0,0",
		"bob":          "1,1,120.0,120.0,1,100.0,2880.0,2880.0,1,1,0",
		sc.evilName:    "1,1,20.0,20.0,1,100.0,1440.0,1440.0,0,0,0",
		"(unassigned)": "2,0,,,0,0.0,,,1,1,2",
	} {
		if agents[name] != want {
			t.Errorf("agent %s: %q, want %q (all: %v)", name, agents[name], want, agents)
		}
	}
	if len(got.Agents) != 4 || !got.Agents[0].None {
		t.Errorf("agents not busiest first: %+v", got.Agents)
	}
	cats := byLabel(got.Categories)
	for name, want := range map[string]string{
		"repair":          "2,2,30.0,120.0,2,100.0,360.0,2880.0,1,1,0",
		"order":           "2,1,20.0,20.0,1,50.0,1440.0,1440.0,0,0,0",
		sc.evilCat:        "1,0,,,0,0.0,,,1,1,1",
		"(uncategorised)": "0,0,,,0,,,,0,0,1",
	} {
		if cats[name] != want {
			t.Errorf("category %s: %q, want %q (all: %v)", name, cats[name], want, cats)
		}
	}

	// The same numbers as the page the staff see.
	b := sc.f.login(t, "ann", auth.RoleAgent)
	p := b.get("/reports?from=2025-03-03&to=2025-03-07").want(t, 200)
	p.contains(t,
		fmt.Sprintf(`<dd id="kpi-created">%d</dd>`, got.Total.Created),
		fmt.Sprintf(`<dd id="kpi-breaches">%d</dd>`, got.Total.FirstResponseBreaches+got.Total.ResolutionBreaches),
		fmt.Sprintf(`<dd id="kpi-open">%d</dd>`, got.Total.OpenAtEnd),
		fmt.Sprintf("Not counted: %d spam, %d merged", got.Spam, got.Merged),
	)

	// Without dates: the 30 days to today; past today: cut at today.
	var def reportResponse
	call(t, "GET", path, path, agent, nil).decode(t, &def)
	if def.From != "2025-02-09" || def.To != "2025-03-10" || def.Days != 30 || def.Total.Created != 8 {
		t.Errorf("default period %s to %s, %d days, %d created", def.From, def.To, def.Days, def.Total.Created)
	}
	var cut reportResponse
	call(t, "GET", path+"?from=2025-03-09&to=2025-04-30", path, agent, nil).decode(t, &cut)
	if !cut.Clamped || cut.To != "2025-03-10" || cut.Days != 2 {
		t.Errorf("clamped period %+v", cut)
	}
	// An empty period has empty lists, not nulls.
	var empty reportResponse
	r = call(t, "GET", path+"?from=2025-02-01&to=2025-02-01", path, agent, nil)
	r.decode(t, &empty)
	if empty.Total.Created != 0 || empty.Total.ResolutionRate != nil || empty.Total.FirstResponse.MedianSeconds != nil ||
		!strings.Contains(string(r.body), `"channels":[]`) || !strings.Contains(string(r.body), `"resolution_rate_percent":null`) {
		t.Errorf("empty period %s", r.body)
	}

	// The page's checks, as 400s naming the date at fault.
	for _, c := range []struct{ query, field, want string }{
		{"from=2025-02-30&to=2025-03-07", "from", `from: "2025-02-30" is not a date; write it as YYYY-MM-DD`},
		{"from=03/01/2025", "from", `from: "03/01/2025" is not a date`},
		{"from=2025-03-01&to=<b>", "to", `to: "<b>" is not a date`},
		{"from=bad&to=worse", "to", `to: "worse" is not a date`},
		{"from=2025-03-07&to=2025-03-01", "", "The period starts (2025-03-07) after it ends (2025-03-01)."},
		{"from=2024-01-01&to=2025-03-01", "", "is 426 days long; a report covers at most 366 days."},
		{"from=2025-03-11", "", "The period cannot start in the future"},
		{"colour=red", "colour", `unknown query parameter "colour"`},
		{"from=2025-03-01&from=2025-03-02", "from", "given twice"},
	} {
		r := call(t, "GET", path+"?"+c.query, path, agent, nil)
		e := r.wantError(t, 400, codeBadRequest)
		if e.Field != c.field || !strings.Contains(e.Message, c.want) {
			t.Errorf("%s: %+v, want field %q and %q", c.query, e, c.field, c.want)
		}
	}
	call(t, "GET", path+"?from=2024-03-10&to=2025-03-10", path, agent, nil).wantStatus(t, 200)
	call(t, "GET", path, path, "", nil).wantError(t, 401, codeUnauthorized)
}
