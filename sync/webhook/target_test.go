package webhook_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/sync/webhook"
	"github.com/counterdesk/counterdesk/sync/webhook/webhookfake"
	"github.com/counterdesk/counterdesk/ticket"
)

// secret is the shared secret of the tests, long and odd enough that
// finding it in a text means it leaked.
const secret = "whsec-Zq81kPb7-counterdesk-test-secret"

// env is a target sending to a fake receiver.
type env struct {
	target *webhook.Target
	fake   *webhookfake.Receiver
	srv    *httptest.Server
	// errs collects every error a test saw, to check that none holds
	// the secret.
	errs []error
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fake := webhookfake.New(secret)
	srv := httptest.NewServer(fake)
	t.Cleanup(srv.Close)
	e := &env{fake: fake, srv: srv, target: newTarget(t, srv.URL+webhookfake.DefaultPath, secret)}
	t.Cleanup(func() {
		for _, err := range e.errs {
			if err != nil && strings.Contains(err.Error(), secret) {
				t.Errorf("error text holds the secret: %v", err)
			}
		}
	})
	return e
}

func newTarget(t testing.TB, url, token string) *webhook.Target {
	t.Helper()
	tg, err := webhook.New(config.SyncTarget{
		Type: "webhook", Name: "automation", BaseURL: url, Token: token,
		Tags: []string{"counterdesk", "vip"},
	}, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// note keeps err for the secret check and returns it.
func (e *env) note(err error) error {
	e.errs = append(e.errs, err)
	return err
}

var t0 = time.Date(2026, 3, 14, 9, 26, 53, 0, time.UTC)

func newTicket(n uint64) *sync.Ticket {
	return &sync.Ticket{
		Ticket: ticket.Ticket{
			Number:    n,
			UUID:      fmt.Sprintf("0b9f6c1e-7d2a-4c1b-9a55-%012d", n),
			Subject:   "Voicemail from +44 20 7946 0958",
			Status:    ticket.StatusNew,
			Priority:  ticket.PriorityNormal,
			Channel:   ticket.ChannelVoicemail,
			Category:  "repair",
			Team:      "workshop",
			Assignee:  "sam",
			Tags:      []string{"voicemail", "vip"},
			Fields:    map[string]string{"order_number": "A-1042"},
			CreatedAt: t0,
			UpdatedAt: t0,
		},
		Contact: ticket.Contact{Name: "Alex Flyer", Phones: []string{"+442079460958"}, Emails: []string{"alex@example.com"}},
		Shop:    "Wings and Things",
	}
}

func newMessage(id uint64, dir ticket.Direction, body string) *sync.Message {
	return &sync.Message{Message: ticket.Message{
		ID: id, Direction: dir, Channel: ticket.ChannelVoicemail, Author: "Alex Flyer",
		Body: body, At: t0.Add(time.Duration(id) * time.Minute),
	}}
}

// writeFile writes a file of n bytes into dir and returns it as a
// sync.File.
func writeFile(t *testing.T, name, typ string, n int) (sync.File, []byte) {
	t.Helper()
	data := make([]byte, n)
	for i := range data {
		data[i] = byte(i * 7)
	}
	if strings.HasSuffix(name, ".wav") && n >= 4 {
		copy(data, "RIFF")
	}
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return sync.File{Name: name, Type: typ, Size: int64(n), Path: p}, data
}

func hexSum(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		c    config.SyncTarget
		want string
	}{
		{"no token", config.SyncTarget{Name: "zap", BaseURL: "https://hooks.example.com/x"},
			"token is empty: set it in [[sync.targets]] or give it as the systemd credential sync-zap"},
		{"no url", config.SyncTarget{Name: "zap", Token: "k"}, "base_url is empty"},
		{"not http", config.SyncTarget{Name: "zap", Token: "k", BaseURL: "ftp://example.com/"}, "not an http or https address"},
		{"user in url", config.SyncTarget{Name: "zap", Token: "k", BaseURL: "https://u:p@example.com/"}, "user or password"},
		{"two way", config.SyncTarget{Name: "zap", Token: "k", BaseURL: "https://example.com/", TwoWay: true}, "two_way"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := webhook.New(tt.c, time.Second)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}

func TestCreate(t *testing.T) {
	e := newEnv(t)
	tk := newTicket(1042)
	m := newMessage(7, ticket.Incoming, "My glider's servo buzzes.")
	m.Transcript = "Hi, it's Alex about the glider."
	m.Flags = []string{"incomplete"}
	id, err := e.target.Create(context.Background(), tk, m)
	if e.note(err) != nil {
		t.Fatal(err)
	}
	if id != tk.UUID {
		t.Fatalf("Create = %q, want the ticket's uuid %q", id, tk.UUID)
	}
	got := e.fake.EventsFor(tk.UUID)
	if len(got) != 1 {
		t.Fatalf("%d events, want 1", len(got))
	}
	ev := got[0]
	if ev.ID != tk.UUID+":created" || ev.Type != webhook.TypeTicketCreated || !ev.OccurredAt.Equal(t0) {
		t.Errorf("event %s %s at %s", ev.ID, ev.Type, ev.OccurredAt)
	}
	wantTicket := webhook.Ticket{
		UUID: tk.UUID, Number: 1042, Ref: "#1042", Subject: tk.Subject, Status: "new", Priority: "normal",
		Channel: "voicemail", Category: "repair", Team: "workshop", Assignee: "sam",
		Tags:      []string{"voicemail", "vip", "counterdesk"},
		Fields:    map[string]string{"order_number": "A-1042"},
		CreatedAt: t0, UpdatedAt: t0,
		Contact: webhook.Contact{Name: "Alex Flyer", Phones: []string{"+442079460958"}, Emails: []string{"alex@example.com"}},
	}
	if !sameJSON(t, ev.Ticket, wantTicket) {
		t.Errorf("ticket = %+v\nwant %+v", ev.Ticket, wantTicket)
	}
	msg := ev.Message
	if msg == nil {
		t.Fatal("no message in ticket.created")
	}
	if msg.ID != 7 || msg.Direction != "inbound" || !msg.Public || msg.Body != m.Body || msg.Transcript != m.Transcript ||
		msg.Text != m.Text() || !slices.Equal(msg.Flags, []string{"incomplete"}) || !msg.At.Equal(m.At) || len(msg.Attachments) != 0 {
		t.Errorf("message = %+v", msg)
	}
}

func TestCreateWithAttachment(t *testing.T) {
	e := newEnv(t)
	tk := newTicket(1)
	wav, data := writeFile(t, "voicemail.wav", "audio/wav", 48_044)
	m := newMessage(1, ticket.Incoming, "")
	m.Transcript = "Call me back about order A-1042."
	m.Files = []sync.File{wav}
	if _, err := e.target.Create(context.Background(), tk, m); e.note(err) != nil {
		t.Fatal(err)
	}
	ev, ok := e.fake.Event(tk.UUID + ":created")
	if !ok {
		t.Fatal("ticket.created not recorded")
	}
	if len(ev.Message.Attachments) != 1 {
		t.Fatalf("%d attachments, want 1", len(ev.Message.Attachments))
	}
	a := ev.Message.Attachments[0]
	if a.Name != "voicemail.wav" || a.Type != "audio/wav" || a.Size != int64(len(data)) || a.SHA256 != hexSum(data) ||
		!bytes.Equal(a.Data, data) || a.DataOmitted || ev.Message.DataOmitted {
		t.Errorf("attachment = %s %s %d %s omitted %t, data equal %t", a.Name, a.Type, a.Size, a.SHA256, a.DataOmitted, bytes.Equal(a.Data, data))
	}
}

// TestAttachmentBound checks that files beyond the bound of one event go
// as metadata with data_omitted, and those within it with their data.
func TestAttachmentBound(t *testing.T) {
	e := newEnv(t)
	webhook.SetMaxData(e.target, 1000)
	small, sdata := writeFile(t, "photo.jpg", "image/jpeg", 600)
	big, bdata := writeFile(t, "voicemail.wav", "audio/wav", 2000)
	last, ldata := writeFile(t, "note.txt", "text/plain", 400)
	empty, _ := writeFile(t, "empty.txt", "", 0)
	tk := newTicket(2)
	m := newMessage(1, ticket.Incoming, "three files")
	m.Files = []sync.File{small, big, last, empty}
	if _, err := e.target.Create(context.Background(), tk, m); e.note(err) != nil {
		t.Fatal(err)
	}
	ev, _ := e.fake.Event(tk.UUID + ":created")
	atts := ev.Message.Attachments
	if len(atts) != 4 || !ev.Message.DataOmitted {
		t.Fatalf("%d attachments, data_omitted %t; want 4 and true", len(atts), ev.Message.DataOmitted)
	}
	if !bytes.Equal(atts[0].Data, sdata) || atts[0].DataOmitted {
		t.Errorf("photo.jpg: data not inlined")
	}
	if atts[1].Data != nil || !atts[1].DataOmitted || atts[1].Size != 2000 || atts[1].SHA256 != hexSum(bdata) {
		t.Errorf("voicemail.wav = %d bytes of data, omitted %t, size %d: want metadata only", len(atts[1].Data), atts[1].DataOmitted, atts[1].Size)
	}
	if !bytes.Equal(atts[2].Data, ldata) || atts[2].DataOmitted {
		t.Errorf("note.txt: data not inlined though it fits after the big file was left out")
	}
	if atts[3].DataOmitted || atts[3].Size != 0 || atts[3].Type != "application/octet-stream" {
		t.Errorf("empty.txt = %+v", atts[3])
	}
}

func TestMissingAttachmentIsPermanent(t *testing.T) {
	e := newEnv(t)
	m := newMessage(1, ticket.Incoming, "x")
	m.Files = []sync.File{{Name: "gone.wav", Type: "audio/wav", Path: filepath.Join(t.TempDir(), "gone.wav")}}
	_, err := e.target.Create(context.Background(), newTicket(3), m)
	var p *ticket.PermanentError
	if !errors.As(e.note(err), &p) || !strings.Contains(err.Error(), "gone.wav") {
		t.Fatalf("Create = %v, want a permanent error naming the file", err)
	}
	if e.fake.Len() != 0 {
		t.Fatal("an event was sent")
	}
}

func TestPost(t *testing.T) {
	e := newEnv(t)
	tk := newTicket(4)
	ctx := context.Background()
	if _, err := e.target.Create(ctx, tk, newMessage(1, ticket.Incoming, "hello")); e.note(err) != nil {
		t.Fatal(err)
	}
	tests := []struct {
		id     uint64
		dir    ticket.Direction
		public bool
	}{
		{2, ticket.Outgoing, true},
		{3, ticket.Internal, false},
		{4, ticket.Incoming, true},
	}
	for _, tt := range tests {
		m := newMessage(tt.id, tt.dir, fmt.Sprintf("message %d", tt.id))
		m.Channel = ticket.ChannelStaff
		id, err := e.target.Post(ctx, tk.UUID, tk, m)
		if e.note(err) != nil {
			t.Fatal(err)
		}
		if want := fmt.Sprintf("%s:message:%d", tk.UUID, tt.id); id != want {
			t.Errorf("Post = %q, want %q", id, want)
		}
		ev, ok := e.fake.Event(id)
		if !ok {
			t.Fatalf("%s not recorded", id)
		}
		if ev.Type != webhook.TypeMessageAdded || ev.Message.Direction != string(tt.dir) || ev.Message.Public != tt.public ||
			ev.Message.Text != m.Text() || ev.Message.Channel != "staff" || !ev.OccurredAt.Equal(m.At) {
			t.Errorf("%s = %s %+v", id, ev.Type, ev.Message)
		}
	}
}

// TestUpdate sends every status and priority; each update is one event
// that carries them as the box names them.
func TestUpdate(t *testing.T) {
	e := newEnv(t)
	tk := newTicket(5)
	ctx := context.Background()
	if _, err := e.target.Create(ctx, tk, newMessage(1, ticket.Incoming, "hello")); e.note(err) != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	n := 0
	for _, st := range ticket.Statuses {
		for _, pr := range ticket.Priorities {
			n++
			tk.Status, tk.Priority = st, pr
			tk.ClosedAs = ""
			if st == ticket.StatusClosed {
				tk.ClosedAs = ticket.ClosedResolved
			}
			tk.UpdatedAt = t0.Add(time.Duration(n) * time.Second)
			t.Run(string(st)+"/"+string(pr), func(t *testing.T) {
				if err := e.target.Update(ctx, tk.UUID, tk); e.note(err) != nil {
					t.Fatal(err)
				}
				evs := e.fake.EventsFor(tk.UUID)
				ev := evs[len(evs)-1]
				if ev.Type != webhook.TypeTicketUpdated || ev.Ticket.Status != string(st) || ev.Ticket.Priority != string(pr) ||
					ev.Ticket.ClosedAs != tk.ClosedAs || ev.Message != nil || !ev.OccurredAt.Equal(tk.UpdatedAt) {
					t.Fatalf("last event = %s %s %s/%s closed_as %q", ev.ID, ev.Type, ev.Ticket.Status, ev.Ticket.Priority, ev.Ticket.ClosedAs)
				}
				if !strings.HasPrefix(ev.ID, tk.UUID+":updated:") || keys[ev.ID] {
					t.Fatalf("key %q is not new", ev.ID)
				}
				keys[ev.ID] = true
			})
		}
	}
	if got, want := e.fake.Len(), 1+n; got != want {
		t.Fatalf("%d events, want %d", got, want)
	}
}

// TestUpdateKey checks that the same update sent again has the same key,
// and that a change back to an earlier state has a new one.
func TestUpdateKey(t *testing.T) {
	e := newEnv(t)
	tk := newTicket(6)
	ctx := context.Background()
	e.note(e.target.Update(ctx, tk.UUID, tk))
	e.note(e.target.Update(ctx, tk.UUID, tk)) // the engine unsure it arrived
	tk.Tags = []string{"vip", "voicemail"}    // the same tags in another order
	e.note(e.target.Update(ctx, tk.UUID, tk))
	tk.Status, tk.UpdatedAt = ticket.StatusPending, t0.Add(time.Minute)
	e.note(e.target.Update(ctx, tk.UUID, tk))
	tk.Status, tk.UpdatedAt = ticket.StatusNew, t0.Add(2*time.Minute)
	e.note(e.target.Update(ctx, tk.UUID, tk))
	for _, err := range e.errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	evs := e.fake.EventsFor(tk.UUID)
	var got []string
	for _, ev := range evs {
		got = append(got, ev.Ticket.Status)
	}
	if !slices.Equal(got, []string{"new", "pending", "new"}) {
		t.Fatalf("statuses received %v, want [new pending new]", got)
	}
	if r := e.fake.RepeatsOf(evs[0].ID); r != 2 {
		t.Fatalf("first update repeated %d times, want 2", r)
	}
}

// TestRepeatsDropped sends each event twice, as the engine does when it
// cannot tell whether the first attempt arrived (Find and Messages find
// nothing in a webhook): the receiver records each once.
func TestRepeatsDropped(t *testing.T) {
	for _, status := range []int{http.StatusOK, http.StatusConflict} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			e := newEnv(t)
			e.fake.RepeatStatus = status
			tk := newTicket(7)
			ctx := context.Background()
			first, later := newMessage(1, ticket.Incoming, "a"), newMessage(2, ticket.Outgoing, "b")
			for range 2 {
				id, err := e.target.Create(ctx, tk, first)
				if e.note(err) != nil || id != tk.UUID {
					t.Fatalf("Create = %q, %v", id, err)
				}
				id, err = e.target.Post(ctx, tk.UUID, tk, later)
				if e.note(err) != nil || id != tk.UUID+":message:2" {
					t.Fatalf("Post = %q, %v", id, err)
				}
			}
			if n, r := e.fake.Len(), e.fake.Repeats(); n != 2 || r != 2 {
				t.Fatalf("%d events and %d repeats, want 2 and 2", n, r)
			}
		})
	}
}

