package ui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/counterdesk/counterdesk/ticket"
)

// loginAs logs in through the login page and waits for the list.
func loginAs(t *testing.T, ctx context.Context, base, name, password, waitFor string) {
	t.Helper()
	do(t, ctx, "log in as "+name,
		chromedp.Navigate(base+"/tickets"),
		chromedp.WaitVisible(`input[name=password]`),
		chromedp.SendKeys(`input[name=name]`, name),
		chromedp.SendKeys(`input[name=password]`, password),
		chromedp.Submit(`input[name=password]`),
		chromedp.WaitVisible(waitFor),
	)
}

// TestBrowserBulkAndMerge works the list on a phone: two tickets are
// selected and assigned together from the bulk bar, then one ticket is
// merged into another of the same contact from the ticket page.
func TestBrowserBulkAndMerge(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	f := newWebFixture(t, func(o *Options) { o.Now = nil })
	base := f.serve()
	for _, name := range []string{"till", "sam"} {
		if _, err := f.users.Create(name, "agent", "correct horse"); err != nil {
			t.Fatal(err)
		}
	}
	kim := ticket.From{Phone: "+447700900123", Name: "Kim Mustermann-Langername"}
	into := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: kim, Body: "My glider's tail broke", NewTicket: true})
	from := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelSMS, From: kim, Body: "Also the canopy, same glider", NewTicket: true})
	a := f.ingest(t, ticket.Inbound{Channel: ticket.ChannelEmail, From: ticket.From{Email: "jo.flyer@example.com", Name: "Jo"},
		Subject: "A rather long subject about a backorder of the 1:48 Spitfire Mk IX kit", Body: "When?"})
	b := f.ingest(t, sms("+447700900456", "Do you sell LiPo chargers?"))

	ctx := newBrowser(t, 390, 844)
	loginAs(t, ctx, base, "till", "correct horse", fmt.Sprintf(`#t-%d`, b))
	do(t, ctx, "select two tickets",
		chromedp.Click(fmt.Sprintf(`#t-%d input.pick`, a)),
		chromedp.Click(fmt.Sprintf(`#t-%d input.pick`, b)),
		chromedp.WaitVisible(`#bulk[data-picked="2"]`),
	)
	if text := value(t, ctx, chromedp.Text(`#picked`)); !strings.Contains(text, "2 tickets selected") {
		t.Errorf("the bulk bar says %q", text)
	}

	// The page is usable on the phone: no sideways scroll of the page,
	// and the bulk bar is on screen with its buttons reachable.
	if w := value(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the list is %d px wide on a 390 px screen", w)
	}
	if w := value(t, ctx, chromedp.Evaluate[int](`document.body.scrollWidth`)); w > 390 {
		t.Errorf("the list's body is %d px wide on a 390 px screen", w)
	}
	reach := `(function () {
		var b = document.querySelector('#bulk button[value=assign]');
		b.scrollIntoView({block: 'nearest'});
		var r = b.getBoundingClientRect();
		var bar = document.getElementById('bulk').getBoundingClientRect();
		var hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
		return bar.left >= 0 && bar.right <= window.innerWidth && r.bottom <= window.innerHeight && r.top >= 0 && (hit === b || b.contains(hit));
	})()`
	if !value(t, ctx, chromedp.Evaluate[bool](reach)) {
		t.Error("the bulk bar's assign button is not reachable on a phone")
	}
	shot(t, ctx, "list-phone.png")

	do(t, ctx, "assign both to sam",
		chromedp.SetValue(`#bulk select[name=assignee]`, "sam"),
		chromedp.Click(`#bulk button[value=assign]`),
		chromedp.WaitVisible(`#bulk[data-picked="0"]`),
		chromedp.WaitVisible(fmt.Sprintf(`#t-%d`, a)),
	)
	for _, n := range []uint64{a, b} {
		if tk, _ := f.desk.Get(n); tk.Assignee != "sam" {
			t.Errorf("#%d assigned to %q after the bulk change", n, tk.Assignee)
		}
	}
	if tk, _ := f.desk.Get(into); tk.Assignee != "" {
		t.Errorf("#%d was not selected but is assigned to %q", into, tk.Assignee)
	}
	// The assignee column is hidden on a phone; its text is still there,
	// once the list has come back from the change.
	do(t, ctx, "the list shows the new assignee",
		chromedp.Poll[chromedp.Void](fmt.Sprintf(`(document.querySelector('#t-%d td.assignee') || {textContent: ''}).textContent.includes('sam')`, a), chromedp.WithPollingTimeout(20*time.Second)),
	)

	do(t, ctx, "merge a ticket into the contact's other one",
		chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, from)),
		chromedp.WaitVisible(`#merge select[name=into]`),
		chromedp.Evaluate[chromedp.Void](`window.confirm = function () { return true; }`),
		chromedp.SetValue(`#merge select[name=into]`, fmt.Sprint(into)),
		chromedp.Click(`#merge button[type=submit]`),
		chromedp.WaitNotPresent(`#merge`),
		chromedp.WaitVisible(`#reply textarea`),
	)
	if n := value(t, ctx, chromedp.Evaluate[int](`document.querySelectorAll('.msg.inbound').length`)); n != 2 {
		t.Errorf("the merged ticket shows %d inbound messages, want 2", n)
	}
	if loc := value(t, ctx, chromedp.Location()); !strings.HasSuffix(loc, fmt.Sprintf("/tickets/%d", into)) {
		t.Errorf("after the merge the page is %s", loc)
	}
	if tk, _ := f.desk.Get(from); tk.MergedInto != into {
		t.Errorf("#%d merged into #%d, want #%d", from, tk.MergedInto, into)
	}
	shot(t, ctx, "merged-phone.png")
	if w := value(t, ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); w > 390 {
		t.Errorf("the ticket page is %d px wide on a 390 px screen", w)
	}
}

