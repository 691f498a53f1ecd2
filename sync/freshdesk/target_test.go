package freshdesk

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/sync/freshdesk/freshdeskfake"
	"github.com/counterdesk/counterdesk/ticket"
)

const testKey = "fd-key-5ecr3t-0123456789"

// env is a Target talking to a fake account over HTTP.
type env struct {
	t    *Target
	fake *freshdeskfake.Server
	srv  *httptest.Server
}

func newEnv(tb testing.TB, fields ...string) *env {
	tb.Helper()
	fake := freshdeskfake.New(testKey, fields...)
	srv := httptest.NewServer(fake)
	tb.Cleanup(srv.Close)
	tg, err := New(config.SyncTarget{
		Type: "freshdesk", Name: "fd", BaseURL: srv.URL, Token: testKey,
		Tags: []string{"counterdesk"}, TwoWay: true,
	}, 5*time.Second)
	if err != nil {
		tb.Fatal(err)
	}
	return &env{t: tg, fake: fake, srv: srv}
}

var uuidSeq struct {
	mu stdsync.Mutex
	n  int
}

func newUUID() string {
	uuidSeq.mu.Lock()
	defer uuidSeq.mu.Unlock()
	uuidSeq.n++
	return "0190c0de-0000-7000-8000-" + strings.Repeat("0", 12-len(strconv.Itoa(uuidSeq.n))) + strconv.Itoa(uuidSeq.n)
}

func boxTicket() *sync.Ticket {
	return &sync.Ticket{
		Ticket: ticket.Ticket{
			Number: 1042, UUID: newUUID(), Subject: "Servo jitters on the Cub",
			Status: ticket.StatusNew, Priority: ticket.PriorityHigh, Channel: ticket.ChannelVoicemail,
			Tags: []string{"servo", "counterdesk"},
		},
		Contact: ticket.Contact{ID: 7, Name: "Ada Pilot", Phones: []string{"+4930123456"}},
		Shop:    "Wings & Things",
	}
}

func message(id uint64, dir ticket.Direction, body string) *sync.Message {
	return &sync.Message{Message: ticket.Message{ID: id, Direction: dir, Channel: ticket.ChannelSMS, Body: body}}
}

func ctx() context.Context { return context.Background() }

func mustID(tb testing.TB, s string) int64 {
	tb.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		tb.Fatalf("remote id %q: %v", s, err)
	}
	return n
}

func TestNewErrors(t *testing.T) {
	for _, c := range []struct {
		name string
		cfg  config.SyncTarget
		want string
	}{
		{"no token", config.SyncTarget{Name: "fd", BaseURL: "https://x.freshdesk.com"}, "token is empty: set it in [[sync.targets]] or give it as the systemd credential sync-fd"},
		{"no base", config.SyncTarget{Name: "fd", Token: "k"}, "base_url is empty"},
		{"bad field", config.SyncTarget{Name: "fd", Token: "k", BaseURL: "https://x.freshdesk.com", IDField: "counterdesk id"}, "id_field"},
		{"user in url", config.SyncTarget{Name: "fd", Token: "k", BaseURL: "https://u:p@x.freshdesk.com"}, "must not hold a user"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := New(c.cfg, time.Second)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v, want %q", err, c.want)
			}
		})
	}
}

