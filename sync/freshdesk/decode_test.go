package freshdesk

import (
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/counterdesk/counterdesk/internal/testvectors"
)

// samples returns the real Freshdesk answers of the shared test vectors
// (python-freshdesk's sample JSON, BSD-2-Clause; see SOURCES.md there).
func samples(t testing.TB) string {
	return filepath.Join(testvectors.Dir(t), "freshdesk", "python-freshdesk-v2-sample-json")
}

func readSample(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(samples(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeRealAnswers(t *testing.T) {
	tk, err := parseTicket(readSample(t, "ticket_1.json"))
	if err != nil {
		t.Fatal(err)
	}
	if tk.ID != 1 || tk.Status != 2 || tk.Priority != 1 || tk.Source != 2 || tk.RequesterID != 6012691534 ||
		!slices.Equal(tk.Tags, []string{"foo", "bar"}) || tk.UpdatedAt.IsZero() {
		t.Errorf("ticket_1 = %+v", tk)
	}
	if tk.field("parent_ticket_id") != "" || tk.field("missing") != "" {
		t.Errorf("null custom fields read as text")
	}
	if _, err := parseTicket(readSample(t, "ticket_1_updated.json")); err != nil {
		t.Error(err)
	}

	all, err := parseTickets(readSample(t, "all_tickets.json"))
	if err != nil || len(all) == 0 || all[0].ID != 1 {
		t.Errorf("all_tickets = %+v, %v", all, err)
	}

	s, err := parseSearch(readSample(t, "search_tickets.json"))
	if err != nil || s.Total != 2 || len(s.Results) != 2 || !slices.Equal(s.Results[1].Tags, []string{"mytag", "myothertag"}) {
		t.Errorf("search_tickets = %+v, %v", s, err)
	}

	agent, err := parseAgent(readSample(t, "agent_1.json"))
	if err != nil || agent.ID != 1 || agent.Contact.Name != "Rachel" {
		t.Errorf("agent_1 = %+v, %v", agent, err)
	}

	cs, err := parseConversations(readSample(t, "conversations.json"))
	if err != nil || len(cs) != 2 {
		t.Fatalf("conversations = %+v, %v", cs, err)
	}
	note, reply := &cs[0], &cs[1]
	if !note.Private || note.Source != convNote || note.text() != "This is a private note" {
		t.Errorf("note = %+v", note)
	}
	if reply.Private || reply.Source != convReply || reply.FromEmail != "Rachel <rachel@freshdesk.com>" {
		t.Errorf("reply = %+v", reply)
	}
	// Rachel (agent 1) wrote both: when she is the box's API agent,
	// neither is a reply by staff; when she is not, her reply is.
	if staffReply(note, 99) || staffReply(reply, 1) || !staffReply(reply, 99) {
		t.Errorf("staffReply wrong on the sample conversations")
	}
	if m := remoteMessage(reply, 99); m.ID != "2" || m.Body != "This is a reply" || !m.Agent || !m.Public || !m.Delivered || m.Author != "Rachel <rachel@freshdesk.com>" {
		t.Errorf("remote message = %+v", m)
	}

	for _, name := range []string{"note_1.json", "reply_1.json"} {
		if c, err := parseConversation(readSample(t, name)); err != nil || c.ID == 0 {
			t.Errorf("%s = %+v, %v", name, c, err)
		}
	}
}

func TestPlain(t *testing.T) {
	for in, want := range map[string]string{
		"<div>a<br>b</div>":                 "a\nb",
		"<div>Tom &amp; Jerry &lt;3</div>":  "Tom & Jerry <3",
		"no tags":                           "no tags",
		"<p>x</p><p>y":                      "x\n\ny",
		"broken <b":                         "broken",
		`<a href="http://x">link</a> after`: "link after",
	} {
		if got := plain(in); got != want {
			t.Errorf("plain(%q) = %q, want %q", in, got, want)
		}
	}
	text := "Tom & <Jerry>\nline two"
	if got := normalize(plain(htmlOf(text))); got != normalize(text) {
		t.Errorf("plain(htmlOf(%q)) = %q", text, got)
	}
}