// notifyStub replaces the browser's Notification with one that records
// its calls, as a person who allowed notifications would see them.
const notifyStub = `(function () {
	window.notified = [];
	var N = function (title, opts) { window.notified.push({title: title, body: (opts && opts.body) || ''}); };
	N.permission = 'granted';
	N.requestPermission = function () { return Promise.resolve('granted'); };
	window.Notification = N;
})()`

// TestBrowserUrgentAlert turns the alerts on from the keyboard, then an
// urgent ticket that arrives while the list is open rings and notifies;
// an ordinary one does not.
func TestBrowserUrgentAlert(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test in -short mode")
	}
	f := newWebFixture(t, func(o *Options) { o.Now = nil })
	base := f.serve()
	if _, err := f.users.Create("till", "agent", "correct horse"); err != nil {
		t.Fatal(err)
	}
	ctx := newBrowser(t, 1280, 900)
	loginAs(t, ctx, base, "till", "correct horse", `#tickets[data-live="on"]`)
	do(t, ctx, "turn the alerts on by keyboard",
		chromedp.Evaluate[chromedp.Void](notifyStub),
		chromedp.Focus(`#urgent-alerts`),
		chromedp.KeyEvent(" "),
		chromedp.WaitReady(`#urgent-alerts:checked`),
	)
	if v := value(t, ctx, chromedp.Evaluate[string](`localStorage.getItem('counterdesk.alerts')`)); v != "on" {
		t.Fatalf("the alerts setting is %q in localStorage", v)
	}

	plain := f.ingest(t, sms("+447700900001", "Do you sell glue?"))
	do(t, ctx, "an ordinary ticket arrives", chromedp.WaitVisible(fmt.Sprintf(`#t-%d`, plain)))
	urgent := f.ingest(t, sms("+447700900002", "My LiPo battery is swollen and smoking!"))
	if tk, _ := f.desk.Get(urgent); tk.Priority != ticket.PriorityUrgent {
		t.Fatalf("the test ticket is %s, not urgent", tk.Priority)
	}
	do(t, ctx, "the urgent ticket arrives", chromedp.WaitVisible(fmt.Sprintf(`#t-%d`, urgent)))
	var calls int
	for i := 0; ; i++ {
		calls = value(t, ctx, chromedp.Evaluate[int](`window.notified.length`))
		if calls > 0 || i == 50 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if calls != 1 {
		t.Fatalf("%d notifications, want 1 for the urgent ticket", calls)
	}
	if title := value(t, ctx, chromedp.Evaluate[string](`window.notified[0].title`)); title != fmt.Sprintf("Urgent ticket #%d", urgent) {
		t.Errorf("notification %q", title)
	}
	if rang := value(t, ctx, chromedp.Evaluate[string](`document.body.getAttribute('data-last-alert')`)); rang != fmt.Sprint(urgent) {
		t.Errorf("the sound rang for %q, want #%d", rang, urgent)
	}

	// Turned off, the page stays quiet, also after a reload.
	do(t, ctx, "turn the alerts off",
		chromedp.Click(`#urgent-alerts`),
		chromedp.Reload(),
		chromedp.WaitVisible(`#tickets[data-live="on"]`),
		chromedp.Evaluate[chromedp.Void](notifyStub),
	)
	if value(t, ctx, chromedp.Evaluate[bool](`document.getElementById('urgent-alerts').checked`)) {
		t.Error("the alerts are on after being turned off and reloading")
	}
	again := f.ingest(t, sms("+447700900003", "Fire! The charger is burning"))
	do(t, ctx, "another urgent ticket arrives", chromedp.WaitVisible(fmt.Sprintf(`#t-%d`, again)))
	if n := value(t, ctx, chromedp.Evaluate[int](`window.notified.length`)); n != 0 {
		t.Errorf("%d notifications with the alerts off", n)
	}
}
