package ui

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"html"
	"log/slog"
	"regexp"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// reportTriager is a hand-written triager for the report fixtures. It
// reads words of the first message: "cat=NAME" sets the category, "fr=D"
// and "res=D" the first-response and resolution targets, D after the
// request arrived.
type reportTriager struct{}

func (reportTriager) Triage(in triage.Input) triage.Decision {
	if !in.NewTicket {
		return triage.Decision{}
	}
	d := triage.Decision{Priority: triage.PriorityNormal, Rule: "report-test", Why: "report fixture",
		Steps: []triage.Step{{What: "priority", Value: triage.PriorityNormal, Rule: "report-test"}}}
	for _, w := range strings.Fields(in.Body) {
		k, v, _ := strings.Cut(w, "=")
		switch k {
		case "cat":
			d.Category = v
			d.Steps = append(d.Steps, triage.Step{What: "category", Value: v, Rule: "report-test"})
		case "fr", "res":
			dur, err := time.ParseDuration(v)
			if err != nil {
				panic(err)
			}
			d.Steps = append(d.Steps, triage.Step{What: "sla", Value: k + " " + v, Rule: "report-test"})
			if k == "fr" {
				d.FirstResponseDue = in.ReceivedAt.Add(dur)
			} else {
				d.ResolutionDue = in.ReceivedAt.Add(dur)
			}
		}
	}
	return d
}

// newReportFixture is a web fixture whose Desk runs on the same settable
// clock as the server, so tickets can be made at chosen times.
func newReportFixture(t testing.TB, start time.Time) *webFixture {
	clk := &fakeClock{t: start}
	desk, err := ticket.Open(t.TempDir(), ticket.Options{Triager: reportTriager{}, Now: clk.Now})
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
	logs := new(logBuffer)
	o := Options{
		Desk: desk, Tokens: tokens, Users: users, Health: health.New(),
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ShopName: "Wingspan Models", Now: clk.Now,
	}
	srv := New(o)
	f := &fixture{t: t, srv: srv, app: srv.App(), desk: desk, tokens: tokens, health: o.Health, logs: logs}
	return &webFixture{fixture: f, users: users, clock: clk}
}

// setClock moves the fake clock to t.
func setClock(c *fakeClock, t time.Time) { c.Add(t.Sub(c.Now())) }

// marchAt is a time in March 2025 in the server's zone, the zone the
// report's days are cut in.
func marchAt(day, hour, minute int) time.Time {
	return time.Date(2025, time.March, day, hour, minute, 0, 0, time.Local)
}

// reportScenario makes tickets with known numbers for the period 3 to 7
// March 2025 and leaves the clock at 10 March noon. want* hold what the
// report of that period must show.
type reportScenario struct {
	f        *webFixture
	evilCat  string
	evilName string
}

