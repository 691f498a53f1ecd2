package ui

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/counterdesk/counterdesk/ticket"
)

// create opens a ticket through the API and returns the answer.
func (f *fixture) create(tok string, body map[string]any, hdr ...string) createResponse {
	r := f.do("POST", "/api/v1/tickets", tok, body, hdr...)
	if r.status != 201 {
		f.t.Fatalf("create: status %d: %s", r.status, r.body)
	}
	var cr createResponse
	r.decode(f.t, &cr)
	return cr
}

func TestCreateTicket(t *testing.T) {
	f := newFixture(t)
	body := map[string]any{
		"subject":  "Servo jitter on the Cub",
		"body":     "The elevator servo twitches at idle.",
		"contact":  map[string]any{"name": "Ada", "phone": "07700 900123", "email": "Ada@Example.com"},
		"priority": "high",
		"tags":     []string{"Servo", "warranty"},
	}
	r := f.do("POST", "/api/v1/tickets", f.agent, body, "Idempotency-Key", "till-7-0001")
	r.wantStatus(t, 201)
	var first createResponse
	r.decode(t, &first)
	tk := first.Ticket
	if tk.Number != ticket.FirstNumber || tk.Subject != "Servo jitter on the Cub" || tk.Channel != ticket.ChannelAPI ||
		tk.Priority != ticket.PriorityHigh || !slices.Equal(tk.Tags, []string{"servo", "warranty"}) || first.Duplicate || first.MessageID == 0 {
		t.Errorf("created %+v", first)
	}
	if loc := r.header.Get("Location"); loc != "/api/v1/tickets/1001" {
		t.Errorf("Location = %q", loc)
	}

	// A retry with the same key gives the same ticket and writes nothing.
	body["priority"] = "low"
	r = f.do("POST", "/api/v1/tickets", f.agent, body, "Idempotency-Key", "till-7-0001")
	r.wantStatus(t, 200)
	var again createResponse
	r.decode(t, &again)
	if !again.Duplicate || again.Ticket.Number != tk.Number || again.MessageID != first.MessageID || again.Ticket.Priority != ticket.PriorityHigh {
		t.Errorf("retry = %+v", again)
	}
	if n, _ := f.desk.Count(); n != 1 {
		t.Errorf("%d tickets after a retry, want 1", n)
	}
	// The key belongs to the token: another client's same key is another request.
	other := f.create(f.admin, body, "Idempotency-Key", "till-7-0001")
	if other.Ticket.Number == tk.Number {
		t.Error("two tokens share an idempotency key")
	}
	// Without a key, every request is new.
	a := f.create(f.agent, map[string]any{"body": "hello"})
	b := f.create(f.agent, map[string]any{"body": "hello"})
	if a.Ticket.Number == b.Ticket.Number {
		t.Error("two requests without a key gave one ticket")
	}
	if a.Ticket.Subject != "hello" {
		t.Errorf("subject from body = %q", a.Ticket.Subject)
	}

	th, err := f.desk.Thread(tk.Number)
	if err != nil {
		t.Fatal(err)
	}
	if th.Contact.Name != "Ada" || !slices.Equal(th.Contact.Phones, []string{"+447700900123"}) || len(th.Messages) != 1 {
		t.Errorf("thread = %+v", th)
	}
	var byAPI bool
	for _, e := range th.Events {
		if e.Action == "priority" && e.Actor == (ticket.Actor{Kind: ticket.ActorAPI, Name: "till"}) {
			byAPI = true
		}
	}
	if !byAPI {
		t.Errorf("priority change not audited as api:till: %+v", th.Events)
	}
}

