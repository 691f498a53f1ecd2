package freshdesk

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/counterdesk/counterdesk/internal/testvectors"
)

// FuzzDecodeAnswers feeds any body to the decoders of Freshdesk's
// answers (tickets, search, conversations, agent) and checks that they
// never panic and that what they accept is consistent: every object has
// an id, and the replies Changes would keep are public staff replies.
func FuzzDecodeAnswers(f *testing.F) {
	if dir := testvectors.Find(); dir != "" {
		files, _ := filepath.Glob(filepath.Join(dir, "freshdesk", "python-freshdesk-v2-sample-json", "*.json"))
		for _, p := range files {
			if b, err := os.ReadFile(p); err == nil {
				f.Add(b)
			}
		}
	}
	for _, s := range []string{
		`[{"id":1,"status":2,"updated_at":"2026-01-02T03:04:05Z","custom_fields":{"cf_counterdesk_id":"abc","n":3,"b":true,"x":null}}]`,
		`{"total":1,"results":[{"id":7,"custom_fields":{"cf_counterdesk_id":"u"}}]}`,
		`[{"id":3,"body":"<div>a &amp; b<br>c</div>","incoming":false,"private":false,"user_id":5,"source":0,"created_at":"2026-01-02T03:04:05Z"}]`,
		`{"id":1001,"contact":{"name":"API","mobile":123}}`,
		`[{"id":0}]`, `null`, `{}`, `[]`, `"x"`, ``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if ts, err := parseTickets(body); err == nil {
			for i := range ts {
				if ts[i].ID <= 0 {
					t.Fatalf("ticket without id accepted: %+v", ts[i])
				}
				_ = ts[i].field(DefaultIDField)
				_ = boxStatus(ts[i].Status)
			}
		}
		if tk, err := parseTicket(body); err == nil && tk.ID <= 0 {
			t.Fatalf("ticket without id accepted: %+v", tk)
		}
		if s, err := parseSearch(body); err == nil {
			for _, r := range s.Results {
				if r.ID <= 0 {
					t.Fatalf("result without id accepted: %+v", r)
				}
			}
		}
		if a, err := parseAgent(body); err == nil && a.ID <= 0 {
			t.Fatalf("agent without id accepted: %+v", a)
		}
		if cs, err := parseConversations(body); err == nil {
			for i := range cs {
				c := &cs[i]
				m := remoteMessage(c, 1001)
				if m.ID == "" || m.ID == "0" {
					t.Fatalf("conversation without id accepted: %+v", c)
				}
				if staffReply(c, 1001) && (!m.Public || !m.Agent || c.UserID == 1001 || c.Incoming) {
					t.Fatalf("staff reply %+v read as %+v", c, m)
				}
				_ = stripSkipped(m.Body)
			}
		}
		_ = plain(string(body))
		_ = nextPage(nil)
	})
}
