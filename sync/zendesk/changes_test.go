package zendesk

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

func TestChanges(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tk := boxTicket("6b7c8d9e-0f1a-4b2c-93d4-e5f6a7b8c9d0")
	id, err := e.zd.Create(ctx, tk, inbound(1, "My servo buzzes"))
	if err != nil {
		t.Fatal(err)
	}
	n := mustID(t, id)
	out := &sync.Message{Message: ticket.Message{ID: 2, Direction: ticket.Outgoing, Body: "We got your voicemail."}}
	if _, err := e.zd.Post(ctx, id, tk, out); err != nil {
		t.Fatal(err)
	}
	if _, err := e.zd.Post(ctx, id, tk, inbound(3, "Thanks!")); err != nil {
		t.Fatal(err)
	}
	// A ticket that is not the box's.
	other := otherTicket(t, e)

	e.clock.advance(5 * time.Minute)
	staffReply, err := e.fake.Reply(n, "The part ships today.")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.Note(n, "Charge them for shipping"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.CustomerReply(n, "Great"); err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetStatus(n, "hold"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.Reply(other, "not the box's"); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(2 * time.Minute)

	changes, cur, err := e.zd.Changes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 {
		t.Fatalf("changes = %+v, want the box's ticket only", changes)
	}
	ch := changes[0]
	if ch.ID != id || ch.ExternalID != tk.UUID || ch.Status != ticket.StatusPending {
		t.Fatalf("change = %+v", ch)
	}
	if len(ch.Replies) != 1 {
		t.Fatalf("replies = %+v, want the staff reply only", ch.Replies)
	}
	r := ch.Replies[0]
	if r.ID != strconv.FormatInt(staffReply, 10) || r.Body != "The part ships today." || !r.Agent || !r.Public || r.Author != "Sam Staff" {
		t.Fatalf("reply = %+v", r)
	}
	if !strings.HasPrefix(cur, "z1|") {
		t.Fatalf("cursor %q", cur)
	}

	// Nothing changed: nothing returned, the cursor stays usable.
	e.clock.advance(time.Minute)
	changes, cur2, err := e.zd.Changes(ctx, cur)
	if err != nil || len(changes) != 0 {
		t.Fatalf("Changes = %+v, %v; want none", changes, err)
	}

	// Much later (a poll in between found nothing), a second reply and
	// solved: only the new reply returns, the first is older than the
	// last caught-up export.
	e.clock.advance(time.Hour)
	changes, cur3, err := e.zd.Changes(ctx, cur2)
	if err != nil || len(changes) != 0 {
		t.Fatalf("Changes = %+v, %v; want none", changes, err)
	}
	second, err := e.fake.Reply(n, "Fixed, come and get it.")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetStatus(n, "solved"); err != nil {
		t.Fatal(err)
	}
	e.clock.advance(2 * time.Minute)
	changes, cur4, err := e.zd.Changes(ctx, cur3)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].Status != ticket.StatusResolved || len(changes[0].Replies) != 1 ||
		changes[0].Replies[0].ID != strconv.FormatInt(second, 10) {
		t.Fatalf("changes = %+v", changes)
	}
	if cur4 == cur3 || cur3 == cur2 {
		t.Fatalf("cursor did not advance: %q %q %q", cur2, cur3, cur4)
	}
}

// otherTicket makes a ticket without external_id in the fake, as staff
// would in Zendesk, and returns its id.
func otherTicket(t *testing.T, e *env) int64 {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/api/v2/tickets.json",
		strings.NewReader(`{"ticket":{"subject":"Phone order","comment":{"body":"Called in an order"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth(testEmail+"/token", testToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create other ticket: %s", resp.Status)
	}
	all := e.fake.Tickets()
	return all[len(all)-1].ID
}

func TestChangesPages(t *testing.T) {
	// More changed tickets than one export page: the target reads on, up
	// to its page bound, and the next poll goes on from the cursor.
	e := setup(t)
	ctx := context.Background()
	for i := range 1500 {
		tk := boxTicket("10000000-0000-4000-8000-" + strconv.Itoa(100000000000+i))
		tk.Contact = ticket.Contact{Emails: []string{"c" + strconv.Itoa(i) + "@example.com"}}
		if _, err := e.zd.Create(ctx, tk, inbound(1, "hi")); err != nil {
			t.Fatal(err)
		}
	}
	e.clock.advance(2 * time.Minute)
	changes, cur, err := e.zd.Changes(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1500 {
		t.Fatalf("%d changes, want 1500", len(changes))
	}
	changes, _, err = e.zd.Changes(ctx, cur)
	if err != nil || len(changes) != 0 {
		t.Fatalf("second poll = %d changes, %v", len(changes), err)
	}
}

func TestChangesBadCursorStartsAgain(t *testing.T) {
	e := setup(t)
	changes, cur, err := e.zd.Changes(context.Background(), "something-else")
	if err != nil || len(changes) != 0 || !strings.HasPrefix(cur, "z1|") {
		t.Fatalf("Changes = %v, %q, %v", changes, cur, err)
	}
}
