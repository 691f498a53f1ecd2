package zendesk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"net/http"
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
	"github.com/counterdesk/counterdesk/sync/zendesk/zendeskfake"
	"github.com/counterdesk/counterdesk/ticket"
)

const (
	testEmail = "api@wingsandthings.example"
	testToken = "zd-SECRET-token-7f3a9c"
)

// clock is a settable clock shared by the fake and the target.
type clock struct {
	mu stdsync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     *testing.T
	fake  *zendeskfake.Server
	srv   *httptest.Server
	clock *clock
	zd    *Target
}

// setup starts a fake account and a target configured for it; mod edits
// the target's configuration first.
func setup(t *testing.T, mod ...func(*config.SyncTarget)) *env {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 14, 9, 30, 0, 0, time.UTC)}
	fake := zendeskfake.New(testEmail, testToken)
	fake.Now = clk.now
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{t: t, fake: fake, srv: srv, clock: clk}
	e.zd = e.target(mod...)
	return e
}

func (e *env) target(mod ...func(*config.SyncTarget)) *Target {
	e.t.Helper()
	c := config.SyncTarget{
		Type: "zendesk", Name: "zd", BaseURL: e.srv.URL, Email: testEmail, Token: testToken,
		Tags: []string{"counter-box"}, TwoWay: true,
	}
	for _, m := range mod {
		m(&c)
	}
	zd, err := New(c, 5*time.Second)
	if err != nil {
		e.t.Fatal(err)
	}
	zd.now = e.clock.now
	return zd
}

func boxTicket(uuid string) *sync.Ticket {
	return &sync.Ticket{
		Ticket: ticket.Ticket{
			Number: 1042, UUID: uuid, Subject: "Servo buzzing after crash", Status: ticket.StatusNew,
			Priority: ticket.PriorityHigh, Channel: ticket.ChannelVoicemail, Tags: []string{"Servo Parts"},
		},
		Contact: ticket.Contact{Name: "Ada Flyer", Phones: []string{"+447700900123"}, Emails: []string{"ada@example.com"}},
	}
}

func inbound(id uint64, body string) *sync.Message {
	return &sync.Message{Message: ticket.Message{ID: id, Direction: ticket.Incoming, Channel: ticket.ChannelVoicemail, Body: body}}
}

// noSecret fails the test when err's text holds the token.
func noSecret(t *testing.T, err error) {
	t.Helper()
	if err != nil && strings.Contains(err.Error(), testToken) {
		t.Fatalf("error text holds the token: %v", err)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 {
		t.Fatalf("remote id %q is not a Zendesk id", s)
	}
	return n
}

// wav writes a short audio/wav file into a temporary folder.
func wav(t *testing.T, name string, samples int) sync.File {
	t.Helper()
	var b bytes.Buffer
	data := make([]byte, samples*2)
	b.WriteString("RIFF")
	binary.Write(&b, binary.LittleEndian, uint32(36+len(data)))
	b.WriteString("WAVEfmt ")
	for _, v := range []any{uint32(16), uint16(1), uint16(1), uint32(8000), uint32(16000), uint16(2), uint16(16)} {
		binary.Write(&b, binary.LittleEndian, v)
	}
	b.WriteString("data")
	binary.Write(&b, binary.LittleEndian, uint32(len(data)))
	b.Write(data)
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return sync.File{Name: name, Type: "audio/wav", Size: int64(b.Len()), Path: p}
}

func TestNewChecksSettings(t *testing.T) {
	base := config.SyncTarget{Type: "zendesk", Name: "zd", BaseURL: "https://shop.zendesk.com", Email: testEmail, Token: testToken}
	tests := []struct {
		name string
		mod  func(*config.SyncTarget)
		want string // in the error; "" for none
	}{
		{"token auth", func(*config.SyncTarget) {}, ""},
		{"bearer without email", func(c *config.SyncTarget) { c.Auth, c.Email = AuthBearer, "" }, ""},
		{"no token", func(c *config.SyncTarget) { c.Token = "" }, "token is empty: set it in [[sync.targets]] or give it as the systemd credential sync-zd"},
		{"token without email", func(c *config.SyncTarget) { c.Email = "" }, "email"},
		{"unknown auth", func(c *config.SyncTarget) { c.Auth = "password" }, "auth"},
		{"no base url", func(c *config.SyncTarget) { c.BaseURL = "" }, "base_url"},
		{"user in base url", func(c *config.SyncTarget) { c.BaseURL = "https://u:p@shop.zendesk.com" }, "base_url"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := base
			tt.mod(&c)
			_, err := New(c, time.Second)
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: %v, want an error about %q", err, tt.want)
			}
			noSecret(t, err)
		})
	}
}

