package hubspot

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/sync/hubspot/hubspotfake"
	"github.com/counterdesk/counterdesk/ticket"
)

const token = "pat-eu1-7c1f0e2a-51d4-4f8e-9d3b-secret"

// env is a target wired to a fake HubSpot.
type env struct {
	t    *Target
	fake *hubspotfake.Server
	srv  *httptest.Server
	// errs collects every error a test saw, to check none holds the
	// token.
	errs []error
}

func newEnv(t *testing.T, mod ...func(*config.SyncTarget)) *env {
	t.Helper()
	fake := hubspotfake.New(token)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	c := config.SyncTarget{Type: "hubspot", Name: "hubspot", BaseURL: srv.URL, Token: token, TwoWay: true}
	for _, m := range mod {
		m(&c)
	}
	tg, err := New(c, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: tg, fake: fake, srv: srv}
	t.Cleanup(func() {
		for _, err := range e.errs {
			if strings.Contains(err.Error(), token) {
				t.Errorf("the token appears in an error: %v", err)
			}
		}
	})
	return e
}

// keep records err for the token check and returns it.
func (e *env) keep(err error) error {
	if err != nil {
		e.errs = append(e.errs, err)
	}
	return err
}

func newTicket(uuid string) *sync.Ticket {
	return &sync.Ticket{
		Ticket: ticket.Ticket{
			Number: 1042, UUID: uuid, Subject: "Servo buzzes after landing",
			Status: ticket.StatusNew, Priority: ticket.PriorityNormal, Channel: ticket.ChannelVoicemail,
			Tags: []string{"servo", "warranty"},
		},
		Contact: ticket.Contact{Name: "Jane van Dijk", Emails: []string{"Jane@Example.org"}, Phones: []string{"+31612345678"}},
		Shop:    "Wings & Things",
	}
}

func newMessage(id uint64, dir ticket.Direction, ch ticket.Channel, body string) *sync.Message {
	return &sync.Message{Message: ticket.Message{
		ID: id, Direction: dir, Channel: ch, Author: "Jane van Dijk", Body: body,
		At: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC),
	}}
}

// wavFile writes a small WAV file and returns it as an attachment.
func wavFile(t *testing.T) (sync.File, []byte) {
	t.Helper()
	data := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), make([]byte, 32)...)
	p := filepath.Join(t.TempDir(), "voicemail.wav")
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return sync.File{Name: "voicemail.wav", Type: "audio/wav", Size: int64(len(data)), Path: p}, data
}