func TestProbeAndLink(t *testing.T) {
	e := newEnv(t)
	if err := e.t.Probe(ctx()); err != nil {
		t.Fatal(err)
	}
	if e.t.agentID != freshdeskfake.APIAgentID {
		t.Fatalf("agent id %d", e.t.agentID)
	}
	if got := e.t.Link("42"); got != e.srv.URL+"/a/tickets/42" {
		t.Fatalf("Link = %q", got)
	}
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	first := &sync.Message{Message: ticket.Message{ID: 1, Direction: ticket.Incoming, Channel: ticket.ChannelVoicemail,
		Transcript: "Hi, my servo <jitters> & buzzes.\nCall me back."}}
	id, err := e.t.Create(ctx(), tk, first)
	if err != nil {
		t.Fatal(err)
	}
	ft, ok := e.fake.Ticket(mustID(t, id))
	if !ok {
		t.Fatalf("no ticket %s", id)
	}
	if ft.Source != 3 || ft.Status != 2 || ft.Priority != 3 || ft.Subject != tk.Subject {
		t.Errorf("ticket = source %d status %d priority %d subject %q", ft.Source, ft.Status, ft.Priority, ft.Subject)
	}
	if ft.CustomFields[DefaultIDField] != tk.UUID {
		t.Errorf("id field = %q", ft.CustomFields[DefaultIDField])
	}
	if !slices.Equal(ft.Tags, []string{"counterdesk", "servo"}) {
		t.Errorf("tags = %q", ft.Tags)
	}
	if normalize(ft.DescriptionText) != normalize(first.Text()) {
		t.Errorf("description %q, want %q", ft.DescriptionText, first.Text())
	}
	c, _ := e.fake.Contact(ft.RequesterID)
	if c.Phone != "+4930123456" || c.Name != "Ada Pilot" {
		t.Errorf("requester = %+v", c)
	}
	if len(ft.Attachments) != 0 {
		t.Errorf("attachments = %d", len(ft.Attachments))
	}
}

func writeWAV(t *testing.T, name string, size int) sync.File {
	t.Helper()
	data := append([]byte("RIFF\x24\x00\x00\x00WAVEfmt "), bytes.Repeat([]byte{0x7f}, size)...)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return sync.File{Name: name, Type: "audio/wav", Size: int64(len(data)), Path: p}
}

func TestCreateWithAttachment(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	wav := writeWAV(t, "voicemail.wav", 4000)
	first := message(1, ticket.Incoming, "Voicemail from +4930123456")
	first.Files = []sync.File{wav}
	id, err := e.t.Create(ctx(), tk, first)
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := e.fake.Ticket(mustID(t, id))
	if len(ft.Attachments) != 1 {
		t.Fatalf("attachments = %d", len(ft.Attachments))
	}
	a := ft.Attachments[0]
	want, _ := os.ReadFile(wav.Path)
	if a.Name != "voicemail.wav" || a.ContentType != "audio/wav" || !bytes.Equal(a.Data, want) {
		t.Errorf("attachment = %s %s %d bytes", a.Name, a.ContentType, len(a.Data))
	}
	if ft.CustomFields[DefaultIDField] != tk.UUID || ft.Source != 3 || ft.Priority != 3 || !slices.Contains(ft.Tags, "servo") {
		t.Errorf("multipart fields lost: %+v", ft)
	}
}

func TestCreateSkipsWhatDoesNotFit(t *testing.T) {
	e := newEnv(t)
	small := writeWAV(t, "small.wav", 100)
	big := sync.File{Name: "huge.wav", Type: "audio/wav", Size: MaxAttachBytes + 1, Path: small.Path}
	m := message(1, ticket.Incoming, "two files")
	m.Files = []sync.File{big, small}
	id, err := e.t.Create(ctx(), boxTicket(), m)
	if err != nil {
		t.Fatal(err)
	}
	ft, _ := e.fake.Ticket(mustID(t, id))
	if len(ft.Attachments) != 1 || ft.Attachments[0].Name != "small.wav" {
		t.Fatalf("attachments = %+v", ft.Attachments)
	}
	if !strings.Contains(ft.DescriptionText, "huge.wav") {
		t.Errorf("description does not name the file left out: %q", ft.DescriptionText)
	}
	// A note with the same shortfall still reads back as the box's text.
	pid, err := e.t.Post(ctx(), id, boxTicket(), m)
	if err != nil {
		t.Fatal(err)
	}
	ms, err := e.t.Messages(ctx(), id)
	if err != nil || len(ms) != 1 || ms[0].ID != pid || normalize(ms[0].Body) != normalize(m.Text()) {
		t.Fatalf("Messages = %+v, %v", ms, err)
	}
}

func TestSourceMapping(t *testing.T) {
	e := newEnv(t)
	want := map[ticket.Channel]int{
		ticket.ChannelVoicemail: 3, ticket.ChannelMissedCall: 3, ticket.ChannelStaff: 3,
		ticket.ChannelSMS: 7, ticket.ChannelWebForm: 2, ticket.ChannelEmail: 1,
		ticket.ChannelAPI: 2, ticket.ChannelCloud: 2,
	}
	for _, ch := range ticket.Channels {
		tk := boxTicket()
		tk.Channel = ch
		id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hello"))
		if err != nil {
			t.Fatalf("%s: %v", ch, err)
		}
		ft, _ := e.fake.Ticket(mustID(t, id))
		if ft.Source != want[ch] {
			t.Errorf("%s: source %d, want %d", ch, ft.Source, want[ch])
		}
	}
}

