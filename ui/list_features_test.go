package ui

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/health"
	"github.com/counterdesk/counterdesk/ticket"
	"github.com/counterdesk/counterdesk/triage"
	"github.com/counterdesk/counterdesk/ui/auth"
)

// newClockedWebFixture is newWebFixture with the Desk on the fixture's
// clock too, so tickets can be made on chosen days.
func newClockedWebFixture(t testing.TB, start time.Time) *webFixture {
	rules, err := triage.New(config.Default())
	if err != nil {
		t.Fatal(err)
	}
	clk := &fakeClock{t: start}
	desk, err := ticket.Open(t.TempDir(), ticket.Options{Triager: rules, Automator: rules, Now: clk.Now})
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
	o := Options{Desk: desk, Tokens: tokens, Users: users, Health: health.New(),
		Logger: slog.New(slog.NewTextHandler(logs, nil)), ShopName: "Wingspan Models", Now: clk.Now}
	srv := New(o)
	f := &fixture{t: t, srv: srv, app: srv.App(), desk: desk, tokens: tokens, health: o.Health, logs: logs}
	return &webFixture{fixture: f, users: users, clock: clk}
}

// rowsOf returns the ticket numbers of the rows of a list page.
func rowsOf(body string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`<tr id="t-(\d+)"`).FindAllStringSubmatch(body, -1) {
		out = append(out, m[1])
	}
	return out
}

func nums(ns ...uint64) []string {
	out := make([]string, 0, len(ns))
	for _, n := range ns {
		out = append(out, fmt.Sprint(n))
	}
	return out
}

func TestListDateFilter(t *testing.T) {
	day0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.Local)
	f := newClockedWebFixture(t, day0)
	b := f.login(t, "till", auth.RoleAgent)
	in := func(phone string) ticket.Inbound {
		return ticket.Inbound{Channel: ticket.ChannelSMS, From: ticket.From{Phone: phone}, Body: "hello", NewTicket: true}
	}
	a := f.ingest(t, in("+447700900001"))
	f.clock.Add(3 * 24 * time.Hour)
	bb := f.ingest(t, in("+447700900002"))
	f.clock.Add(3 * 24 * time.Hour)
	c := f.ingest(t, in("+447700900003"))
	f.clock.Add(time.Hour)
	if _, err := f.desk.AddNote(context.Background(), ticket.Staff("till"), a, "still waiting"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		query string
		want  []string // newest change first
	}{
		{"from=2025-03-13&to=2025-03-13", nums(bb)},
		{"from=2025-03-16", nums(a, c)},
		{"to=2025-03-12", nil},
		{"date=created&to=2025-03-12", nums(a)},
		{"date=created&from=2025-03-13", nums(c, bb)},
		{"date=updated&from=2025-03-10&to=2025-03-16", nums(a, c, bb)},
		{"view=sms&to=2025-03-14", nums(bb)},
		{"q=hello&from=2025-03-13&to=2025-03-13", nums(bb)},
	} {
		p := b.get("/tickets?"+tc.query).want(t, 200)
		if got := rowsOf(p.body); strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("%s: rows %v, want %v", tc.query, got, tc.want)
		}
		if strings.Contains(p.body, "data-events") {
			t.Errorf("%s: a list bounded by dates has a live feed", tc.query)
		}
	}
	// The filter form keeps the dates, and so do the view links.
	p := b.get("/tickets?date=created&from=2025-03-13").want(t, 200)
	p.contains(t, `name="from" value="2025-03-13"`, `<option value="created" selected>`, `href="/tickets?date=created&amp;from=2025-03-13&amp;view=sms"`)

	for _, bad := range []struct{ query, reason string }{
		{"from=2025-13-01", "The from date &#34;2025-13-01&#34; is not a date"},
		{"to=%3Cb%3Eyesterday%3C%2Fb%3E", "The to date &#34;&lt;b&gt;yesterday&lt;/b&gt;&#34; is not a date"},
		{"date=%3Ci%3Eborn", "Dates bound &#34;&lt;i&gt;born&#34;"},
		{"from=2025-03-14&to=2025-03-13", "is after the to date"},
	} {
		p := b.get("/tickets?"+bad.query).want(t, 400)
		p.contains(t, bad.reason)
		if strings.Contains(p.body, "<b>yesterday") || strings.Contains(p.body, "<i>born") {
			t.Errorf("%s: the reason is not escaped", bad.query)
		}
	}
}

func TestListDateFilterPages(t *testing.T) {
	day0 := time.Date(2025, 3, 10, 12, 0, 0, 0, time.Local)
	f := newClockedWebFixture(t, day0)
	b := f.login(t, "till", auth.RoleAgent)
	for i := range 5 {
		f.ingest(t, sms(fmt.Sprintf("+4477008%05d", i), "old"))
	}
	f.clock.Add(2 * 24 * time.Hour)
	for i := range ticket.DefaultPageSize + 5 {
		f.ingest(t, sms(fmt.Sprintf("+4477009%05d", i), "in range"))
	}
	f.clock.Add(2 * 24 * time.Hour)
	for i := range 7 {
		f.ingest(t, sms(fmt.Sprintf("+4477007%05d", i), "new"))
	}
	p := b.get("/tickets?from=2025-03-12&to=2025-03-12").want(t, 200)
	if n := len(rowsOf(p.body)); n != ticket.DefaultPageSize {
		t.Fatalf("first page has %d rows", n)
	}
	next := regexp.MustCompile(`href="(/tickets\?[^"]*cursor=[^"]+)" rel="next"`).FindStringSubmatch(p.body)
	if next == nil {
		t.Fatal("no next link")
	}
	p = b.get(strings.ReplaceAll(next[1], "&amp;", "&")).want(t, 200)
	if n := len(rowsOf(p.body)); n != 5 {
		t.Errorf("second page has %d rows", n)
	}
	if strings.Contains(p.body, `rel="next"`) {
		t.Error("the last page in the range links to another")
	}
}

// bulkForm is the form the list's bulk bar sends.
func bulkValues(csrf, action string, ns ...uint64) url.Values {
	v := url.Values{"csrf": {csrf}, "action": {action}, "back": {"/tickets?view=sms"}}
	for _, n := range ns {
		v.Add("n", fmt.Sprint(n))
	}
	return v
}

func TestBulkChange(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	f.login(t, "sam", auth.RoleAgent)
	n1 := f.ingest(t, sms("+447700900001", "one"))
	n2 := f.ingest(t, sms("+447700900002", "two"))
	n3 := f.ingest(t, sms("+447700900003", "three"))
	tok := b.csrf()

	// The list offers the bulk bar and a box on every row.
	p := b.get("/tickets").want(t, 200)
	p.contains(t, `<form method="post" action="/tickets/bulk" id="bulk"`, fmt.Sprintf(`name="n" value="%d" form="bulk"`, n1))

	v := bulkValues(tok, "assign", n1, n2)
	v.Set("assignee", "sam")
	b.post("/tickets/bulk", v).redirect(t, "/tickets?view=sms")
	v = bulkValues(tok, "status", n1, n2)
	v.Set("status", "pending")
	b.post("/tickets/bulk", v).redirect(t, "/tickets?view=sms")
	v = bulkValues(tok, "tag", n1, n2, n2)
	v.Set("tag", "Glider")
	b.post("/tickets/bulk", v).redirect(t, "/tickets?view=sms")
	v = bulkValues(tok, "untag", n2)
	v.Set("tag", "glider")
	b.post("/tickets/bulk", v).redirect(t, "/tickets?view=sms")
	for _, tc := range []struct {
		n       uint64
		tags    string
		audited int
	}{{n1, "glider", 3}, {n2, "", 4}} {
		tk, _ := f.desk.Get(tc.n)
		if tk.Assignee != "sam" || tk.Status != ticket.StatusPending || slices.Contains(tk.Tags, "glider") != (tc.tags == "glider") {
			t.Errorf("#%d after bulk changes: %s, %s, %v", tc.n, tk.Assignee, tk.Status, tk.Tags)
		}
		th, _ := f.desk.Thread(tc.n)
		audited := 0
		for _, ev := range th.Events {
			if ev.Why == bulkWhy && ev.Actor.Name == "till" {
				audited++
			}
		}
		if audited != tc.audited {
			t.Errorf("#%d: %d audited bulk events, want %d", tc.n, audited, tc.audited)
		}
	}
	if tk, _ := f.desk.Get(n3); tk.Assignee != "" || tk.Status != ticket.StatusNew {
		t.Errorf("#%d was not selected but changed: %+v", n3, tk)
	}
}