func TestCreateTicketRejects(t *testing.T) {
	f := newFixture(t, func(o *Options) { o.MaxBodyBytes = 4096 })
	for _, tc := range []struct {
		name   string
		body   any
		hdr    []string
		status int
		code   string
		field  string
	}{
		{"unknown field", `{"subject":"x","body":"y","colour":"red"}`, nil, 400, "bad_request", "colour"},
		{"unknown nested field", `{"body":"y","contact":{"fax":"1"}}`, nil, 400, "bad_request", "fax"},
		{"trailing garbage", `{"body":"y"} {"body":"z"}`, nil, 400, "bad_request", ""},
		{"trailing bracket", `{"body":"y"}]`, nil, 400, "bad_request", ""},
		{"not an object", `["body"]`, nil, 400, "bad_request", ""},
		{"wrong type", `{"body":42}`, nil, 400, "bad_request", "body"},
		{"malformed", `{"body":"y"`, nil, 400, "bad_request", ""},
		{"empty", ``, nil, 400, "bad_request", ""},
		{"text/plain", `{"body":"y"}`, []string{"Content-Type", "text/plain"}, 415, "unsupported_media_type", ""},
		{"form", `body=y`, []string{"Content-Type", "application/x-www-form-urlencoded"}, 415, "unsupported_media_type", ""},
		{"no content type", `{"body":"y"}`, []string{"Content-Type", ""}, 415, "unsupported_media_type", ""},
		{"json prefix", `{"body":"y"}`, []string{"Content-Type", "application/jsonp"}, 415, "unsupported_media_type", ""},
		{"latin-1", `{"body":"y"}`, []string{"Content-Type", "application/json; charset=iso-8859-1"}, 415, "unsupported_media_type", ""},
		{"gzip", `{"body":"y"}`, []string{"Content-Encoding", "gzip"}, 415, "unsupported_media_type", ""},
		{"no text", `{"contact":{"name":"Ada"}}`, nil, 422, "invalid", "body"},
		{"bad channel", `{"body":"y","channel":"sms"}`, nil, 422, "invalid", "channel"},
		{"unknown channel", `{"body":"y","channel":"pigeon"}`, nil, 422, "invalid", "channel"},
		{"bad priority", `{"body":"y","priority":"asap"}`, nil, 422, "invalid", "priority"},
		{"bad tag", `{"body":"y","tags":["ok","-no"]}`, nil, 422, "invalid", "tags"},
		{"bad phone", `{"body":"y","contact":{"phone":"12"}}`, nil, 422, "invalid", "from.phone"},
		{"bad email", `{"body":"y","contact":{"email":"nobody"}}`, nil, 422, "invalid", "from.email"},
		{"control character", `{"body":"y","subject":"a\u0007b"}`, nil, 422, "invalid", "subject"},
		{"bad base64", `{"body":"y","attachments":[{"name":"a.txt","data":"***"}]}`, nil, 400, "bad_request", "attachments[0].data"},
		{"empty attachment", `{"body":"y","attachments":[{"name":"a.txt","data":""}]}`, nil, 422, "invalid", "attachments"},
		{"path in file name", `{"body":"y","attachments":[{"name":"../a.txt","data":"eA=="}]}`, nil, 422, "invalid", "attachments.name"},
		{"long key", `{"body":"y"}`, []string{"Idempotency-Key", strings.Repeat("k", 201)}, 400, "bad_request", "Idempotency-Key"},
		{"non-ASCII key", `{"body":"y"}`, []string{"Idempotency-Key", "clé-1"}, 400, "bad_request", "Idempotency-Key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.with(t).do("POST", "/api/v1/tickets", f.agent, tc.body, tc.hdr...)
			e := r.wantError(t, tc.status, tc.code)
			if e.Field != tc.field {
				t.Errorf("field = %q, want %q (%s)", e.Field, tc.field, e.Message)
			}
			checkSecurityHeaders(t, r)
		})
	}
	if n, _ := f.desk.Count(); n != 0 {
		t.Errorf("%d tickets stored by rejected requests", n)
	}
}

func TestTooManyTagsAtOnce(t *testing.T) {
	f := newFixture(t)
	tags := make([]string, 33)
	for i := range tags {
		tags[i] = "t" + strconv.Itoa(i)
	}
	f.do("POST", "/api/v1/tickets", f.agent, map[string]any{"body": "x", "tags": tags}).wantError(t, 422, "invalid")
	if n, _ := f.desk.Count(); n != 0 {
		t.Errorf("%d tickets stored", n)
	}
}