func TestRequester(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		name    string
		contact ticket.Contact
		check   func(freshdeskfake.Contact) bool
	}{
		{"email", ticket.Contact{ID: 1, Name: "Bo", Emails: []string{"bo@example.com"}, Phones: []string{"+441"}},
			func(c freshdeskfake.Contact) bool { return c.Email == "bo@example.com" && c.Name == "Bo" }},
		{"phone without name", ticket.Contact{ID: 2, Phones: []string{"+442"}},
			func(c freshdeskfake.Contact) bool { return c.Phone == "+442" && c.Name == "+442" }},
		{"nothing", ticket.Contact{ID: 3},
			func(c freshdeskfake.Contact) bool { return c.UniqueExternalID == "counterdesk-contact-3" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			tk := boxTicket()
			tk.Contact = c.contact
			id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hi"))
			if err != nil {
				t.Fatal(err)
			}
			ft, _ := e.fake.Ticket(mustID(t, id))
			got, _ := e.fake.Contact(ft.RequesterID)
			if !c.check(got) {
				t.Fatalf("requester = %+v", got)
			}
		})
	}
}

func TestFind(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	if id, err := e.t.Find(ctx(), tk); err != nil || id != "" {
		t.Fatalf("Find before create = %q, %v", id, err)
	}
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.t.Find(ctx(), tk); err != nil || got != id {
		t.Fatalf("Find = %q, %v; want %q", got, err, id)
	}
	other := boxTicket()
	if got, err := e.t.Find(ctx(), other); err != nil || got != "" {
		t.Fatalf("Find other = %q, %v", got, err)
	}
}

func TestFindWhileIndexLags(t *testing.T) {
	e := newEnv(t)
	e.fake.SetIndexLag(5 * time.Minute)
	tk := boxTicket()
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hi"))
	if err != nil {
		t.Fatal(err)
	}
	if got, err := e.t.Find(ctx(), tk); err != nil || got != id {
		t.Fatalf("Find = %q, %v; want %q from the recent tickets", got, err, id)
	}
}

func TestFindRefusesOddIDs(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	tk.UUID = "x' OR status:2 OR cf_counterdesk_id:'y"
	if _, err := e.t.Find(ctx(), tk); !isPermanent(err) {
		t.Fatalf("Find = %v, want a permanent error", err)
	}
}

// TestNoDuplicateAfterLostAnswer is the crash the engine guards against:
// Freshdesk made the ticket but the answer was lost.
func TestNoDuplicateAfterLostAnswer(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	e.fake.Faults.LoseAnswers(1)
	if _, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hi")); err == nil {
		t.Fatal("Create with a lost answer succeeded")
	}
	id, err := e.t.Find(ctx(), tk)
	if err != nil || id == "" {
		t.Fatalf("Find = %q, %v", id, err)
	}
	if n := e.fake.CountByField(DefaultIDField, tk.UUID); n != 1 {
		t.Fatalf("%d tickets hold the box id", n)
	}
}

