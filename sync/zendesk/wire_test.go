package zendesk

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/internal/testvectors"
	"github.com/counterdesk/counterdesk/ticket"
)

// fixtures returns the folder of real Zendesk answers recorded by the
// go-zendesk project (MIT), which the project reads in place.
func fixtures(t testing.TB) string {
	t.Helper()
	return filepath.Join(testvectors.Dir(t), "zendesk-fixtures-go-zendesk")
}

func readFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(fixtures(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRealAnswers decodes real Zendesk answers into the target's types.
func TestRealAnswers(t *testing.T) {
	t.Run("show ticket", func(t *testing.T) {
		var e ticketEnvelope
		if err := json.Unmarshal(readFixture(t, "GET/ticket.json"), &e); err != nil {
			t.Fatal(err)
		}
		zt := e.Ticket
		if zt == nil || zt.ID != 2 || zt.Status != "solved" || zt.ExternalID != "" || zt.Priority != "" ||
			zt.RequesterID != 377922500012 || !zt.UpdatedAt.Equal(time.Date(2019, 6, 5, 1, 13, 24, 0, time.UTC)) {
			t.Fatalf("ticket = %+v", zt)
		}
		if boxStatus(zt.Status) != ticket.StatusResolved {
			t.Fatalf("solved maps to %q", boxStatus(zt.Status))
		}
	})
	t.Run("list tickets", func(t *testing.T) {
		l, err := decodeTickets(readFixture(t, "GET/tickets.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(l.Tickets) != 2 || l.Tickets[0].ID != 2 || l.Tickets[1].ID != 3 || l.Tickets[1].Subject != "にゃー" {
			t.Fatalf("tickets = %+v", l.Tickets)
		}
	})
	t.Run("create ticket", func(t *testing.T) {
		var e ticketEnvelope
		if err := json.Unmarshal(readFixture(t, "POST/ticket.json"), &e); err != nil {
			t.Fatal(err)
		}
		if e.Ticket == nil || e.Ticket.ID != 4 || e.Ticket.Priority != "urgent" || e.Ticket.Status != "new" {
			t.Fatalf("ticket = %+v", e.Ticket)
		}
		if got := e.commentID(); got != 653915434312 {
			t.Fatalf("comment id = %d, want the Comment event's 653915434312", got)
		}
	})
	t.Run("update ticket", func(t *testing.T) {
		var e ticketEnvelope
		if err := json.Unmarshal(readFixture(t, "PUT/ticket.json"), &e); err != nil {
			t.Fatal(err)
		}
		if e.Ticket == nil || e.Ticket.ID != 2 || e.commentID() != 0 {
			t.Fatalf("envelope = %+v", e)
		}
	})
	t.Run("list comments", func(t *testing.T) {
		p, err := decodeComments(readFixture(t, "GET/ticket_comments.json"))
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Comments) != 2 || !p.Meta.HasMore || p.Meta.AfterCursor != "xxx" {
			t.Fatalf("page = %+v", p)
		}
		c := p.Comments[1]
		if c.ID != 3 || c.AuthorID != 377922500012 || !c.Public || c.text() != "Mail to create fixture ticket for testing" {
			t.Fatalf("comment = %+v", c)
		}
		// No users sideloaded: the author's role is unknown, so it is no
		// staff reply.
		if _, ok := reply(&c, nil, 1, time.Time{}); ok {
			t.Fatal("a comment of an unknown author was taken for a staff reply")
		}
	})
	t.Run("upload", func(t *testing.T) {
		var u uploadEnvelope
		if err := json.Unmarshal(readFixture(t, "POST/upload.json"), &u); err != nil {
			t.Fatal(err)
		}
		if u.Upload.Token != "6bk3gql82em5nmf" || len(u.Upload.Attachments) != 1 || u.Upload.Attachments[0].Size != 2532 {
			t.Fatalf("upload = %+v", u.Upload)
		}
	})
	t.Run("users", func(t *testing.T) {
		for name, want := range map[string]int64{"GET/user.json": 369531345753, "POST/users.json": 369895320554} {
			var e userEnvelope
			if err := json.Unmarshal(readFixture(t, name), &e); err != nil {
				t.Fatal(err)
			}
			if e.User == nil || e.User.ID != want || e.User.Role != roleEndUser || e.User.staff() || e.User.Phone != "" {
				t.Fatalf("%s: user = %+v", name, e.User)
			}
		}
	})
}

func TestStatusMapping(t *testing.T) {
	fromZendesk := []struct {
		zendesk string
		box     ticket.Status
	}{
		{"new", ticket.StatusNew},
		{"open", ticket.StatusOpen},
		{"pending", ticket.StatusPending},
		{"hold", ticket.StatusPending},
		{"solved", ticket.StatusResolved},
		{"closed", ticket.StatusClosed},
		{"deleted", ""},
		{"", ""},
	}
	for _, tt := range fromZendesk {
		if got := boxStatus(tt.zendesk); got != tt.box {
			t.Errorf("boxStatus(%q) = %q, want %q", tt.zendesk, got, tt.box)
		}
	}
	for _, s := range ticket.Statuses {
		z := zendeskStatus(s)
		if z == "" || z == statusClosed || z == statusHold {
			t.Errorf("box status %s maps to %q", s, z)
		}
	}
	for _, p := range ticket.Priorities {
		if zendeskPriority(p) != string(p) {
			t.Errorf("priority %s maps to %q", p, zendeskPriority(p))
		}
	}
	if zendeskPriority("critical") != "" {
		t.Error("an unknown priority is sent")
	}
}

func TestZendeskTag(t *testing.T) {
	for in, want := range map[string]string{
		"Servo Parts": "servo_parts",
		" vip ":       "vip",
		"a,b\tc":      "a_b_c",
		"missed_call": "missed_call",
		"":            "",
	} {
		if got := zendeskTag(in); got != want {
			t.Errorf("zendeskTag(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestSubjectBounded(t *testing.T) {
	tk := boxTicket("x")
	tk.Subject = strings.Repeat("ü", 400)
	if n := len([]rune(subjectOf(tk))); n != maxSubject {
		t.Fatalf("subject of %d characters", n)
	}
}

func TestCursorRoundTrip(t *testing.T) {
	c := cursor{since: time.Unix(1710408600, 0).UTC(), after: "MTU3NjYxMzUzOS4wfHw0Njd8|odd"}
	got, ok, err := parseCursor(c.String())
	if err != nil || !ok || got != c {
		t.Fatalf("parseCursor(%q) = %+v, %v, %v", c.String(), got, ok, err)
	}
	for _, bad := range []string{"z0|1|x", "z1|x|y", "z1|5", "z1|-4|a"} {
		if _, _, err := parseCursor(bad); err == nil {
			t.Errorf("parseCursor(%q) accepted", bad)
		}
	}
}

// exportSeed is an export page in the shape the Incremental Exports
// reference documents.
const exportSeed = `{"after_cursor":"MTU3NjYxMzUzOS4wfHw0Njd8","after_url":"https://shop.zendesk.com/api/v2/incremental/tickets/cursor.json?cursor=MTU3NjYxMzUzOS4wfHw0Njd8","before_cursor":null,"before_url":null,"end_of_stream":true,"tickets":[{"id":35436,"external_id":"6b7c8d9e-0f1a-4b2c-93d4-e5f6a7b8c9d0","status":"hold","priority":"high","tags":["counterdesk"],"requester_id":20978392,"created_at":"2026-03-14T09:30:00Z","updated_at":"2026-03-14T09:35:00Z","via":{"channel":"api"}},{"id":35437,"external_id":null,"status":"deleted","priority":null,"updated_at":"2026-03-14T09:36:00Z"}]}`

// commentsSeed is a comments page with its authors sideloaded.
const commentsSeed = `{"comments":[{"id":1274,"type":"Comment","author_id":123123,"body":"Thanks for your help!","plain_body":"Thanks for your help!","public":true,"created_at":"2026-03-14T09:35:00Z"},{"id":1275,"type":"Comment","author_id":77,"body":"Ships today","plain_body":"Ships today","public":true,"created_at":"2026-03-14T09:36:00Z"},{"id":1276,"type":"Comment","author_id":77,"body":"note","public":false,"created_at":"2026-03-14T09:37:00Z"}],"users":[{"id":123123,"name":"Ada","role":"end-user"},{"id":77,"name":"Sam","role":"agent"}],"meta":{"has_more":false,"after_cursor":"xxx","before_cursor":"yyy"}}`

func TestDecodeSeeds(t *testing.T) {
	p, err := decodeExport([]byte(exportSeed))
	if err != nil || len(p.Tickets) != 2 || !p.EndOfStream || boxStatus(p.Tickets[0].Status) != ticket.StatusPending {
		t.Fatalf("export = %+v, %v", p, err)
	}
	c, err := decodeComments([]byte(commentsSeed))
	if err != nil {
		t.Fatal(err)
	}
	users := map[int64]*wireUser{}
	for i := range c.Users {
		users[c.Users[i].ID] = &c.Users[i]
	}
	var replies []string
	for i := range c.Comments {
		if r, ok := reply(&c.Comments[i], users[c.Comments[i].AuthorID], 5, time.Time{}); ok {
			replies = append(replies, r.ID)
		}
	}
	if strings.Join(replies, ",") != "1275" {
		t.Fatalf("replies %v, want the agent's public comment only", replies)
	}
	for _, bad := range []string{`{"tickets":[{"id":0}],"end_of_stream":true}`, `{"tickets":[],"end_of_stream":false}`, `[]`, `{"tickets":"x"}`} {
		if _, err := decodeExport([]byte(bad)); err == nil {
			t.Errorf("decodeExport(%s) accepted", bad)
		}
	}
}

// seeds adds the real answers and the seeds to f.
func seeds(f *testing.F, names ...string) {
	if dir := testvectors.Find(); dir != "" {
		for _, n := range names {
			if b, err := os.ReadFile(filepath.Join(dir, "zendesk-fixtures-go-zendesk", n)); err == nil {
				f.Add(b)
			}
		}
	}
	f.Add([]byte(exportSeed))
	f.Add([]byte(commentsSeed))
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"tickets":[{"id":1,"external_id":"a","status":"open","updated_at":"2026-03-14T09:35:00Z"}],"end_of_stream":false,"after_cursor":"b|c"}`))
}

// FuzzDecodeExport checks that any answer body either fails to decode or
// gives tickets with ids, statuses that map to a box status or to none,
// and a cursor that survives the target's own cursor format.
func FuzzDecodeExport(f *testing.F) {
	seeds(f, "GET/tickets.json", "GET/ticket.json", "ticket_result.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeExport(body)
		if err != nil {
			if p != nil {
				t.Fatal("an error with a page")
			}
			return
		}
		if !p.EndOfStream && p.AfterCursor == "" {
			t.Fatal("more to come without a cursor")
		}
		for _, zt := range p.Tickets {
			if zt.ID <= 0 {
				t.Fatalf("ticket without id: %+v", zt)
			}
			if s := boxStatus(zt.Status); s != "" {
				if _, err := ticket.ParseStatus(string(s)); err != nil {
					t.Fatalf("status %q maps to %q", zt.Status, s)
				}
			}
		}
		c := cursor{since: time.Unix(1710408600, 0).UTC(), after: p.AfterCursor}
		back, ok, err := parseCursor(c.String())
		if err != nil || !ok || back != c {
			t.Fatalf("cursor %q does not read back: %+v %v", c.String(), back, err)
		}
	})
}

// FuzzDecodeComments checks that any answer body either fails to decode
// or gives comments whose staff replies are public, by staff other than
// the API user, with text and the comment's id.
func FuzzDecodeComments(f *testing.F) {
	seeds(f, "GET/ticket_comments.json", "GET/ticket_audits.json")
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodeComments(body)
		if err != nil {
			return
		}
		if p.Meta.HasMore && p.Meta.AfterCursor == "" {
			t.Fatal("has_more without a cursor")
		}
		users := map[int64]*wireUser{}
		for i := range p.Users {
			users[p.Users[i].ID] = &p.Users[i]
		}
		const me = 77
		for i := range p.Comments {
			c := &p.Comments[i]
			r, ok := reply(c, users[c.AuthorID], me, time.Time{})
			if !ok {
				continue
			}
			if !r.Public || !r.Agent || strings.TrimSpace(r.Body) == "" || c.AuthorID == me || r.ID != strconv.FormatInt(c.ID, 10) {
				t.Fatalf("reply %+v of comment %+v", r, c)
			}
		}
	})
}
