package zendesk

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	stdsync "sync"
	"testing"
	"time"

	"github.com/counterdesk/counterdesk/config"
	"github.com/counterdesk/counterdesk/sync"
	"github.com/counterdesk/counterdesk/ticket"
)

func TestClosedTicket(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	tk := boxTicket("5a6b7c8d-9e0f-4a1b-82c3-d4e5f6a7b8c9")
	id, err := e.zd.Create(ctx, tk, inbound(1, "hello"))
	if err != nil {
		t.Fatal(err)
	}
	if err := e.fake.SetStatus(mustID(t, id), "closed"); err != nil {
		t.Fatal(err)
	}
	// The box is done too: nothing to change.
	tk.Status = ticket.StatusClosed
	if err := e.zd.Update(ctx, id, tk); err != nil {
		t.Fatalf("Update of a closed ticket the box closed: %v", err)
	}
	// A message cannot be added: Zendesk's 422 is permanent, with its text.
	_, err = e.zd.Post(ctx, id, tk, inbound(2, "one more thing"))
	var p *ticket.PermanentError
	var h *sync.HTTPError
	if !errors.As(err, &p) || !errors.As(err, &h) || h.Status != http.StatusUnprocessableEntity {
		t.Fatalf("Post = %v, want a permanent 422", err)
	}
	if !strings.Contains(err.Error(), "Status: closed prevents ticket update") {
		t.Fatalf("error %q lacks Zendesk's text", err)
	}
	// Opened again on the box: refused the same way.
	tk.Status = ticket.StatusOpen
	if err := e.zd.Update(ctx, id, tk); !errors.As(err, &p) {
		t.Fatalf("Update = %v, want permanent", err)
	}
	noSecret(t, err)
}

func TestErrors(t *testing.T) {
	ctx := context.Background()
	t.Run("500 is retryable", func(t *testing.T) {
		e := setup(t)
		e.fake.Faults.Fail5xx(1)
		_, err := e.zd.Create(ctx, boxTicket("aaaaaaaa-0000-4000-8000-000000000001"), inbound(1, "hi"))
		var h *sync.HTTPError
		var p *ticket.PermanentError
		if !errors.As(err, &h) || h.Status != http.StatusInternalServerError || errors.As(err, &p) {
			t.Fatalf("Create = %v, want a retryable 500", err)
		}
		noSecret(t, err)
	})
	t.Run("429 is waited out", func(t *testing.T) {
		e := setup(t)
		e.fake.Faults.Throttle(1, time.Second)
		start := time.Now()
		id, err := e.zd.Create(ctx, boxTicket("aaaaaaaa-0000-4000-8000-000000000002"), inbound(1, "hi"))
		if err != nil || id == "" {
			t.Fatalf("Create = %q, %v", id, err)
		}
		if waited := time.Since(start); waited < 900*time.Millisecond {
			t.Fatalf("waited %s, want the Retry-After second", waited)
		}
		if _, _, refused := e.fake.Faults.Stats(); refused != 1 {
			t.Fatalf("refused %d, want 1", refused)
		}
	})
	t.Run("down is offline", func(t *testing.T) {
		e := setup(t)
		e.fake.Faults.SetDown(true)
		for name, err := range map[string]error{
			"probe":  e.zd.Probe(ctx),
			"update": e.zd.Update(ctx, "1", boxTicket("aaaaaaaa-0000-4000-8000-000000000003")),
		} {
			var off *sync.OfflineError
			if !errors.As(err, &off) {
				t.Errorf("%s = %v, want *sync.OfflineError", name, err)
			}
			noSecret(t, err)
		}
	})
	t.Run("401 is an auth error", func(t *testing.T) {
		e := setup(t)
		zd := e.target(func(c *config.SyncTarget) { c.Token = "wrong-" + testToken })
		_, err := zd.Create(ctx, boxTicket("aaaaaaaa-0000-4000-8000-000000000004"), inbound(1, "hi"))
		var h *sync.HTTPError
		if !errors.As(err, &h) || !h.AuthError() {
			t.Fatalf("Create = %v, want an auth error", err)
		}
		noSecret(t, err)
	})
	t.Run("404 is not found", func(t *testing.T) {
		e := setup(t)
		_, err := e.zd.Post(ctx, "999999", boxTicket("aaaaaaaa-0000-4000-8000-000000000005"), &sync.Message{Message: ticket.Message{Direction: ticket.Outgoing, Body: "x"}})
		if !sync.IsNotFound(err) {
			t.Fatalf("Post = %v, want not found", err)
		}
	})
	t.Run("not a zendesk id", func(t *testing.T) {
		e := setup(t)
		err := e.zd.Update(ctx, "abc", boxTicket("aaaaaaaa-0000-4000-8000-000000000006"))
		var p *ticket.PermanentError
		if !errors.As(err, &p) {
			t.Fatalf("Update = %v, want permanent", err)
		}
	})
	t.Run("attachment too large is permanent", func(t *testing.T) {
		e := setup(t)
		p := filepath.Join(t.TempDir(), "huge.wav")
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(MaxAttachment + 1); err != nil {
			t.Fatal(err)
		}
		f.Close()
		m := inbound(1, "hi")
		m.Files = []sync.File{{Name: "huge.wav", Type: "audio/wav", Path: p}}
		_, err = e.zd.Create(ctx, boxTicket("aaaaaaaa-0000-4000-8000-000000000007"), m)
		var perm *ticket.PermanentError
		if !errors.As(err, &perm) {
			t.Fatalf("Create = %v, want permanent", err)
		}
	})
}

func TestConcurrentCreates(t *testing.T) {
	e := setup(t)
	ctx := context.Background()
	var wg stdsync.WaitGroup
	errs := make(chan error, 64)
	for i := range 64 {
		wg.Go(func() {
			tk := boxTicket("20000000-0000-4000-8000-" + strconv.Itoa(100000000000+i%16))
			tk.Contact = ticket.Contact{Phones: []string{"+4477009001" + strconv.Itoa(10+i%4)}}
			if _, err := e.zd.Create(ctx, tk, inbound(1, "hi")); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := len(e.fake.Tickets()); n != 16 {
		t.Fatalf("%d tickets for 16 box tickets", n)
	}
}