// listAll follows the cursor from query to the last page and returns
// every ticket number seen, in order.
func (f *fixture) listAll(tok, query string) []uint64 {
	var out []uint64
	cursor := ""
	for pages := 0; ; pages++ {
		if pages > 1000 {
			f.t.Fatal("pagination does not end")
		}
		q := query
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		r := f.do("GET", "/api/v1/tickets?"+q, tok, nil)
		r.wantStatus(f.t, 200)
		var lr listResponse
		r.decode(f.t, &lr)
		for _, tk := range lr.Tickets {
			out = append(out, tk.Number)
		}
		if lr.Next == "" {
			return out
		}
		cursor = lr.Next
	}
}

func TestListTickets(t *testing.T) {
	f := newFixture(t)
	const total = 120
	want := map[string][]uint64{}
	for i := range total {
		body := map[string]any{
			"subject": fmt.Sprintf("Request %d", i),
			"body":    "Please call back about my order.",
		}
		var keys []string
		if i%3 == 0 {
			body["priority"] = "high"
			keys = append(keys, "priority=high")
		}
		if i%4 == 0 {
			body["channel"] = "staff"
			keys = append(keys, "channel=staff")
		}
		if i%5 == 0 {
			body["tags"] = []string{"wing"}
			keys = append(keys, "tag=wing")
		}
		if i%12 == 0 {
			keys = append(keys, "priority=high&channel=staff")
		}
		if i%10 == 7 {
			body["body"] = "My propeller is chipped."
			keys = append(keys, "q=propeller")
		}
		if i < 4 {
			body["contact"] = map[string]any{"email": "pilot@example.com"}
		}
		cr := f.create(f.agent, body)
		for _, k := range keys {
			want[k] = append(want[k], cr.Ticket.Number)
		}
	}

	all := f.listAll(f.agent, "limit=7")
	if len(all) != total {
		t.Fatalf("listed %d tickets, want %d", len(all), total)
	}
	seen := map[uint64]int{}
	for _, n := range all {
		seen[n]++
	}
	for n := uint64(ticket.FirstNumber); n < ticket.FirstNumber+total; n++ {
		if seen[n] != 1 {
			t.Errorf("ticket %d seen %d times", n, seen[n])
		}
	}
	// Newest change first: tickets were updated in creation order.
	if !slices.IsSortedFunc(all, func(a, b uint64) int { return int(b) - int(a) }) {
		t.Errorf("not newest first: %v", all)
	}
	// The default page size is used when no limit is given.
	var lr listResponse
	f.do("GET", "/api/v1/tickets", f.agent, nil).decode(t, &lr)
	if len(lr.Tickets) != ticket.DefaultPageSize || lr.Next == "" {
		t.Errorf("default page: %d tickets, next %q", len(lr.Tickets), lr.Next)
	}

	for query, nums := range want {
		got := f.listAll(f.agent, query+"&limit=4")
		slices.Sort(got)
		if !slices.Equal(got, nums) {
			t.Errorf("%s: got %v, want %v", query, got, nums)
		}
	}

	contact := f.do("GET", "/api/v1/tickets/1001", f.agent, nil)
	var th ticket.Thread
	contact.decode(t, &th)
	got := f.listAll(f.agent, "contact="+strconv.FormatUint(th.Contact.ID, 10))
	slices.Sort(got)
	if !slices.Equal(got, []uint64{1001, 1002, 1003, 1004}) {
		t.Errorf("contact filter: %v", got)
	}

	if _, err := f.desk.Assign(t.Context(), ticket.Staff("sam"), 1010, "sam", ""); err != nil {
		t.Fatal(err)
	}
	if got := f.listAll(f.agent, "assignee=sam"); !slices.Equal(got, []uint64{1010}) {
		t.Errorf("assignee=sam: %v", got)
	}
	if got := f.listAll(f.agent, "assignee=none"); len(got) != total-1 || slices.Contains(got, 1010) {
		t.Errorf("assignee=none: %d tickets", len(got))
	}
	if got := f.listAll(f.agent, "q=nothing+matches+this"); len(got) != 0 {
		t.Errorf("q with no match: %v", got)
	}
}