func TestLink(t *testing.T) {
	zd, err := New(config.SyncTarget{Name: "zd", BaseURL: "https://shop.zendesk.com/", Email: testEmail, Token: testToken}, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := zd.Link("35436"), "https://shop.zendesk.com/agent/tickets/35436"; got != want {
		t.Fatalf("Link = %q, want %q", got, want)
	}
}

func TestProbe(t *testing.T) {
	ctx := context.Background()
	t.Run("api token", func(t *testing.T) {
		e := setup(t)
		if err := e.zd.Probe(ctx); err != nil {
			t.Fatal(err)
		}
		if e.zd.me != e.fake.APIUser().ID {
			t.Fatalf("remembered API user %d, want %d", e.zd.me, e.fake.APIUser().ID)
		}
	})
	t.Run("bearer", func(t *testing.T) {
		e := setup(t, func(c *config.SyncTarget) { c.Auth, c.Email = AuthBearer, "" })
		if err := e.zd.Probe(ctx); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("wrong token", func(t *testing.T) {
		e := setup(t)
		zd := e.target(func(c *config.SyncTarget) { c.Token = testToken + "-old" })
		err := zd.Probe(ctx)
		var h *sync.HTTPError
		if !errors.As(err, &h) || !h.AuthError() || h.Status != http.StatusUnauthorized {
			t.Fatalf("Probe = %v, want a 401 HTTPError", err)
		}
		if !strings.Contains(err.Error(), "Couldn't authenticate you") {
			t.Fatalf("error %q lacks Zendesk's text", err)
		}
		var p *ticket.PermanentError
		if errors.As(err, &p) {
			t.Fatalf("401 is permanent: %v", err)
		}
		noSecret(t, err)
	})
	t.Run("end user token", func(t *testing.T) {
		e := setup(t)
		e.fake.SetAPIRole(zendeskfake.RoleEndUser)
		err := e.zd.Probe(ctx)
		var h *sync.HTTPError
		if !errors.As(err, &h) || !h.AuthError() {
			t.Fatalf("Probe = %v, want an auth HTTPError", err)
		}
	})
}

func TestCreateWithEmail(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tk := boxTicket("0b6f8c1e-3f7a-4e44-9a51-1d2c3b4a5f60")
	tk.Channel = ticket.ChannelEmail
	first := &sync.Message{Message: ticket.Message{ID: 7, Direction: ticket.Incoming, Channel: ticket.ChannelEmail, Body: "My servo buzzes.\n\nAda"}}
	id, err := e.zd.Create(ctx, tk, first)
	if err != nil {
		t.Fatal(err)
	}
	zt, ok := e.fake.Ticket(mustID(t, id))
	if !ok {
		t.Fatalf("no ticket %s in the fake", id)
	}
	if zt.ExternalID != tk.UUID || zt.Subject != tk.Subject || zt.Priority != "high" || zt.Status != "new" {
		t.Fatalf("ticket = %+v", zt)
	}
	for _, tag := range []string{"counter-box", "servo_parts", "counterdesk", "counterdesk_email"} {
		if !slices.Contains(zt.Tags, tag) {
			t.Errorf("tags %v lack %q", zt.Tags, tag)
		}
	}
	u, _ := e.fake.User(zt.RequesterID)
	if u.Email != "ada@example.com" || u.Name != "Ada Flyer" || u.Role != zendeskfake.RoleEndUser {
		t.Fatalf("requester = %+v", u)
	}
	cs := e.fake.Comments(zt.ID)
	if len(cs) != 1 || cs[0].Body != first.Text() || !cs[0].Public {
		t.Fatalf("comments = %+v", cs)
	}
}

func TestCreatePhoneOnly(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tk := boxTicket("5d2a0c44-95a3-4d7e-8d61-6f0e7b1c2d3e")
	tk.Contact = ticket.Contact{Phones: []string{"+447700900123"}}
	tk.Subject = ""
	id, err := e.zd.Create(ctx, tk, inbound(1, "Please call me back"))
	if err != nil {
		t.Fatal(err)
	}
	zt, _ := e.fake.Ticket(mustID(t, id))
	u, _ := e.fake.User(zt.RequesterID)
	if u.Phone != "+447700900123" || u.ExternalID != "counterdesk-phone-+447700900123" || u.Role != zendeskfake.RoleEndUser || u.Email != "" {
		t.Fatalf("requester = %+v", u)
	}
	if zt.Subject != "Voicemail from +447700900123" {
		t.Fatalf("subject = %q", zt.Subject)
	}
	// Another ticket of the same caller, from a target that starts afresh,
	// finds the same user.
	tk2 := boxTicket("9a7b6c5d-1e2f-4a3b-8c4d-5e6f7a8b9c0d")
	tk2.Contact = tk.Contact
	id2, err := e.target().Create(ctx, tk2, inbound(2, "Me again"))
	if err != nil {
		t.Fatal(err)
	}
	zt2, _ := e.fake.Ticket(mustID(t, id2))
	if zt2.RequesterID != zt.RequesterID {
		t.Fatalf("second ticket's requester %d, want %d", zt2.RequesterID, zt.RequesterID)
	}
	n := 0
	for _, u := range e.fake.Users() {
		if u.Phone == "+447700900123" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("%d users hold the number, want 1", n)
	}
}

func TestCreateWithAttachments(t *testing.T) {
	e := setup(t)
	tk := boxTicket("2f0e5d4c-3b2a-4190-8f7e-6d5c4b3a2910")
	first := inbound(1, "")
	first.Transcript = "Hi, it's Ada, my servo buzzes."
	first.Files = []sync.File{wav(t, "voicemail.wav", 800), wav(t, "voicemail-2.wav", 400)}
	id, err := e.zd.Create(context.Background(), tk, first)
	if err != nil {
		t.Fatal(err)
	}
	cs := e.fake.Comments(mustID(t, id))
	if len(cs) != 1 || cs[0].Body != "Transcript: Hi, it's Ada, my servo buzzes." {
		t.Fatalf("comments = %+v", cs)
	}
	as := cs[0].Attachments
	if len(as) != 2 {
		t.Fatalf("attachments = %+v, want 2", as)
	}
	for i, f := range first.Files {
		if as[i].FileName != f.Name || as[i].ContentType != "audio/wav" || as[i].Size != f.Size {
			t.Errorf("attachment %d = %+v, want %s audio/wav %d bytes", i, as[i], f.Name, f.Size)
		}
	}
}

func TestCreateIsIdempotent(t *testing.T) {
	ctx := context.Background()
	t.Run("same body", func(t *testing.T) {
		e := setup(t)
		tk := boxTicket("6e5d4c3b-2a19-4087-b6a5-948372615041")
		id1, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
		if err != nil {
			t.Fatal(err)
		}
		id2, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
		if err != nil {
			t.Fatal(err)
		}
		if id1 != id2 || len(e.fake.TicketsByExternalID(tk.UUID)) != 1 {
			t.Fatalf("ids %s %s, %d tickets", id1, id2, len(e.fake.TicketsByExternalID(tk.UUID)))
		}
		if made, replayed := e.fake.Creations(); made != 1 || replayed != 1 {
			t.Fatalf("made %d replayed %d, want 1 and 1", made, replayed)
		}
	})
	t.Run("other body", func(t *testing.T) {
		// A retry whose attachments were uploaded again (other tokens) or
		// whose ticket changed meanwhile: Zendesk refuses the key, the
		// target finds the ticket the first attempt made.
		e := setup(t)
		tk := boxTicket("7f6e5d4c-3b2a-4198-a7b6-a59483726150")
		id1, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
		if err != nil {
			t.Fatal(err)
		}
		tk.Priority = ticket.PriorityUrgent
		id2, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
		if err != nil {
			t.Fatal(err)
		}
		if id1 != id2 || len(e.fake.TicketsByExternalID(tk.UUID)) != 1 {
			t.Fatalf("ids %s %s, %d tickets", id1, id2, len(e.fake.TicketsByExternalID(tk.UUID)))
		}
	})
	t.Run("lost answer", func(t *testing.T) {
		// The ticket is made but the answer never arrives: the engine
		// finds it before creating again.
		e := setup(t)
		tk := boxTicket("8a7f6e5d-4c3b-4a29-b8c7-b6a594837261")
		e.fake.Faults.LoseAnswers(1)
		_, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
		var off *sync.OfflineError
		if !errors.As(err, &off) {
			t.Fatalf("Create = %v, want *sync.OfflineError", err)
		}
		found, err := e.zd.Find(ctx, tk)
		if err != nil || found == "" {
			t.Fatalf("Find = %q, %v", found, err)
		}
		again, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
		if err != nil || again != found {
			t.Fatalf("Create again = %q, %v; want %q", again, err, found)
		}
		if n := len(e.fake.TicketsByExternalID(tk.UUID)); n != 1 {
			t.Fatalf("%d tickets, want 1", n)
		}
	})
}

func TestFind(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tk := boxTicket("1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f")
	id, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.zd.Find(ctx, tk)
	if err != nil || got != id {
		t.Fatalf("Find = %q, %v; want %q", got, err, id)
	}
	got, err = e.zd.Find(ctx, boxTicket("ffffffff-0000-4000-8000-000000000000"))
	if err != nil || got != "" {
		t.Fatalf("Find of an unknown ticket = %q, %v; want \"\"", got, err)
	}
}

func TestPostAndMessages(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tk := boxTicket("3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7")
	id, err := e.zd.Create(ctx, tk, inbound(1, "My servo buzzes"))
	if err != nil {
		t.Fatal(err)
	}
	zt, _ := e.fake.Ticket(mustID(t, id))
	later := inbound(2, "It also smells of smoke")
	later.Channel = ticket.ChannelSMS
	reply := &sync.Message{Message: ticket.Message{ID: 3, Direction: ticket.Outgoing, Channel: ticket.ChannelSMS, Author: "kim", Body: "Please bring it to the counter."}}
	note := &sync.Message{Message: ticket.Message{ID: 4, Direction: ticket.Internal, Channel: ticket.ChannelStaff, Author: "kim", Body: "Probably the gearbox."}}
	note.Files = []sync.File{wav(t, "bench-test.wav", 100)}

	posted := map[string]*sync.Message{}
	for _, m := range []*sync.Message{later, reply, note} {
		cid, err := e.zd.Post(ctx, id, tk, m)
		if err != nil {
			t.Fatal(err)
		}
		if cid == "" {
			t.Fatalf("Post of message %d returned no comment id", m.ID)
		}
		posted[cid] = m
	}
	cs := e.fake.Comments(zt.ID)
	api := e.fake.APIUser().ID
	wantAuthor := map[uint64]int64{2: zt.RequesterID, 3: api, 4: api}
	for _, c := range cs[1:] {
		m := posted[strconv.FormatInt(c.ID, 10)]
		if m == nil {
			t.Fatalf("comment %d was not returned by Post", c.ID)
		}
		if c.AuthorID != wantAuthor[m.ID] || c.Public != m.Public() {
			t.Errorf("message %d: author %d public %v; want %d %v", m.ID, c.AuthorID, c.Public, wantAuthor[m.ID], m.Public())
		}
	}
	if len(cs[3].Attachments) != 1 || cs[3].Attachments[0].FileName != "bench-test.wav" {
		t.Errorf("note attachments = %+v", cs[3].Attachments)
	}

	rms, err := e.zd.Messages(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rms) != 4 {
		t.Fatalf("Messages = %d, want 4", len(rms))
	}
	for _, rm := range rms[1:] {
		m := posted[rm.ID]
		if m == nil || rm.Body != m.Text() || rm.Public != m.Public() || rm.Agent {
			t.Errorf("remote message %+v does not read back message %+v", rm, m)
		}
	}
}

func TestMessagesPages(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tk := boxTicket("4f5a6b7c-8d9e-4f0a-b1c2-d3e4f5a6b7c8")
	id, err := e.zd.Create(ctx, tk, inbound(1, "first"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range 230 {
		if _, err := e.fake.Note(mustID(t, id), "note "+strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	rms, err := e.zd.Messages(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(rms) != 231 || rms[230].Body != "note 229" || !rms[230].Agent {
		t.Fatalf("Messages = %d, last %+v", len(rms), rms[len(rms)-1])
	}
}

func TestUpdateMapping(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	statusTests := []struct {
		box  ticket.Status
		want string
	}{
		{ticket.StatusNew, "new"},
		{ticket.StatusOpen, "open"},
		{ticket.StatusPending, "pending"},
		{ticket.StatusResolved, "solved"},
		{ticket.StatusClosed, "solved"},
		{ticket.StatusSpam, "solved"},
		{ticket.StatusArchived, "solved"},
	}
	if len(statusTests) != len(ticket.Statuses) {
		t.Fatalf("the table covers %d statuses, the box has %d", len(statusTests), len(ticket.Statuses))
	}
	for i, tt := range statusTests {
		t.Run("status "+string(tt.box), func(t *testing.T) {
			tk := boxTicket("00000000-0000-4000-8000-0000000001" + strconv.Itoa(10+i))
			id, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
			if err != nil {
				t.Fatal(err)
			}
			tk.Status = tt.box
			tk.Tags = append(tk.Tags, "needs-part")
			if err := e.zd.Update(ctx, id, tk); err != nil {
				t.Fatal(err)
			}
			zt, _ := e.fake.Ticket(mustID(t, id))
			if zt.Status != tt.want {
				t.Errorf("status %s became %q, want %q", tt.box, zt.Status, tt.want)
			}
			if !slices.Contains(zt.Tags, "needs-part") || !slices.Contains(zt.Tags, "counterdesk_voicemail") {
				t.Errorf("tags %v", zt.Tags)
			}
			if spam := slices.Contains(zt.Tags, "counterdesk_spam"); spam != (tt.box == ticket.StatusSpam) {
				t.Errorf("counterdesk_spam tag %v for %s", spam, tt.box)
			}
		})
	}
	for i, p := range ticket.Priorities {
		t.Run("priority "+string(p), func(t *testing.T) {
			tk := boxTicket("00000000-0000-4000-8000-0000000002" + strconv.Itoa(10+i))
			tk.Priority = ticket.PriorityNormal
			id, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
			if err != nil {
				t.Fatal(err)
			}
			tk.Priority, tk.Status = p, ticket.StatusOpen
			if err := e.zd.Update(ctx, id, tk); err != nil {
				t.Fatal(err)
			}
			zt, _ := e.fake.Ticket(mustID(t, id))
			if zt.Priority != string(p) || zt.Status != "open" {
				t.Errorf("priority %s became %q (status %q)", p, zt.Priority, zt.Status)
			}
		})
	}
	t.Run("tags only added", func(t *testing.T) {
		tk := boxTicket("00000000-0000-4000-8000-000000000301")
		id, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
		if err != nil {
			t.Fatal(err)
		}
		tk.Tags = nil
		if err := e.zd.Update(ctx, id, tk); err != nil {
			t.Fatal(err)
		}
		zt, _ := e.fake.Ticket(mustID(t, id))
		if !slices.Contains(zt.Tags, "servo_parts") {
			t.Fatalf("a tag removed on the box was removed in Zendesk: %v", zt.Tags)
		}
	})
}
