package ui

import (
	"bufio"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ui/auth"
)

// openFeed opens the live feed of list query as user's session and
// returns a reader of its events.
func openFeed(t *testing.T, base, sessionID, query string) (*http.Response, *bufio.Reader) {
	t.Helper()
	req, _ := http.NewRequest("GET", base+"/events"+query, nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: sessionID})
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp, bufio.NewReader(resp.Body)
}

// nextEvent reads the next event of a feed: its name and data.
func nextEvent(t *testing.T, r *bufio.Reader) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("feed ended: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func TestEvents(t *testing.T) {
	f := newWebFixture(t, func(o *Options) { o.MaxStreams = 2 })
	base := f.serve()
	f.users.Create("till", auth.RoleAgent, "password1")
	id, _, err := f.users.NewSession("till")
	if err != nil {
		t.Fatal(err)
	}
	all, allR := openFeed(t, base, id, "")
	if all.StatusCode != 200 || all.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("feed: %d %s", all.StatusCode, all.Header.Get("Content-Type"))
	}
	_, mailR := openFeed(t, base, id, "?view=email")
	// The third feed is over the bound.
	req, _ := http.NewRequest("GET", base+"/events", nil)
	req.AddCookie(&http.Cookie{Name: sessionCookie, Value: id})
	req.Header.Set("Accept", "text/html")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 503 {
		t.Errorf("third feed: %d, want 503", resp.StatusCode)
	}
	// Without a session there is no feed.
	req, _ = http.NewRequest("GET", base+"/events", nil)
	resp, err = (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 303 {
		t.Errorf("feed without a session: %d", resp.StatusCode)
	}

	// Wait until both feeds are subscribed, then ingest.
	deadline := time.Now().Add(5 * time.Second)
	for f.desk.Subscribers() < 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	n := f.ingest(t, sms("+447700900001", "<b>live</b> one"))
	name, data := nextEvent(t, allR)
	var ev feedEvent
	if err := json.Unmarshal([]byte(data), &ev); err != nil {
		t.Fatal(err)
	}
	if name != "ticket" || ev.Number != n || ev.Action != "upsert" || ev.Kind != "ticket.created" {
		t.Fatalf("event %s %+v", name, ev)
	}
	if !strings.Contains(ev.HTML, `id="t-`) || strings.Contains(ev.HTML, "<b>live") || !strings.Contains(ev.HTML, `href="#i-sms"`) {
		t.Errorf("row HTML %s", ev.HTML)
	}
	if strings.Contains(ev.HTML, "/delete") {
		t.Error("an agent's row offers delete")
	}
	_, data = nextEvent(t, mailR)
	ev = feedEvent{}
	json.Unmarshal([]byte(data), &ev)
	if ev.Action != "remove" || ev.HTML != "" {
		t.Errorf("an SMS in the email view: %+v", ev)
	}

	// Logging out everywhere ends the feed with a reload at the next ping.
	if _, err := f.users.EndSessions("till"); err != nil {
		t.Fatal(err)
	}
}

func TestMatches(t *testing.T) {
	f := newWebFixture(t)
	n := f.ingest(t, sms("+447700900001", "hello"))
	tk, _ := f.desk.Get(n)
	for _, tc := range []struct {
		q    listQuery
		want bool
	}{
		{listQuery{View: "all"}, true},
		{listQuery{View: "sms"}, true},
		{listQuery{View: "email"}, false},
		{listQuery{View: "unassigned"}, true},
		{listQuery{View: "mine"}, false},
		{listQuery{View: "all", Status: string(tk.Status)}, true},
		{listQuery{View: "spam"}, false},
		{listQuery{View: "all", Tag: "nope"}, false},
		{listQuery{View: "all", Team: "x"}, false},
	} {
		fl, err := tc.q.filter("till")
		if err != nil {
			t.Fatal(err)
		}
		if got := fl.Match(&tk); got != tc.want {
			t.Errorf("%+v: matches = %v", tc.q, got)
		}
		// The feed and the list agree.
		page, err := f.desk.List(fl)
		if err != nil {
			t.Fatal(err)
		}
		if listed := len(page.Tickets) == 1; listed != tc.want {
			t.Errorf("%+v: listed = %v, matches = %v", tc.q, listed, tc.want)
		}
	}
}