func TestListRejects(t *testing.T) {
	f := newFixture(t)
	for _, q := range []string{
		"status=lost", "channel=pigeon", "priority=asap", "limit=0", "limit=501", "limit=ten",
		"contact=x", "contact=0", "deleted=maybe", "assignee=", "stauts=open", "status=open&status=new",
		"cursor=%21%21", "q=%2B%2B", "tag=-x",
	} {
		t.Run(q, func(t *testing.T) {
			f.with(t).do("GET", "/api/v1/tickets?"+q, f.agent, nil).wantError(t, 400, "bad_request")
		})
	}
}

func TestThread(t *testing.T) {
	f := newFixture(t)
	cr := f.create(f.agent, map[string]any{"subject": "Crashed wing", "body": "Left wing cracked.", "contact": map[string]any{"name": "Bo", "email": "bo@example.com"}})
	for _, path := range []string{"/api/v1/tickets/1001", "/api/v1/tickets/%231001"} {
		r := f.do("GET", path, f.agent, nil)
		r.wantStatus(t, 200)
		var th ticket.Thread
		r.decode(t, &th)
		if th.Ticket.Number != cr.Ticket.Number || th.Contact.Name != "Bo" || len(th.Messages) != 1 ||
			th.Messages[0].Body != "Left wing cracked." || len(th.Events) == 0 {
			t.Errorf("%s: %+v", path, th)
		}
	}
}

func TestReplyAndNote(t *testing.T) {
	f := newFixture(t)
	f.create(f.agent, map[string]any{"body": "Is the Spitfire kit in stock?", "contact": map[string]any{"phone": "+447700900123"}})

	r := f.do("POST", "/api/v1/tickets/1001/replies", f.agent, map[string]any{"body": "Yes, two left.", "status": "pending"})
	r.wantStatus(t, 201)
	var mr messageResponse
	r.decode(t, &mr)
	if mr.Message.Direction != ticket.Outgoing || mr.Message.Author != "till" || mr.Message.Delivery != ticket.DeliveryQueued {
		t.Errorf("reply = %+v", mr.Message)
	}

	r = f.do("GET", "/api/v1/outbox?state=pending", f.admin, nil)
	r.wantStatus(t, 200)
	var or outboxResponse
	r.decode(t, &or)
	if len(or.Rows) != 1 || or.Rows[0].Kind != ticket.DeliverKind(ticket.RouteSMS) || or.Rows[0].Ticket != 1001 ||
		!strings.Contains(string(or.Rows[0].Payload), "Yes, two left.") {
		t.Errorf("outbox = %+v", or.Rows)
	}

	r = f.do("POST", "/api/v1/tickets/1001/notes", f.agent, map[string]any{"body": "Check the back room."})
	r.wantStatus(t, 201)
	r.decode(t, &mr)
	if mr.Message.Direction != ticket.Internal {
		t.Errorf("note = %+v", mr.Message)
	}
	// A note makes no outbox row.
	r = f.do("GET", "/api/v1/outbox", f.admin, nil)
	r.decode(t, &or)
	if len(or.Rows) != 1 {
		t.Errorf("%d outbox rows after a note", len(or.Rows))
	}

	th, err := f.desk.Thread(1001)
	if err != nil {
		t.Fatal(err)
	}
	if th.Ticket.Status != ticket.StatusPending || len(th.Messages) != 3 {
		t.Errorf("after reply and note: status %s, %d messages", th.Ticket.Status, len(th.Messages))
	}

	f.do("POST", "/api/v1/tickets/1001/replies", f.agent, map[string]any{"body": " "}).wantError(t, 422, "invalid")
	f.do("POST", "/api/v1/tickets/1001/replies", f.agent, map[string]any{"body": "x", "status": "gone"}).wantError(t, 422, "invalid")
	f.do("POST", "/api/v1/tickets/1001/notes", f.agent, map[string]any{"body": "x", "private": true}).wantError(t, 400, "bad_request")
	f.do("POST", "/api/v1/tickets/1999/notes", f.agent, map[string]any{"body": "x"}).wantError(t, 404, "not_found")
	f.do("POST", "/api/v1/tickets/1001/notes", f.agent, "body=x", "Content-Type", "text/plain").wantError(t, 415, "unsupported_media_type")

	// A ticket with no address to reply to.
	f.create(f.agent, map[string]any{"body": "walk-in"})
	f.do("POST", "/api/v1/tickets/1002/replies", f.agent, map[string]any{"body": "hi"}).wantError(t, 422, "invalid")
}

