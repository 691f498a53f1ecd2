package hubspot

import (
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/ticket"
)

// FuzzDecodeSearch feeds arbitrary bodies to the decoding of a CRM search
// answer and the assembly of Changes from it: it must never panic, and
// what it accepts must make changes with valid ids, the properties read,
// and a cursor that never goes back.
func FuzzDecodeSearch(f *testing.F) {
	for _, seed := range []string{
		docSearch, docBatch, `{"total":0,"results":[]}`, `{}`, `null`, `[]`,
		`{"results":[{"id":"1","properties":{"hs_lastmodifieddate":"1700000000000","hs_pipeline_stage":"4"}}]}`,
		`{"results":[{"id":"1","properties":{"hs_lastmodifieddate":"9999-12-31T23:59:59.999Z"}}],"paging":{"next":{"after":"200"}}}`,
		`{"results":[{"id":"1","properties":{"hs_lastmodifieddate":"-1"}}]}`,
		`{"results":[{"id":"12","properties":null}]}`,
	} {
		f.Add([]byte(seed))
	}
	tg := &Target{
		idField: DefaultIDField, pipeline: "0", stages: DefaultStages,
		statuses: map[string]ticket.Status{"1": ticket.StatusNew, "2": ticket.StatusPending, "3": ticket.StatusOpen, "4": ticket.StatusResolved},
		wrote:    map[string]wrote{},
	}
	from := time.UnixMilli(1_700_000_000_000).UTC()
	now := from.Add(time.Hour)
	f.Fuzz(func(t *testing.T, body []byte) {
		p, err := decodePage(body)
		if err != nil {
			if !strings.Contains(err.Error(), "unexpected answer") {
				t.Fatalf("error without errAnswer: %v", err)
			}
			return
		}
		changes := tg.changes(p.Results, nil, nil)
		ids := make(map[string]bool)
		for _, r := range p.Results {
			ids[r.ID] = true
		}
		if len(changes) != len(ids) {
			t.Fatalf("%d changes of %d tickets", len(changes), len(ids))
		}
		for _, ch := range changes {
			if !validID(ch.ID) || !ids[ch.ID] {
				t.Fatalf("change id %q", ch.ID)
			}
			if ch.Status != "" && !ch.Status.Active() && ch.Status != ticket.StatusResolved {
				t.Fatalf("status %q from the default stages", ch.Status)
			}
		}
		for _, more := range []bool{false, true} {
			next := advance(p.Results, from, now, more)
			if next.Before(from) {
				t.Fatalf("cursor went back: %s before %s", next, from)
			}
			if !more && next.After(now.Add(-searchLag)) && next.After(from) {
				t.Fatalf("cursor %s is within the search lag of %s", next, now)
			}
			c := formatCursor(next, next)
			a, b := parseCursor(c, now)
			if !a.Equal(next.Truncate(time.Millisecond)) && next.UnixMilli() > 0 || !a.Equal(b) {
				t.Fatalf("cursor %q reads back as %s, %s; want %s", c, a, b, next)
			}
		}
	})
}

// FuzzNoteText checks that the text of a note the box wrote reads back as
// written, and that any rich text decodes without panic.
func FuzzNoteText(f *testing.F) {
	f.Add("Customer message (sms) from Jane", "Hello\nthere & <you>")
	f.Add("", "")
	f.Add("x", "<p>a</p><br/><div>b")
	f.Add("Internal note", "\r\n\r\n&amp;&lt;")
	f.Fuzz(func(t *testing.T, label, text string) {
		label = strings.Join(strings.Fields(label), " ")
		htmlText(text) // arbitrary rich text must not panic
		if len([]rune(text)) > maxText-64 {
			return
		}
		got, ours := noteText(noteHTML(label, text))
		want := strings.TrimRight(strings.ReplaceAll(strings.ReplaceAll(text, "\r\n", "\n"), "\r", ""), "\n")
		if !ours {
			t.Fatalf("the box's note of %q is not recognised as its own", text)
		}
		if strings.Join(strings.Fields(got), " ") != strings.Join(strings.Fields(want), " ") {
			t.Fatalf("note text %q reads back as %q", want, got)
		}
	})
}