func newReportScenario(t *testing.T) *reportScenario {
	f := newReportFixture(t, marchAt(1, 10, 0))
	sc := &reportScenario{f: f, evilCat: "<script>alert(1)</script>", evilName: "@eve"}
	ctx := context.Background()
	phone := 0
	at := func(tm time.Time) { setClock(f.clock, tm) }
	open := func(tm time.Time, ch ticket.Channel, body string) uint64 {
		t.Helper()
		at(tm)
		phone++
		in := ticket.Inbound{Channel: ch, Body: body, SourceKey: fmt.Sprintf("report:%d", phone)}
		if ch == ticket.ChannelEmail || ch == ticket.ChannelWebForm {
			in.From.Email = fmt.Sprintf("c%d@example.com", phone)
			in.Subject = "Request " + body
		} else {
			in.From.Phone = fmt.Sprintf("+4477009001%02d", phone)
		}
		return f.ingest(t, in)
	}
	do := func(tm time.Time, what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s at %s: %v", what, tm, err)
		}
	}
	assign := func(tm time.Time, n uint64, who string) {
		t.Helper()
		at(tm)
		_, err := f.desk.Assign(ctx, ticket.Staff("lead"), n, who, "")
		do(tm, "assign", err)
	}
	reply := func(tm time.Time, n uint64, who string) {
		t.Helper()
		at(tm)
		_, err := f.desk.Reply(ctx, ticket.Staff(who), n, ticket.Reply{Body: "On it."})
		do(tm, "reply", err)
	}
	status := func(tm time.Time, n uint64, s ticket.Status) {
		t.Helper()
		at(tm)
		_, err := f.desk.SetStatus(ctx, ticket.Staff("lead"), n, s, "")
		do(tm, "status", err)
	}

	// Before the period: one still open, one resolved on its second day.
	open(marchAt(1, 10, 0), ticket.ChannelSMS, "still waiting")
	old := open(marchAt(2, 9, 0), ticket.ChannelSMS, "cat=repair old one")
	status(marchAt(4, 10, 0), old, ticket.StatusResolved)

	// 3 March: A by SMS, answered in 30m, resolved in 6h, within targets.
	a := open(marchAt(3, 9, 0), ticket.ChannelSMS, "cat=repair fr=1h res=24h A")
	assign(marchAt(3, 9, 10), a, "ann")
	reply(marchAt(3, 9, 30), a, "ann")
	status(marchAt(3, 15, 0), a, ticket.StatusResolved)
	// 3 March: B by email, answered in 2h and resolved in 48h: both late.
	b := open(marchAt(3, 11, 0), ticket.ChannelEmail, "cat=repair fr=1h res=24h B")
	assign(marchAt(3, 11, 5), b, "bob")
	reply(marchAt(3, 13, 0), b, "bob")
	status(marchAt(5, 11, 0), b, ticket.StatusResolved)
	// 4 March: C by voicemail, never answered, still open: both late.
	open(marchAt(4, 10, 0), ticket.ChannelVoicemail, "cat="+sc.evilCat+" fr=1h res=24h C")
	// 4 March: spam, not counted.
	spam := open(marchAt(4, 12, 0), ticket.ChannelSMS, "cat=order buy followers")
	status(marchAt(4, 12, 5), spam, ticket.StatusSpam)
	// 5 March: D by SMS for "@eve", answered in 20m, resolved on the
	// dot of its 24h target: not late.
	d := open(marchAt(5, 14, 0), ticket.ChannelSMS, "cat=order fr=1h res=24h D")
	assign(marchAt(5, 14, 1), d, sc.evilName)
	reply(marchAt(5, 14, 20), d, sc.evilName)
	status(marchAt(6, 14, 0), d, ticket.StatusResolved)
	// 7 March: E by web form, closed unanswered before its targets.
	e := open(marchAt(7, 16, 0), ticket.ChannelWebForm, "cat=order fr=1h res=24h E")
	status(marchAt(7, 16, 30), e, ticket.StatusClosed)
	// 8 March, after the period.
	open(marchAt(8, 9, 0), ticket.ChannelSMS, "cat=repair later")
	at(marchAt(10, 12, 0))
	return sc
}

var reportTagRE = regexp.MustCompile(`<[^>]*>`)

// reportCells returns the text of the cells of the table row whose first cell
// is label, joined by "|".
func reportCells(t *testing.T, body, table, label string) string {
	t.Helper()
	start := strings.Index(body, `<table class="report" id="`+table+`"`)
	if start < 0 {
		t.Fatalf("no table %s", table)
	}
	tbl := body[start:]
	tbl = tbl[:strings.Index(tbl, "</table>")]
	for _, row := range strings.Split(tbl, "<tr")[1:] {
		var out []string
		for _, cell := range regexp.MustCompile(`<t[hd][^>]*>(.*?)</t[hd]>`).FindAllStringSubmatch(row, -1) {
			out = append(out, strings.Join(strings.Fields(html.UnescapeString(reportTagRE.ReplaceAllString(cell[1], ""))), " "))
		}
		if len(out) > 0 && out[0] == label {
			return strings.Join(out, "|")
		}
	}
	t.Fatalf("no row %q in table %s", label, table)
	return ""
}