func TestPatchTicket(t *testing.T) {
	f := newFixture(t)
	f.create(f.agent, map[string]any{"body": "Battery swelling", "tags": []string{"lipo"}})

	r := f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{
		"status": "open", "priority": "urgent", "assignee": "sam", "add_tags": []string{"safety"}, "remove_tags": []string{"lipo"}, "why": "fire risk",
	})
	r.wantStatus(t, 200)
	var tr ticketResponse
	r.decode(t, &tr)
	if tr.Ticket.Status != ticket.StatusOpen || tr.Ticket.Priority != ticket.PriorityUrgent || tr.Ticket.Assignee != "sam" ||
		!slices.Equal(tr.Ticket.Tags, []string{"safety"}) {
		t.Errorf("patched = %+v", tr.Ticket)
	}
	// null leaves the assignee, "" unassigns.
	r = f.do("PATCH", "/api/v1/tickets/1001", f.agent, `{"assignee":null,"priority":"high"}`)
	r.decode(t, &tr)
	if tr.Ticket.Assignee != "sam" || tr.Ticket.Priority != ticket.PriorityHigh {
		t.Errorf("null assignee: %+v", tr.Ticket)
	}
	r = f.do("PATCH", "/api/v1/tickets/1001", f.agent, `{"assignee":""}`)
	tr = ticketResponse{}
	r.decode(t, &tr)
	if tr.Ticket.Assignee != "" {
		t.Errorf("empty assignee: %+v", tr.Ticket)
	}

	f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{"status": "closed"}).wantStatus(t, 200)
	e := f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{"status": "new"}).wantError(t, 409, "conflict")
	if !strings.Contains(e.Message, "closed") {
		t.Errorf("conflict message %q", e.Message)
	}
	e = f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{"status": "lost"}).wantError(t, 422, "invalid")
	if e.Field != "status" {
		t.Errorf("field %q", e.Field)
	}
	f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{"priority": "soon"}).wantError(t, 422, "invalid")
	f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{"add_tags": []string{"Not Valid"}}).wantError(t, 422, "invalid")
	f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{"state": "open"}).wantError(t, 400, "bad_request")
	f.do("PATCH", "/api/v1/tickets/1001", f.agent, map[string]any{"why": strings.Repeat("w", 1001)}).wantError(t, 413, "too_large")
}

func TestDeleteTicket(t *testing.T) {
	f := newFixture(t)
	f.create(f.agent, map[string]any{"body": "spam spam spam"})
	f.create(f.agent, map[string]any{"body": "real request"})

	f.do("DELETE", "/api/v1/tickets/1001", f.agent, nil).wantError(t, 403, "forbidden")
	if got := f.listAll(f.agent, "limit=10"); len(got) != 2 {
		t.Fatalf("agent delete took effect: %v", got)
	}
	f.do("DELETE", "/api/v1/tickets/1001?why=spam", f.admin, nil).wantStatus(t, 204)
	if got := f.listAll(f.agent, "limit=10"); !slices.Equal(got, []uint64{1002}) {
		t.Errorf("after delete: %v", got)
	}
	if got := f.listAll(f.agent, "q=spam"); len(got) != 0 {
		t.Errorf("deleted ticket found by search: %v", got)
	}
	f.do("GET", "/api/v1/tickets?deleted=true", f.agent, nil).wantError(t, 403, "forbidden")
	if got := f.listAll(f.admin, "deleted=true"); !slices.Equal(got, []uint64{1001}) {
		t.Errorf("deleted listing: %v", got)
	}
	f.do("GET", "/api/v1/tickets/1001", f.agent, nil).wantError(t, 404, "not_found")
	f.do("GET", "/api/v1/tickets/1001", f.admin, nil).wantStatus(t, 200)
	f.do("POST", "/api/v1/tickets/1001/notes", f.agent, map[string]any{"body": "x"}).wantError(t, 404, "not_found")
	f.do("DELETE", "/api/v1/tickets/1001", f.admin, nil).wantError(t, 404, "not_found")
	f.do("DELETE", "/api/v1/tickets/1002?reason=x", f.admin, nil).wantError(t, 400, "bad_request")
}