func TestBulkPartialFailure(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "ann", auth.RoleAdmin)
	ctx := context.Background()
	ok := f.ingest(t, sms("+447700900001", "one"))
	closed := f.ingest(t, sms("+447700900002", "two"))
	gone := f.ingest(t, sms("+447700900003", "three"))
	st := ticket.StatusClosed
	if _, err := f.desk.Update(ctx, ticket.Staff("ann"), closed, ticket.Patch{Status: &st}); err != nil {
		t.Fatal(err)
	}
	if err := f.desk.Delete(ctx, ticket.Staff("ann"), gone, "test"); err != nil {
		t.Fatal(err)
	}
	v := bulkValues(b.csrf(), "status", ok, closed, gone, 99999)
	v.Set("status", "pending")
	p := b.post("/tickets/bulk", v).want(t, 422)
	p.contains(t, "3 of 4 tickets could not be changed.", "Bulk change: status set to pending",
		fmt.Sprintf(`<li id="bulk-%d" class="done">`, ok),
		fmt.Sprintf(`<li id="bulk-%d" class="failed"><a href="/tickets/%d">#%d</a>: Its status cannot go from closed to pending.</li>`, closed, closed, closed),
		fmt.Sprintf(`<li id="bulk-%d" class="failed"><a href="/tickets/%d">#%d</a>: There is no such ticket.</li>`, gone, gone, gone),
		`<li id="bulk-99999" class="failed">`)
	if tk, _ := f.desk.Get(ok); tk.Status != ticket.StatusPending {
		t.Errorf("the ticket that could change is %s", tk.Status)
	}
	if tk, _ := f.desk.Get(closed); tk.Status != ticket.StatusClosed {
		t.Errorf("the closed ticket is %s", tk.Status)
	}
	// The page shown is the list the change came from.
	if !strings.Contains(p.body, `<a href="/tickets?view=sms" aria-current="page">`) {
		t.Error("the report is not shown on the list it came from")
	}
}

func TestBulkRejects(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	n := f.ingest(t, sms("+447700900001", "one"))
	tok := b.csrf()
	with := func(v url.Values, k, val string) url.Values { v.Set(k, val); return v }

	// CSRF: no token, a wrong one, another session's.
	other := f.login(t, "sam", auth.RoleAgent)
	for _, bad := range []string{"", tok[:len(tok)-1] + "x", other.csrf()} {
		v := with(bulkValues(bad, "assign", n), "assignee", "till")
		if bad == "" {
			v.Del("csrf")
		}
		b.post("/tickets/bulk", v).want(t, 403).contains(t, "Reload the page")
	}
	if tk, _ := f.desk.Get(n); tk.Assignee != "" {
		t.Fatalf("a forged bulk form assigned #%d", n)
	}

	many := bulkValues(tok, "assign")
	for i := range maxBulk + 1 {
		many.Add("n", fmt.Sprint(i+1))
	}
	b.post("/tickets/bulk", many).want(t, 422).contains(t, "At most 200 tickets can be changed at once; 201 were selected.")

	for _, tc := range []struct {
		form   url.Values
		status int
		reason string
	}{
		{bulkValues(tok, "assign"), 422, "Select at least one ticket first."},
		{with(bulkValues(tok, "assign"), "n", "<b>7</b>"), 400, "&#34;&lt;b&gt;7&lt;/b&gt;&#34; is not a ticket number."},
		{bulkValues(tok, "<script>nope</script>", n), 400, "Unknown bulk action &#34;&lt;script&gt;nope&lt;/script&gt;&#34;."},
		{with(bulkValues(tok, "assign", n), "assignee", "<i>eve</i>"), 422, "There is no user &#34;&lt;i&gt;eve&lt;/i&gt;&#34;."},
		{with(bulkValues(tok, "status", n), "status", "<u>done</u>"), 422, "Unknown status &#34;&lt;u&gt;done&lt;/u&gt;&#34;."},
		{with(bulkValues(tok, "tag", n), "tag", "<b>x</b>"), 422, "&#34;&lt;b&gt;x&lt;/b&gt;&#34; is not a tag"},
		{with(bulkValues(tok, "untag", n), "tag", ""), 422, "is not a tag"},
	} {
		p := b.post("/tickets/bulk", tc.form).want(t, tc.status)
		p.contains(t, tc.reason)
		for _, raw := range []string{"<b>7", "<script>nope", "<i>eve", "<u>done", "<b>x"} {
			if strings.Contains(p.body, raw) {
				t.Errorf("%v: %q shown unescaped", tc.form, raw)
			}
		}
	}
	// A back address elsewhere is not followed.
	v := with(with(bulkValues(tok, "tag", n), "tag", "ok"), "back", "//evil.example/")
	b.post("/tickets/bulk", v).redirect(t, "/tickets")
	if tk, _ := f.desk.Get(n); !slices.Contains(tk.Tags, "ok") {
		t.Errorf("tags %v", tk.Tags)
	}
}