func TestReportsPage(t *testing.T) {
	sc := newReportScenario(t)
	b := sc.f.login(t, "ann", auth.RoleAgent)
	p := b.get("/reports?from=2025-03-03&to=2025-03-07")
	if p.status != 200 {
		t.Fatal(sc.f.logs.String())
	}
	p.contains(t,
		`aria-current="page">Reports`,
		`<dd id="kpi-created">5</dd>`,
		`<dd id="kpi-fr-median">30m</dd>`, `<dd id="kpi-fr-p90">2h</dd>`,
		`<dd id="kpi-res-median">1d</dd>`, `<dd id="kpi-res-p90">2d</dd>`,
		`<dd id="kpi-rate">60%</dd>`, "3 of 5 resolved",
		`<dd id="kpi-breaches">4</dd>`, "2 first response, 2 resolution",
		`<dd id="kpi-open">2</dd>`,
		"Not counted: 1 spam, 0 merged",
		// Charts: accessible SVG, coloured by class.
		`<svg class="chart" id="volume-chart"`, `<svg class="chart" id="backlog-chart"`, `role="img"`,
		`<title id="volume-title">Tickets per channel per day, 2025-03-03 to 2025-03-07</title>`,
		`class="bar ch-sms"`, `class="bar ch-voicemail"`, `<polyline class="line" points="`,
		`<title>Mon 3 Mar 2025: 1 Email</title>`, `<title>Tue 4 Mar 2025: 3 open</title>`,
		// CSV links for the same period.
		`href="/reports.csv?from=2025-03-03&amp;table=agents&amp;to=2025-03-07"`,
	)
	if strings.Contains(p.body, " style=") {
		t.Error("the page has a style attribute, which the CSP forbids")
	}

	// Per day: the channels with tickets, in display order, then the new
	// tickets and the open ones at the end of the day.
	for label, want := range map[string]string{
		"Mon 3 Mar 2025": "0|1|0|1|2|3",
		"Tue 4 Mar 2025": "1|0|0|0|1|3",
		"Wed 5 Mar 2025": "0|1|0|0|1|3",
		"Thu 6 Mar 2025": "0|0|0|0|0|2",
		"Fri 7 Mar 2025": "0|0|1|0|1|2",
	} {
		if got := reportCells(t, p.body, "daily", label); got != label+"|"+want {
			t.Errorf("day row %q, want %q", got, label+"|"+want)
		}
	}
	if !strings.Contains(p.body, `<th scope="col">Day</th><th scope="col" class="num">Voicemail</th><th scope="col" class="num">SMS</th><th scope="col" class="num">Web form</th><th scope="col" class="num">Email</th><th scope="col" class="num">New</th>`) {
		t.Error("the daily table's channel columns are not in display order")
	}

	// Columns: created, FR median, FR p90, resolved, rate, res median,
	// res p90, breaches (FR, res), open at end.
	for _, c := range []struct{ table, label, want string }{
		{"agents", "ann", "1|30m|30m|1|100%|6h|6h|0 (0, 0)|0"},
		{"agents", "bob", "1|2h|2h|1|100%|2d|2d|2 (1, 1)|0"},
		{"agents", "@eve", "1|20m|20m|1|100%|1d|1d|0 (0, 0)|0"},
		{"agents", "Unassigned", "2|–|–|0|0%|–|–|2 (1, 1)|2"},
		{"categories", "repair", "2|30m|2h|2|100%|6h|2d|2 (1, 1)|0"},
		{"categories", "order", "2|20m|20m|1|50%|1d|1d|0 (0, 0)|0"},
		{"categories", sc.evilCat, "1|–|–|0|0%|–|–|2 (1, 1)|1"},
		{"categories", "Uncategorised", "0|–|–|0|–|–|–|0 (0, 0)|1"},
	} {
		if got := reportCells(t, p.body, c.table, c.label); got != c.label+"|"+c.want {
			t.Errorf("%s row\n got %q\nwant %q", c.table, got, c.label+"|"+c.want)
		}
	}

	// Names are text, never markup.
	if strings.Contains(p.body, sc.evilCat) {
		t.Error("a category name reached the page unescaped")
	}
	p.contains(t, "&lt;script&gt;alert(1)&lt;/script&gt;")

	// No dates: the last 30 days up to today (10 March), which hold the
	// two tickets before the period and the one after it too.
	p = b.get("/reports").want(t, 200)
	p.contains(t, `name="from" value="2025-02-09"`, `name="to" value="2025-03-10"`, `<dd id="kpi-created">8</dd>`)
	// A period running past today stops today.
	b.get("/reports?from=2025-03-09&to=2025-04-30").want(t, 200).contains(t, "The period stops today", `name="to" value="2025-03-10"`)
}

func TestReportsBadPeriod(t *testing.T) {
	f := newReportFixture(t, marchAt(10, 12, 0))
	b := f.login(t, "ann", auth.RoleAgent)
	for _, c := range []struct{ query, want string }{
		{"from=2025-02-30&to=2025-03-07", "from: &#34;2025-02-30&#34; is not a date; write it as YYYY-MM-DD"},
		{"from=03/01/2025", "from: &#34;03/01/2025&#34; is not a date"},
		{"from=2025-03-01&to=<b>", "to: &#34;&lt;b&gt;&#34; is not a date"},
		{"from=2025-03-07&to=2025-03-01", "The period starts (2025-03-07) after it ends (2025-03-01)."},
		{"from=2024-01-01&to=2025-03-01", "is 426 days long; a report covers at most 366 days."},
		{"from=2025-03-11", "The period cannot start in the future"},
	} {
		p := b.get("/reports?" + c.query)
		if p.status != 400 {
			t.Errorf("%s: status %d, want 400", c.query, p.status)
			continue
		}
		p.contains(t, `<p class="error" role="alert">`, c.want, `<form method="get" action="/reports"`)
		if strings.Contains(p.body, `id="volume-chart"`) {
			t.Errorf("%s: a refused period still shows a report", c.query)
		}
	}
	b.get("/reports.csv?from=2025-03-07&to=2025-03-01").want(t, 400).contains(t, "after it ends")
	b.get("/reports.csv?table=everything").want(t, 400).contains(t, "is not a report table")
	// A whole year is allowed.
	b.get("/reports?from=2024-03-10&to=2025-03-10").want(t, 200)
}

func TestReportsLoginRequired(t *testing.T) {
	f := newReportFixture(t, marchAt(10, 12, 0))
	f.users.Create("ann", auth.RoleAdmin, "password1")
	b := f.browser(t)
	for _, path := range []string{"/reports", "/reports?from=2025-03-01", "/reports.csv", "/reports.csv?table=agents"} {
		p := b.get(path)
		if p.status != 303 || !strings.HasPrefix(p.location, "/login?next=") {
			t.Errorf("GET %s without a session: %d to %q", path, p.status, p.location)
		}
	}
	// An API token is not a session.
	if r := f.do("GET", "/reports.csv", "nope", nil, "Accept", "text/csv"); r.status == 200 {
		t.Errorf("CSV with a bearer token and no session: %d", r.status)
	}
}

func reportReadCSV(t *testing.T, b *browser, path string) (page, [][]string) {
	t.Helper()
	p := b.get(path).want(t, 200)
	rows, err := csv.NewReader(strings.NewReader(p.body)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v\n%s", path, err, p.body)
	}
	return p, rows
}

func TestReportsCSV(t *testing.T) {
	sc := newReportScenario(t)
	b := sc.f.login(t, "ann", auth.RoleAgent)
	const q = "/reports.csv?from=2025-03-03&to=2025-03-07"

	p, rows := reportReadCSV(t, b, q)
	if ct := p.header.Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		t.Errorf("Content-Type %q", ct)
	}
	if cd := p.header.Get("Content-Disposition"); cd != `attachment; filename="counterdesk-daily-2025-03-03-to-2025-03-07.csv"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if p.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("no nosniff header")
	}
	wantDaily := [][]string{
		{"date", "voicemail", "missed_call", "sms", "web_form", "email", "staff", "api", "cloud", "total", "open_at_end_of_day"},
		{"2025-03-03", "0", "0", "1", "0", "1", "0", "0", "0", "2", "3"},
		{"2025-03-04", "1", "0", "0", "0", "0", "0", "0", "0", "1", "3"},
		{"2025-03-05", "0", "0", "1", "0", "0", "0", "0", "0", "1", "3"},
		{"2025-03-06", "0", "0", "0", "0", "0", "0", "0", "0", "0", "2"},
		{"2025-03-07", "0", "0", "0", "1", "0", "0", "0", "0", "1", "2"},
	}
	if fmt.Sprint(rows) != fmt.Sprint(wantDaily) {
		t.Errorf("daily CSV\n got %v\nwant %v", rows, wantDaily)
	}

	_, rows = reportReadCSV(t, b, q+"&table=summary")
	summary := map[string]string{}
	for _, r := range rows[1:] {
		summary[r[0]] = r[1]
	}
	for k, v := range map[string]string{
		"tickets_created": "5", "tickets_responded": "3", "first_response_median_minutes": "30.0",
		"first_response_p90_minutes": "120.0", "tickets_resolved": "3", "resolution_rate_percent": "60.0",
		"resolution_median_minutes": "1440.0", "resolution_p90_minutes": "2880.0",
		"first_response_sla_breaches": "2", "resolution_sla_breaches": "2", "open_at_end": "2",
		"spam_not_counted": "1", "days": "5",
	} {
		if summary[k] != v {
			t.Errorf("summary %s = %q, want %q", k, summary[k], v)
		}
	}

	p, rows = reportReadCSV(t, b, q+"&table=agents")
	if cd := p.header.Get("Content-Disposition"); !strings.Contains(cd, "counterdesk-agents-") {
		t.Errorf("Content-Disposition %q", cd)
	}
	wantHead := "agent tickets_created tickets_responded first_response_median_minutes first_response_p90_minutes tickets_resolved resolution_rate_percent resolution_median_minutes resolution_p90_minutes first_response_sla_breaches resolution_sla_breaches open_at_end"
	if got := strings.Join(rows[0], " "); got != wantHead {
		t.Errorf("agents header\n got %s\nwant %s", got, wantHead)
	}
	agents := map[string]string{}
	for _, r := range rows[1:] {
		agents[r[0]] = strings.Join(r[1:], ",")
	}
	for name, want := range map[string]string{
		"ann":          "1,1,30.0,30.0,1,100.0,360.0,360.0,0,0,0",
		"bob":          "1,1,120.0,120.0,1,100.0,2880.0,2880.0,1,1,0",
		"'@eve":        "1,1,20.0,20.0,1,100.0,1440.0,1440.0,0,0,0",
		"(unassigned)": "2,0,,,0,0.0,,,1,1,2",
	} {
		if agents[name] != want {
			t.Errorf("agent %s: %q, want %q (all: %v)", name, agents[name], want, agents)
		}
	}
	if _, ok := agents["@eve"]; ok {
		t.Error("a name starting with @ was written as it is: a spreadsheet would run it")
	}

	_, rows = reportReadCSV(t, b, q+"&table=categories")
	cats := map[string]string{}
	for _, r := range rows[1:] {
		cats[r[0]] = strings.Join(r[1:], ",")
	}
	if cats[sc.evilCat] != "1,0,,,0,0.0,,,1,1,1" || cats["order"] != "2,1,20.0,20.0,1,50.0,1440.0,1440.0,0,0,0" {
		t.Errorf("categories %v", cats)
	}
}

// A category that would be a formula, and one with quotes and commas,
// come out as text in the CSV.
func TestReportCSVCells(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"http://x\")": "'=HYPERLINK(\"http://x\")",
		"+1":                       "'+1",
		"-2+3":                     "'-2+3",
		"@SUM(A1)":                 "'@SUM(A1)",
		"\tx":                      "'\tx",
		"repair":                   "repair",
		"":                         "",
		"a=b":                      "a=b",
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
	r := &report{Categories: []reportRow{{Label: `=cmd|' /C calc'!A0`, Created: 1}, {Label: `say "hi", ok`}}}
	var buf bytes.Buffer
	if err := writeReportCSV(&buf, r, "categories"); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&buf).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if rows[1][0] != `'=cmd|' /C calc'!A0` || rows[2][0] != `say "hi", ok` {
		t.Errorf("cells %q %q", rows[1][0], rows[2][0])
	}
}

// The days are calendar days of the zone, 23 or 25 hours long across a
// daylight-saving change.
func TestReportPeriodDST(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	now := time.Date(2025, 4, 2, 12, 0, 0, 0, london)
	p, err := parsePeriod("2025-03-29", "2025-03-31", now, london)
	if err != nil {
		t.Fatal(err)
	}
	if p.Days != 3 || p.To.Sub(p.From) != 71*time.Hour {
		t.Fatalf("period %d days, %s long", p.Days, p.To.Sub(p.From))
	}
	b := newReportBuilder(p, london, now)
	// 23:30 on the short day (30 March) is still that day.
	b.add(&ticket.Ticket{Channel: ticket.ChannelSMS, Status: ticket.StatusOpen, CreatedAt: time.Date(2025, 3, 30, 23, 30, 0, 0, london)})
	r := b.report()
	if r.Days[1].Total != 1 || r.Days[1].Open != 1 || r.Days[0].Open != 0 || r.Days[2].Open != 1 {
		t.Errorf("days %+v", r.Days)
	}
	// Default: the 30 days to today.
	p, _ = parsePeriod("", "", now, london)
	if p.First != "2025-03-04" || p.Last != "2025-04-02" || p.Days != 30 {
		t.Errorf("default period %+v", p)
	}
}