// TestOrder copies many tickets at once, each in order, and checks that
// the receiver got each event once and each ticket's events in order.
func TestOrder(t *testing.T) {
	e := newEnv(t)
	const tickets, messages = 40, 5
	var wg stdsync.WaitGroup
	errs := make(chan error, tickets)
	for i := range tickets {
		wg.Go(func() {
			tk := newTicket(uint64(100 + i))
			ctx := context.Background()
			if _, err := e.target.Create(ctx, tk, newMessage(1, ticket.Incoming, "first")); err != nil {
				errs <- err
				return
			}
			for id := uint64(2); id <= messages; id++ {
				if _, err := e.target.Post(ctx, tk.UUID, tk, newMessage(id, ticket.Outgoing, "later")); err != nil {
					errs <- err
					return
				}
			}
			tk.Status = ticket.StatusResolved
			errs <- e.target.Update(ctx, tk.UUID, tk)
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if e.note(err) != nil {
			t.Fatal(err)
		}
	}
	if p := e.fake.Problems(); p != nil {
		t.Fatalf("out of order: %v", p)
	}
	if got := len(e.fake.Tickets()); got != tickets {
		t.Fatalf("%d tickets, want %d", got, tickets)
	}
	for _, uuid := range e.fake.Tickets() {
		evs := e.fake.EventsFor(uuid)
		if len(evs) != messages+1 {
			t.Fatalf("%s: %d events, want %d", uuid, len(evs), messages+1)
		}
		for i, ev := range evs[:messages] {
			if ev.Message == nil || ev.Message.ID != uint64(i+1) {
				t.Fatalf("%s: event %d is %s", uuid, i, ev.ID)
			}
		}
		if evs[messages].Type != webhook.TypeTicketUpdated {
			t.Fatalf("%s: last event is %s", uuid, evs[messages].Type)
		}
	}
}

func TestOneWay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tk := newTicket(8)
	if id, err := e.target.Find(ctx, tk); id != "" || err != nil {
		t.Errorf("Find = %q, %v; want \"\", nil", id, err)
	}
	if ms, err := e.target.Messages(ctx, tk.UUID); ms != nil || err != nil {
		t.Errorf("Messages = %v, %v; want nil, nil", ms, err)
	}
	for _, cursor := range []string{"", "opaque-1"} {
		ch, next, err := e.target.Changes(ctx, cursor)
		if ch != nil || next != cursor || err != nil {
			t.Errorf("Changes(%q) = %v, %q, %v; want nil, the same cursor, nil", cursor, ch, next, err)
		}
	}
	if l := e.target.Link(tk.UUID); l != "" {
		t.Errorf("Link = %q, want \"\"", l)
	}
	if e.fake.Len() != 0 {
		t.Error("a one-way method sent an event")
	}
}

func TestProbe(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	if err := e.note(e.target.Probe(ctx)); err != nil {
		t.Fatalf("Probe = %v", err)
	}
	// Any answer at all means reachable: a receiver that refuses HEAD,
	// or a wrong path.
	for _, status := range []int{401, 404, 405, 500} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method != http.MethodHead {
				t.Errorf("probe used %s", r.Method)
			}
			w.WriteHeader(status)
		}))
		err := newTarget(t, srv.URL+"/hook", secret).Probe(ctx)
		srv.Close()
		if e.note(err) != nil {
			t.Errorf("Probe of a receiver answering %d = %v, want nil", status, err)
		}
	}
	e.fake.Faults.SetDown(true)
	err := e.target.Probe(ctx)
	var off *sync.OfflineError
	if !errors.As(e.note(err), &off) {
		t.Fatalf("Probe of a receiver that is down = %v, want *sync.OfflineError", err)
	}
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	var permanent *ticket.PermanentError
	var httpErr *sync.HTTPError
	create := func(e *env, n uint64) error {
		_, err := e.target.Create(ctx, newTicket(n), newMessage(1, ticket.Incoming, "hi"))
		return e.note(err)
	}

	t.Run("422 is permanent with the receiver's text", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Refuse(1, http.StatusUnprocessableEntity, "field ticket.team is not known to this flow")
		err := create(e, 1)
		if !errors.As(err, &permanent) || !errors.As(err, &httpErr) || httpErr.Status != 422 ||
			!strings.Contains(err.Error(), "field ticket.team is not known to this flow") {
			t.Fatalf("err = %v", err)
		}
		if e.fake.Len() != 0 {
			t.Fatal("refused event recorded")
		}
	})
	t.Run("400 is permanent", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Refuse(1, http.StatusBadRequest, "bad request: no such zap")
		if err := create(e, 1); !errors.As(err, &permanent) || !strings.Contains(err.Error(), "no such zap") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong path is a permanent 404", func(t *testing.T) {
		e := newEnv(t)
		tg := newTarget(t, e.srv.URL+"/hooks/elsewhere", secret)
		_, err := tg.Create(ctx, newTicket(1), newMessage(1, ticket.Incoming, "hi"))
		if !errors.As(e.note(err), &permanent) || !sync.IsNotFound(err) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("wrong secret is an auth error", func(t *testing.T) {
		e := newEnv(t)
		tg := newTarget(t, e.srv.URL+webhookfake.DefaultPath, "not-the-secret-"+secret)
		_, err := tg.Create(ctx, newTicket(1), newMessage(1, ticket.Incoming, "hi"))
		if !errors.As(e.note(err), &httpErr) || !httpErr.AuthError() || errors.As(err, &permanent) {
			t.Fatalf("err = %v, want a 401 HTTPError", err)
		}
		if !strings.Contains(err.Error(), "signature does not match") {
			t.Fatalf("err = %v, want the receiver's reason", err)
		}
		if e.fake.Refused(401) != 1 || e.fake.Len() != 0 {
			t.Fatal("the receiver did not refuse it")
		}
	})
	t.Run("clock 10 minutes behind is an auth error", func(t *testing.T) {
		e := newEnv(t)
		webhook.SetClock(e.target, func() time.Time { return time.Now().Add(-10 * time.Minute) })
		err := create(e, 1)
		if !errors.As(err, &httpErr) || !httpErr.AuthError() || !strings.Contains(err.Error(), "timestamp") {
			t.Fatalf("err = %v, want a 401 HTTPError about the timestamp", err)
		}
	})
	t.Run("500 is retryable", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.Fail5xx(1)
		err := create(e, 1)
		if !errors.As(err, &httpErr) || httpErr.Status != 500 || errors.As(err, &permanent) {
			t.Fatalf("err = %v, want a retryable 500", err)
		}
		if err := create(e, 1); err != nil {
			t.Fatalf("again: %v", err)
		}
		if e.fake.Len() != 1 {
			t.Fatalf("%d events, want 1", e.fake.Len())
		}
	})
	t.Run("429 is waited out", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.Throttle(1, time.Second)
		start := time.Now()
		if err := create(e, 1); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 900*time.Millisecond {
			t.Fatalf("answered after %s: Retry-After not waited out", d)
		}
		if _, _, refused := e.fake.Faults.Stats(); refused != 1 || e.fake.Len() != 1 {
			t.Fatalf("refused %d, recorded %d; want 1 and 1", refused, e.fake.Len())
		}
	})
	t.Run("down is offline", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.SetDown(true)
		var off *sync.OfflineError
		if err := create(e, 1); !errors.As(err, &off) {
			t.Fatalf("err = %v, want *sync.OfflineError", err)
		}
	})
	t.Run("lost answer, sent again, arrives once", func(t *testing.T) {
		e := newEnv(t)
		e.fake.Faults.LoseAnswers(1)
		var off *sync.OfflineError
		if err := create(e, 1); !errors.As(err, &off) {
			t.Fatalf("err = %v, want *sync.OfflineError", err)
		}
		if err := create(e, 1); err != nil {
			t.Fatal(err)
		}
		if e.fake.Len() != 1 || e.fake.Repeats() != 1 {
			t.Fatalf("%d events, %d repeats; want 1 and 1", e.fake.Len(), e.fake.Repeats())
		}
	})
	t.Run("no uuid is permanent", func(t *testing.T) {
		e := newEnv(t)
		tk := newTicket(1)
		tk.UUID = ""
		_, err := e.target.Create(ctx, tk, nil)
		if !errors.As(e.note(err), &permanent) {
			t.Fatalf("err = %v", err)
		}
	})
}

// TestRequests checks what goes on the wire: the method, the path and
// query of base_url kept as written, the headers, a fresh signature on
// each attempt, and never the secret itself.
func TestRequests(t *testing.T) {
	var mu stdsync.Mutex
	var reqs []*http.Request
	var bodies [][]byte
	throttled := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		reqs, bodies = append(reqs, r), append(bodies, body)
		if !throttled {
			throttled = true
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	tg := newTarget(t, srv.URL+"/catch/123/abc/?source=counterdesk&key=k1", secret)
	tk := newTicket(9)
	if _, err := tg.Create(context.Background(), tk, newMessage(1, ticket.Incoming, "hi")); err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 2 {
		t.Fatalf("%d requests, want 2 (a 429, then the event)", len(reqs))
	}
	for i, r := range reqs {
		if r.Method != http.MethodPost || r.URL.Path != "/catch/123/abc/" || r.URL.RawQuery != "key=k1&source=counterdesk" {
			t.Errorf("request %d: %s %s", i, r.Method, r.URL)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if k := r.Header.Get("Idempotency-Key"); k != tk.UUID+":created" {
			t.Errorf("Idempotency-Key %q", k)
		}
		ts := r.Header.Get(webhook.HeaderTimestamp)
		if err := webhook.Verify(secret, r.Header.Get(webhook.HeaderSignature), ts, bodies[i], time.Now()); err != nil {
			t.Errorf("request %d: %v", i, err)
		}
		for k, vs := range r.Header {
			for _, v := range vs {
				if strings.Contains(v, secret) {
					t.Errorf("header %s holds the secret", k)
				}
			}
		}
		if bytes.Contains(bodies[i], []byte(secret)) {
			t.Error("body holds the secret")
		}
	}
	if !bytes.Equal(bodies[0], bodies[1]) {
		t.Error("the body changed between attempts")
	}
	if reqs[0].Header.Get(webhook.HeaderTimestamp) == reqs[1].Header.Get(webhook.HeaderTimestamp) {
		t.Error("the attempt after the 429 wait was not signed afresh")
	}
}

// sameJSON reports whether a and b encode alike.
func sameJSON(t *testing.T, a, b any) bool {
	t.Helper()
	return bytes.Equal(mustJSON(t, a), mustJSON(t, b))
}