func TestPostAndMessages(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "first"))
	if err != nil {
		t.Fatal(err)
	}
	wav := writeWAV(t, "second.wav", 300)
	in := message(2, ticket.Incoming, "It still jitters.\nEven with a new battery.")
	in.Files = []sync.File{wav}
	out := message(3, ticket.Outgoing, "Please bring it in on Saturday.")
	note := message(4, ticket.Internal, "Probably the BEC; check the 5 V rail.")
	var ids []string
	for _, m := range []*sync.Message{in, out, note} {
		pid, err := e.t.Post(ctx(), id, tk, m)
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, pid)
	}
	convs := e.fake.Conversations(mustID(t, id))
	if len(convs) != 3 {
		t.Fatalf("%d conversations", len(convs))
	}
	for i, want := range []struct{ private, incoming bool }{{false, true}, {false, false}, {true, false}} {
		c := convs[i]
		if c.Private != want.private || c.Incoming != want.incoming || c.Source != 2 || c.UserID != freshdeskfake.APIAgentID {
			t.Errorf("conversation %d = private %v incoming %v source %d user %d", i, c.Private, c.Incoming, c.Source, c.UserID)
		}
	}
	if len(convs[0].Attachments) != 1 || convs[0].Attachments[0].Name != "second.wav" {
		t.Errorf("note attachments = %+v", convs[0].Attachments)
	}
	if n := e.fake.RepliesEmailed(); n != 0 {
		t.Errorf("%d replies emailed to the customer", n)
	}
	ms, err := e.t.Messages(ctx(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 3 {
		t.Fatalf("Messages = %+v", ms)
	}
	for i, m := range []*sync.Message{in, out, note} {
		if ms[i].ID != ids[i] || normalize(ms[i].Body) != normalize(m.Text()) || ms[i].Public != m.Public() || ms[i].Agent {
			t.Errorf("message %d = %+v, want text %q", i, ms[i], m.Text())
		}
	}
}

func TestMessagesPages(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "first"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 130 {
		if _, err := e.fake.AgentNote(mustID(t, id), "note "+strconv.Itoa(i), true); err != nil {
			t.Fatal(err)
		}
	}
	ms, err := e.t.Messages(ctx(), id)
	if err != nil || len(ms) != 130 || ms[129].Body != "note 129" {
		t.Fatalf("Messages = %d, %v", len(ms), err)
	}
}

func TestUpdateMapping(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hi"))
	if err != nil {
		t.Fatal(err)
	}
	statuses := map[ticket.Status]int{
		ticket.StatusNew: 2, ticket.StatusOpen: 2, ticket.StatusPending: 3, ticket.StatusResolved: 4,
		ticket.StatusClosed: 5, ticket.StatusSpam: 5, ticket.StatusArchived: 5,
	}
	priorities := map[ticket.Priority]int{
		ticket.PriorityLow: 1, ticket.PriorityNormal: 2, ticket.PriorityHigh: 3, ticket.PriorityUrgent: 4,
	}
	for _, s := range ticket.Statuses {
		for _, p := range ticket.Priorities {
			t.Run(string(s)+"/"+string(p), func(t *testing.T) {
				tk.Status, tk.Priority, tk.Tags = s, p, []string{"tag-" + string(s)}
				if err := e.t.Update(ctx(), id, tk); err != nil {
					t.Fatal(err)
				}
				ft, _ := e.fake.Ticket(mustID(t, id))
				if ft.Status != statuses[s] || ft.Priority != priorities[p] {
					t.Fatalf("status %d priority %d, want %d %d", ft.Status, ft.Priority, statuses[s], priorities[p])
				}
				if !slices.Equal(ft.Tags, []string{"counterdesk", "tag-" + string(s)}) {
					t.Fatalf("tags = %q", ft.Tags)
				}
			})
		}
	}
	if err := e.t.Update(ctx(), "999999", tk); !sync.IsNotFound(err) {
		t.Fatalf("Update of a missing ticket = %v, want 404", err)
	}
}

func TestChanges(t *testing.T) {
	e := newEnv(t)
	now := time.Date(2026, 5, 2, 10, 0, 0, 0, time.UTC)
	var mu stdsync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	e.fake.SetClock(clock)
	e.t.now = clock

	tk := boxTicket()
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "first"))
	if err != nil {
		t.Fatal(err)
	}
	n := mustID(t, id)
	// A private note by staff is no reply.
	if _, err := e.fake.AgentNote(n, "x", true); err != nil {
		t.Fatal(err)
	}

	// Nothing changed in Freshdesk yet: the box's new ticket is not
	// reported as "open".
	changes, cursor, err := e.t.Changes(ctx(), "")
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 || changes[0].ExternalID != tk.UUID || changes[0].Status != "" || len(changes[0].Replies) != 0 {
		t.Fatalf("first Changes = %+v", changes)
	}
	if cursor == "" {
		t.Fatal("no cursor")
	}

	advance(time.Minute)
	if _, err := e.t.Post(ctx(), id, tk, message(2, ticket.Outgoing, "the box's own reply")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.CustomerReply(n, "customer says thanks"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AgentNote(n, "private staff note", true); err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AgentNote(n, "public staff note", false); err != nil {
		t.Fatal(err)
	}
	replyID, err := e.fake.AgentReply(n, "Your servo is ready.")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetStatus(n, 3); err != nil {
		t.Fatal(err)
	}
	changes, next, err := e.t.Changes(ctx(), cursor)
	if err != nil {
		t.Fatal(err)
	}
	if len(changes) != 1 {
		t.Fatalf("Changes = %+v", changes)
	}
	ch := changes[0]
	if ch.ID != id || ch.Status != ticket.StatusPending {
		t.Errorf("change = %+v", ch)
	}
	if len(ch.Replies) != 1 || ch.Replies[0].ID != strconv.FormatInt(replyID, 10) || ch.Replies[0].Body != "Your servo is ready." ||
		!ch.Replies[0].Agent || !ch.Replies[0].Public || ch.Replies[0].Delivered || ch.Replies[0].Author != freshdeskfake.StaffFrom {
		t.Errorf("replies = %+v", ch.Replies)
	}
	if next <= cursor {
		t.Errorf("cursor did not advance: %q -> %q", cursor, next)
	}

	// The same state again: the status is not reported twice.
	again, next2, err := e.t.Changes(ctx(), next)
	if err != nil || len(again) != 1 || again[0].Status != "" || next2 != next {
		t.Fatalf("Changes again = %+v %q, %v", again, next2, err)
	}

	// Staff open it again: reported, even though "open" is what the box
	// sent first.
	advance(time.Minute)
	if err := e.fake.SetStatus(n, 2); err != nil {
		t.Fatal(err)
	}
	changes, next3, err := e.t.Changes(ctx(), next2)
	if err != nil || len(changes) != 1 || changes[0].Status != ticket.StatusOpen {
		t.Fatalf("Changes after reopen = %+v, %v", changes, err)
	}
	if next3 <= next2 {
		t.Errorf("cursor did not advance: %q -> %q", next2, next3)
	}

	// A custom status has no box equivalent.
	advance(time.Minute)
	if err := e.fake.SetStatus(n, 6); err != nil {
		t.Fatal(err)
	}
	changes, _, err = e.t.Changes(ctx(), next3)
	if err != nil || len(changes) != 1 || changes[0].Status != "" {
		t.Fatalf("Changes with a custom status = %+v, %v", changes, err)
	}
}

// TestChangesEmailedReply: Freshdesk emails a reply to a requester with
// an address, so the box must not deliver it again.
func TestChangesEmailedReply(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	tk.Channel = ticket.ChannelEmail
	tk.Contact = ticket.Contact{ID: 9, Name: "Eve", Emails: []string{"eve@example.com"}}
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "first"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.fake.AgentReply(mustID(t, id), "Emailed by Freshdesk"); err != nil {
		t.Fatal(err)
	}
	changes, _, err := e.t.Changes(ctx(), "")
	if err != nil || len(changes) != 1 || len(changes[0].Replies) != 1 || !changes[0].Replies[0].Delivered {
		t.Fatalf("Changes = %+v, %v", changes, err)
	}
}

// TestChangesNotSettledWhenCursorNotKept: when the engine fails to apply
// a batch, it asks again with the old cursor, and gets the status again.
func TestChangesNotSettledWhenCursorNotKept(t *testing.T) {
	e := newEnv(t)
	tk := boxTicket()
	id, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "first"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetStatus(mustID(t, id), 4); err != nil {
		t.Fatal(err)
	}
	first, _, err := e.t.Changes(ctx(), "")
	if err != nil || len(first) != 1 || first[0].Status != ticket.StatusResolved {
		t.Fatalf("Changes = %+v, %v", first, err)
	}
	again, _, err := e.t.Changes(ctx(), "")
	if err != nil || len(again) != 1 || again[0].Status != ticket.StatusResolved {
		t.Fatalf("Changes with the old cursor = %+v, %v", again, err)
	}
}

func TestChangesPages(t *testing.T) {
	e := newEnv(t)
	for i := range 230 {
		tk := boxTicket()
		tk.Number = uint64(i)
		if _, err := e.t.Create(ctx(), tk, message(1, ticket.Incoming, "hi")); err != nil {
			t.Fatal(err)
		}
	}
	changes, _, err := e.t.Changes(ctx(), "")
	if err != nil || len(changes) != 230 {
		t.Fatalf("Changes = %d, %v", len(changes), err)
	}
}

func isPermanent(err error) bool {
	var p *ticket.PermanentError
	return errors.As(err, &p)
}

func TestErrors(t *testing.T) {
	var seen []error
	defer func() {
		basic := base64.StdEncoding.EncodeToString([]byte(testKey + ":X"))
		for _, err := range seen {
			if err != nil && (strings.Contains(err.Error(), testKey) || strings.Contains(err.Error(), basic)) {
				t.Errorf("secret in error: %v", err)
			}
		}
	}()

	t.Run("validation", func(t *testing.T) {
		e := newEnv(t, "cf_something_else")
		_, err := e.t.Create(ctx(), boxTicket(), message(1, ticket.Incoming, "hi"))
		seen = append(seen, err)
		var h *sync.HTTPError
		if !isPermanent(err) || !errors.As(err, &h) || h.Status != 400 || !strings.Contains(h.Text, "invalid_field") || !strings.Contains(h.Text, DefaultIDField) {
			t.Fatalf("Create = %v, want a permanent 400 naming the field", err)
		}
		_, err = e.t.Find(ctx(), boxTicket())
		seen = append(seen, err)
		if !isPermanent(err) {
			t.Fatalf("Find = %v, want permanent", err)
		}
	})
	t.Run("unauthorized", func(t *testing.T) {
		e := newEnv(t)
		bad, err := New(config.SyncTarget{Name: "fd", BaseURL: e.srv.URL, Token: testKey + "-old"}, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		err = bad.Probe(ctx())
		seen = append(seen, err)
		var h *sync.HTTPError
		if !errors.As(err, &h) || !h.AuthError() || isPermanent(err) {
			t.Fatalf("Probe = %v, want an auth error", err)
		}
		if strings.Contains(err.Error(), testKey+"-old") {
			t.Fatalf("key in error: %v", err)
		}
	})
	t.Run("server error", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.Fail5xx(1)
		_, err := e.t.Create(ctx(), boxTicket(), message(1, ticket.Incoming, "hi"))
		seen = append(seen, err)
		var h *sync.HTTPError
		if !errors.As(err, &h) || h.Status != 500 || isPermanent(err) {
			t.Fatalf("Create = %v, want a retryable 500", err)
		}
	})
	t.Run("rate limited", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.Throttle(1, time.Second)
		start := time.Now()
		id, err := e.t.Create(ctx(), boxTicket(), message(1, ticket.Incoming, "hi"))
		seen = append(seen, err)
		if err != nil || id == "" {
			t.Fatalf("Create = %q, %v", id, err)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Fatalf("Retry-After not waited out: %s", d)
		}
	})
	t.Run("vendor rate limit", func(t *testing.T) {
		e := newEnv(t)
		e.fake.SetRateLimit(2)
		if err := e.t.Probe(ctx()); err != nil {
			t.Fatal(err)
		}
		if err := e.t.Probe(ctx()); err != nil {
			t.Fatal(err)
		}
		c, cancel := context.WithTimeout(ctx(), 200*time.Millisecond)
		defer cancel()
		err := e.t.Probe(c) // the third call in the minute draws a 429
		seen = append(seen, err)
		if err == nil {
			t.Fatal("third Probe in a minute of two succeeded")
		}
	})
	t.Run("down", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.SetDown(true)
		_, _, err := e.t.Changes(ctx(), "")
		seen = append(seen, err)
		var off *sync.OfflineError
		if !errors.As(err, &off) {
			t.Fatalf("Changes = %v, want offline", err)
		}
	})
	t.Run("not found", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.t.Post(ctx(), "424242", boxTicket(), message(1, ticket.Incoming, "hi"))
		seen = append(seen, err)
		if !sync.IsNotFound(err) {
			t.Fatalf("Post = %v, want 404", err)
		}
		_, err = e.t.Messages(ctx(), "not-a-number")
		seen = append(seen, err)
		if !isPermanent(err) {
			t.Fatalf("Messages = %v, want permanent", err)
		}
	})
}

func normalize(s string) string { return strings.Join(strings.Fields(s), " ") }