func TestNewChecksSettings(t *testing.T) {
	_, err := New(config.SyncTarget{Name: "hs", Type: "hubspot"}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "token is empty") || !strings.Contains(err.Error(), "sync-hs") {
		t.Errorf("New without a token: %v", err)
	}
	_, err = New(config.SyncTarget{Name: "hs", Token: "x", Pipeline: "12345", Stages: map[string]string{"new": "1"}}, time.Second)
	if err == nil || !strings.Contains(err.Error(), "pipeline") {
		t.Errorf("New with another pipeline and partial stages: %v", err)
	}
	_, err = New(config.SyncTarget{Name: "hs", Token: "x", Stages: map[string]string{"later": "1"}}, time.Second)
	if err == nil {
		t.Error("New accepted a stage for an unknown status")
	}
	tg, err := New(config.SyncTarget{Name: "hs", Token: "x"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if tg.idField != DefaultIDField || tg.pipeline != DefaultPipeline {
		t.Errorf("defaults: id field %q, pipeline %q", tg.idField, tg.pipeline)
	}
}

func TestCreateWithoutAttachments(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket("0b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	first := newMessage(1, ticket.Incoming, ticket.ChannelVoicemail, "My servo buzzes.")
	first.Transcript = "Hi, my servo buzzes after landing."
	id, err := e.t.Create(ctx, tk, first)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	got, ok := e.fake.Ticket(id)
	if !ok {
		t.Fatalf("no ticket %s in the fake", id)
	}
	want := map[string]string{
		"subject": tk.Subject, "content": first.Text(), "hs_pipeline": "0", "hs_pipeline_stage": "1",
		"hs_ticket_priority": "MEDIUM", "source_type": "PHONE", DefaultIDField: tk.UUID,
	}
	for k, v := range want {
		if got.Properties[k] != v {
			t.Errorf("%s = %q, want %q", k, got.Properties[k], v)
		}
	}
	contacts := e.fake.TicketContacts(id)
	if len(contacts) != 1 || contacts[0].Properties["email"] != "jane@example.org" || contacts[0].Properties["lastname"] != "Dijk" {
		t.Errorf("contacts of the ticket: %+v", contacts)
	}
	if notes := e.fake.Notes(id); len(notes) != 0 {
		t.Errorf("a ticket without attachments has notes: %+v", notes)
	}
	if link := e.t.Link(id); link != fmt.Sprintf("https://%s/contacts/%d/record/0-5/%s", hubspotfake.UIDomain, hubspotfake.PortalID, id) {
		t.Errorf("Link = %q", link)
	}

	// A second ticket of the same customer finds the contact again.
	id2, err := e.t.Create(ctx, newTicket("1b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e"), first)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	if c := e.fake.TicketContacts(id2); len(c) != 1 || c[0].ID != contacts[0].ID || len(e.fake.Contacts()) != 1 {
		t.Errorf("second ticket's contacts %+v; all contacts %d", c, len(e.fake.Contacts()))
	}
}

func TestCreateWithAttachment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket("2b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	tk.Contact = ticket.Contact{Phones: []string{"+31612345678"}}
	f, data := wavFile(t)
	first := newMessage(1, ticket.Incoming, ticket.ChannelVoicemail, "")
	first.Files = []sync.File{f}
	id, err := e.t.Create(ctx, tk, first)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	notes := e.fake.Notes(id)
	if len(notes) != 1 {
		t.Fatalf("notes of the ticket: %d, want the attachments' note", len(notes))
	}
	ids := notes[0].Properties["hs_attachment_ids"]
	file, ok := e.fake.File(ids)
	if !ok {
		t.Fatalf("hs_attachment_ids %q names no uploaded file", ids)
	}
	if string(file.Data) != string(data) || file.Name != "voicemail.wav" || file.Type != "audio/wav" || file.Access != "PRIVATE" || file.Folder != FolderPath {
		t.Errorf("uploaded file: %+v", file)
	}
	if len(e.fake.TicketContacts(id)) != 0 {
		t.Error("a customer without an email address got a contact")
	}
	msgs, err := e.t.Messages(ctx, id)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || msgs[0].Body != "voicemail.wav" || msgs[0].Agent || msgs[0].Public {
		t.Errorf("Messages = %+v", msgs)
	}
}

func TestCreateAgainReturnsTheTicket(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket("3b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	first := newMessage(1, ticket.Incoming, ticket.ChannelSMS, "Is the Bixler in stock?")
	id, err := e.t.Create(ctx, tk, first)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	// The box crashed before it learnt the id: Create again meets the
	// unique property's 409 and returns the same ticket.
	again, err := e.t.Create(ctx, tk, first)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	if again != id || len(e.fake.TicketsWithID(tk.UUID)) != 1 {
		t.Errorf("second Create = %s (first %s), tickets with the id: %d", again, id, len(e.fake.TicketsWithID(tk.UUID)))
	}
	if e.fake.Tickets()[0].Properties["source_type"] != "" {
		t.Error("an SMS ticket got a source_type")
	}
}

func TestFind(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket("4b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	if id, err := e.t.Find(ctx, tk); e.keep(err) != nil || id != "" {
		t.Fatalf("Find before Create = %q, %v", id, err)
	}
	id, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelEmail, "Hello"))
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	found, err := e.t.Find(ctx, tk)
	if e.keep(err) != nil || found != id {
		t.Errorf("Find = %q, %v; want %s", found, err, id)
	}
	other := newTicket("5b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	if id, err := e.t.Find(ctx, other); e.keep(err) != nil || id != "" {
		t.Errorf("Find of another ticket = %q, %v", id, err)
	}
}

func TestPostAndMessages(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket("6b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	id, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelSMS, "Hi"))
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	f, _ := wavFile(t)
	posts := []*sync.Message{
		newMessage(2, ticket.Incoming, ticket.ChannelSMS, "Any news?\nIt is for <Saturday> & Sunday."),
		newMessage(3, ticket.Outgoing, ticket.ChannelSMS, "Yes: it ships today."),
		newMessage(4, ticket.Internal, ticket.ChannelStaff, "Ask the wholesaler about the 9g servo."),
		newMessage(5, ticket.Incoming, ticket.ChannelVoicemail, ""),
	}
	posts[1].Author, posts[2].Author = "alice", "bob"
	posts[3].Files = []sync.File{f}
	for i, m := range posts {
		m.At = m.At.Add(time.Duration(i) * time.Minute)
		nid, err := e.t.Post(ctx, id, tk, m)
		if e.keep(err) != nil {
			t.Fatal(err)
		}
		if !validID(nid) {
			t.Errorf("Post returned %q", nid)
		}
	}
	if _, err := e.fake.StaffNote(id, "Called the customer back."); err != nil {
		t.Fatal(err)
	}
	msgs, err := e.t.Messages(ctx, id)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	if len(msgs) != len(posts)+1 {
		t.Fatalf("Messages returned %d notes, want %d: %+v", len(msgs), len(posts)+1, msgs)
	}
	for i, m := range posts {
		if msgs[i].Body != m.Text() || msgs[i].Agent || msgs[i].Public || !msgs[i].At.Equal(m.At) {
			t.Errorf("note %d = %+v, want the text %q", i, msgs[i], m.Text())
		}
	}
	staff := msgs[len(posts)]
	if staff.Body != "Called the customer back." || !staff.Agent {
		t.Errorf("staff note = %+v", staff)
	}
	notes := e.fake.Notes(id)
	body := notes[1].Properties["hs_note_body"]
	if !strings.Contains(body, "Reply sent to the customer (sms) by alice") {
		t.Errorf("the shop's reply note does not say who wrote it: %s", body)
	}
	if !strings.Contains(notes[2].Properties["hs_note_body"], "Internal note by bob") {
		t.Errorf("internal note: %s", notes[2].Properties["hs_note_body"])
	}
	if notes[3].Properties["hs_attachment_ids"] == "" {
		t.Error("the voicemail's note has no attachment")
	}
}

func TestUpdateMapping(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket("7b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	id, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelWebForm, "Form"))
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	stages := map[ticket.Status]string{
		ticket.StatusNew: "1", ticket.StatusOpen: "3", ticket.StatusPending: "2", ticket.StatusResolved: "4",
		ticket.StatusClosed: "4", ticket.StatusSpam: "4", ticket.StatusArchived: "4",
	}
	priorities := map[ticket.Priority]string{
		ticket.PriorityLow: "LOW", ticket.PriorityNormal: "MEDIUM", ticket.PriorityHigh: "HIGH", ticket.PriorityUrgent: "URGENT",
	}
	for _, st := range ticket.Statuses {
		for _, pr := range ticket.Priorities {
			t.Run(string(st)+"/"+string(pr), func(t *testing.T) {
				tk.Status, tk.Priority = st, pr
				tk.Tags = []string{"tag-" + string(st)}
				if err := e.keep(e.t.Update(ctx, id, tk)); err != nil {
					t.Fatal(err)
				}
				got, _ := e.fake.Ticket(id)
				if got.Properties["hs_pipeline_stage"] != stages[st] || got.Properties["hs_ticket_priority"] != priorities[pr] || got.Properties["hs_pipeline"] != "0" {
					t.Errorf("stage %q priority %q pipeline %q; want %q %q",
						got.Properties["hs_pipeline_stage"], got.Properties["hs_ticket_priority"], got.Properties["hs_pipeline"], stages[st], priorities[pr])
				}
			})
		}
	}
	if err := e.keep(e.t.Update(ctx, "999999", tk)); !sync.IsNotFound(err) {
		t.Errorf("Update of a missing ticket: %v, want a 404", err)
	}
}

func TestConfiguredStages(t *testing.T) {
	e := newEnv(t, func(c *config.SyncTarget) {
		c.Pipeline = "777"
		c.Stages = map[string]string{"new": "n", "open": "o", "pending": "p", "resolved": "r", "closed": "c", "spam": "s", "archived": "a"}
		c.IDField = "box_ticket_uuid"
	})
	e.fake = hubspotfake.NewWithIDField(token, "box_ticket_uuid")
	e.fake.AddPipeline("777", "n", "o", "p", "r", "c", "s", "a")
	e.srv.Config.Handler = e.fake
	ctx := context.Background()
	tk := newTicket("8b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	tk.Status = ticket.StatusPending
	id, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelEmail, "Hi"))
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	got, _ := e.fake.Ticket(id)
	if got.Properties["hs_pipeline"] != "777" || got.Properties["hs_pipeline_stage"] != "p" || got.Properties["box_ticket_uuid"] != tk.UUID {
		t.Errorf("ticket properties: %v", got.Properties)
	}
	if found, err := e.t.Find(ctx, tk); e.keep(err) != nil || found != id {
		t.Errorf("Find = %q, %v", found, err)
	}
}

// advanceClock makes the target's clock run ahead of the fake's records
// by more than searchLag, so that a cursor reaches the latest change.
func advanceClock(tg *Target) { tg.now = func() time.Time { return time.Now().Add(time.Minute) } }

func TestChanges(t *testing.T) {
	e := newEnv(t)
	advanceClock(e.t)
	ctx := context.Background()
	tk := newTicket("9b9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	id, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelEmail, "Where is my order?"))
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	changes, cursor, err := e.t.Changes(ctx, "")
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].ID != id || changes[0].ExternalID != tk.UUID || changes[0].Status != ticket.StatusNew || len(changes[0].Replies) != 0 {
		t.Fatalf("first Changes = %+v", changes)
	}
	again, cursor2, err := e.t.Changes(ctx, cursor)
	if e.keep(err) != nil || len(again) != 0 || cursor2 != cursor {
		t.Fatalf("Changes with nothing new = %+v, %q (was %q), %v", again, cursor2, cursor, err)
	}

	// The box writes a note; staff write a note, log the customer's
	// email, an automated email and a reply, and move the ticket.
	if _, err := e.t.Post(ctx, id, tk, newMessage(2, ticket.Outgoing, ticket.ChannelEmail, "We are on it.")); e.keep(err) != nil {
		t.Fatal(err)
	}
	e.fake.StaffNote(id, "Internal: check the warehouse")
	e.fake.AddEmail(id, hubspotfake.EmailInput{Direction: hubspotfake.DirectionIncoming, From: "jane@example.org", Text: "Any news?"})
	e.fake.AddEmail(id, hubspotfake.EmailInput{Direction: hubspotfake.DirectionOutgoing, Status: hubspotfake.EmailSent, Text: "Automated survey"})
	e.fake.AddEmail(id, hubspotfake.EmailInput{Direction: hubspotfake.DirectionOutgoing, Status: "FAILED", OwnerID: hubspotfake.AgentOwnerID, Text: "Bounced"})
	reply, err := e.fake.AgentReply(id, "Your order ships tomorrow.")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetStage(id, "2"); err != nil {
		t.Fatal(err)
	}
	changes, cursor3, err := e.t.Changes(ctx, cursor)
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 {
		t.Fatalf("Changes = %+v", changes)
	}
	ch := changes[0]
	if ch.ID != id || ch.Status != ticket.StatusPending || ch.ExternalID != tk.UUID {
		t.Errorf("change = %+v", ch)
	}
	if len(ch.Replies) != 1 || ch.Replies[0].ID != "email:"+reply || ch.Replies[0].Body != "Your order ships tomorrow." ||
		!ch.Replies[0].Public || !ch.Replies[0].Agent || !ch.Replies[0].Delivered || !strings.Contains(ch.Replies[0].Author, "alex@") {
		t.Errorf("replies = %+v", ch.Replies)
	}
	t1, e1 := parseCursor(cursor, time.Now())
	t3, e3 := parseCursor(cursor3, time.Now())
	if !t3.After(t1) || !e3.After(e1) {
		t.Errorf("cursor did not advance: %q then %q", cursor, cursor3)
	}
	if again, _, err := e.t.Changes(ctx, cursor3); e.keep(err) != nil || len(again) != 0 {
		t.Errorf("Changes after the last cursor = %+v, %v", again, err)
	}
}

func TestChangesStaysBehindTheSearchIndex(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket("ab9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	if _, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelEmail, "Hi")); e.keep(err) != nil {
		t.Fatal(err)
	}
	_, cursor, err := e.t.Changes(ctx, "")
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	tc, ec := parseCursor(cursor, time.Now())
	if limit := time.Now().Add(-searchLag + time.Second); tc.After(limit) || ec.After(limit) {
		t.Errorf("cursor %q is not %s behind the present", cursor, searchLag)
	}
	// Records within the lag come again; the engine applies them once.
	again, _, err := e.t.Changes(ctx, cursor)
	if e.keep(err) != nil || len(again) != 1 {
		t.Errorf("second Changes = %+v, %v", again, err)
	}
}

func TestChangesPagesAndBoundsARun(t *testing.T) {
	e := newEnv(t)
	advanceClock(e.t)
	ctx := context.Background()
	const n = maxChanged + 150
	var wg stdsync.WaitGroup
	errs := make(chan error, n)
	sem := make(chan struct{}, 16)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			tk := newTicket(fmt.Sprintf("c0000000-0000-4000-8000-%012d", i))
			tk.Contact = ticket.Contact{}
			if _, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelSMS, "Hi")); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(e.keep(err))
	}
	seen := make(map[string]bool)
	cursor := ""
	for range 3 {
		changes, next, err := e.t.Changes(ctx, cursor)
		if e.keep(err) != nil {
			t.Fatal(err)
		}
		for _, ch := range changes {
			seen[ch.ID] = true
		}
		cursor = next
	}
	if len(seen) != n {
		t.Errorf("Changes returned %d tickets, want %d", len(seen), n)
	}
}