func TestReportStats(t *testing.T) {
	ds := func(mins ...int) []time.Duration {
		var out []time.Duration
		for _, m := range mins {
			out = append(out, time.Duration(m)*time.Minute)
		}
		return out
	}
	for _, c := range []struct {
		in          []time.Duration
		median, p90 time.Duration
	}{
		{ds(5), 5 * time.Minute, 5 * time.Minute},
		{ds(40, 10, 30, 20), 20 * time.Minute, 40 * time.Minute},
		{ds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 5 * time.Minute, 9 * time.Minute},
		{ds(11, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 6 * time.Minute, 10 * time.Minute},
	} {
		s := summarize(c.in)
		if s.Median != c.median || s.P90 != c.p90 {
			t.Errorf("%v: median %s p90 %s, want %s %s", c.in, s.Median, s.P90, c.median, c.p90)
		}
	}
	for d, want := range map[time.Duration]string{
		45 * time.Second: "45s", 12 * time.Minute: "12m", 3*time.Hour + 5*time.Minute: "3h 05m",
		2 * time.Hour: "2h", 52 * time.Hour: "2d 4h", 48 * time.Hour: "2d",
	} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

// TestReportTiming builds the report of 10,000 tickets and logs how long
// it took; the numbers are checked, the time only reported.
func TestReportTiming(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 tickets in -short mode")
	}
	const n = 10_000
	start := marchAt(1, 0, 0)
	f := newReportFixture(t, start)
	// Ingest from a few goroutines, so the desk batches the commits; the
	// clock moves a minute per ticket, spreading them over about 7 days.
	var (
		wg   stdsync.WaitGroup
		next = make(chan int)
	)
	made := time.Now()
	for range 8 {
		wg.Go(func() {
			for i := range next {
				in := ticket.Inbound{Channel: ticket.Channels[i%5], SourceKey: fmt.Sprintf("t:%d", i),
					From: ticket.From{Phone: fmt.Sprintf("+44770%07d", i)}, Body: fmt.Sprintf("cat=c%d fr=1h ticket %d", i%7, i)}
				if _, err := f.desk.Ingest(context.Background(), in); err != nil {
					t.Error(err)
				}
			}
		})
	}
	for i := range n {
		setClock(f.clock, start.Add(time.Duration(i)*time.Minute))
		next <- i
	}
	close(next)
	wg.Wait()
	t.Logf("ingested %d tickets in %s", n, time.Since(made).Round(time.Millisecond))
	setClock(f.clock, marchAt(10, 12, 0))

	loc := time.Local
	p, err := parsePeriod("2025-03-01", "2025-03-10", f.clock.Now(), loc)
	if err != nil {
		t.Fatal(err)
	}
	r, err := f.srv.buildReport(p, loc, f.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if r.Total.Created != n || r.Read != n || r.Total.OpenAtEnd != n || r.Total.FirstResponseBreaches != n || len(r.Categories) != 7 {
		t.Errorf("created %d, read %d, open %d, breaches %d, categories %d", r.Total.Created, r.Read, r.Total.OpenAtEnd, r.Total.FirstResponseBreaches, len(r.Categories))
	}
	t.Logf("report of %d tickets over %d days built in %s", r.Read, p.Days, r.Took.Round(time.Millisecond))

	// The whole page, rendered.
	b := f.login(t, "ann", auth.RoleAgent)
	began := time.Now()
	b.get("/reports?from=2025-03-01&to=2025-03-10").want(t, 200).contains(t, fmt.Sprintf(`<dd id="kpi-created">%d</dd>`, n))
	t.Logf("reports page for %d tickets served in %s", n, time.Since(began).Round(time.Millisecond))
}