func TestDeletedView(t *testing.T) {
	f := newWebFixture(t)
	admin := f.login(t, "ann", auth.RoleAdmin)
	agent := f.login(t, "till", auth.RoleAgent)
	live := f.ingest(t, sms("+447700900001", "keep me"))
	gone := f.ingest(t, sms("+447700900002", "delete me"))
	admin.post(fmt.Sprintf("/tickets/%d/delete", gone), url.Values{"csrf": {admin.csrf()}}).redirect(t, "/tickets")

	p := admin.get("/tickets?view=deleted").want(t, 200)
	if got := rowsOf(p.body); strings.Join(got, ",") != fmt.Sprint(gone) {
		t.Errorf("deleted view rows %v, want #%d", got, gone)
	}
	p.contains(t, `badge danger">deleted`)
	for _, not := range []string{`form="bulk"`, `id="bulk"`, "data-events", fmt.Sprintf("/tickets/%d/delete", gone), fmt.Sprintf("/tickets/%d/archive", gone)} {
		if strings.Contains(p.body, not) {
			t.Errorf("the deleted view has %q", not)
		}
	}
	if !strings.Contains(admin.get("/tickets").body, `href="/tickets?view=deleted"`) {
		t.Error("admins are not offered the deleted view")
	}
	if got := rowsOf(admin.get("/tickets").body); strings.Join(got, ",") != fmt.Sprint(live) {
		t.Errorf("the list shows %v, want only #%d", got, live)
	}

	agent.get("/tickets?view=deleted").want(t, 403).contains(t, "Only an admin may see the deleted view.")
	if strings.Contains(agent.get("/tickets").body, "view=deleted") {
		t.Error("agents are offered the deleted view")
	}
	agent.get(fmt.Sprintf("/tickets/%d", gone)).want(t, 404)
	admin.get(fmt.Sprintf("/tickets/%d", gone)).want(t, 200)
}

func TestMergeForm(t *testing.T) {
	f := newWebFixture(t)
	b := f.login(t, "till", auth.RoleAgent)
	kim := ticket.From{Phone: "+447700900001", Name: "Kim"}
	first := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: kim, Body: "My glider broke", NewTicket: true})
	second := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: kim, Body: "Also the glider's wing", NewTicket: true})
	closed := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: kim, Body: "Old question", NewTicket: true})
	stranger := f.ingest(t, sms("+447700900009", "someone else"))
	cl := ticket.StatusClosed
	if _, err := f.desk.Update(context.Background(), ticket.Staff("till"), closed, ticket.Patch{Status: &cl}); err != nil {
		t.Fatal(err)
	}
	tok := b.csrf()

	// The page lists the contact's other tickets, and offers the open
	// ones to merge into.
	p := b.get(fmt.Sprintf("/tickets/%d", second)).want(t, 200)
	p.contains(t, "Other tickets of this contact", fmt.Sprintf(`<a href="/tickets/%d">#%d</a>`, closed, closed),
		fmt.Sprintf(`action="/tickets/%d/merge"`, second), fmt.Sprintf(`<option value="%d">#%d`, first, first))
	if strings.Contains(p.body, fmt.Sprintf(`<option value="%d">`, closed)) || strings.Contains(p.body, fmt.Sprintf(`<option value="%d">`, stranger)) {
		t.Error("a closed ticket or another contact's is offered to merge into")
	}

	path := fmt.Sprintf("/tickets/%d/merge", second)
	b.post(path, url.Values{"into": {fmt.Sprint(first)}}).want(t, 403)
	b.post(path, url.Values{"csrf": {tok}, "into": {"<b>one</b>"}}).want(t, 400).contains(t, "&#34;&lt;b&gt;one&lt;/b&gt;&#34; is not a ticket number")
	b.post(path, url.Values{"csrf": {tok}, "into": {fmt.Sprint(stranger)}}).want(t, 422).contains(t, fmt.Sprintf("Ticket #%d belongs to another contact", stranger))
	b.post(path, url.Values{"csrf": {tok}, "into": {"99999"}}).want(t, 422).contains(t, "There is no ticket #99999 to merge into.")
	b.post(path, url.Values{"csrf": {tok}, "into": {fmt.Sprint(second)}}).want(t, 422).contains(t, "cannot be merged into itself")
	b.post("/tickets/99999/merge", url.Values{"csrf": {tok}, "into": {fmt.Sprint(first)}}).want(t, 404)
	if tk, _ := f.desk.Get(second); tk.MergedInto != 0 {
		t.Fatal("a refused merge merged")
	}

	b.post(path, url.Values{"csrf": {tok}, "into": {fmt.Sprint(first)}}).redirect(t, fmt.Sprintf("/tickets/%d", first))
	src, _ := f.desk.Get(second)
	if src.MergedInto != first || src.Status != ticket.StatusClosed {
		t.Errorf("merged ticket: into #%d, %s", src.MergedInto, src.Status)
	}
	th, _ := f.desk.Thread(first)
	if len(th.Messages) != 2 {
		t.Errorf("#%d has %d messages after the merge", first, len(th.Messages))
	}
	// Merging again is refused with the reason; the merged ticket offers
	// no merge form.
	b.post(path, url.Values{"csrf": {tok}, "into": {fmt.Sprint(first)}}).want(t, 422).contains(t, "was merged into")
	if strings.Contains(b.get(fmt.Sprintf("/tickets/%d", second)).body, `id="merge"`) {
		t.Error("a merged ticket offers to merge again")
	}
}