func TestChangesMapsSharedStagesBack(t *testing.T) {
	e := newEnv(t)
	advanceClock(e.t)
	ctx := context.Background()
	tk := newTicket("bb9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	id, err := e.t.Create(ctx, tk, newMessage(1, ticket.Incoming, ticket.ChannelEmail, "Hi"))
	if e.keep(err) != nil {
		t.Fatal(err)
	}
	tk.Status = ticket.StatusClosed
	if err := e.keep(e.t.Update(ctx, id, tk)); err != nil {
		t.Fatal(err)
	}
	changes, _, err := e.t.Changes(ctx, "")
	if e.keep(err) != nil || len(changes) != 1 || changes[0].Status != ticket.StatusClosed {
		t.Fatalf("Changes after the box closed the ticket = %+v, %v; want closed, not another status of stage 4", changes, err)
	}
	// A target that did not write the stage (after a restart) maps stage
	// "4" to the first status using it.
	fresh, err := New(config.SyncTarget{Name: "hubspot", BaseURL: e.srv.URL, Token: token}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	advanceClock(fresh)
	changes, _, err = fresh.Changes(ctx, "")
	if e.keep(err) != nil || len(changes) != 1 || changes[0].Status != ticket.StatusResolved {
		t.Errorf("Changes of a fresh target = %+v, %v; want resolved", changes, err)
	}
	// Staff moving the ticket in HubSpot wins over what the box wrote.
	e.fake.SetStage(id, "3")
	changes, _, err = e.t.Changes(ctx, "")
	if e.keep(err) != nil || len(changes) != 1 || changes[0].Status != ticket.StatusOpen {
		t.Errorf("Changes after staff reopened = %+v, %v", changes, err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	tk := newTicket("cb9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e")
	first := newMessage(1, ticket.Incoming, ticket.ChannelSMS, "Hi")

	t.Run("validation is permanent with HubSpot's text", func(t *testing.T) {
		e := newEnv(t, func(c *config.SyncTarget) { c.Stages = map[string]string{"new": "99"} })
		_, err := e.t.Create(ctx, tk, first)
		e.keep(err)
		var perm *ticket.PermanentError
		var he *sync.HTTPError
		if !errors.As(err, &perm) || !errors.As(err, &he) || he.Status != 400 ||
			!strings.Contains(err.Error(), "99 is not a valid pipeline stage") || !strings.Contains(err.Error(), "VALIDATION_ERROR") {
			t.Errorf("Create with a wrong stage: %v", err)
		}
	})
	t.Run("422 is permanent", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Refuse(1, 422, "VALIDATION_ERROR", "Property values were not valid: subject too long")
		_, err := e.t.Find(ctx, tk)
		e.keep(err)
		var perm *ticket.PermanentError
		if !errors.As(err, &perm) || !strings.Contains(err.Error(), "subject too long") {
			t.Errorf("422: %v", err)
		}
	})
	t.Run("401 is an auth error without the token", func(t *testing.T) {
		e := newEnv(t)
		wrong, err := New(config.SyncTarget{Name: "hubspot", BaseURL: e.srv.URL, Token: token + "-old"}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		err = e.keep(wrong.Probe(ctx))
		var he *sync.HTTPError
		if !errors.As(err, &he) || !he.AuthError() || he.Status != 401 || strings.Contains(err.Error(), token) {
			t.Errorf("Probe with a wrong token: %v", err)
		}
		var perm *ticket.PermanentError
		if errors.As(err, &perm) {
			t.Error("a 401 is permanent")
		}
	})
	t.Run("500 is retryable", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.Fail5xx(1)
		_, err := e.t.Find(ctx, tk)
		e.keep(err)
		var he *sync.HTTPError
		var perm *ticket.PermanentError
		if !errors.As(err, &he) || he.Status != 500 || errors.As(err, &perm) {
			t.Errorf("500: %v", err)
		}
	})
	t.Run("429 with Retry-After is waited out", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.Throttle(1, time.Second)
		start := time.Now()
		id, err := e.t.Create(ctx, newTicket("eb9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e"), first)
		if e.keep(err) != nil || id == "" {
			t.Fatalf("Create after a 429: %q, %v", id, err)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Errorf("the 429 was not waited out: %s", d)
		}
	})
	t.Run("rate limit headers pace the requests", func(t *testing.T) {
		e := newEnv(t)
		if _, err := e.t.Create(ctx, tk, first); e.keep(err) != nil {
			t.Fatal(err)
		}
		e.fake.RateLimit(2, 400*time.Millisecond)
		start := time.Now()
		for range 4 {
			if id, err := e.t.Find(ctx, tk); e.keep(err) != nil || id == "" {
				t.Fatalf("Find = %q, %v", id, err)
			}
		}
		if d := time.Since(start); d < 350*time.Millisecond || d > 5*time.Second {
			t.Errorf("four requests against a limit of two per 400 ms took %s: not paced by the headers", d)
		}
	})
	t.Run("down is offline", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.SetDown(true)
		_, err := e.t.Find(ctx, tk)
		e.keep(err)
		var off *sync.OfflineError
		if !errors.As(err, &off) {
			t.Errorf("down: %v", err)
		}
		if err := e.keep(e.t.Probe(ctx)); !errors.As(err, &off) {
			t.Errorf("Probe while down: %v", err)
		}
		e.fake.Faults.SetDown(false)
		if err := e.keep(e.t.Probe(ctx)); err != nil {
			t.Errorf("Probe when back: %v", err)
		}
	})
	t.Run("a deleted ticket is not found", func(t *testing.T) {
		e := newEnv(t)
		id, err := e.t.Create(ctx, newTicket("fb9c2f8e-1d7a-4c55-9d0e-6f1a2b3c4d5e"), first)
		if e.keep(err) != nil {
			t.Fatal(err)
		}
		e.fake.DeleteTicket(id)
		if _, err := e.t.Messages(ctx, id); !sync.IsNotFound(e.keep(err)) {
			t.Errorf("Messages of a deleted ticket: %v", err)
		}
	})
}

func TestLinkBeforeTheAccountIsKnown(t *testing.T) {
	tg, err := New(config.SyncTarget{Name: "hs", Token: "x"}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if l := tg.Link("123"); l != "" {
		t.Errorf("Link = %q before the account is known", l)
	}
}