func TestMergeTicket(t *testing.T) {
	f := newFixture(t)
	f.create(f.agent, map[string]any{"body": "first"})
	f.create(f.agent, map[string]any{"body": "second"})
	r := f.do("POST", "/api/v1/tickets/1002/merge", f.agent, map[string]any{"into": 1001, "why": "same customer"})
	r.wantStatus(t, 200)
	var tr ticketResponse
	r.decode(t, &tr)
	if tr.Ticket.Number != 1001 || tr.Ticket.Messages != 2 {
		t.Errorf("merged into %+v", tr.Ticket)
	}
	src, err := f.desk.Get(1002)
	if err != nil {
		t.Fatal(err)
	}
	if src.MergedInto != 1001 || src.Status != ticket.StatusClosed {
		t.Errorf("source %+v", src)
	}
	f.do("POST", "/api/v1/tickets/1001/merge", f.agent, map[string]any{"into": 1001}).wantError(t, 422, "invalid")
	f.do("POST", "/api/v1/tickets/1001/merge", f.agent, map[string]any{"why": "x"}).wantError(t, 422, "invalid")
	f.do("POST", "/api/v1/tickets/1001/merge", f.agent, map[string]any{"into": 4242}).wantError(t, 404, "not_found")
	f.do("POST", "/api/v1/tickets/1001/merge", f.agent, `{"into":-1}`).wantError(t, 400, "bad_request")
}

func TestOutboxAdmin(t *testing.T) {
	f := newFixture(t)
	f.create(f.agent, map[string]any{"body": "hi", "contact": map[string]any{"email": "kit@example.com"}})
	f.do("POST", "/api/v1/tickets/1001/replies", f.agent, map[string]any{"body": "hello"}).wantStatus(t, 201)

	f.do("GET", "/api/v1/outbox", f.agent, nil).wantError(t, 403, "forbidden")
	f.do("POST", "/api/v1/outbox/1/retry", f.agent, nil).wantError(t, 403, "forbidden")
	f.do("GET", "/api/v1/outbox?state=lost", f.admin, nil).wantError(t, 400, "bad_request")

	var st ticket.OutboxStats
	f.do("GET", "/api/v1/outbox/stats", f.agent, nil).decode(t, &st)
	if st.Pending != 1 || st.Dead != 0 {
		t.Errorf("stats = %+v", st)
	}
	// Park the row, then retry it by hand.
	rows, err := f.desk.Claim(ticket.DeliverKind(ticket.RouteEmail), 1)
	if err != nil || len(rows) != 1 {
		t.Fatalf("Claim = %v, %v", rows, err)
	}
	f.do("POST", fmt.Sprintf("/api/v1/outbox/%d/retry", rows[0].ID), f.admin, nil).wantError(t, 422, "invalid")
	if err := f.desk.Fail(rows[0].ID, rows[0].Lease, ticket.Permanent(fmt.Errorf("mailbox unknown"))); err != nil {
		t.Fatal(err)
	}
	var or outboxResponse
	f.do("GET", "/api/v1/outbox?state=dead", f.admin, nil).decode(t, &or)
	if len(or.Rows) != 1 || or.Rows[0].State != ticket.RowDead {
		t.Fatalf("dead rows = %+v", or.Rows)
	}
	f.do("GET", "/api/v1/outbox/stats", f.agent, nil).decode(t, &st)
	if st.Dead != 1 || st.Pending != 0 {
		t.Errorf("stats = %+v", st)
	}
	f.do("POST", fmt.Sprintf("/api/v1/outbox/%d/retry", rows[0].ID), f.admin, nil).wantStatus(t, 204)
	f.do("GET", "/api/v1/outbox?state=dead", f.admin, nil).decode(t, &or)
	if len(or.Rows) != 0 {
		t.Errorf("dead rows after retry = %+v", or.Rows)
	}
	f.do("POST", "/api/v1/outbox/999/retry", f.admin, nil).wantError(t, 404, "not_found")
	f.do("POST", "/api/v1/outbox/x/retry", f.admin, nil).wantError(t, 400, "bad_request")
}

// b64 is the base64 of data, as clients send attachments.
func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }
